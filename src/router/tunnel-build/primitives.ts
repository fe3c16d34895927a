// The primitives of ECIES tunnel building and router garlic (tunnel-build-ecies.md §2), over node:crypto:
// X25519, SHA-256, HKDF-SHA256 (RFC 5869, written out so the zero-length IKM case is exactly i2pd's), ChaCha20-Poly1305
// with I2P's nonce (4 zero bytes || 8-byte little-endian counter) and the plain ChaCha20 stream with block counter 1.
// Control plane only: a few operations per build record, never per tunnel message.
import { createCipheriv, createDecipheriv, createHash, createHmac, type KeyObject } from 'node:crypto';
import {
  x25519GenerateKeyPair,
  x25519PrivateKeyObject,
  x25519RawPublic,
  x25519SharedSecret,
} from '../../crypto/x25519.js';

export const X25519_KEY_SIZE = 32;
export const AEAD_TAG_SIZE = 16;

export { x25519PrivateKeyObject, x25519PublicKeyObject, x25519RawPublic } from '../../crypto/x25519.js';

/** A fresh ephemeral key pair; `random` (tests) supplies the 32 private bytes, else they are random. */
export function x25519Ephemeral(random?: (n: number) => Uint8Array): { privateKey: KeyObject; publicKey: Uint8Array } {
  if (random) {
    const raw = random(X25519_KEY_SIZE);
    const privateKey = x25519PrivateKeyObject(raw);
    raw.fill(0);
    return { privateKey, publicKey: x25519RawPublic(privateKey) };
  }
  const pair = x25519GenerateKeyPair();
  pair.privateKey.fill(0);
  return { privateKey: pair.keyObject, publicKey: pair.publicKey };
}

/**
 * X25519(priv, pub), or undefined when the peer key is not a usable point (OpenSSL refuses an all-zero shared
 * secret, i.e. a low-order public key: hostile input, never an exception).
 */
export const x25519 = x25519SharedSecret;

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** HKDF-SHA256 (RFC 5869) with 64 bytes of output: [first 32, last 32] (tunnel-build-ecies.md §2). */
export function hkdf64(salt: Uint8Array, ikm: Uint8Array, info: Uint8Array): [Uint8Array, Uint8Array] {
  const prk = createHmac('sha256', salt).update(ikm).digest();
  const t1 = createHmac('sha256', prk).update(info).update(ONE).digest();
  const t2 = createHmac('sha256', prk).update(t1).update(info).update(TWO).digest();
  prk.fill(0);
  const a = new Uint8Array(t1);
  const b = new Uint8Array(t2);
  t1.fill(0);
  t2.fill(0);
  return [a, b];
}
const ONE = Uint8Array.of(1);
const TWO = Uint8Array.of(2);
export const ZEROLEN = new Uint8Array(0);

/** I2P's AEAD nonce: 4 zero bytes then the 8-byte little-endian counter n (tunnel-build-ecies.md §2). */
export function aeadNonce(n: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32LE(n >>> 0, 4);
  nonce.writeUInt32LE(Math.floor(n / 0x100000000), 8);
  return nonce;
}

/** ChaCha20-Poly1305 encrypt: ciphertext || tag (plaintext.length + 16 bytes), written to `out` when given. */
export function aeadSeal(
  key: Uint8Array,
  n: number,
  plaintext: Uint8Array,
  ad: Uint8Array,
  out?: Uint8Array,
): Uint8Array {
  const c = createCipheriv('chacha20-poly1305', key, aeadNonce(n), { authTagLength: AEAD_TAG_SIZE });
  c.setAAD(ad, { plaintextLength: plaintext.length });
  const body = c.update(plaintext);
  c.final();
  const tag = c.getAuthTag();
  const res = out ?? new Uint8Array(plaintext.length + AEAD_TAG_SIZE);
  res.set(body, 0);
  res.set(tag, plaintext.length);
  return res;
}

/** ChaCha20-Poly1305 decrypt of ciphertext || tag; undefined when the tag does not verify (never throws). */
export function aeadOpen(key: Uint8Array, n: number, sealed: Uint8Array, ad: Uint8Array): Uint8Array | undefined {
  if (sealed.length < AEAD_TAG_SIZE) return undefined;
  const ctLen = sealed.length - AEAD_TAG_SIZE;
  try {
    const d = createDecipheriv('chacha20-poly1305', key, aeadNonce(n), { authTagLength: AEAD_TAG_SIZE });
    d.setAAD(ad, { plaintextLength: ctLen });
    d.setAuthTag(sealed.subarray(ctLen));
    const pt = d.update(sealed.subarray(0, ctLen));
    d.final();
    return new Uint8Array(pt.buffer, pt.byteOffset, pt.length);
  } catch {
    return undefined;
  }
}

/**
 * `data` XOR ChaCha20(key, nonce = 4 zero bytes || n as 8-byte LE, block counter 1), in place
 * (tunnel-build-ecies.md §2 "ChaCha20 STREAM", §7.2 step 2).
 */
export function chacha20XorInPlace(key: Uint8Array, n: number, data: Uint8Array): void {
  const iv = Buffer.alloc(16);
  iv.writeUInt32LE(1, 0);
  aeadNonce(n).copy(iv, 4);
  const c = createCipheriv('chacha20', key, iv);
  const out = c.update(data);
  c.final();
  data.set(out);
  out.fill(0);
}

/** Fills each buffer with zeros (secret material done with). */
export function wipe(...bufs: (Uint8Array | undefined)[]): void {
  for (const b of bufs) b?.fill(0);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
