// Garlic (11) body (i2np.md §4.5): `length(4) | data(length)`. The data's ECIES formats are in src/router/garlic/.
import { type Decoded, fail, ok } from './header.js';

export function encodeGarlic(data: Uint8Array): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array');
  if (data.length > 0xffff) throw new RangeError('garlic data must be at most 65535 bytes');
  const out = new Uint8Array(4 + data.length);
  new DataView(out.buffer).setUint32(0, data.length);
  out.set(data, 4);
  return out;
}

/** The garlic data (a view into `body`), exactly `length` bytes with nothing after. Never throws. */
export function decodeGarlic(body: Uint8Array): Decoded<Uint8Array> {
  if (!(body instanceof Uint8Array)) return fail('not bytes');
  if (body.length < 4) return fail('Garlic body shorter than 4 bytes');
  const len = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(0);
  if (4 + len > body.length) return fail('length runs past the end');
  if (4 + len !== body.length) return fail('bytes after the garlic data');
  return ok(body.subarray(4));
}
