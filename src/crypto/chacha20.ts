// ChaCha20 (RFC 7539 §2.4): one interface, two backends.
//   wasm  assembly/chacha20.ts (SIMD: 4 blocks per v128 pass); key slots live in the instance's CHACHA_SLOTS region.
//   node  node:crypto 'chacha20' (OpenSSL): 16-byte IV = counter (u32 LE) || nonce, a new cipher object per nonce.
// Default: wasm (measured ~3-4x node:crypto per 1008-byte message, which pays a cipher object per nonce).
//
// Counter policy: a 32-bit block counter that must not wrap. RFC 7539 §2.4 allows 2^32 blocks per (key, nonce);
// OpenSSL would carry into the nonce word, @noble/ciphers throws. We throw a RangeError before any call that would
// need block 2^32 (counter + ceil(length / 64) > 2^32), so both backends agree with RFC 7539 and noble.
import { createCipheriv } from 'node:crypto';
import { CHACHA_KEY_SIZE, CHACHA_KEY_SLOTS, CHACHA_NONCE_SIZE, IO_SIZE } from '../constants.js';
import { sharedInstance, type WasmInstance } from '../wasm/loader.js';
import { resolveBackend, setDefaultBackend } from './backend.js';
import type { ChaChaBatch, CryptoBackend, WasmBackendOptions } from './types.js';
import { checkBatch, checkBytes, checkInt, detached, runBatch } from './utils.js';

export const CHACHA20_FAMILY = 'chacha20';
setDefaultBackend(CHACHA20_FAMILY, 'wasm');

/** Options of every ChaCha-family factory (ChaCha20, ChaCha20-Poly1305): backend choice, optional WASM instance. */
export type ChaChaOptions = WasmBackendOptions;

export interface ChaCha20 {
  readonly backend: CryptoBackend;
  /**
   * `data` XOR the keystream of (key, nonce) starting at block `counter` (default 0). Returns `output`
   * (a new array when not given; may be `data` itself for in-place work).
   */
  xor(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter?: number, output?: Uint8Array): Uint8Array;
  /** Stores a 32-byte key in slot 0..CHACHA_KEY_SLOTS-1 for batch use. */
  setKey(slot: number, key: Uint8Array): void;
  /** Zeroes a key slot (in WASM memory for the wasm backend). */
  clearKey(slot: number): void;
  /** In place: message i XOR keystream(slot slots[i], nonce nonces[12i..], counter counters[i]). */
  xorBatch(batch: ChaChaBatch): void;
}

// --- counter check ---

/** RangeError unless blocks counter .. counter + ceil(length/64) - 1 all exist (< 2^32). */
export function checkCounter(counter: unknown, length: number): asserts counter is number {
  checkInt('counter', counter, 0, 0xffffffff);
  if (counter + Math.ceil(length / 64) > 2 ** 32) {
    throw new RangeError(
      `tunnelplane: ${length} bytes from block counter ${counter} would wrap the 32-bit ChaCha20 counter (RFC 7539 §2.4)`,
    );
  }
}

// --- key slots (shared by ChaCha20 and ChaCha20-Poly1305: one CHACHA_SLOTS region per WASM instance) ---

/** Key slots of one backend: which are set, and the node backend's keys. */
export class ChaChaKeySlots {
  readonly set = new Uint8Array(CHACHA_KEY_SLOTS);
  /** node backend only: key copies, zeroed on clear. */
  readonly keys = new Map<number, Uint8Array>();
  constructor(readonly inst: WasmInstance | undefined) {}

  store(slot: number, key: Uint8Array): void {
    checkInt('slot', slot, 0, CHACHA_KEY_SLOTS - 1);
    checkBytes('key', key, CHACHA_KEY_SIZE);
    const inst = this.inst;
    if (inst) {
      const { u8, u32, regions } = inst;
      u8.set(detached(inst, key), regions.KEY_IN);
      u32[regions.MSG_SLOT_A >>> 2] = slot;
      if ((inst.exports.chachaSetKeys as (n: number) => number)(1) !== 1)
        throw new Error('tunnelplane: chachaSetKeys failed');
    } else {
      const old = this.keys.get(slot);
      if (old) old.fill(0);
      this.keys.set(slot, Uint8Array.from(key));
    }
    this.set[slot] = 1;
  }

