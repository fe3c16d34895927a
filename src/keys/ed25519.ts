// Ed25519 (I2P signature type 7) and X25519 (crypto type 4) over node:crypto, with raw 32-byte keys as I2P stores
// them. Raw keys are wrapped into the fixed DER prefixes of RFC 8410 PKCS#8 / SPKI so OpenSSL can use them.
import { createPrivateKey, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { x25519GenerateKeyPair, x25519PublicKey as rawX25519PublicKey } from '../crypto/x25519.js';

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

function checkLen(b: Uint8Array, n: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== n) throw new RangeError(`${what} must be ${n} bytes`);
}

export function ed25519PrivateKeyObject(seed: Uint8Array): KeyObject {
  checkLen(seed, 32, 'Ed25519 private key');
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
}

export function ed25519PublicKeyObject(pub: Uint8Array): KeyObject {
  checkLen(pub, 32, 'Ed25519 public key');
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519, pub]), format: 'der', type: 'spki' });
}

/** The 32-byte public key of an Ed25519 seed. */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  const der = createPublicKey(ed25519PrivateKeyObject(seed)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - 32));
}

/** Ed25519 signature (RFC 8032), 64 bytes. Pass a KeyObject to avoid re-parsing the key on hot paths. */
export function ed25519Sign(key: KeyObject | Uint8Array, message: Uint8Array): Uint8Array {
  const k = key instanceof Uint8Array ? ed25519PrivateKeyObject(key) : key;
  return new Uint8Array(sign(null, message, k));
}

/** Never throws: a malformed key or signature is simply "not valid". */
export function ed25519Verify(pub: KeyObject | Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (signature.length !== 64) return false;
    const k = pub instanceof Uint8Array ? ed25519PublicKeyObject(pub) : pub;
    return verify(null, message, k, signature);
  } catch {
    return false;
  }
}

export function ed25519Generate(): { seed: Uint8Array; publicKey: Uint8Array } {
  // Random seed, not generateKeyPairSync: exporting a generated key can deadlock Node 20 (src/crypto/x25519.ts).
  const seed = new Uint8Array(randomBytes(32));
  return { seed, publicKey: ed25519PublicKey(seed) };
}

/** X25519 public key (32 bytes, little-endian u) of a raw private key. */
export function x25519PublicKey(priv: Uint8Array): Uint8Array {
  return rawX25519PublicKey(priv);
}

export function x25519Generate(): { privateKey: Uint8Array; publicKey: Uint8Array } {
  const { privateKey, publicKey } = x25519GenerateKeyPair();
  return { privateKey, publicKey };
}
