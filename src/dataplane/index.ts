// Public API of the data plane.
import { DataPlane, type DataPlaneOptions } from './data-plane.js';
import { createEngine } from './engine-host.js';

export {
  DataPlane, defaultWorkerFile, type DataPlaneOptions, type DataPlaneStats, type DropCounters, type OutputBatch,
  type WorkerLoad,
} from './data-plane.js';

/**
 * A data plane: `threads` workers (default: one per core), each with its own layer engine, or with
 * `threads: 'inline'` (or 0) one engine on the calling thread behind the same API.
 */
export function createDataPlane(options: DataPlaneOptions): DataPlane {
  return new DataPlane(options, createEngine);
}