  clear(slot: number): void {
    checkInt('slot', slot, 0, CHACHA_KEY_SLOTS - 1);
    const inst = this.inst;
    if (inst) {
      inst.u32[inst.regions.MSG_SLOT_A >>> 2] = slot;
      (inst.exports.chachaClearKeys as (n: number) => number)(1);
    } else {
      const old = this.keys.get(slot);
      if (old) old.fill(0);
      this.keys.delete(slot);
    }
    this.set[slot] = 0;
  }

  /** RangeError unless slots[0..count) are all in range and set. */
  check(slots: Uint32Array, count: number): void {
    for (let i = 0; i < count; i++) {
      const s = slots[i]!;
      if (s >= CHACHA_KEY_SLOTS)
        throw new RangeError(`tunnelplane: key slot ${s} is outside 0..${CHACHA_KEY_SLOTS - 1}`);
      if (this.set[s] !== 1) throw new RangeError(`tunnelplane: key slot ${s} has no key`);
    }
  }

  nodeKey(slot: number): Uint8Array {
    return this.keys.get(slot)!;
  }
}

const slotTables = new WeakMap<WasmInstance, ChaChaKeySlots>();

/** The key-slot table of a WASM instance (one per instance, shared by every ChaCha-family object using it). */
export function wasmKeySlots(inst: WasmInstance): ChaChaKeySlots {
  let t = slotTables.get(inst);
  if (!t) {
    t = new ChaChaKeySlots(inst);
    slotTables.set(inst, t);
  }
  return t;
}

/** Writes nonce i (12 bytes) and counter i (u32 LE) of messages [first, first+n) into MSG_PARAM[16j..]. */
export function writeParams(
  inst: WasmInstance,
  nonces: Uint8Array,
  counters: Uint32Array | null,
  slots: Uint32Array,
  first: number,
  n: number,
): void {
  const { u8, u32, regions } = inst;
  const p32 = regions.MSG_PARAM >>> 2;
  const s32 = regions.MSG_SLOT_A >>> 2;
  for (let j = 0; j < n; j++) {
    const i = first + j;
    // 12 byte copies beat a subarray() allocation per message on the batch-of-1 path
    const src = i * CHACHA_NONCE_SIZE;
    const dst = regions.MSG_PARAM + 16 * j;
    for (let k = 0; k < CHACHA_NONCE_SIZE; k++) u8[dst + k] = nonces[src + k]!;
    u32[p32 + 4 * j + 3] = counters ? counters[i]! : 0;
    u32[s32 + j] = slots[i]!;
  }
}

type XorBatchFn = (n: number, region: number, stride: number, offset: number, len: number) => number;
type XorOneFn = (len: number) => number;

/** Largest one-shot chunk: a multiple of 64 so the counter advances by whole blocks. */
const CHUNK = Math.floor(IO_SIZE / 64) * 64;

class WasmChaCha20 implements ChaCha20 {
  readonly backend = 'wasm' as const;
  private readonly slots: ChaChaKeySlots;
  private readonly batchFn: XorBatchFn;
  private readonly oneFn: XorOneFn;
  constructor(private readonly inst: WasmInstance) {
    this.slots = wasmKeySlots(inst);
    this.batchFn = inst.exports.chachaXorBatch as XorBatchFn;
    this.oneFn = inst.exports.chachaXorOne as XorOneFn;
  }

  xor(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter = 0, output?: Uint8Array): Uint8Array {
    checkBytes('key', key, CHACHA_KEY_SIZE);
    checkBytes('nonce', nonce, CHACHA_NONCE_SIZE);
    checkBytes('data', data);
    checkCounter(counter, data.length);
    if (output === undefined) output = new Uint8Array(data.length);
    else checkBytes('output', output, data.length);
    key = detached(this.inst, key);
    nonce = detached(this.inst, nonce);
    data = detached(this.inst, data);
    const { u8, u32, regions } = this.inst;
    for (let pos = 0; pos < data.length; pos += CHUNK) {
      const len = Math.min(CHUNK, data.length - pos);
      u8.set(key, regions.KEY_IN);
      u8.set(nonce, regions.MSG_PARAM);
      u32[(regions.MSG_PARAM >>> 2) + 3] = counter + pos / 64;
      u8.set(data.subarray(pos, pos + len), regions.IO);
      if (this.oneFn(len) !== 0) throw new Error('tunnelplane: chachaXorOne rejected validated input');
      output.set(u8.subarray(regions.IO, regions.IO + len), pos);
    }
    return output;
  }

