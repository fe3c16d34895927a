// Public API of tunnelplane. Each area re-exports its own public pieces from its index.
export * from './constants.js';
export {
  createInstance,
  sharedInstance,
  chooseFlavor,
  simdSupported,
  type WasmFlavor,
  type WasmInstance,
} from './wasm/loader.js';
export * from './frame/index.js';
export * from './i2np/index.js';
export { createChaCha20, type ChaCha20, type ChaChaOptions } from './crypto/chacha20.js';
export { createChaCha20Poly1305, type ChaCha20Poly1305, type AeadBatch } from './crypto/chacha20-poly1305.js';
export { poly1305 } from './crypto/poly1305.js';
export { createSha256, type Sha256, type HashBatch } from './crypto/sha256.js';
export { createAes256, cpuHasAes, AES_FAMILY, type AesOptions } from './crypto/aes.js';
export type { Aes256, CbcBatch, MessageBatch, CryptoBackend, BackendOptions } from './crypto/types.js';
export type { ChaChaBatch } from './crypto/types.js';
export * from './errors.js';
export * as i2cp from './i2cp/index.js';
export * as keys from './keys/index.js';
export * as leaseset from './leaseset/index.js';
export * as balancer from './balancer/index.js';
export * as router from './router/index.js';
export {
  createRouter,
  Router,
  BUILD_AND_GARLIC_TYPES,
  type RouterOptions,
  type RouterReady,
  type RouterStats,
  type SessionEvent,
  type PeerEntry,
  type I2npHandler,
  type I2npMessageIn,
} from './router/router.js';
export * as ntcp2 from './transport/ntcp2/index.js';
export {
  createDataPlane,
  DataPlane,
  type DataPlaneOptions,
  type DataPlaneStats,
  type DropCounters,
  type OutputBatch,
  type WorkerLoad,
} from './dataplane/index.js';
export * from './tunnel/index.js';
