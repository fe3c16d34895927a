// AES-256 (ECB, CBC without padding) with key slots: one interface, two backends.
//   wasm  assembly/aes.ts: constant time on any CPU (bitsliced; SIMD flavor runs 8 messages per pass, 1-4 messages
//         through an in-register nibble S-box).
//   node  node:crypto (OpenSSL): long-lived cipher objects per slot, CBC chained across messages (see NodeAes).
// Default ('auto'): node when the CPU reports AES instructions (OpenSSL then runs AES-NI / ARMv8 AES: constant time;
// measured about as fast as the WASM SIMD build per 1008-byte message in batches and ~2x for single messages); wasm
// otherwise, where OpenSSL might fall back to table-based AES. An explicit `flavor` or `instance` means wasm.
// `backend` / TUNNELPLANE_BACKEND override.
import { createCipheriv, createDecipheriv, type Cipher, type Decipher } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AES256_KEY_SIZE, AES_BLOCK_SIZE, AES_KEY_SLOTS, IO_SIZE, MAX_BATCH, TUNNEL_DATA_SIZE } from '../constants.js';
import { sharedInstance, type WasmFlavor, type WasmInstance } from '../wasm/loader.js';
import { resolveBackend } from './backend.js';
import type { Aes256, BackendOptions, CbcBatch, CryptoBackend } from './types.js';
import { checkBytes, checkInt } from './utils.js';

export const AES_FAMILY = 'aes';

export interface AesOptions extends BackendOptions {
  /** WASM instance whose AES_SLOTS hold the keys (e.g. the one a tunnel layer kernel uses); default: this thread's
   *  shared instance of `flavor`. */
  instance?: WasmInstance;
}

// --- validation ---------------------------------------------------------------------------------------------------

function checkBlocks(name: string, value: unknown): asserts value is Uint8Array {
  checkBytes(name, value);
  if (value.length % AES_BLOCK_SIZE !== 0) {
    throw new RangeError(`tunnelplane: ${name} length ${value.length} is not a multiple of 16 (AES without padding)`);
  }
}

function output(out: unknown, length: number): Uint8Array {
  if (out === undefined) return new Uint8Array(length);
  checkBytes('out', out, length);
  return out;
}

function checkCbcBatch(batch: CbcBatch): void {
  if (batch === null || typeof batch !== 'object') throw new TypeError('tunnelplane: batch must be an object');
  const { count, data, stride, offset, length, slots, ivs } = batch;
  checkInt('batch.count', count, 0, Number.MAX_SAFE_INTEGER);
  checkBytes('batch.data', data);
  checkInt('batch.offset', offset, 0, data.length);
  checkInt('batch.length', length, 0, IO_SIZE);
  checkInt('batch.stride', stride, 0, Number.MAX_SAFE_INTEGER);
  if (length % AES_BLOCK_SIZE !== 0)
    throw new RangeError(`tunnelplane: batch.length ${length} is not a multiple of 16`);
  if (!(slots instanceof Uint32Array)) throw new TypeError('tunnelplane: batch.slots must be a Uint32Array');
  if (slots.length < count)
    throw new RangeError(`tunnelplane: batch.slots has ${slots.length} entries for ${count} messages`);
  checkBytes('batch.ivs', ivs);
  if (ivs.length < count * AES_BLOCK_SIZE) {
    throw new RangeError(`tunnelplane: batch.ivs has ${ivs.length} bytes for ${count} messages (16 each)`);
  }
  if (count > 1 && stride < offset + length) {
    throw new RangeError(
      `tunnelplane: batch.stride ${stride} is less than offset + length (${offset + length}): messages overlap`,
    );
  }
  if (count > 0 && (count - 1) * stride + offset + length > data.length) {
    throw new RangeError(
      `tunnelplane: batch of ${count} messages (stride ${stride}) does not fit in ${data.length} bytes`,
    );
  }
}

/** Which slots hold a key; shared by every Aes256 object on the same WASM instance. */
class SlotTable {
  readonly set = new Uint8Array(AES_KEY_SLOTS);

  checkSlot(slot: unknown): asserts slot is number {
    checkInt('slot', slot, 0, AES_KEY_SLOTS - 1);
  }

  keyed(slot: unknown): number {
    this.checkSlot(slot);
    if (this.set[slot] !== 1) throw new RangeError(`tunnelplane: AES key slot ${slot} has no key`);
    return slot;
  }

