// Helpers shared by every primitive family (aes.ts, chacha20.ts, chacha20-poly1305.ts, poly1305.ts, sha256.ts).
//   checks   argument validation at the API edge (types.ts): TypeError for a wrong type, RangeError for a wrong
//            length or range -- never a WASM trap or a silent truncation.
//   staging  where a batch sits in a WASM instance's memory (the MSG and IO regions of assembly/layout.ts) and how
//            one is staged through IO when it sits elsewhere.
import { IO_SIZE, MAX_BATCH, TUNNEL_DATA_SIZE } from '../constants.js';
import type { WasmInstance } from '../wasm/loader.js';
import type { MessageBatch } from './types.js';

// --- checks ----------------------------------------------------------------------------------------------------------

export function checkBytes(name: string, value: unknown, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`tunnelplane: ${name} must be a Uint8Array`);
  if (length !== undefined && value.length !== length) {
    throw new RangeError(`tunnelplane: ${name} must be ${length} bytes, got ${value.length}`);
  }
}

export function checkInt(name: string, value: unknown, min: number, max: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new TypeError(`tunnelplane: ${name} must be an integer`);
  if (value < min || value > max) throw new RangeError(`tunnelplane: ${name} ${value} is outside ${min}..${max}`);
}

/**
 * Checks a batch's geometry: message i is data[i*stride + offset, + span) for span = length (+ extra, e.g. a tag);
 * messages may not overlap.
 */
export function checkBatch(batch: MessageBatch, extra = 0): void {
  if (batch === null || typeof batch !== 'object') throw new TypeError('tunnelplane: batch must be an object');
  const { count, data, stride, offset, length, slots } = batch;
  checkInt('batch.count', count, 0, Number.MAX_SAFE_INTEGER);
  checkBytes('batch.data', data);
  checkInt('batch.offset', offset, 0, Number.MAX_SAFE_INTEGER);
  checkInt('batch.length', length, 0, Number.MAX_SAFE_INTEGER);
  checkInt('batch.stride', stride, 0, Number.MAX_SAFE_INTEGER);
  if (!(slots instanceof Uint32Array)) throw new TypeError('tunnelplane: batch.slots must be a Uint32Array');
  if (slots.length < count)
    throw new RangeError(`tunnelplane: batch.slots has ${slots.length} entries for ${count} messages`);
  if (count > 1 && stride < offset + length + extra) {
    throw new RangeError(
      `tunnelplane: batch.stride ${stride} is less than offset + length (${offset + length + extra}): messages overlap`,
    );
  }
  if (count > 0 && (count - 1) * stride + offset + length + extra > data.length) {
    throw new RangeError(
      `tunnelplane: batch of ${count} messages (stride ${stride}) does not fit in ${data.length} bytes`,
    );
  }
}

// --- WASM staging ----------------------------------------------------------------------------------------------------

/**
 * `x` itself, or a copy when it is a view of this instance's memory: staging an input through IO (or KEY_IN,
 * MSG_PARAM) must not overwrite bytes of the same input that are still to be read.
 */
export function detached(inst: WasmInstance, x: Uint8Array): Uint8Array {
  return x.buffer === inst.u8.buffer ? x.slice() : x;
}

/**
 * Where a batch lives for a WASM kernel. When `data` already is a view of the instance's MSG or IO region the
 * kernel works on it in place (region 0 / 1, offset relative to the region); otherwise messages are staged through
 * IO in chunks that fit, `span` bytes each.
 */
export interface Placement {
  region: 0 | 1;
  /** offset of message 0's byte 0 (i.e. of data[0]) relative to the region base */
  base: number;
}

export function placeInWasm(
  inst: WasmInstance,
  data: Uint8Array,
  count: number,
  stride: number,
  end: number,
): Placement | null {
  if (count === 0 || data.buffer !== inst.u8.buffer) return null;
  const { MSG, IO } = inst.regions;
  const last = data.byteOffset + (count - 1) * stride + end;
  if (data.byteOffset >= MSG && last <= MSG + MAX_BATCH * TUNNEL_DATA_SIZE && count <= MAX_BATCH) {
    return { region: 0, base: data.byteOffset - MSG };
  }
  if (data.byteOffset >= IO && last <= IO + IO_SIZE && count <= MAX_BATCH)
    return { region: 1, base: data.byteOffset - IO };
  return null;
}

/** Runs `kernel(region, stride, offset, first, n)` over a batch, in place or staged through IO. */
export function runBatch(
  inst: WasmInstance,
  batch: MessageBatch,
  span: number,
  kernel: (region: number, stride: number, offset: number, first: number, n: number) => void,
  lo = batch.offset,
): void {
  const { count, data, stride } = batch;
  const place = placeInWasm(inst, data, count, stride, lo + span);
  if (place) {
    kernel(place.region, stride, place.base + lo, 0, count);
    return;
  }
  if (data.buffer === inst.u8.buffer && count > 0) {
    // elsewhere in WASM memory (or too many messages for MSG/IO): stage from a copy, then write the result back
    const copy = data.slice();
    runBatch(inst, { ...batch, data: copy }, span, kernel, lo);
    data.set(copy);
    return;
  }
  const { u8, regions } = inst;
  const per = span === 0 ? MAX_BATCH : Math.max(1, Math.min(MAX_BATCH, Math.floor(IO_SIZE / span)));
  for (let first = 0; first < count; first += per) {
    const n = Math.min(per, count - first);
    for (let j = 0; j < n; j++) {
      const at = (first + j) * stride + lo;
      u8.set(data.subarray(at, at + span), regions.IO + j * span);
    }
    kernel(1, span, 0, first, n);
    for (let j = 0; j < n; j++) {
      const at = (first + j) * stride + lo;
      data.set(u8.subarray(regions.IO + j * span, regions.IO + (j + 1) * span), at);
    }
  }
}
