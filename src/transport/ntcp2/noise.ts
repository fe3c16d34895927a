// Noise XK symmetric state for NTCP2 (Noise_XKaesobfse+hs2+hs3_25519_ChaChaPoly_SHA256, ntcp2-routerinfo.md §4.1,
// §4.2, §4.6): MixHash, MixKey, HKDF, the handshake AEAD, X25519 and the data-phase key split. Control plane only (a
// few calls per connection), so everything runs on node:crypto.
import { createCipheriv, createDecipheriv, createHash, createHmac, type KeyObject } from 'node:crypto';
import {
  x25519GenerateKeyPair,
  x25519PrivateKeyObject,
  x25519RawPublic,
  x25519SharedSecret,
} from '../../crypto/x25519.js';

/** SHA-256("Noise_XKaesobfse+hs2+hs3_25519_ChaChaPoly_SHA256"): the initial ck and h (§4.2). */
export const PROTOCOL_NAME = 'Noise_XKaesobfse+hs2+hs3_25519_ChaChaPoly_SHA256';

const EMPTY = new Uint8Array(0);

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const m = createHmac('sha256', key);
  for (const p of parts) m.update(p);
  return new Uint8Array(m.digest());
}

/**
 * HKDF-SHA256 (RFC 5869) with 64 bytes of output, the only size NTCP2 uses: PRK = HMAC(salt, ikm),
 * T1 = HMAC(PRK, info || 1), T2 = HMAC(PRK, T1 || info || 2). An empty `ikm` is Noise's "zerolen".
 */
export function hkdf64(salt: Uint8Array, ikm: Uint8Array, info: Uint8Array = EMPTY): Uint8Array {
  const prk = hmacSha256(salt, ikm);
  const t1 = hmacSha256(prk, info, Uint8Array.of(1));
  const t2 = hmacSha256(prk, t1, info, Uint8Array.of(2));
  const out = new Uint8Array(64);
  out.set(t1, 0);
  out.set(t2, 32);
  prk.fill(0);
  t1.fill(0);
  t2.fill(0);
  return out;
}

/** ChaCha20-Poly1305 nonce: 4 zero bytes || 8-byte little-endian counter (§4.1). */
export function aeadNonce(n: number, out: Uint8Array = new Uint8Array(12)): Uint8Array {
  out[0] = 0;
  out[1] = 0;
  out[2] = 0;
  out[3] = 0;
  let lo = n >>> 0;
  let hi = Math.floor(n / 0x100000000) >>> 0;
  for (let i = 4; i < 8; i++) {
    out[i] = lo & 0xff;
    lo >>>= 8;
  }
  for (let i = 8; i < 12; i++) {
    out[i] = hi & 0xff;
    hi >>>= 8;
  }
  return out;
}

/** Handshake AEAD: ChaCha20-Poly1305 over node:crypto, ciphertext || 16-byte tag. */
export function aeadSeal(key: Uint8Array, n: number, ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const c = createCipheriv('chacha20-poly1305', key, aeadNonce(n), { authTagLength: 16 });
  c.setAAD(ad, { plaintextLength: plaintext.length });
  const body = c.update(plaintext);
  c.final();
  const out = new Uint8Array(plaintext.length + 16);
  out.set(body, 0);
  out.set(c.getAuthTag(), plaintext.length);
  return out;
}

/** Opens ciphertext || tag; undefined when the tag does not verify (never throws on hostile bytes). */
export function aeadOpen(key: Uint8Array, n: number, ad: Uint8Array, sealed: Uint8Array): Uint8Array | undefined {
  if (sealed.length < 16) return undefined;
  const len = sealed.length - 16;
  try {
    const d = createDecipheriv('chacha20-poly1305', key, aeadNonce(n), { authTagLength: 16 });
    d.setAAD(ad, { plaintextLength: len });
    d.setAuthTag(sealed.subarray(len));
    const body = d.update(sealed.subarray(0, len));
    d.final();
    return new Uint8Array(body.buffer, body.byteOffset, body.length);
  } catch {
    return undefined;
  }
}

/**
 * An X25519 key pair as NTCP2 uses it: raw 32-byte keys, plus node:crypto's parsed private key once made (parsing
 * is the costly part of a DH on OpenSSL 3, and JWK import is ~20x cheaper than DER). OpenSSL cleanses the key when
 * the KeyObject is freed; wipe() drops our reference and zeroes the raw copy.
 */
export interface X25519Pair {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
  keyObject?: KeyObject;
}

/** From a raw private key (long-lived keys loaded from disk, and tests). */
export function x25519FromPrivate(priv: Uint8Array): X25519Pair {
  if (!(priv instanceof Uint8Array) || priv.length !== 32) throw new RangeError('X25519 private key must be 32 bytes');
  const keyObject = x25519PrivateKeyObject(priv);
  return { privateKey: Uint8Array.from(priv), publicKey: x25519RawPublic(keyObject), keyObject };
}

