// The engine each data-plane thread runs: the tunnel layer engine of src/tunnel/engine.ts.
import { LayerEngine } from '../tunnel/engine.js';
import type { LayerEngineOptions } from '../tunnel/types.js';
import type { BatchEngine } from './batch-runner.js';

export function createEngine(options: LayerEngineOptions): BatchEngine {
  return new LayerEngine(options);
}
