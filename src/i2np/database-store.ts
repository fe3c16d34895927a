// DatabaseStore (1) body (netdb-floodfill.md §2.1, i2np.md §4.6): key(32) | type(1) | replyToken(4) |
// [replyTunnelId(4) | replyGateway(32) if token != 0] | data. RouterInfo data is size(2) + a gzip member; LeaseSet-family
// data is the raw structure. The decoder never throws and returns views into the input.
import { type Decoded, fail, ok } from './header.js';

export const DSM_TYPE_ROUTER_INFO = 0;
export const DSM_TYPE_LEASESET = 1;
export const DSM_TYPE_LEASESET2 = 3;
export const DSM_TYPE_ENCRYPTED_LEASESET2 = 5;
export const DSM_TYPE_META_LEASESET2 = 7;
const KNOWN_TYPES = new Set([0, 1, 3, 5, 7]);
/** i2pd 2.45.1 refuses a compressed RouterInfo larger than this (MAX_RI_BUFFER_SIZE, §2.1). */
export const MAX_ROUTER_INFO_GZIP = 3072;

export interface DatabaseStoreBody {
  key: Uint8Array;
  type: number;
  /** 0 = no DeliveryStatus wanted. */
  replyToken: number;
  /** Present when replyToken != 0: 0 = reply directly to the gateway router. */
  replyTunnelId?: number;
  replyGateway?: Uint8Array;
  /** RouterInfo (type 0): the gzip bytes (size prefix removed). Other types: the structure's bytes. */
  data: Uint8Array;
}

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export function decodeDatabaseStore(body: Uint8Array): Decoded<DatabaseStoreBody> {
  if (!(body instanceof Uint8Array)) return fail('not bytes');
  if (body.length < 37) return fail('DatabaseStore shorter than its header');
  const v = dv(body);
  const type = body[32]!;
  if (!KNOWN_TYPES.has(type)) return fail(`unknown store type ${type}`);
  const replyToken = v.getUint32(33);
  let p = 37;
  const out: DatabaseStoreBody = { key: body.subarray(0, 32), type, replyToken, data: body.subarray(0, 0) };
  if (replyToken !== 0) {
    if (body.length < 73) return fail('reply fields truncated');
    out.replyTunnelId = v.getUint32(37);
    out.replyGateway = body.subarray(41, 73);
    p = 73;
  }
  if (type === DSM_TYPE_ROUTER_INFO) {
    if (body.length < p + 2) return fail('RouterInfo size truncated');
    const size = v.getUint16(p);
    if (size === 0) return fail('empty RouterInfo');
    if (p + 2 + size > body.length) return fail('RouterInfo size runs past the end');
    if (p + 2 + size !== body.length) return fail('bytes after the RouterInfo');
    out.data = body.subarray(p + 2, p + 2 + size);
  } else {
    if (p === body.length) return fail('empty LeaseSet data');
    out.data = body.subarray(p);
  }
  return ok(out);
}

export interface DatabaseStoreInput {
  key: Uint8Array;
  type: number;
  replyToken?: number;
  replyTunnelId?: number;
  replyGateway?: Uint8Array;
  /** RouterInfo: gzip bytes (the size is written here). Others: the structure. */
  data: Uint8Array;
}

/** Throws RangeError on caller bugs. */
export function encodeDatabaseStore(s: DatabaseStoreInput): Uint8Array {
  if (!(s.key instanceof Uint8Array) || s.key.length !== 32) throw new RangeError('key must be 32 bytes');
  if (!KNOWN_TYPES.has(s.type)) throw new RangeError(`unknown store type ${s.type}`);
  const token = s.replyToken ?? 0;
  if (!Number.isInteger(token) || token < 0 || token > 0xffffffff) throw new RangeError('replyToken must be a u32');
  if (token !== 0 && (!(s.replyGateway instanceof Uint8Array) || s.replyGateway.length !== 32))
    throw new RangeError('replyGateway must be 32 bytes');
  const ri = s.type === DSM_TYPE_ROUTER_INFO;
  if (ri && (s.data.length < 1 || s.data.length > 0xffff))
    throw new RangeError('RouterInfo gzip must be 1..65535 bytes');
  const head = token !== 0 ? 73 : 37;
  const out = new Uint8Array(head + (ri ? 2 : 0) + s.data.length);
  const v = dv(out);
  out.set(s.key, 0);
  out[32] = s.type;
  v.setUint32(33, token);
  if (token !== 0) {
    v.setUint32(37, s.replyTunnelId ?? 0);
    out.set(s.replyGateway!, 41);
  }
  if (ri) v.setUint16(head, s.data.length);
  out.set(s.data, head + (ri ? 2 : 0));
  return out;
}