/** A fresh pair (ephemeral keys). */
export function x25519Generate(): X25519Pair {
  return x25519GenerateKeyPair();
}

function keyObjectOf(pair: X25519Pair): KeyObject {
  pair.keyObject ??= x25519PrivateKeyObject(pair.privateKey);
  return pair.keyObject;
}

export function wipePair(pair: X25519Pair): void {
  pair.privateKey.fill(0);
  pair.keyObject = undefined;
}

/**
 * X25519(pair's private key, pub). Returns undefined for a peer key with bit 255 set (i2pd refuses such keys, §4.1)
 * or when OpenSSL refuses the point (an all-zero shared secret from a low-order point).
 */
export function x25519(pair: X25519Pair, pub: Uint8Array): Uint8Array | undefined {
  if (pub.length !== 32 || (pub[31]! & 0x80) !== 0) return undefined;
  return x25519SharedSecret(keyObjectOf(pair), pub);
}

const INITIAL_CK = sha256(Buffer.from(PROTOCOL_NAME, 'ascii'));
const INITIAL_H = sha256(INITIAL_CK);

/** The Noise symmetric state: chaining key ck, handshake hash h and the current cipher key k (§4.1). */
export class SymmetricState {
  ck: Uint8Array;
  h: Uint8Array;
  k: Uint8Array = new Uint8Array(32);

  constructor(ck: Uint8Array, h: Uint8Array) {
    this.ck = ck;
    this.h = h;
  }

  /** Initial state, then MixHash(rs) with Bob's static key (§4.2). */
  static initiate(rs: Uint8Array): SymmetricState {
    const s = new SymmetricState(INITIAL_CK.slice(), INITIAL_H.slice()); // empty prologue: h = SHA256(ck)
    s.mixHash(rs);
    return s;
  }

  mixHash(data: Uint8Array): void {
    this.h = sha256(this.h, data);
  }

  /** ck, k = HKDF(ck, dh): t = HMAC(ck, dh); ck = HMAC(t, 1); k = HMAC(t, ck || 2). Wipes `dh`. */
  mixKey(dh: Uint8Array): void {
    const out = hkdf64(this.ck, dh);
    this.ck.fill(0);
    this.k.fill(0);
    this.ck = out.slice(0, 32);
    this.k = out.slice(32, 64);
    out.fill(0);
    dh.fill(0);
  }

  /** Seals with k, nonce n, ad = h, then MixHash(ciphertext). */
  encryptAndHash(n: number, plaintext: Uint8Array): Uint8Array {
    const c = aeadSeal(this.k, n, this.h, plaintext);
    this.mixHash(c);
    return c;
  }

  /** Opens with k, nonce n, ad = h, then MixHash(ciphertext); undefined on a bad tag (state then unusable). */
  decryptAndHash(n: number, sealed: Uint8Array): Uint8Array | undefined {
    const p = aeadOpen(this.k, n, this.h, sealed);
    if (p === undefined) return undefined;
    this.mixHash(sealed);
    return p;
  }

  wipe(): void {
    this.ck.fill(0);
    this.h.fill(0);
    this.k.fill(0);
  }
}

/** Data-phase keys of one session (§4.6). "ab" = Alice to Bob. */
export interface DataPhaseKeys {
  kAB: Uint8Array;
  kBA: Uint8Array;
  sipAB: Uint8Array;
  sipBA: Uint8Array;
}

/** Data-phase KDF from the final ck and h (§4.6). */
export function dataPhaseKeys(ck: Uint8Array, h: Uint8Array): DataPhaseKeys {
  const k = hkdf64(ck, EMPTY);
  const ask = hkdf64(ck, EMPTY, Buffer.from('ask', 'ascii'));
  const sipMaster = hkdf64(ask.subarray(0, 32), Buffer.concat([h, Buffer.from('siphash', 'ascii')]));
  const sip = hkdf64(sipMaster.subarray(0, 32), EMPTY);
  const keys = { kAB: k.slice(0, 32), kBA: k.slice(32, 64), sipAB: sip.slice(0, 32), sipBA: sip.slice(32, 64) };
  k.fill(0);
  ask.fill(0);
  sipMaster.fill(0);
  sip.fill(0);
  return keys;
}

export function wipeKeys(k: DataPhaseKeys): void {
  k.kAB.fill(0);
  k.kBA.fill(0);
  k.sipAB.fill(0);
  k.sipBA.fill(0);
}

/** AES-256-CBC without padding over whole blocks (the §4.3/§4.4 ephemeral-key obfuscation). */
export function aesCbc(encrypt: boolean, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const c = encrypt ? createCipheriv('aes-256-cbc', key, iv) : createDecipheriv('aes-256-cbc', key, iv);
  c.setAutoPadding(false);
  const out = c.update(data);
  c.final();
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** Constant-time equality of two byte strings of the same length (false if lengths differ). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
