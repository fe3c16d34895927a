// The end-to-end payload inside SendMessage / MessagePayload (i2cp.md §10): a gzip stream whose MTIME field carries
// the I2P source port (bytes 4-5) and destination port (6-7), and whose OS byte (9) carries the I2P protocol.
import { crc32, deflateRawSync, gunzipSync } from 'node:zlib';
import { fail, ok, type Result } from '../common/bytes.js';

export const PROTO_STREAMING = 6;
export const PROTO_DATAGRAM = 17;
export const PROTO_RAW = 18;

export interface PayloadData {
  data: Uint8Array;
  fromPort: number;
  toPort: number;
  protocol: number;
}

/** Gzip-frames `data`. Level 0 (stored blocks) is valid and cheapest; Java uses XFL = 2. */
export function encodePayload(p: PayloadData, level = 0): Uint8Array {
  for (const [n, v, max] of [
    ['fromPort', p.fromPort, 0xffff],
    ['toPort', p.toPort, 0xffff],
    ['protocol', p.protocol, 0xff],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${n} out of range: ${v}`);
  }
  const deflated = deflateRawSync(p.data, { level });
  const out = new Uint8Array(10 + deflated.length + 8);
  out.set([0x1f, 0x8b, 0x08, 0, p.fromPort >>> 8, p.fromPort & 0xff, p.toPort >>> 8, p.toPort & 0xff, 2, p.protocol]);
  out.set(deflated, 10);
  const dv = new DataView(out.buffer);
  dv.setUint32(10 + deflated.length, crc32(p.data), true);
  dv.setUint32(14 + deflated.length, p.data.length >>> 0, true);
  return out;
}

/** Decodes a gzip-framed payload; corrupt data, a bad CRC or output above `maxSize` give an error result. */
export function decodePayload(buf: Uint8Array, maxSize = 1 << 20): Result<PayloadData> {
  if (buf.length < 18) return fail(`payload too short for gzip (${buf.length} bytes)`);
  if (buf[0] !== 0x1f || buf[1] !== 0x8b || buf[2] !== 0x08) return fail('payload is not a gzip stream');
  const fromPort = (buf[4]! << 8) | buf[5]!;
  const toPort = (buf[6]! << 8) | buf[7]!;
  const protocol = buf[9]!;
  try {
    const data = gunzipSync(buf, { maxOutputLength: maxSize });
    return ok({ data: new Uint8Array(data), fromPort, toPort, protocol });
  } catch (err) {
    return fail(`payload gzip: ${(err as Error).message}`);
  }
}
