// Destination (KeysAndCert) and the private keys behind it (i2cp.md §2.2).
// The KeysAndCert layout itself (shared with RouterIdentity) is in common/keys-and-cert.ts.
import { createHash } from 'node:crypto';
import { Reader, fail, ok, type Result } from '../common/bytes.js';
import { CRYPTO_TYPE_X25519, buildKeysAndCert, readKeysAndCert, type KeysAndCert } from '../common/keys-and-cert.js';
import { base32, i2pBase64 } from './encoding.js';
import {
  ed25519PrivateKeyObject,
  ed25519PublicKey,
  ed25519Generate,
  x25519Generate,
  x25519PublicKey,
} from './ed25519.js';
import type { KeyObject } from 'node:crypto';

export {
  SIG_TYPE_EDDSA_SHA512_ED25519,
  CRYPTO_TYPE_ELGAMAL,
  CRYPTO_TYPE_X25519,
  CERT_NULL,
  CERT_KEY,
  signatureLength,
  signingPublicKeyLength,
} from '../common/keys-and-cert.js';

/** A Destination is a KeysAndCert (common/keys-and-cert.ts). */
export type Destination = KeysAndCert;

/** Reads one Destination from a Reader (errors go to the reader); checks only what the structure itself implies. */
export function readDestination(r: Reader): Destination | undefined {
  return readKeysAndCert(r, 'destination');
}

export function parseDestination(buf: Uint8Array): Result<Destination> {
  const r = new Reader(buf);
  const d = readDestination(r);
  if (!d || r.error !== undefined) return fail(r.error ?? 'bad destination');
  if (r.remaining !== 0) return fail(`${r.remaining} trailing bytes after destination`);
  return ok(d);
}

/** SHA-256 of all Destination bytes: the netDb key and the basis of the .b32.i2p address. */
export function destinationHash(d: Destination | Uint8Array): Uint8Array {
  const bytes = d instanceof Uint8Array ? d : d.bytes;
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

export function b32Address(d: Destination | Uint8Array): string {
  return `${base32(destinationHash(d))}.b32.i2p`;
}

export function destinationBase64(d: Destination): string {
  return i2pBase64(d.bytes);
}

/** Builds Ed25519 (type 7) Destination bytes with repeated-block padding (common/keys-and-cert.ts). */
export function buildDestination(
  signingPublicKey: Uint8Array,
  encryptionPublicKey: Uint8Array,
  cryptoType: number,
): Destination {
  return buildKeysAndCert(signingPublicKey, encryptionPublicKey, cryptoType);
}

/** A Destination with its private keys (Ed25519 signing; X25519 or ElGamal encryption key as stored by i2pd). */
export interface PrivateKeys {
  readonly destination: Destination;
  /** Crypto private key as in the key file: 32 bytes (X25519, type 4) or 256 bytes (ElGamal, type 0). */
  readonly cryptoPrivateKey: Uint8Array;
  /** Ed25519 seed (32 bytes). */
  readonly signingPrivateKey: Uint8Array;
}

/** New Ed25519 + X25519 keys (sig type 7, crypto type 4). */
export function generatePrivateKeys(): PrivateKeys {
  const sig = ed25519Generate();
  const enc = x25519Generate();
  return {
    destination: buildDestination(sig.publicKey, enc.publicKey, CRYPTO_TYPE_X25519),
    cryptoPrivateKey: enc.privateKey,
    signingPrivateKey: sig.seed,
  };
}

/**
 * The X25519 key pair to publish in LeaseSet2s for these keys. A type-4 Destination uses its own key (as i2pd does);
 * for i2pd's default type-0 (ElGamal) destinations an X25519 key is derived from the signing seed with a
 * domain-separated SHA-256, so every balancer run and every router gets the same LeaseSet encryption key.
 */
export function leaseSetEncryptionKey(keys: PrivateKeys): { privateKey: Uint8Array; publicKey: Uint8Array } {
  if (keys.destination.cryptoType === CRYPTO_TYPE_X25519 && keys.cryptoPrivateKey.length === 32) {
    return { privateKey: keys.cryptoPrivateKey, publicKey: x25519PublicKey(keys.cryptoPrivateKey) };
  }
  const priv = new Uint8Array(
    createHash('sha256').update('tunnelplane/leaseset-x25519/v1').update(keys.signingPrivateKey).digest(),
  );
  return { privateKey: priv, publicKey: x25519PublicKey(priv) };
}

/** Cached node:crypto signing key for a PrivateKeys (parsing the DER each time costs more than signing). */
const signerCache = new WeakMap<PrivateKeys, KeyObject>();
export function signingKeyObject(keys: PrivateKeys): KeyObject {
  let k = signerCache.get(keys);
  if (!k) {
    k = ed25519PrivateKeyObject(keys.signingPrivateKey);
    signerCache.set(keys, k);
  }
  return k;
}

export function checkKeyPair(keys: PrivateKeys): string | undefined {
  const pub = ed25519PublicKey(keys.signingPrivateKey);
  for (let i = 0; i < 32; i++) {
    if (pub[i] !== keys.destination.signingPublicKey[i])
      return 'the Ed25519 private key does not match the Destination';
  }
  if (keys.destination.cryptoType === CRYPTO_TYPE_X25519) {
    const xp = x25519PublicKey(keys.cryptoPrivateKey);
    for (let i = 0; i < 32; i++) {
      if (xp[i] !== keys.destination.encryptionPublicKey[i])
        return 'the X25519 private key does not match the Destination';
    }
  }
  return undefined;
}
