// I2NP bodies the tunnel data plane touches (i2np.md §4): TunnelData (18), TunnelGateway (19), Data (20),
// DeliveryStatus (10). Each has an encoder (throws on caller bugs) and a decoder (never throws; returns Decoded).
import { I2NP_HEADER_SIZE, LAYER_SIZE, TUNNEL_DATA_SIZE, TUNNEL_ID_SIZE } from '../constants.js';
import { type Decoded, fail, ok } from './header.js';

function u32(v: number, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff)
    throw new RangeError(`${name} must be an integer 0..2^32-1`);
  return v;
}
function bytesArg(v: Uint8Array, name: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  return v;
}
function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

// --- TunnelData (i2np.md §4.1): tunnelId(4) | data(1024) ---
export interface TunnelDataBody {
  tunnelId: number;
  /** IV(16) + encrypted(1008): a view into the input. */
  data: Uint8Array;
}

export function encodeTunnelData(tunnelId: number, data: Uint8Array): Uint8Array {
  u32(tunnelId, 'tunnelId');
  bytesArg(data, 'data');
  if (data.length !== LAYER_SIZE) throw new RangeError(`data must be ${LAYER_SIZE} bytes, not ${data.length}`);
  const out = new Uint8Array(TUNNEL_DATA_SIZE);
  view(out).setUint32(0, tunnelId);
  out.set(data, TUNNEL_ID_SIZE);
  return out;
}

export function decodeTunnelData(body: Uint8Array): Decoded<TunnelDataBody> {
  if (!(body instanceof Uint8Array)) return fail('not bytes');
  if (body.length !== TUNNEL_DATA_SIZE) return fail(`TunnelData body must be ${TUNNEL_DATA_SIZE} bytes`);
  const tunnelId = view(body).getUint32(0);
  if (tunnelId === 0) return fail('tunnel id 0');
  return ok({ tunnelId, data: body.subarray(TUNNEL_ID_SIZE) });
}

// --- TunnelGateway (i2np.md §4.2): tunnelId(4) | length(2) | data(length), data = an I2NP message with header ---
export interface TunnelGatewayBody {
  tunnelId: number;
  /** The carried I2NP message (standard header included): a view into the input. */
  message: Uint8Array;
}

export function encodeTunnelGateway(tunnelId: number, message: Uint8Array): Uint8Array {
  u32(tunnelId, 'tunnelId');
  bytesArg(message, 'message');
  if (message.length > 0xffff) throw new RangeError(`message must be at most 65535 bytes, not ${message.length}`);
  const out = new Uint8Array(6 + message.length);
  const dv = view(out);
  dv.setUint32(0, tunnelId);
  dv.setUint16(4, message.length);
  out.set(message, 6);
  return out;
}

export function decodeTunnelGateway(body: Uint8Array): Decoded<TunnelGatewayBody> {
  if (!(body instanceof Uint8Array)) return fail('not bytes');
  if (body.length < 6) return fail('TunnelGateway body shorter than 6 bytes');
  const dv = view(body);
  const tunnelId = dv.getUint32(0);
  const len = dv.getUint16(4);
  if (6 + len > body.length) return fail('length runs past the end');
  if (6 + len !== body.length) return fail('bytes after the message');
  if (len < I2NP_HEADER_SIZE) return fail('carried message shorter than an I2NP header');
  if (tunnelId === 0) return fail('tunnel id 0');
  return ok({ tunnelId, message: body.subarray(6) });
}

// --- Data (i2np.md §4.3): length(4) | data(length) ---
export function encodeData(data: Uint8Array): Uint8Array {
  bytesArg(data, 'data');
  const out = new Uint8Array(4 + data.length);
  view(out).setUint32(0, data.length);
  out.set(data, 4);
  return out;
}

export function decodeData(body: Uint8Array): Decoded<Uint8Array> {
  if (!(body instanceof Uint8Array)) return fail('not bytes');
  if (body.length < 4) return fail('Data body shorter than 4 bytes');
  const len = view(body).getUint32(0);
  if (4 + len > body.length) return fail('length runs past the end');
  if (4 + len !== body.length) return fail('bytes after the data');
  return ok(body.subarray(4));
}

// --- DeliveryStatus (i2np.md §4.4): msg_id(4) | time_stamp(8) ---
export interface DeliveryStatusBody {
  msgId: number;
  /** Milliseconds since 1970. */
  timestamp: number;
}

export const DELIVERY_STATUS_SIZE = 12;

export function encodeDeliveryStatus(msgId: number, timestamp: number): Uint8Array {
  u32(msgId, 'msgId');
  if (!Number.isSafeInteger(timestamp) || timestamp < 0)
    throw new RangeError('timestamp must be a non-negative safe integer (ms)');
  const out = new Uint8Array(DELIVERY_STATUS_SIZE);
  const dv = view(out);
  dv.setUint32(0, msgId);
  dv.setUint32(4, Math.floor(timestamp / 0x100000000));
  dv.setUint32(8, timestamp >>> 0);
  return out;
}

export function decodeDeliveryStatus(body: Uint8Array): Decoded<DeliveryStatusBody> {
  if (!(body instanceof Uint8Array)) return fail('not bytes');
  if (body.length !== DELIVERY_STATUS_SIZE) return fail(`DeliveryStatus body must be ${DELIVERY_STATUS_SIZE} bytes`);
  const dv = view(body);
  return ok({ msgId: dv.getUint32(0), timestamp: dv.getUint32(4) * 0x100000000 + dv.getUint32(8) });
}
