// The router's long-term private keys and i2pd's `router.keys` file (ntcp2-routerinfo.md §2.5): 455 bytes =
// RouterIdentity (391) || X25519 private key (32) || Ed25519 seed (32), the same layout as a destination `.dat`
// (i2pd Identity.cpp PrivateKeys::ToBuffer), so i2pd and this router can load each other's file.
import { Writer, fail, ok, type Result } from '../common/bytes.js';
import { decodeKeyFile } from '../keys/keyfile.js';
import { ed25519Generate, x25519Generate } from '../keys/ed25519.js';
import { buildRouterIdentity, isModernIdentity, type RouterIdentity } from './identity.js';

export const ROUTER_KEYS_FILE_LENGTH = 455;

export interface RouterKeys {
  readonly identity: RouterIdentity;
  /** X25519 private key of the identity's crypto key (type 4): ECIES garlic and tunnel build records. */
  readonly cryptoPrivateKey: Uint8Array;
  /** Ed25519 seed (32 bytes): signs the RouterInfo. */
  readonly signingPrivateKey: Uint8Array;
}

export function generateRouterKeys(): RouterKeys {
  const sig = ed25519Generate();
  const enc = x25519Generate();
  return {
    identity: buildRouterIdentity(sig.publicKey, enc.publicKey),
    cryptoPrivateKey: enc.privateKey,
    signingPrivateKey: sig.seed,
  };
}

export function encodeRouterKeys(keys: RouterKeys): Uint8Array {
  return new Writer(ROUTER_KEYS_FILE_LENGTH)
    .bytes(keys.identity.bytes)
    .bytes(keys.cryptoPrivateKey)
    .bytes(keys.signingPrivateKey)
    .finish();
}

/** Decodes a `router.keys` file; only X25519 + Ed25519 keys whose private halves match the identity are accepted. */
export function decodeRouterKeys(buf: Uint8Array): Result<RouterKeys> {
  const res = decodeKeyFile(buf);
  if (!res.ok)
    return fail(
      res.error.replace('I2P private key file', 'router.keys file').replace('the Destination', 'the router identity'),
    );
  const { destination: identity, cryptoPrivateKey, signingPrivateKey } = res.value;
  // i2pd replaces ElGamal / DSA router keys with new ones (RouterContext::Load); this router only uses modern keys
  if (!isModernIdentity(identity)) {
    return fail(
      `router.keys holds crypto type ${identity.cryptoType} / signature type ${identity.sigType}; only X25519 (4) + Ed25519 (7) is supported`,
    );
  }
  return ok({ identity, cryptoPrivateKey, signingPrivateKey });
}

/** Zeroes the private halves (call when the router stops for good). */
export function wipeRouterKeys(keys: RouterKeys): void {
  keys.cryptoPrivateKey.fill(0);
  keys.signingPrivateKey.fill(0);
}