  checkAll(slots: Uint32Array, count: number): void {
    for (let i = 0; i < count; i++) {
      const s = slots[i]!;
      if (s >= AES_KEY_SLOTS) throw new RangeError(`tunnelplane: AES key slot ${s} is outside 0..${AES_KEY_SLOTS - 1}`);
      if (this.set[s] !== 1) throw new RangeError(`tunnelplane: AES key slot ${s} has no key`);
    }
  }
}

// --- wasm backend -------------------------------------------------------------------------------------------------

type Kernel = (...args: number[]) => number;

const wasmTables = new WeakMap<WasmInstance, SlotTable>();

/** The ECB entry points both backends share: each backend supplies `ecb`. */
abstract class AesEcbMethods {
  protected abstract ecb(decrypt: boolean, slot: number, data: Uint8Array, out: Uint8Array | undefined): Uint8Array;

  ecbEncrypt(slot: number, data: Uint8Array, out?: Uint8Array): Uint8Array {
    return this.ecb(false, slot, data, out);
  }
  ecbDecrypt(slot: number, data: Uint8Array, out?: Uint8Array): Uint8Array {
    return this.ecb(true, slot, data, out);
  }

  encryptBlock(slot: number, block: Uint8Array, out?: Uint8Array): Uint8Array {
    checkBytes('block', block, AES_BLOCK_SIZE);
    return this.ecb(false, slot, block, out);
  }

  decryptBlock(slot: number, block: Uint8Array, out?: Uint8Array): Uint8Array {
    checkBytes('block', block, AES_BLOCK_SIZE);
    return this.ecb(true, slot, block, out);
  }
}

class WasmAes extends AesEcbMethods implements Aes256 {
  readonly backend: CryptoBackend = 'wasm';
  readonly flavor: WasmFlavor;
  private readonly table: SlotTable;
  private readonly k: {
    setKeys: Kernel;
    clearSlot: Kernel;
    ecbIoOneSlot: Kernel;
    cbcIo: Kernel;
    cbcEncryptLanes: Kernel;
    cbcDecryptLanes: Kernel;
  };

  constructor(readonly instance: WasmInstance) {
    super();
    this.flavor = instance.flavor;
    let t = wasmTables.get(instance);
    if (!t) wasmTables.set(instance, (t = new SlotTable()));
    this.table = t;
    const e = instance.exports;
    const get = (name: string): Kernel => {
      const f = e[name];
      if (typeof f !== 'function') throw new Error(`tunnelplane: WASM export ${name} missing`);
      return f as Kernel;
    };
    this.k = {
      setKeys: get('aesSetKeys'),
      clearSlot: get('aesClearSlot'),
      ecbIoOneSlot: get('aesEcbIoOneSlot'),
      cbcIo: get('aesCbcIo'),
      cbcEncryptLanes: get('cbcEncryptLanes'),
      cbcDecryptLanes: get('cbcDecryptLanes'),
    };
  }

  setKey(slot: number, key: Uint8Array): void {
    this.table.checkSlot(slot);
    checkBytes('key', key, AES256_KEY_SIZE);
    const { u8, u32, regions } = this.instance;
    u8.set(key, regions.KEY_IN);
    u32[regions.MSG_SLOT_A >>> 2] = slot;
    if (this.k.setKeys(1) !== 0) throw new Error('tunnelplane: aesSetKeys failed'); // it zeroes KEY_IN either way
    this.table.set[slot] = 1;
  }

  clearKey(slot: number): void {
    this.table.checkSlot(slot);
    this.k.clearSlot(slot);
    this.table.set[slot] = 0;
  }

  hasKey(slot: number): boolean {
    this.table.checkSlot(slot);
    return this.table.set[slot] === 1;
  }

  protected ecb(decrypt: boolean, slot: number, data: Uint8Array, out: Uint8Array | undefined): Uint8Array {
    this.table.keyed(slot);
    checkBlocks('data', data);
    const o = output(out, data.length);
    const { u8, regions } = this.instance;
    for (let at = 0; at < data.length; at += IO_SIZE) {
      const n = Math.min(IO_SIZE, data.length - at);
      u8.set(data.subarray(at, at + n), regions.IO);
      this.k.ecbIoOneSlot(n >>> 4, slot, decrypt ? 1 : 0);
      o.set(u8.subarray(regions.IO, regions.IO + n), at);
    }
    return o;
  }

