// ECIES-X25519 payload blocks (netdb-floodfill.md §4.1 item 4, §4.2): `type(1) | size(2) | data`. A router only needs
// DateTime (0), Garlic Clove (11) and Padding (254); other block types are skipped. Cloves carry an I2NP message with
// the 9-byte short header behind garlic delivery instructions (i2np.md §2, §7). Decoders never throw.
import { HASH_SIZE } from '../../constants.js';

export const BLOCK_DATETIME = 0;
export const BLOCK_GARLIC_CLOVE = 11;
export const BLOCK_PADDING = 254;
export const BLOCK_HEADER_SIZE = 3;

/** Garlic clove delivery types, flag bits 6..5 (i2np.md §7). */
export type CloveDelivery = 'local' | 'destination' | 'router' | 'tunnel';
const DELIVERY_CODES: readonly CloveDelivery[] = ['local', 'destination', 'router', 'tunnel'];

/** Most cloves one payload may carry; more is hostile (i2pd sends one). */
export const MAX_CLOVES = 16;

export interface GarlicClove {
  delivery: CloveDelivery;
  /** Destination / router / gateway hash (absent for LOCAL). */
  toHash?: Uint8Array;
  /** TUNNEL only. */
  tunnelId?: number;
  /** The carried I2NP message. */
  type: number;
  msgId: number;
  /** Expiration, ms since the epoch (the wire carries seconds, i2np.md §2). */
  expiration: number;
  /** I2NP body: a view into the decrypted payload. */
  body: Uint8Array;
}

export interface GarlicPayload {
  /** DateTime block, seconds since the epoch (absent when none was sent). */
  dateTime?: number;
  cloves: GarlicClove[];
  /** Total padding bytes seen. */
  paddingBytes: number;
  /** Block types skipped as unknown. */
  unknownBlocks: number;
}

export type BlockResult<T> = { ok: true; value: T } | { ok: false; error: string };

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Parses one Garlic Clove block's data (netdb-floodfill.md §4.1 item 5). */
export function parseClove(data: Uint8Array): BlockResult<GarlicClove> {
  if (data.length < 1) return { ok: false, error: 'empty clove' };
  const flag = data[0]!;
  if (flag & 0x9f) return { ok: false, error: `unsupported clove flag 0x${flag.toString(16)}` };
  const delivery = DELIVERY_CODES[(flag >> 5) & 3]!;
  let p = 1;
  let toHash: Uint8Array | undefined;
  let tunnelId: number | undefined;
  if (delivery !== 'local') {
    if (data.length < p + HASH_SIZE) return { ok: false, error: 'clove hash truncated' };
    toHash = data.slice(p, p + HASH_SIZE);
    p += HASH_SIZE;
  }
  if (delivery === 'tunnel') {
    if (data.length < p + 4) return { ok: false, error: 'clove tunnel id truncated' };
    tunnelId = dv(data).getUint32(p);
    p += 4;
  }
  if (data.length < p + 9) return { ok: false, error: 'clove I2NP header truncated' };
  const v = dv(data);
  const clove: GarlicClove = {
    delivery,
    type: data[p]!,
    msgId: v.getUint32(p + 1),
    expiration: v.getUint32(p + 5) * 1000,
    body: data.subarray(p + 9),
  };
  if (toHash) clove.toHash = toHash;
  if (tunnelId !== undefined) clove.tunnelId = tunnelId;
  return { ok: true, value: clove };
}

