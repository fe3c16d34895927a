// SHA-256 (FIPS 180-4): one interface, two backends.
//   node  node:crypto `crypto.hash('sha256', ...)` one-shot (OpenSSL, SHA-NI / AVX2 where the CPU has them).
//   wasm  assembly/sha256.ts (scalar, unrolled).
// Default: node -- about 2.5-3x the WASM rate for ~1 KB messages on this machine class (docs/chacha.md).
// WASM kernels that need a digest inside the module (e.g. the endpoint checksum in assembly/) call
// assembly/sha256.ts directly.
import { createHash, hash as nodeHash } from 'node:crypto';
import { IO_SIZE, MAX_BATCH, SHA256_SIZE } from '../constants.js';
import { sharedInstance, type WasmInstance } from '../wasm/loader.js';
import { resolveBackend, setDefaultBackend } from './backend.js';
import type { CryptoBackend, WasmBackendOptions } from './types.js';
import { checkBytes, checkInt, detached, placeInWasm } from './utils.js';

export const SHA256_FAMILY = 'sha256';
setDefaultBackend(SHA256_FAMILY, 'node');

/** A batch of messages to hash: message i is data[i*stride + offset, +length). */
export interface HashBatch {
  count: number;
  data: Uint8Array;
  stride: number;
  offset: number;
  length: number;
}

export interface Sha256 {
  readonly backend: CryptoBackend;
  /** SHA-256(data || suffix); suffix (optional) saves a copy, e.g. the tunnel checksum's trailing IV. */
  hash(data: Uint8Array, suffix?: Uint8Array): Uint8Array;
  /** Digest i = SHA-256(message i) at out[32i, 32i+32); returns out (new when not given). */
  hashBatch(batch: HashBatch, out?: Uint8Array): Uint8Array;
}

function checkHashBatch(batch: HashBatch, out: Uint8Array | undefined): Uint8Array {
  if (batch === null || typeof batch !== 'object') throw new TypeError('tunnelplane: batch must be an object');
  const { count, data, stride, offset, length } = batch;
  checkInt('batch.count', count, 0, Number.MAX_SAFE_INTEGER);
  checkBytes('batch.data', data);
  checkInt('batch.offset', offset, 0, Number.MAX_SAFE_INTEGER);
  checkInt('batch.length', length, 0, Number.MAX_SAFE_INTEGER);
  checkInt('batch.stride', stride, 0, Number.MAX_SAFE_INTEGER);
  if (count > 0 && (count - 1) * stride + offset + length > data.length) {
    throw new RangeError(
      `tunnelplane: batch of ${count} messages (stride ${stride}) does not fit in ${data.length} bytes`,
    );
  }
  if (out === undefined) return new Uint8Array(count * SHA256_SIZE);
  checkBytes('out', out);
  if (out.length < count * SHA256_SIZE) throw new RangeError(`tunnelplane: out needs ${count * SHA256_SIZE} bytes`);
  return out;
}

class NodeSha256 implements Sha256 {
  readonly backend = 'node' as const;

  hash(data: Uint8Array, suffix?: Uint8Array): Uint8Array {
    checkBytes('data', data);
    if (suffix === undefined) return new Uint8Array(nodeHash('sha256', data, 'buffer'));
    checkBytes('suffix', suffix);
    return new Uint8Array(createHash('sha256').update(data).update(suffix).digest());
  }

  hashBatch(batch: HashBatch, out?: Uint8Array): Uint8Array {
    const o = checkHashBatch(batch, out);
    const { count, data, stride, offset, length } = batch;
    for (let i = 0; i < count; i++) {
      const at = i * stride + offset;
      o.set(nodeHash('sha256', data.subarray(at, at + length), 'buffer'), i * SHA256_SIZE);
    }
    return o;
  }
}

type OneFn = (len: number) => number;
type BatchFn = (n: number, region: number, stride: number, offset: number, len: number) => number;