  private cbc(
    decrypt: boolean,
    slot: number,
    iv: Uint8Array,
    data: Uint8Array,
    out: Uint8Array | undefined,
  ): Uint8Array {
    this.table.keyed(slot);
    checkBytes('iv', iv, AES_BLOCK_SIZE);
    checkBlocks('data', data);
    const o = output(out, data.length);
    const { u8, u32, regions } = this.instance;
    u32[regions.MSG_SLOT_A >>> 2] = slot;
    u8.set(iv, regions.MSG_PARAM);
    for (let at = 0; at < data.length; at += IO_SIZE) {
      const n = Math.min(IO_SIZE, data.length - at);
      u8.set(data.subarray(at, at + n), regions.IO);
      // the next chunk chains on the last ciphertext block: the input's when decrypting (saved first: out may be
      // data), the output's when encrypting
      const lastIn = decrypt ? data.slice(at + n - 16, at + n) : null;
      if (this.k.cbcIo(1, n, decrypt ? 1 : 0) !== 0) throw new Error('tunnelplane: aesCbcIo failed');
      o.set(u8.subarray(regions.IO, regions.IO + n), at);
      if (lastIn) u8.set(lastIn, regions.MSG_PARAM);
      else u8.copyWithin(regions.MSG_PARAM, regions.IO + n - 16, regions.IO + n);
    }
    return o;
  }

  cbcEncrypt(slot: number, iv: Uint8Array, data: Uint8Array, out?: Uint8Array): Uint8Array {
    return this.cbc(false, slot, iv, data, out);
  }

  cbcDecrypt(slot: number, iv: Uint8Array, data: Uint8Array, out?: Uint8Array): Uint8Array {
    return this.cbc(true, slot, iv, data, out);
  }

  /** Byte offset of message 0 in WASM memory when the whole batch already lies in the MSG or IO region, else -1. */
  private inPlace(batch: CbcBatch): number {
    const { data, count, stride, offset, length } = batch;
    if (data.buffer !== this.instance.memory.buffer || count === 0) return -1;
    const { MSG, IO } = this.instance.regions;
    const first = data.byteOffset + offset;
    const end = data.byteOffset + (count - 1) * stride + offset + length;
    if (first >= MSG && end <= MSG + MAX_BATCH * TUNNEL_DATA_SIZE) return first;
    if (first >= IO && end <= IO + IO_SIZE) return first;
    return -1;
  }

  private batch(decrypt: boolean, batch: CbcBatch): void {
    checkCbcBatch(batch);
    const { count, data, stride, offset, length, slots, ivs } = batch;
    this.table.checkAll(slots, count);
    if (count === 0 || length === 0) return;
    const { u8, u32, regions } = this.instance;
    const stage = (first: number, n: number): void => {
      u32.set(slots.subarray(first, first + n), regions.MSG_SLOT_A >>> 2);
      u8.set(ivs.subarray(first * 16, (first + n) * 16), regions.MSG_PARAM);
    };
    const ptr = this.inPlace(batch);
    if (ptr >= 0) {
      const kernel = decrypt ? this.k.cbcDecryptLanes : this.k.cbcEncryptLanes;
      for (let first = 0; first < count; first += MAX_BATCH) {
        const n = Math.min(MAX_BATCH, count - first);
        stage(first, n);
        kernel(n, ptr + first * stride, stride, 0, length, regions.MSG_PARAM, 16, regions.MSG_SLOT_A, 4);
      }
      return;
    }
    // staged through IO, message j of a chunk at IO + j*length
    const per = Math.min(MAX_BATCH, Math.floor(IO_SIZE / length));
    for (let first = 0; first < count; first += per) {
      const n = Math.min(per, count - first);
      stage(first, n);
      for (let j = 0; j < n; j++) {
        const at = (first + j) * stride + offset;
        u8.set(data.subarray(at, at + length), regions.IO + j * length);
      }
      if (this.k.cbcIo(n, length, decrypt ? 1 : 0) !== 0) throw new Error('tunnelplane: aesCbcIo failed');
      for (let j = 0; j < n; j++) {
        const src = regions.IO + j * length;
        data.set(u8.subarray(src, src + length), (first + j) * stride + offset);
      }
    }
  }

  cbcEncryptBatch(batch: CbcBatch): void {
    this.batch(false, batch);
  }
  cbcDecryptBatch(batch: CbcBatch): void {
    this.batch(true, batch);
  }
}

// --- node backend -------------------------------------------------------------------------------------------------
//
// OpenSSL's binding costs more than its AES-NI work on 1 KB, and CBC needs the IV at cipher creation, so a cipher per
// message wastes most of the time. Instead each slot keeps long-lived objects and CBC chains across messages:
//   encryption: a CBC cipher whose chaining value `encState` is the last block it output. Feeding first the block
//     D(iv) ^ encState makes it output E(D(iv)) = iv, after which it chains from iv, exactly as a fresh cipher would;
//     that first output block is dropped. The D(iv) of a batch come from one ECB call per slot.
//   decryption: a CBC decipher whose chaining value `decState` is the last ciphertext block it consumed; the first
//     plaintext block then comes out XORed with decState instead of iv, which one 16-byte XOR corrects.

