// One interface per primitive family; each has a `wasm` backend (always there) and a `node` backend (node:crypto).
// Selection: the `backend` option, else TUNNELPLANE_BACKEND=wasm|node, else the per-family default documented in
// docs/aes.md and docs/chacha.md. Inputs are validated at this edge: TypeError for wrong types, RangeError for wrong lengths,
// slots or batch sizes -- never a WASM trap or a silent truncation.
import type { WasmFlavor, WasmInstance } from '../wasm/loader.js';

export type CryptoBackend = 'wasm' | 'node';

export interface BackendOptions {
  /** 'auto' (default) picks the family's faster constant-time backend on this machine. */
  backend?: CryptoBackend | 'auto';
  /** WASM flavor for the wasm backend (default: SIMD when supported). */
  flavor?: WasmFlavor;
}

/** Options of a factory whose wasm backend can run on a given instance (ChaCha20, ChaCha20-Poly1305, SHA-256). */
export interface WasmBackendOptions extends BackendOptions {
  /** WASM instance (own memory and key slots); default: this thread's shared instance of `flavor`. */
  instance?: WasmInstance;
}

/**
 * A batch of independent messages laid out in one buffer: message i is
 * `data[i*stride + offset, i*stride + offset + length)`, processed in place with key slot `slots[i]` and
 * (for CBC) IV `ivs[16i, 16i+16)` or (for ChaCha20) nonce `nonces[12i, 12i+12)` and counter `counters[i]`.
 */
export interface MessageBatch {
  count: number;
  data: Uint8Array;
  stride: number;
  offset: number;
  length: number;
  slots: Uint32Array;
}

export interface CbcBatch extends MessageBatch {
  ivs: Uint8Array;
}

export interface ChaChaBatch extends MessageBatch {
  nonces: Uint8Array;
  counters: Uint32Array;
}

/**
 * AES-256 with key slots (src/crypto/aes.ts). Keys are expanded once into a slot (0..AES_KEY_SLOTS-1) and used by
 * slot index; `clearKey` zeroes the slot. Data lengths are multiples of 16 (no padding). `out` may be the input
 * itself (in place); without it a new array is returned.
 */
export interface Aes256 {
  readonly backend: CryptoBackend;
  /** WASM flavor of the wasm backend (undefined for node). */
  readonly flavor: WasmFlavor | undefined;
  setKey(slot: number, key: Uint8Array): void;
  /** Zeroes the slot's key material (in WASM memory for the wasm backend) and marks it empty. */
  clearKey(slot: number): void;
  hasKey(slot: number): boolean;
  /** ECB over whole blocks (one block: `encryptBlock`). */
  ecbEncrypt(slot: number, data: Uint8Array, out?: Uint8Array): Uint8Array;
  ecbDecrypt(slot: number, data: Uint8Array, out?: Uint8Array): Uint8Array;
  encryptBlock(slot: number, block: Uint8Array, out?: Uint8Array): Uint8Array;
  decryptBlock(slot: number, block: Uint8Array, out?: Uint8Array): Uint8Array;
  cbcEncrypt(slot: number, iv: Uint8Array, data: Uint8Array, out?: Uint8Array): Uint8Array;
  cbcDecrypt(slot: number, iv: Uint8Array, data: Uint8Array, out?: Uint8Array): Uint8Array;
  /** In place: message i CBC-encrypted with key slot `slots[i]` and IV `ivs[16i, 16i+16)`. */
  cbcEncryptBatch(batch: CbcBatch): void;
  cbcDecryptBatch(batch: CbcBatch): void;
}
