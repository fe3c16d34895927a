// Public API of tunnelplane. Each area re-exports its own public pieces from its index.
export * from './constants.js';
export { createInstance, sharedInstance, chooseFlavor, simdSupported, type WasmFlavor, type WasmInstance } from './wasm/loader.js';
export * from './frame/index.js';
export * from './i2np/index.js';