interface NodeKey {
  key: Buffer;
  ecbEnc: Cipher;
  ecbDec: Decipher;
  cbcEnc: Cipher;
  encState: Buffer;
  cbcDec: Decipher;
  decState: Buffer;
}

const ZERO_IV = Buffer.alloc(16);

class NodeAes extends AesEcbMethods implements Aes256 {
  readonly backend: CryptoBackend = 'node';
  readonly flavor = undefined;
  private readonly table: SlotTable = new SlotTable();
  private readonly keys = new Map<number, NodeKey>();
  private scratch = Buffer.alloc(16 + 1024);

  setKey(slot: number, key: Uint8Array): void {
    this.table.checkSlot(slot);
    checkBytes('key', key, AES256_KEY_SIZE);
    this.drop(slot);
    const k = Buffer.from(key);
    const ecbEnc = createCipheriv('aes-256-ecb', k, null);
    const ecbDec = createDecipheriv('aes-256-ecb', k, null);
    const cbcEnc = createCipheriv('aes-256-cbc', k, ZERO_IV);
    const cbcDec = createDecipheriv('aes-256-cbc', k, ZERO_IV);
    for (const c of [ecbEnc, ecbDec, cbcEnc, cbcDec]) c.setAutoPadding(false);
    this.keys.set(slot, {
      key: k,
      ecbEnc,
      ecbDec,
      cbcEnc,
      encState: Buffer.alloc(16),
      cbcDec,
      decState: Buffer.alloc(16),
    });
    this.table.set[slot] = 1;
  }

  /**
   * Zeroes our copies and ends the cipher objects now: final() frees their OpenSSL contexts, which cleanses the key
   * schedules (it does so even when it throws), instead of leaving them to the garbage collector.
   */
  private drop(slot: number): void {
    const old = this.keys.get(slot);
    if (!old) return;
    this.keys.delete(slot);
    old.key.fill(0);
    old.encState.fill(0);
    old.decState.fill(0);
    for (const c of [old.ecbEnc, old.ecbDec, old.cbcEnc, old.cbcDec]) {
      try {
        c.final();
      } catch {
        /* no padding, whole blocks only: nothing can be pending; the context is freed anyway */
      }
    }
  }

  clearKey(slot: number): void {
    this.table.checkSlot(slot);
    this.drop(slot);
    this.table.set[slot] = 0;
  }

  hasKey(slot: number): boolean {
    this.table.checkSlot(slot);
    return this.table.set[slot] === 1;
  }

  protected ecb(decrypt: boolean, slot: number, data: Uint8Array, out: Uint8Array | undefined): Uint8Array {
    const k = this.keys.get(this.table.keyed(slot))!;
    checkBlocks('data', data);
    const o = output(out, data.length);
    o.set((decrypt ? k.ecbDec : k.ecbEnc).update(data)); // no padding: update returns every whole block at once
    return o;
  }

  /** CBC-encrypts src into dst[at..] with k, given D(iv) at dIv[dAt..dAt+16). src.length > 0. */
  private encOne(k: NodeKey, dIv: Uint8Array, dAt: number, src: Uint8Array, dst: Uint8Array, at: number): void {
    const n = src.length;
    if (this.scratch.length < 16 + n) this.scratch = Buffer.alloc(16 + n);
    const buf = this.scratch.subarray(0, 16 + n);
    const st = k.encState;
    for (let j = 0; j < 16; j++) buf[j] = dIv[dAt + j]! ^ st[j]!;
    buf.set(src, 16);
    const outFull = k.cbcEnc.update(buf);
    st.set(outFull.subarray(16 + n - 16));
    dst.set(outFull.subarray(16), at);
  }

  /** CBC-decrypts src into dst[at..] with k and iv (dst may alias src). src.length > 0. */
  private decOne(k: NodeKey, iv: Uint8Array, ivAt: number, src: Uint8Array, dst: Uint8Array, at: number): void {
    const st = k.decState;
    const outFull = k.cbcDec.update(src);
    for (let j = 0; j < 16; j++) outFull[j]! ^= st[j]! ^ iv[ivAt + j]!;
    st.set(src.subarray(src.length - 16)); // before dst is written: src may be dst
    dst.set(outFull, at);
  }