  setKey(slot: number, key: Uint8Array): void {
    this.slots.store(slot, key);
  }

  clearKey(slot: number): void {
    this.slots.clear(slot);
  }

  xorBatch(batch: ChaChaBatch): void {
    checkChaChaBatch(batch);
    this.slots.check(batch.slots, batch.count);
    const { nonces, counters, slots, length } = batch;
    runBatch(this.inst, batch, length, (region, stride, offset, first, n) => {
      writeParams(this.inst, nonces, counters, slots, first, n);
      if (this.batchFn(n, region, stride, offset, length) !== n)
        throw new Error('tunnelplane: chachaXorBatch rejected validated input');
    });
  }
}

export function checkChaChaBatch(batch: ChaChaBatch): void {
  checkBatch(batch);
  const { count, nonces, counters, length } = batch;
  checkBytes('batch.nonces', nonces);
  if (nonces.length < count * CHACHA_NONCE_SIZE)
    throw new RangeError(`tunnelplane: batch.nonces needs ${count * CHACHA_NONCE_SIZE} bytes`);
  if (!(counters instanceof Uint32Array)) throw new TypeError('tunnelplane: batch.counters must be a Uint32Array');
  if (counters.length < count)
    throw new RangeError(`tunnelplane: batch.counters has ${counters.length} entries for ${count} messages`);
  for (let i = 0; i < count; i++) checkCounter(counters[i], length);
}

/** node:crypto's 16-byte ChaCha20 IV: counter (u32 LE) || nonce. */
function nodeIv(nonce: Uint8Array, counter: number): Buffer {
  const iv = Buffer.allocUnsafe(16);
  iv.writeUInt32LE(counter, 0);
  iv.set(nonce, 4);
  return iv;
}

class NodeChaCha20 implements ChaCha20 {
  readonly backend = 'node' as const;
  private readonly slots = new ChaChaKeySlots(undefined);

  xor(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter = 0, output?: Uint8Array): Uint8Array {
    checkBytes('key', key, CHACHA_KEY_SIZE);
    checkBytes('nonce', nonce, CHACHA_NONCE_SIZE);
    checkBytes('data', data);
    checkCounter(counter, data.length);
    if (output === undefined) output = new Uint8Array(data.length);
    else checkBytes('output', output, data.length);
    const out = createCipheriv('chacha20', key, nodeIv(nonce, counter)).update(data);
    output.set(out);
    return output;
  }

  setKey(slot: number, key: Uint8Array): void {
    this.slots.store(slot, key);
  }

  clearKey(slot: number): void {
    this.slots.clear(slot);
  }

  xorBatch(batch: ChaChaBatch): void {
    checkChaChaBatch(batch);
    this.slots.check(batch.slots, batch.count);
    const { count, data, stride, offset, length, slots, nonces, counters } = batch;
    for (let i = 0; i < count; i++) {
      const at = i * stride + offset;
      const nonce = nonces.subarray(i * CHACHA_NONCE_SIZE, (i + 1) * CHACHA_NONCE_SIZE);
      const c = createCipheriv('chacha20', this.slots.nodeKey(slots[i]!), nodeIv(nonce, counters[i]!));
      data.set(c.update(data.subarray(at, at + length)), at);
    }
  }
}

/** A ChaCha20 implementation: `backend` option, else TUNNELPLANE_BACKEND, else wasm. */
export function createChaCha20(options: ChaChaOptions = {}): ChaCha20 {
  const backend = resolveBackend(CHACHA20_FAMILY, options.backend);
  if (backend === 'node') return new NodeChaCha20();
  return new WasmChaCha20(options.instance ?? sharedInstance(options.flavor));
}
