// Test-only access to the internals of LayerEngine and DataPlane (key material, WASM memory, crash and hang
// injection, a replacement engine module). Not re-exported from src/index.ts, and the package's "exports" map
// exposes only the root: tests import it by path.
import type { DataPlane, DataPlaneOptions } from '../dataplane/data-plane.js';
import type { LayerEngine } from '../tunnel/engine.js';
import { TEST_SEAM, type DataPlaneSeam, type DataPlaneTestOptions, type EngineSeam } from '../test-seam.js';

export { TEST_SEAM };

function engineSeam(engine: LayerEngine): EngineSeam {
  return (engine as unknown as { [TEST_SEAM](): EngineSeam })[TEST_SEAM]();
}

function planeSeam(plane: DataPlane): DataPlaneSeam {
  return (plane as unknown as { [TEST_SEAM](): DataPlaneSeam })[TEST_SEAM]();
}

/**
 * Copies of the engine's own key material for a tunnel (all zero once it has ended; a native hop is one byte, 1 while
 * its OpenSSL contexts hold the keys, 0 once they are freed). Empty when the engine does not know the tunnel.
 */
export function engineKeyMaterial(engine: LayerEngine, tunnelId: number, gateway = false): Uint8Array[] {
  return engineSeam(engine).keyMaterial(tunnelId, gateway);
}

/** A live view of the engine's private WASM instance memory (null before it made one). Take it before close(). */
export function engineWasmMemory(engine: LayerEngine): Uint8Array | null {
  return engineSeam(engine).wasmMemory();
}

/** Offsets at which `needle` occurs in `haystack`. */
export function findBytes(haystack: Uint8Array, needle: Uint8Array): number[] {
  const hits: number[] = [];
  if (needle.length === 0) return hits;
  const hay = Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength);
  const pin = Buffer.from(needle);
  for (let at = hay.indexOf(pin); at >= 0; at = hay.indexOf(pin, at + 1)) hits.push(at);
  return hits;
}

/** The next batch dispatched to `shard` makes its worker exit half way through it, on its first `attempts` attempts. */
export function crashNextBatch(plane: DataPlane, shard: number, attempts = 1): void {
  planeSeam(plane).failNextBatch(shard, attempts, 'exit');
}

/**
 * The next batch dispatched to `shard` makes its worker block forever half way through it (no CPU used), on its first
 * `attempts` attempts: the data plane's task timeout has to find it.
 */
export function hangNextBatch(plane: DataPlane, shard: number, attempts = 1): void {
  planeSeam(plane).failNextBatch(shard, attempts, 'hang');
}

/** Options for a data plane whose workers build their engines with `createEngine` from the module at `url`. */
export function withEngineModule(options: DataPlaneOptions, url: string): DataPlaneOptions {
  const test: DataPlaneTestOptions = { engineModule: url };
  return Object.assign({ ...options }, { [TEST_SEAM]: test });
}
