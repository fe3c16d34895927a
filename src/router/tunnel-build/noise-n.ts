// Noise_N_25519_ChaChaPoly_SHA256 as I2P uses it for tunnel build records and one-shot garlic to a router
// (tunnel-build-ecies.md §5, netdb-floodfill.md §4.1): pattern `<- s ... e es`, one AEAD message with n = 0, ad = h.
// The responder (our router) precomputes h after MixHash(its static key) once; each message costs one X25519.
import type { KeyObject } from 'node:crypto';
import {
  aeadOpen,
  aeadSeal,
  hkdf64,
  sha256,
  wipe,
  x25519,
  x25519Ephemeral,
  x25519PrivateKeyObject,
  x25519RawPublic,
  X25519_KEY_SIZE,
  ZEROLEN,
} from './primitives.js';

/** "Noise_N_25519_ChaChaPoly_SHA256" zero-padded to 32 bytes: the initial ck (and h before the prologue). */
export const NOISE_N_CK0 = (() => {
  const b = new Uint8Array(32);
  b.set(new TextEncoder().encode('Noise_N_25519_ChaChaPoly_SHA256'));
  return b;
})();
/** h after MixHash of the empty prologue: SHA-256(ck0) = 694d5244... (vectors/noise-n-protocol-init.json). */
export const NOISE_N_H0 = sha256(NOISE_N_CK0);

/** The state after a successful Noise N message: kept by build records for the reply and key derivation. */
export interface NoiseNResult {
  /** Decrypted (responder) or sealed (initiator) payload. */
  payload: Uint8Array;
  /** Chaining key after MixKey (tunnel-build-ecies.md §6 starts from it). */
  ck: Uint8Array;
  /** h after MixHash(ciphertext || tag): the ad of the reply record (§7.2). */
  h: Uint8Array;
}

/** h after MixHash(static public key): per router, computed once (tunnel-build-ecies.md §5). */
export function noiseNStaticHash(staticPublicKey: Uint8Array): Uint8Array {
  return sha256(NOISE_N_H0, staticPublicKey);
}

/** Our side of Noise N: holds the static private key as a KeyObject and the precomputed h. */
export class NoiseNResponder {
  readonly staticPublicKey: Uint8Array;
  readonly hStatic: Uint8Array;
  private key: KeyObject | undefined;

  /** `staticPrivateKey` is copied into a KeyObject; the caller keeps (and wipes) its own bytes. */
  constructor(staticPrivateKey: Uint8Array) {
    this.key = x25519PrivateKeyObject(staticPrivateKey);
    this.staticPublicKey = x25519RawPublic(this.key);
    this.hStatic = noiseNStaticHash(this.staticPublicKey);
  }

  /**
   * Decrypts one Noise N message: `epk` (32) and `sealed` (ciphertext || 16-byte tag). Returns undefined when the
   * ephemeral key is unusable or the tag does not verify. `sealed` is not modified.
   */
  open(epk: Uint8Array, sealed: Uint8Array): NoiseNResult | undefined {
    if (this.key === undefined) return undefined;
    if (epk.length !== X25519_KEY_SIZE) return undefined;
    const h1 = sha256(this.hStatic, epk);
    const ss = x25519(this.key, epk);
    if (ss === undefined) return undefined;
    const [ck, k] = hkdf64(NOISE_N_CK0, ss, ZEROLEN);
    wipe(ss);
    const payload = aeadOpen(k, 0, sealed, h1);
    wipe(k);
    if (payload === undefined) {
      wipe(ck);
      return undefined;
    }
    return { payload, ck, h: sha256(h1, sealed) };
  }

  /** Drops the private key (KeyObjects cannot be zeroed; the reference is released). */
  destroy(): void {
    this.key = undefined;
  }
}

/**
 * Initiator side: seals `payload` to `staticPublicKey` with a fresh ephemeral key. Returns the ephemeral public key,
 * the sealed bytes (payload.length + 16) and the state (ck, h) for what follows. Throws RangeError only for a bad
 * recipient key (caller bug or a peer's unusable published key).
 */
export function noiseNSeal(
  staticPublicKey: Uint8Array,
  payload: Uint8Array,
  random?: (n: number) => Uint8Array,
): { epk: Uint8Array; sealed: Uint8Array; ck: Uint8Array; h: Uint8Array } {
  if (!(staticPublicKey instanceof Uint8Array) || staticPublicKey.length !== X25519_KEY_SIZE)
    throw new RangeError('recipient X25519 key must be 32 bytes');
  const eph = x25519Ephemeral(random);
  const h1 = sha256(noiseNStaticHash(staticPublicKey), eph.publicKey);
  const ss = x25519(eph.privateKey, staticPublicKey);
  if (ss === undefined) throw new RangeError('recipient X25519 key is not a usable point');
  const [ck, k] = hkdf64(NOISE_N_CK0, ss, ZEROLEN);
  wipe(ss);
  const sealed = aeadSeal(k, 0, payload, h1);
  wipe(k);
  return { epk: eph.publicKey, sealed, ck, h: sha256(h1, sealed) };
}
