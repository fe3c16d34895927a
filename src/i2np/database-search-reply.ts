// DatabaseSearchReply (3) body (netdb-floodfill.md §3.3, i2np.md §4.8): key(32) | num(1) | num x hash | from(32).
import { type Decoded, fail, ok } from './header.js';

export interface DatabaseSearchReplyBody {
  key: Uint8Array;
  /** Peer hashes (views into the input). */
  peers: Uint8Array[];
  from: Uint8Array;
}

export function decodeDatabaseSearchReply(body: Uint8Array): Decoded<DatabaseSearchReplyBody> {
  if (!(body instanceof Uint8Array)) return fail('not bytes');
  if (body.length < 65) return fail('DatabaseSearchReply shorter than 65 bytes');
  const num = body[32]!;
  if (body.length !== 65 + num * 32)
    return fail(`DatabaseSearchReply of ${body.length} bytes does not hold ${num} hashes`);
  const peers: Uint8Array[] = [];
  for (let i = 0; i < num; i++) peers.push(body.subarray(33 + i * 32, 65 + i * 32));
  return ok({ key: body.subarray(0, 32), peers, from: body.subarray(33 + num * 32) });
}

/** Throws RangeError on caller bugs (sizes, more than 255 peers). */
export function encodeDatabaseSearchReply(key: Uint8Array, peers: readonly Uint8Array[], from: Uint8Array): Uint8Array {
  if (key.length !== 32 || from.length !== 32 || peers.some((p) => p.length !== 32))
    throw new RangeError('hashes must be 32 bytes');
  if (peers.length > 255) throw new RangeError('at most 255 peers');
  const out = new Uint8Array(65 + peers.length * 32);
  out.set(key, 0);
  out[32] = peers.length;
  peers.forEach((p, i) => out.set(p, 33 + i * 32));
  out.set(from, 33 + peers.length * 32);
  return out;
}
