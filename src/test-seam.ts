// The key of the test-only internals of LayerEngine and DataPlane (key material copies, WASM memory, worker crash
// and hang injection, a replacement engine module). A symbol, not a method or option name: a user of the package
// cannot reach these by accident, and src/index.ts re-exports neither this module nor src/testing/index.ts.
export const TEST_SEAM: unique symbol = Symbol('tunnelplane test seam');

/** What LayerEngine answers under TEST_SEAM. */
export interface EngineSeam {
  /** Copies of the engine's key material for a tunnel (a native hop: one byte, 1 while held, 0 once freed). */
  keyMaterial(tunnelId: number, gateway: boolean): Uint8Array[];
  /** The engine's private WASM instance memory (a live view; null before the engine made one). */
  wasmMemory(): Uint8Array | null;
}

/** What DataPlane answers under TEST_SEAM. */
export interface DataPlaneSeam {
  /** The next batch dispatched to `shard` makes its worker exit (or hang) half way through, `attempts` times. */
  failNextBatch(shard: number, attempts: number, how: 'exit' | 'hang'): void;
}

/** DataPlaneOptions[TEST_SEAM]: construction-time test settings. */
export interface DataPlaneTestOptions {
  /** URL of a module exporting `createEngine(options)`, loaded by each worker instead of the LayerEngine. */
  engineModule?: string;
}
