// The NTCP2 static key pair and IV, published as `s` and `i` in the NTCP2 address (ntcp2-routerinfo.md §2.2), and
// i2pd's `ntcp2.keys` file (§2.5): 80 bytes = static public (32) || static private (32) || IV (16). This X25519 pair
// is separate from the identity's crypto key; both must stay the same across restarts.
import { randomBytes } from 'node:crypto';
import { Writer, equalBytes, fail, ok, type Result } from '../common/bytes.js';
import { x25519Generate, x25519PublicKey } from '../keys/ed25519.js';

export const NTCP2_KEYS_FILE_LENGTH = 80;
export const NTCP2_IV_LENGTH = 16;

export interface Ntcp2Keys {
  /** X25519 public key, published as `s` (Noise XK responder static key `rs`). */
  readonly staticPublicKey: Uint8Array;
  readonly staticPrivateKey: Uint8Array;
  /** AES-CBC IV for SessionRequest obfuscation, published as `i`. */
  readonly iv: Uint8Array;
}

export function generateNtcp2Keys(): Ntcp2Keys {
  const k = x25519Generate();
  return {
    staticPublicKey: k.publicKey,
    staticPrivateKey: k.privateKey,
    iv: new Uint8Array(randomBytes(NTCP2_IV_LENGTH)),
  };
}

export function encodeNtcp2Keys(k: Ntcp2Keys): Uint8Array {
  return new Writer(NTCP2_KEYS_FILE_LENGTH).bytes(k.staticPublicKey).bytes(k.staticPrivateKey).bytes(k.iv).finish();
}

export function decodeNtcp2Keys(buf: Uint8Array): Result<Ntcp2Keys> {
  if (buf.length !== NTCP2_KEYS_FILE_LENGTH)
    return fail(`ntcp2.keys must be ${NTCP2_KEYS_FILE_LENGTH} bytes, got ${buf.length}`);
  const staticPublicKey = buf.slice(0, 32);
  const staticPrivateKey = buf.slice(32, 64);
  const iv = buf.slice(64, 80);
  if (!equalBytes(x25519PublicKey(staticPrivateKey), staticPublicKey))
    return fail('ntcp2.keys: the static private key does not match its public key');
  return ok({ staticPublicKey, staticPrivateKey, iv });
}

export function wipeNtcp2Keys(k: Ntcp2Keys): void {
  k.staticPrivateKey.fill(0);
}
