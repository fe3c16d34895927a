// The gzip wrapping of a RouterInfo in a DatabaseStore (netdb-floodfill.md §2.1). We send the exact "stored" form i2pd
// writes and fast-paths (10-byte header, one final stored deflate block, CRC32, ISIZE); we accept any valid gzip,
// inflated with a hard output cap so a compression bomb costs nothing.
import { crc32, gunzipSync } from 'node:zlib';
import { type Decoded, fail, ok } from './header.js';

/** i2pd 2.45.1 refuses an inflated RouterInfo of this size or more (MAX_RI_BUFFER_SIZE). */
export const MAX_ROUTER_INFO_SIZE = 3072;
const HEADER = Uint8Array.of(0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff);

/** `RI` in the stored gzip form of §2.1 (RI length + 23 bytes). Throws RangeError above 65535 bytes. */
export function gzipRouterInfo(ri: Uint8Array): Uint8Array {
  if (ri.length > 0xffff) throw new RangeError('RouterInfo larger than one stored block');
  const out = new Uint8Array(ri.length + 23);
  const v = new DataView(out.buffer);
  out.set(HEADER, 0);
  out[10] = 0x01; // BFINAL, stored
  v.setUint16(11, ri.length, true);
  v.setUint16(13, ~ri.length & 0xffff, true);
  out.set(ri, 15);
  v.setUint32(15 + ri.length, crc32(ri) >>> 0, true);
  v.setUint32(19 + ri.length, ri.length, true);
  return out;
}

/** Inflates a RouterInfo's gzip, refusing anything that is not valid gzip or inflates to `max` bytes or more. */
export function gunzipRouterInfo(gz: Uint8Array, max = MAX_ROUTER_INFO_SIZE): Decoded<Uint8Array> {
  try {
    const out = gunzipSync(gz, { maxOutputLength: max });
    if (out.length >= max) return fail('RouterInfo too large');
    return ok(new Uint8Array(out.buffer, out.byteOffset, out.length));
  } catch {
    return fail('not a valid gzip of at most the size limit');
  }
}
