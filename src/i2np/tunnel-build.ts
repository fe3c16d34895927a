// Tunnel build message bodies (i2np.md §4.9): `num(1) | num x record`. ShortTunnelBuild (25) and
// OutboundTunnelBuildReply (26) carry 218-byte records, VariableTunnelBuild (23) and its reply (24) 528-byte ones
// (tunnel-build-ecies.md §4.2, §10). The deprecated fixed TunnelBuild (21/22) is refused (i2pd does too).
import {
  I2NP_OUTBOUND_TUNNEL_BUILD_REPLY,
  I2NP_SHORT_TUNNEL_BUILD,
  I2NP_VARIABLE_TUNNEL_BUILD,
  I2NP_VARIABLE_TUNNEL_BUILD_REPLY,
} from './message-types.js';
import { type Decoded, fail, ok } from './header.js';

export const SHORT_BUILD_RECORD_SIZE = 218;
export const LONG_BUILD_RECORD_SIZE = 528;
export const MAX_BUILD_RECORD_COUNT = 8;

/** Record size of a build message type, or undefined for any other type. */
export function buildRecordSize(type: number): number | undefined {
  if (type === I2NP_SHORT_TUNNEL_BUILD || type === I2NP_OUTBOUND_TUNNEL_BUILD_REPLY) return SHORT_BUILD_RECORD_SIZE;
  if (type === I2NP_VARIABLE_TUNNEL_BUILD || type === I2NP_VARIABLE_TUNNEL_BUILD_REPLY) return LONG_BUILD_RECORD_SIZE;
  return undefined;
}

export interface BuildRecordsBody {
  /** Records in slot order: views into the input (no copy). */
  records: Uint8Array[];
  recordSize: number;
}

/** Decodes `num | num x recordSize` exactly (no trailing bytes, 1..8 records). Never throws. */
export function decodeBuildRecords(body: Uint8Array, recordSize: number): Decoded<BuildRecordsBody> {
  if (!(body instanceof Uint8Array)) return fail('not bytes');
  if (recordSize !== SHORT_BUILD_RECORD_SIZE && recordSize !== LONG_BUILD_RECORD_SIZE)
    return fail('unknown record size');
  if (body.length < 1) return fail('empty build message');
  const num = body[0]!;
  if (num < 1 || num > MAX_BUILD_RECORD_COUNT) return fail(`record count ${num} outside 1..${MAX_BUILD_RECORD_COUNT}`);
  if (body.length !== 1 + num * recordSize)
    return fail(`build message of ${body.length} bytes does not hold ${num} records of ${recordSize}`);
  const records: Uint8Array[] = [];
  for (let i = 0; i < num; i++) records.push(body.subarray(1 + i * recordSize, 1 + (i + 1) * recordSize));
  return ok({ records, recordSize });
}

/** Encodes records (all of one size, 1..8) into a build message body. Throws RangeError on caller bugs. */
export function encodeBuildRecords(records: readonly Uint8Array[]): Uint8Array {
  if (records.length < 1 || records.length > MAX_BUILD_RECORD_COUNT)
    throw new RangeError(`record count must be 1..${MAX_BUILD_RECORD_COUNT}`);
  const size = records[0]!.length;
  if (size !== SHORT_BUILD_RECORD_SIZE && size !== LONG_BUILD_RECORD_SIZE)
    throw new RangeError('records must be 218 or 528 bytes');
  const out = new Uint8Array(1 + records.length * size);
  out[0] = records.length;
  records.forEach((r, i) => {
    if (r.length !== size) throw new RangeError('records must all have the same size');
    out.set(r, 1 + i * size);
  });
  return out;
}