  private cbc(
    decrypt: boolean,
    slot: number,
    iv: Uint8Array,
    data: Uint8Array,
    out: Uint8Array | undefined,
  ): Uint8Array {
    const k = this.keys.get(this.table.keyed(slot))!;
    checkBytes('iv', iv, AES_BLOCK_SIZE);
    checkBlocks('data', data);
    const o = output(out, data.length);
    if (data.length === 0) return o;
    if (decrypt) this.decOne(k, iv, 0, data, o, 0);
    else this.encOne(k, k.ecbDec.update(iv), 0, data, o, 0);
    return o;
  }

  cbcEncrypt(slot: number, iv: Uint8Array, data: Uint8Array, out?: Uint8Array): Uint8Array {
    return this.cbc(false, slot, iv, data, out);
  }

  cbcDecrypt(slot: number, iv: Uint8Array, data: Uint8Array, out?: Uint8Array): Uint8Array {
    return this.cbc(true, slot, iv, data, out);
  }

  private batch(decrypt: boolean, batch: CbcBatch): void {
    checkCbcBatch(batch);
    const { count, data, stride, offset, length, slots, ivs } = batch;
    this.table.checkAll(slots, count);
    if (length === 0 || count === 0) return;
    if (decrypt) {
      for (let i = 0; i < count; i++) {
        const at = i * stride + offset;
        this.decOne(this.keys.get(slots[i]!)!, ivs, 16 * i, data.subarray(at, at + length), data, at);
      }
      return;
    }
    // D(iv) for every message: one ECB call per distinct slot
    const dIvs = new Uint8Array(16 * count);
    const bySlot = new Map<number, number[]>();
    for (let i = 0; i < count; i++) {
      const s = slots[i]!;
      const list = bySlot.get(s);
      if (list) list.push(i);
      else bySlot.set(s, [i]);
    }
    for (const [s, list] of bySlot) {
      const k = this.keys.get(s)!;
      if (list.length === count) {
        dIvs.set(k.ecbDec.update(ivs.subarray(0, 16 * count)));
        break;
      }
      const g = new Uint8Array(16 * list.length);
      list.forEach((i, j) => g.set(ivs.subarray(16 * i, 16 * i + 16), 16 * j));
      const d = k.ecbDec.update(g);
      list.forEach((i, j) => dIvs.set(d.subarray(16 * j, 16 * j + 16), 16 * i));
    }
    for (let i = 0; i < count; i++) {
      const at = i * stride + offset;
      this.encOne(this.keys.get(slots[i]!)!, dIvs, 16 * i, data.subarray(at, at + length), data, at);
    }
  }

  cbcEncryptBatch(batch: CbcBatch): void {
    this.batch(false, batch);
  }
  cbcDecryptBatch(batch: CbcBatch): void {
    this.batch(true, batch);
  }
}

// --- factory ------------------------------------------------------------------------------------------------------

let aesInstructions: boolean | undefined;
let aesInstructionsForced: boolean | undefined;

/**
 * Test seam, not exported by the package (src/index.ts): makes cpuHasAes() report `value` in this thread, so the
 * tests can take the path of a CPU without AES instructions; undefined asks the CPU again.
 */
export function forceCpuHasAesForTests(value: boolean | undefined): void {
  aesInstructionsForced = value;
}

/** True when the CPU reports AES instructions (x86 AES-NI, ARMv8 AES): OpenSSL's AES is then constant time. */
export function cpuHasAes(): boolean {
  if (aesInstructionsForced !== undefined) return aesInstructionsForced;
  if (aesInstructions === undefined) {
    if (process.platform === 'darwin' && process.arch === 'arm64')
      aesInstructions = true; // every Apple silicon
    else {
      try {
        aesInstructions = /^(flags|Features)\s*:.*\baes\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
      } catch {
        aesInstructions = false; // unknown: take the backend that is constant time everywhere
      }
    }
  }
  return aesInstructions;
}

/** The backend 'auto' resolves to: wasm for an explicit flavor / instance, else node with AES instructions. */
function autoBackend(options: AesOptions): CryptoBackend {
  if (options.instance || options.flavor) return 'wasm';
  return cpuHasAes() ? 'node' : 'wasm';
}

/** An AES-256 object (see Aes256 in ./types.ts). */
export function createAes256(options: AesOptions = {}): Aes256 & { readonly instance?: WasmInstance } {
  const backend = resolveBackend(AES_FAMILY, options.backend, autoBackend(options));
  if (backend === 'node') return new NodeAes();
  return new WasmAes(options.instance ?? sharedInstance(options.flavor));
}
