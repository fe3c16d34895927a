// Public API of the data plane.
import { DataPlane } from './data-plane.js';
import type { DataPlaneOptions } from './types.js';
import { createEngine } from './engine-host.js';

export { DataPlane, defaultWorkerFile } from './data-plane.js';
export type {
  DataPlaneOptions,
  DataPlaneStats,
  DropCounters,
  OutputBatch,
  WorkerCrashReason,
  WorkerLoad,
} from './types.js';

/**
 * A data plane: `threads` workers (default: one per core), each with its own layer engine, or with
 * `threads: 'inline'` (or 0) one engine on the calling thread behind the same API.
 */
export function createDataPlane(options: DataPlaneOptions): DataPlane {
  return new DataPlane(options, createEngine);
}