/** Parses a whole decrypted payload: blocks to the end, padding anywhere accepted, unknown types skipped. */
export function parseGarlicPayload(payload: Uint8Array): BlockResult<GarlicPayload> {
  const out: GarlicPayload = { cloves: [], paddingBytes: 0, unknownBlocks: 0 };
  const v = dv(payload);
  let p = 0;
  while (p < payload.length) {
    if (payload.length - p < BLOCK_HEADER_SIZE) return { ok: false, error: 'block header truncated' };
    const type = payload[p]!;
    const size = v.getUint16(p + 1);
    const start = p + BLOCK_HEADER_SIZE;
    if (start + size > payload.length) return { ok: false, error: `block ${type} runs past the end` };
    const data = payload.subarray(start, start + size);
    if (type === BLOCK_DATETIME) {
      if (size !== 4) return { ok: false, error: 'DateTime block size is not 4' };
      if (out.dateTime !== undefined) return { ok: false, error: 'two DateTime blocks' };
      out.dateTime = v.getUint32(start);
    } else if (type === BLOCK_GARLIC_CLOVE) {
      if (out.cloves.length >= MAX_CLOVES) return { ok: false, error: `more than ${MAX_CLOVES} cloves` };
      const c = parseClove(data);
      if (!c.ok) return c;
      out.cloves.push(c.value);
    } else if (type === BLOCK_PADDING) {
      out.paddingBytes += size;
    } else {
      out.unknownBlocks++;
    }
    p = start + size;
  }
  return { ok: true, value: out };
}

/** A clove to encode; LOCAL unless `delivery` says otherwise. */
export interface CloveInput {
  delivery?: CloveDelivery;
  toHash?: Uint8Array;
  tunnelId?: number;
  type: number;
  msgId: number;
  /** ms since the epoch; written as seconds, rounded down. */
  expiration: number;
  body: Uint8Array;
}

/** One Garlic Clove block including its 3-byte block header. Throws RangeError on caller bugs. */
export function encodeCloveBlock(c: CloveInput): Uint8Array {
  const delivery = c.delivery ?? 'local';
  const code = DELIVERY_CODES.indexOf(delivery);
  if (code < 0) throw new RangeError(`unknown delivery ${delivery}`);
  if (delivery !== 'local' && (!(c.toHash instanceof Uint8Array) || c.toHash.length !== HASH_SIZE))
    throw new RangeError('toHash must be 32 bytes');
  if (!Number.isInteger(c.type) || c.type < 0 || c.type > 255) throw new RangeError('type must be 0..255');
  if (!Number.isInteger(c.msgId) || c.msgId < 0 || c.msgId > 0xffffffff) throw new RangeError('msgId must be a u32');
  const hdr = 1 + (delivery === 'local' ? 0 : HASH_SIZE) + (delivery === 'tunnel' ? 4 : 0);
  const size = hdr + 9 + c.body.length;
  if (size > 0xffff) throw new RangeError('clove larger than a block');
  const out = new Uint8Array(BLOCK_HEADER_SIZE + size);
  const v = dv(out);
  out[0] = BLOCK_GARLIC_CLOVE;
  v.setUint16(1, size);
  let p = BLOCK_HEADER_SIZE;
  out[p++] = code << 5;
  if (delivery !== 'local') {
    out.set(c.toHash!, p);
    p += HASH_SIZE;
  }
  if (delivery === 'tunnel') {
    v.setUint32(p, c.tunnelId ?? 0);
    p += 4;
  }
  out[p] = c.type;
  v.setUint32(p + 1, c.msgId);
  v.setUint32(p + 5, Math.floor(c.expiration / 1000) >>> 0);
  out.set(c.body, p + 9);
  return out;
}

export function encodeDateTimeBlock(nowMs: number): Uint8Array {
  const out = new Uint8Array(7);
  out[0] = BLOCK_DATETIME;
  dv(out).setUint16(1, 4);
  dv(out).setUint32(3, Math.floor(nowMs / 1000) >>> 0);
  return out;
}

/** Padding block of `n` zero bytes (i2pd pads with zeros). */
export function encodePaddingBlock(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError('padding must be 0..65535 bytes');
  const out = new Uint8Array(BLOCK_HEADER_SIZE + n);
  out[0] = BLOCK_PADDING;
  dv(out).setUint16(1, n);
  return out;
}
