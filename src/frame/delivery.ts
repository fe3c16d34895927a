// Tunnel delivery instructions (tunnel-message.md §3): the types, their encoded lengths, and the writer used by the
// gateway. The endpoint parses them inline (endpoint.ts) because it validates a whole body before using any of it.
import {
  DELIVERY_LOCAL,
  DELIVERY_ROUTER,
  DELIVERY_TUNNEL,
  FLAG_FOLLOW_ON,
  FLAG_FRAGMENTED,
  FOLLOW_ON_INSTR_SIZE,
  HASH_SIZE,
  TUNNEL_ID_SIZE,
} from '../constants.js';

export type DeliveryType = 'LOCAL' | 'TUNNEL' | 'ROUTER';

/** Where the endpoint hands a message on (tunnel-message.md §3.1). */
export interface Delivery {
  delivery: DeliveryType;
  /** TUNNEL only: the target tunnel on the target gateway. */
  tunnelId?: number;
  /** TUNNEL (the gateway router) and ROUTER (the target router): 32-byte router hash. */
  toHash?: Uint8Array;
}

/** A complete I2NP message (16-byte header included) with its delivery. */
export interface DeliveredMessage extends Delivery {
  message: Uint8Array;
}

export const DELIVERY_CODE: Readonly<Record<DeliveryType, number>> = {
  LOCAL: DELIVERY_LOCAL,
  TUNNEL: DELIVERY_TUNNEL,
  ROUTER: DELIVERY_ROUTER,
};
export const DELIVERY_NAMES: readonly DeliveryType[] = ['LOCAL', 'TUNNEL', 'ROUTER'];

/** Size of the 2-byte fragment size field and of a message id (tunnel-message.md §3.1, §3.2). */
export const SIZE_FIELD = 2;
export const MSG_ID_SIZE = 4;

/** Length of first-fragment instructions for delivery type `code` (3/7, 39/43, 35/39 -- tunnel-message.md §3.1). */
export function firstInstrSize(code: number, fragmented: boolean): number {
  let n = 1 + SIZE_FIELD;
  if (code === DELIVERY_TUNNEL) n += TUNNEL_ID_SIZE + HASH_SIZE;
  else if (code === DELIVERY_ROUTER) n += HASH_SIZE;
  if (fragmented) n += MSG_ID_SIZE;
  return n;
}

/** Checks a caller's delivery and returns its type code; TypeError / RangeError with an exact message otherwise. */
export function checkDelivery(d: Delivery): number {
  if (typeof d !== 'object' || d === null) throw new TypeError('delivery must be an object');
  const code = DELIVERY_CODE[d.delivery];
  if (code === undefined)
    throw new TypeError(`delivery.delivery must be LOCAL, TUNNEL or ROUTER, not ${String(d.delivery)}`);
  if (code === DELIVERY_TUNNEL) {
    const t = d.tunnelId;
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > 0xffffffff) {
      throw new RangeError('delivery.tunnelId must be an integer 0..2^32-1 for TUNNEL delivery');
    }
  }
  if (code !== DELIVERY_LOCAL) {
    if (!(d.toHash instanceof Uint8Array))
      throw new TypeError(`delivery.toHash must be a Uint8Array for ${d.delivery} delivery`);
    if (d.toHash.length !== HASH_SIZE)
      throw new RangeError(`delivery.toHash must be ${HASH_SIZE} bytes, not ${d.toHash.length}`);
  }
  return code;
}

/** Writes first-fragment instructions at `off`; returns the offset after them. */
export function writeFirstInstr(
  buf: Uint8Array,
  off: number,
  code: number,
  d: Delivery,
  msgId: number | -1,
  size: number,
): number {
  buf[off++] = (code << 5) | (msgId >= 0 ? FLAG_FRAGMENTED : 0);
  if (code === DELIVERY_TUNNEL) off = writeU32(buf, off, d.tunnelId!);
  if (code !== DELIVERY_LOCAL) {
    buf.set(d.toHash!, off);
    off += HASH_SIZE;
  }
  if (msgId >= 0) off = writeU32(buf, off, msgId);
  buf[off++] = size >>> 8;
  buf[off++] = size & 0xff;
  return off;
}

/** Writes follow-on instructions (always 7 bytes, tunnel-message.md §3.2); returns the offset after them. */
export function writeFollowOnInstr(
  buf: Uint8Array,
  off: number,
  fragNum: number,
  last: boolean,
  msgId: number,
  size: number,
): number {
  buf[off] = FLAG_FOLLOW_ON | (fragNum << 1) | (last ? 1 : 0);
  writeU32(buf, off + 1, msgId);
  buf[off + 5] = size >>> 8;
  buf[off + 6] = size & 0xff;
  return off + FOLLOW_ON_INSTR_SIZE;
}

export function writeU32(buf: Uint8Array, off: number, v: number): number {
  buf[off] = v >>> 24;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
  return off + 4;
}

export function readU32(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}
