// X25519 (RFC 7748) over node:crypto with raw 32-byte keys, as I2P stores and sends them: one home for the key
// import, key generation and the shared-secret step that NTCP2, tunnel builds, garlic and key files all use.
//
// Keys are imported as JWK: OpenSSL 3's DER decoder costs several X25519 operations per import, JWK does not.
// Fresh keys are random bytes, never `generateKeyPairSync`: exporting a key made by that call can deadlock Node 20
// (the export holds the key's mutex while allocating; a GC inside it frees the generating job, which takes the
// same mutex), so nothing here exports a generated key.
import { createPrivateKey, createPublicKey, diffieHellman, randomBytes, type KeyObject } from 'node:crypto';

export const X25519_KEY_SIZE = 32;

// Node's JWK import insists on an `x` member but builds an OKP private key from `d` alone (the public half is
// recomputed by OpenSSL); any 32 bytes serve as the placeholder. test/x25519.test.ts checks the derived public
// keys against @noble/curves, so a Node that started to trust `x` would fail there.
const PLACEHOLDER_X = Buffer.alloc(X25519_KEY_SIZE).toString('base64url');

function checkKey(b: Uint8Array, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== X25519_KEY_SIZE)
    throw new RangeError(`X25519 ${what} must be 32 bytes`);
}

function b64url(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}

/** A raw private key as a KeyObject (the base64 text is a JS string and cannot be wiped; the caller's bytes stay theirs). */
export function x25519PrivateKeyObject(priv: Uint8Array): KeyObject {
  checkKey(priv, 'private key');
  return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64url(priv), x: PLACEHOLDER_X }, format: 'jwk' });
}

/** A raw public key as a KeyObject. */
export function x25519PublicKeyObject(pub: Uint8Array): KeyObject {
  checkKey(pub, 'public key');
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64url(pub) }, format: 'jwk' });
}

/** The raw public key of a private KeyObject. */
export function x25519RawPublic(priv: KeyObject): Uint8Array {
  const jwk = createPublicKey(priv).export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.x!, 'base64url'));
}

/** The raw public key of a raw private key. */
export function x25519PublicKey(priv: Uint8Array): Uint8Array {
  return x25519RawPublic(x25519PrivateKeyObject(priv));
}

/** A fresh key pair: 32 random bytes (X25519 clamps them itself) and their public key, plus the imported KeyObject. */
export function x25519GenerateKeyPair(): { privateKey: Uint8Array; publicKey: Uint8Array; keyObject: KeyObject } {
  const privateKey = new Uint8Array(randomBytes(X25519_KEY_SIZE));
  const keyObject = x25519PrivateKeyObject(privateKey);
  return { privateKey, publicKey: x25519RawPublic(keyObject), keyObject };
}

/**
 * X25519(priv, pub), or undefined when OpenSSL refuses the peer key (a low-order point gives an all-zero secret):
 * network input, so never an exception.
 */
export function x25519SharedSecret(priv: KeyObject, pub: Uint8Array): Uint8Array | undefined {
  if (!(pub instanceof Uint8Array) || pub.length !== X25519_KEY_SIZE) return undefined;
  try {
    return new Uint8Array(diffieHellman({ privateKey: priv, publicKey: x25519PublicKeyObject(pub) }));
  } catch {
    return undefined;
  }
}
