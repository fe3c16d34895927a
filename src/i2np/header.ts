// I2NP standard 16-byte header (i2np.md §1): type | msg_id | expiration (ms) | size | chks.
// Decoders never throw on hostile bytes: they return { ok: false, error } with a fixed reason string.
import { I2NP_HEADER_SIZE } from '../constants.js';
import { sha256 } from '../crypto/hash.js';

export interface I2npHeader {
  type: number;
  msgId: number;
  /** Milliseconds since 1970 (exact below 2^53, i.e. for any real date). */
  expiration: number;
  size: number;
  chks: number;
}

export interface I2npMessage {
  header: I2npHeader;
  /** View of the payload inside the input (no copy). */
  payload: Uint8Array;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

export function ok<T>(value: T): Decoded<T> {
  return { ok: true, value };
}
export function fail<T>(error: string): Decoded<T> {
  return { ok: false, error };
}

/** First byte of SHA-256(payload): the header's chks (i2np.md §1). */
export function i2npChecksum(payload: Uint8Array): number {
  return sha256(payload)[0]!;
}

function checkU32(v: number, name: string): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw new RangeError(`${name} must be an integer 0..2^32-1`);
}

/** Builds a complete I2NP message (header + payload) with a correct chks. Throws on bad arguments (caller bugs). */
export function encodeI2np(type: number, msgId: number, expiration: number, payload: Uint8Array): Uint8Array {
  if (!Number.isInteger(type) || type < 0 || type > 255) throw new RangeError('type must be an integer 0..255');
  checkU32(msgId, 'msgId');
  if (!Number.isSafeInteger(expiration) || expiration < 0)
    throw new RangeError('expiration must be a non-negative safe integer (ms)');
  if (!(payload instanceof Uint8Array)) throw new TypeError('payload must be a Uint8Array');
  if (payload.length > 0xffff) throw new RangeError(`payload must be at most 65535 bytes, not ${payload.length}`);
  const out = new Uint8Array(I2NP_HEADER_SIZE + payload.length);
  const dv = new DataView(out.buffer);
  out[0] = type;
  dv.setUint32(1, msgId);
  dv.setUint32(5, Math.floor(expiration / 0x100000000));
  dv.setUint32(9, expiration >>> 0);
  dv.setUint16(13, payload.length);
  out[15] = i2npChecksum(payload);
  out.set(payload, I2NP_HEADER_SIZE);
  return out;
}

export interface DecodeI2npOptions {
  /** Check the chks byte (default false: receivers stopped verifying it, i2np.md §1). */
  verifyChecksum?: boolean;
  /** Reject bytes after the payload (default true). */
  exact?: boolean;
}

/** Parses a standard-header I2NP message. */
export function decodeI2np(bytes: Uint8Array, opts: DecodeI2npOptions = {}): Decoded<I2npMessage> {
  if (!(bytes instanceof Uint8Array)) return fail('not bytes');
  if (bytes.length < I2NP_HEADER_SIZE) return fail('shorter than the 16-byte header');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = dv.getUint16(13);
  const end = I2NP_HEADER_SIZE + size;
  if (end > bytes.length) return fail('size runs past the end');
  if (opts.exact !== false && end !== bytes.length) return fail('bytes after the payload');
  const payload = bytes.subarray(I2NP_HEADER_SIZE, end);
  const header: I2npHeader = {
    type: bytes[0]!,
    msgId: dv.getUint32(1),
    expiration: dv.getUint32(5) * 0x100000000 + dv.getUint32(9),
    size,
    chks: bytes[15]!,
  };
  if (opts.verifyChecksum && i2npChecksum(payload) !== header.chks) return fail('header checksum mismatch');
  return ok({ header, payload });
}
