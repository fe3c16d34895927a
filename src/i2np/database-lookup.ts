// DatabaseLookup (2) body (netdb-floodfill.md §3.1, i2np.md §4.7): key(32) | from(32) | flags(1) |
// [replyTunnelId(4) if flags bit 0] | size(2) | size x excluded hash | [replyKey(32) | tagCount(1) | tags if bit 1 or 4]
// with 8-byte tags when bit 4 (ECIES) is set, 32-byte ones otherwise. The decoder never throws; hashes are views.
import { type Decoded, fail, ok } from './header.js';

export const LOOKUP_FLAG_TUNNEL = 0x01;
export const LOOKUP_FLAG_ELGAMAL = 0x02;
export const LOOKUP_FLAG_ECIES = 0x10;
export const LOOKUP_TYPE_MASK = 0x0c;
/** i2pd drops a lookup with more excluded hashes (§3.1). */
export const MAX_LOOKUP_EXCLUDED = 512;
/** More reply tags than anyone sends (ECIES: 1). */
export const MAX_LOOKUP_TAGS = 32;

export type LookupType = 'any' | 'leaseset' | 'routerinfo' | 'exploration';
const TYPES: readonly LookupType[] = ['any', 'leaseset', 'routerinfo', 'exploration'];

export interface DatabaseLookupBody {
  key: Uint8Array;
  /** Router to answer directly, or the reply tunnel's gateway (flags bit 0). */
  from: Uint8Array;
  flags: number;
  lookupType: LookupType;
  replyTunnelId?: number;
  excluded: Uint8Array[];
  /** Reply encryption (bits 1 / 4): 'ecies' = the key+tag garlic of netdb-floodfill.md §4.2. */
  encryption: 'none' | 'elgamal' | 'ecies';
  replyKey?: Uint8Array;
  replyTags?: Uint8Array[];
}

export function decodeDatabaseLookup(body: Uint8Array): Decoded<DatabaseLookupBody> {
  if (!(body instanceof Uint8Array)) return fail('not bytes');
  if (body.length < 67) return fail('DatabaseLookup shorter than its header');
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const flags = body[64]!;
  if (flags & 0xe0) return fail('reserved flag bits set');
  if (flags & LOOKUP_FLAG_ELGAMAL && flags & LOOKUP_FLAG_ECIES) return fail('both ElGamal and ECIES reply flags');
  const out: DatabaseLookupBody = {
    key: body.subarray(0, 32),
    from: body.subarray(32, 64),
    flags,
    lookupType: TYPES[(flags & LOOKUP_TYPE_MASK) >> 2]!,
    excluded: [],
    encryption: flags & LOOKUP_FLAG_ECIES ? 'ecies' : flags & LOOKUP_FLAG_ELGAMAL ? 'elgamal' : 'none',
  };
  let p = 65;
  if (flags & LOOKUP_FLAG_TUNNEL) {
    if (body.length < p + 4) return fail('reply tunnel id truncated');
    out.replyTunnelId = v.getUint32(p);
    p += 4;
  }
  if (body.length < p + 2) return fail('excluded count truncated');
  const size = v.getUint16(p);
  p += 2;
  if (size > MAX_LOOKUP_EXCLUDED) return fail(`more than ${MAX_LOOKUP_EXCLUDED} excluded hashes`);
  if (body.length < p + size * 32) return fail('excluded hashes truncated');
  for (let i = 0; i < size; i++) out.excluded.push(body.subarray(p + i * 32, p + i * 32 + 32));
  p += size * 32;
  if (out.encryption !== 'none') {
    if (body.length < p + 33) return fail('reply key truncated');
    out.replyKey = body.subarray(p, p + 32);
    const count = body[p + 32]!;
    p += 33;
    if (count > MAX_LOOKUP_TAGS) return fail('too many reply tags');
    const tagLen = out.encryption === 'ecies' ? 8 : 32;
    if (body.length < p + count * tagLen) return fail('reply tags truncated');
    out.replyTags = [];
    for (let i = 0; i < count; i++) out.replyTags.push(body.subarray(p + i * tagLen, p + (i + 1) * tagLen));
    p += count * tagLen;
  }
  if (p !== body.length) return fail('bytes after the lookup');
  return ok(out);
}

export interface DatabaseLookupInput {
  key: Uint8Array;
  from: Uint8Array;
  lookupType: LookupType;
  replyTunnelId?: number;
  excluded?: readonly Uint8Array[];
  /** ECIES reply (flag 0x10): key and 8-byte tags. */
  replyKey?: Uint8Array;
  replyTags?: readonly Uint8Array[];
}

/** Encodes a lookup; an ECIES reply request when replyKey is given. Throws RangeError on caller bugs. */
export function encodeDatabaseLookup(l: DatabaseLookupInput): Uint8Array {
  const h32 = (b: Uint8Array | undefined, what: string) => {
    if (!(b instanceof Uint8Array) || b.length !== 32) throw new RangeError(`${what} must be 32 bytes`);
  };
  h32(l.key, 'key');
  h32(l.from, 'from');
  const excluded = l.excluded ?? [];
  if (excluded.length > MAX_LOOKUP_EXCLUDED) throw new RangeError('too many excluded hashes');
  excluded.forEach((e) => h32(e, 'excluded hash'));
  const tags = l.replyTags ?? [];
  if (l.replyKey) {
    h32(l.replyKey, 'replyKey');
    if (tags.length < 1 || tags.length > MAX_LOOKUP_TAGS || tags.some((t) => t.length !== 8))
      throw new RangeError('replyTags must be 1..32 tags of 8 bytes');
  }
  let flags = TYPES.indexOf(l.lookupType) << 2;
  if (l.replyTunnelId !== undefined) flags |= LOOKUP_FLAG_TUNNEL;
  if (l.replyKey) flags |= LOOKUP_FLAG_ECIES;
  const len =
    65 + (l.replyTunnelId !== undefined ? 4 : 0) + 2 + excluded.length * 32 + (l.replyKey ? 33 + tags.length * 8 : 0);
  const out = new Uint8Array(len);
  const v = new DataView(out.buffer);
  out.set(l.key, 0);
  out.set(l.from, 32);
  out[64] = flags;
  let p = 65;
  if (l.replyTunnelId !== undefined) {
    v.setUint32(p, l.replyTunnelId);
    p += 4;
  }
  v.setUint16(p, excluded.length);
  p += 2;
  for (const e of excluded) {
    out.set(e, p);
    p += 32;
  }
  if (l.replyKey) {
    out.set(l.replyKey, p);
    out[p + 32] = tags.length;
    p += 33;
    for (const t of tags) {
      out.set(t, p);
      p += 8;
    }
  }
  return out;
}
