// SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012) with 64-bit output, and the NTCP2
// frame-length mask built on it (ntcp2-routerinfo.md §5.1). 64-bit lanes are held as two 32-bit halves: only adds,
// rotations and XORs, so the time taken never depends on the key or the data.

/** Four 64-bit lanes as (hi, lo) pairs: v0h v0l v1h v1l v2h v2l v3h v3l. */
type Lanes = Int32Array;

function le32(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24) | 0;
}

// 64-bit add on halves: the carry out of the low word is bit 31 of (a & b) | ((a | b) & ~sum) (Hacker's Delight
// §2-13), computed without a comparison so nothing branches on key-dependent values.
/** One SipRound over the lanes in `v` (paper §2). */
function sipRound(v: Lanes): void {
  let v0h = v[0]!,
    v0l = v[1]!,
    v1h = v[2]!,
    v1l = v[3]!,
    v2h = v[4]!,
    v2l = v[5]!,
    v3h = v[6]!,
    v3l = v[7]!;
  let lo: number, t: number;
  // v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
  lo = (v0l + v1l) | 0;
  v0h = (v0h + v1h + (((v0l & v1l) | ((v0l | v1l) & ~lo)) >>> 31)) | 0;
  v0l = lo;
  t = v1h;
  v1h = (v1h << 13) | (v1l >>> 19);
  v1l = (v1l << 13) | (t >>> 19);
  v1h ^= v0h;
  v1l ^= v0l;
  t = v0h;
  v0h = v0l;
  v0l = t;
  // v2 += v3; v3 = rotl(v3, 16); v3 ^= v2
  lo = (v2l + v3l) | 0;
  v2h = (v2h + v3h + (((v2l & v3l) | ((v2l | v3l) & ~lo)) >>> 31)) | 0;
  v2l = lo;
  t = v3h;
  v3h = (v3h << 16) | (v3l >>> 16);
  v3l = (v3l << 16) | (t >>> 16);
  v3h ^= v2h;
  v3l ^= v2l;
  // v0 += v3; v3 = rotl(v3, 21); v3 ^= v0
  lo = (v0l + v3l) | 0;
  v0h = (v0h + v3h + (((v0l & v3l) | ((v0l | v3l) & ~lo)) >>> 31)) | 0;
  v0l = lo;
  t = v3h;
  v3h = (v3h << 21) | (v3l >>> 11);
  v3l = (v3l << 21) | (t >>> 11);
  v3h ^= v0h;
  v3l ^= v0l;
  // v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
  lo = (v2l + v1l) | 0;
  v2h = (v2h + v1h + (((v2l & v1l) | ((v2l | v1l) & ~lo)) >>> 31)) | 0;
  v2l = lo;
  t = v1h;
  v1h = (v1h << 17) | (v1l >>> 15);
  v1l = (v1l << 17) | (t >>> 15);
  v1h ^= v2h;
  v1l ^= v2l;
  t = v2h;
  v2h = v2l;
  v2l = t;
  v[0] = v0h;
  v[1] = v0l;
  v[2] = v1h;
  v[3] = v1l;
  v[4] = v2h;
  v[5] = v2l;
  v[6] = v3h;
  v[7] = v3l;
}

/** Initial lanes for key k0 || k1 (little-endian 64-bit words, paper §2 "Initialization"). */
function initLanes(v: Lanes, key: Uint8Array, keyOffset: number): void {
  const k0l = le32(key, keyOffset),
    k0h = le32(key, keyOffset + 4);
  const k1l = le32(key, keyOffset + 8),
    k1h = le32(key, keyOffset + 12);
  v[0] = k0h ^ 0x736f6d65;
  v[1] = k0l ^ 0x70736575; // "somepseu"
  v[2] = k1h ^ 0x646f7261;
  v[3] = k1l ^ 0x6e646f6d; // "dorandom"
  v[4] = k0h ^ 0x6c796765;
  v[5] = k0l ^ 0x6e657261; // "lygenera"
  v[6] = k1h ^ 0x74656462;
  v[7] = k1l ^ 0x79746573; // "tedbytes"
}

function compress(v: Lanes, mh: number, ml: number): void {
  v[6] = v[6]! ^ mh;
  v[7] = v[7]! ^ ml;
  sipRound(v);
  sipRound(v);
  v[0] = v[0]! ^ mh;
  v[1] = v[1]! ^ ml;
}

function finish(v: Lanes, out: Uint8Array, outOffset: number): void {
  v[5] = v[5]! ^ 0xff;
  sipRound(v);
  sipRound(v);
  sipRound(v);
  sipRound(v);
  const h = v[0]! ^ v[2]! ^ v[4]! ^ v[6]!;
  const l = v[1]! ^ v[3]! ^ v[5]! ^ v[7]!;
  out[outOffset] = l;
  out[outOffset + 1] = l >>> 8;
  out[outOffset + 2] = l >>> 16;
  out[outOffset + 3] = l >>> 24;
  out[outOffset + 4] = h;
  out[outOffset + 5] = h >>> 8;
  out[outOffset + 6] = h >>> 16;
  out[outOffset + 7] = h >>> 24;
}

/** SipHash-2-4 of any message under a 16-byte key; 8-byte output (the 64-bit result, little-endian). */
export function siphash24(key: Uint8Array, message: Uint8Array): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== 16) throw new RangeError('SipHash key must be 16 bytes');
  if (!(message instanceof Uint8Array)) throw new TypeError('message must be a Uint8Array');
  const v: Lanes = new Int32Array(8);
  initLanes(v, key, 0);
  const full = message.length - (message.length % 8);
  for (let i = 0; i < full; i += 8) compress(v, le32(message, i + 4), le32(message, i));
  // Last block: remaining bytes, then the length mod 256 in the top byte.
  const last = new Uint8Array(8);
  last.set(message.subarray(full));
  last[7] = message.length & 0xff;
  compress(v, le32(last, 4), le32(last, 0));
  const out = new Uint8Array(8);
  finish(v, out, 0);
  v.fill(0);
  return out;
}

/**
 * One direction's NTCP2 length obfuscation (ntcp2-routerinfo.md §5.1): key = sipkeys[0..15], IV0 = sipkeys[16..23].
 * For every frame, IV = SipHash-2-4(key, IV) and the mask is its first two bytes read little-endian.
 */
export interface LengthMask {
  /** Advances the IV chain once and returns the 16-bit mask for the next frame. */
  next(): number;
  /** Zeroes the key and the IV. */
  wipe(): void;
}

export class SipHashLengthMask implements LengthMask {
  private readonly key = new Uint8Array(16);
  private readonly iv = new Uint8Array(8);
  private readonly lanes: Lanes = new Int32Array(8);

  /** `sipkeys` = the 32-byte per-direction output of the data-phase KDF (only its first 24 bytes are used). */
  constructor(sipkeys: Uint8Array) {
    if (!(sipkeys instanceof Uint8Array) || sipkeys.length < 24)
      throw new RangeError('sipkeys must be at least 24 bytes');
    this.key.set(sipkeys.subarray(0, 16));
    this.iv.set(sipkeys.subarray(16, 24));
  }

  next(): number {
    const v = this.lanes,
      iv = this.iv;
    initLanes(v, this.key, 0);
    compress(v, le32(iv, 4), le32(iv, 0));
    compress(v, 0x08000000, 0); // empty last block with length 8 in its top byte
    finish(v, iv, 0);
    return iv[0]! | (iv[1]! << 8);
  }

  wipe(): void {
    this.key.fill(0);
    this.iv.fill(0);
    this.lanes.fill(0);
  }
}