class WasmSha256 implements Sha256 {
  readonly backend = 'wasm' as const;
  private readonly one: OneFn;
  private readonly many: BatchFn;
  private readonly init: () => void;
  private readonly update: (ptr: number, len: number) => void;
  private readonly final: (out: number) => void;
  constructor(private readonly inst: WasmInstance) {
    const x = inst.exports;
    this.one = x.sha256One as OneFn;
    this.many = x.sha256Batch as BatchFn;
    this.init = x.sha256Init as () => void;
    this.update = x.sha256Update as (ptr: number, len: number) => void;
    this.final = x.sha256Final as (out: number) => void;
  }

  hash(data: Uint8Array, suffix?: Uint8Array): Uint8Array {
    checkBytes('data', data);
    if (suffix !== undefined) checkBytes('suffix', suffix);
    data = detached(this.inst, data);
    if (suffix !== undefined) suffix = detached(this.inst, suffix);
    const { u8, regions } = this.inst;
    const total = data.length + (suffix?.length ?? 0);
    if (total <= IO_SIZE) {
      u8.set(data, regions.IO);
      if (suffix) u8.set(suffix, regions.IO + data.length);
      this.one(total);
    } else {
      // Longer inputs stream through IO (the streaming API works on any WASM address).
      this.init();
      for (const part of suffix ? [data, suffix] : [data]) {
        for (let pos = 0; pos < part.length; pos += IO_SIZE) {
          const len = Math.min(IO_SIZE, part.length - pos);
          u8.set(part.subarray(pos, pos + len), regions.IO);
          this.update(regions.IO, len);
        }
      }
      this.final(regions.MSG_OUT);
    }
    return u8.slice(regions.MSG_OUT, regions.MSG_OUT + SHA256_SIZE);
  }

  hashBatch(batch: HashBatch, out?: Uint8Array): Uint8Array {
    const o = checkHashBatch(batch, out);
    const { count, data, stride, offset, length } = batch;
    const { u8, regions } = this.inst;
    if (o.buffer === u8.buffer && count > 0) {
      o.set(this.hashBatch(batch));
      return o;
    }
    const place = placeInWasm(this.inst, data, count, stride, offset + length);
    if (place) {
      if (this.many(count, place.region, stride, place.base + offset, length) !== count) {
        throw new Error('tunnelplane: sha256Batch rejected validated input');
      }
      o.set(u8.subarray(regions.MSG_OUT, regions.MSG_OUT + count * SHA256_SIZE));
      return o;
    }
    // elsewhere in WASM memory: hash a copy (staging through IO must not overwrite unread input)
    if (data.buffer === u8.buffer && count > 0) return this.hashBatch({ ...batch, data: data.slice() }, o);
    if (length > IO_SIZE) {
      for (let i = 0; i < count; i++) {
        const at = i * stride + offset;
        o.set(this.hash(data.subarray(at, at + length)), i * SHA256_SIZE);
      }
      return o;
    }
    const per = length === 0 ? MAX_BATCH : Math.min(MAX_BATCH, Math.floor(IO_SIZE / length));
    for (let first = 0; first < count; first += per) {
      const n = Math.min(per, count - first);
      for (let j = 0; j < n; j++) {
        const at = (first + j) * stride + offset;
        u8.set(data.subarray(at, at + length), regions.IO + j * length);
      }
      if (this.many(n, 1, length, 0, length) !== n)
        throw new Error('tunnelplane: sha256Batch rejected validated input');
      o.set(u8.subarray(regions.MSG_OUT, regions.MSG_OUT + n * SHA256_SIZE), first * SHA256_SIZE);
    }
    return o;
  }
}

/** A SHA-256 implementation: `backend` option, else TUNNELPLANE_BACKEND, else node. */
export function createSha256(options: WasmBackendOptions = {}): Sha256 {
  const backend = resolveBackend(SHA256_FAMILY, options.backend);
  if (backend === 'node') return new NodeSha256();
  return new WasmSha256(options.instance ?? sharedInstance(options.flavor));
}
