// I2P Mapping (i2cp.md §2.1): size(2) then `String key '=' String value ';'` entries. Signed structures need the
// entries sorted by key in Java String.compareTo order (UTF-16 code units) with no duplicates.
import { Reader, Writer, fail, ok, utf8, type Result } from './bytes.js';

export type Mapping = ReadonlyMap<string, string> | Record<string, string>;

/** Java String.compareTo: compares UTF-16 code units, which is what JS `<` on strings does. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function entries(m: Mapping): [string, string][] {
  return m instanceof Map ? [...m.entries()] : Object.entries(m as Record<string, string>);
}

/** Encodes a Mapping, sorted by key. Throws RangeError for an entry that cannot be represented. */
export function encodeMapping(m: Mapping, w = new Writer()): Writer {
  const list = entries(m).sort((x, y) => compareKeys(x[0], y[0]));
  const body = new Writer();
  for (let i = 0; i < list.length; i++) {
    const [k, v] = list[i]!;
    if (i > 0 && list[i - 1]![0] === k) throw new RangeError(`duplicate mapping key '${k}'`);
    if (utf8(k).length > 255 || utf8(v).length > 255)
      throw new RangeError(`mapping entry '${k}' longer than 255 bytes`);
    body.string(k).u8(0x3d).string(v).u8(0x3b);
  }
  if (body.length > 0xffff) throw new RangeError('mapping larger than 65535 bytes');
  return w.u16(body.length).bytes(body.finish());
}

export function mappingBytes(m: Mapping): Uint8Array {
  return encodeMapping(m).finish();
}

/** Reads a Mapping from a Reader (errors go to the reader). Keeps entries in wire order. */
export function readMapping(r: Reader, what = 'mapping'): Map<string, string> {
  const out = new Map<string, string>();
  const size = r.u16(`${what} size`);
  if (r.error !== undefined) return out;
  if (size > r.remaining) {
    r.invalid(`${what}: size ${size} exceeds the ${r.remaining} bytes left`);
    return out;
  }
  const sub = new Reader(r.buf, r.pos, r.pos + size);
  r.bytes(size);
  while (sub.remaining > 0 && sub.error === undefined) {
    const k = sub.string(`${what} key`);
    if (sub.u8(`${what} '='`) !== 0x3d && sub.error === undefined) sub.invalid(`${what}: missing '=' after '${k}'`);
    const v = sub.string(`${what} value`);
    if (sub.u8(`${what} ';'`) !== 0x3b && sub.error === undefined) sub.invalid(`${what}: missing ';' after '${k}'`);
    if (sub.error !== undefined) break;
    if (out.has(k)) {
      sub.invalid(`${what}: duplicate key '${k}'`);
      break;
    }
    out.set(k, v);
  }
  if (sub.error !== undefined) r.invalid(sub.error);
  return out;
}

export function decodeMapping(buf: Uint8Array): Result<Map<string, string>> {
  const r = new Reader(buf);
  const m = readMapping(r);
  if (r.error !== undefined) return fail(r.error);
  if (r.remaining !== 0) return fail(`${r.remaining} trailing bytes after mapping`);
  return ok(m);
}
