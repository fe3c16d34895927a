// i2pd's private key file format (`.dat`, i2pd libi2pd/Identity.cpp PrivateKeys::FromBuffer / ToBuffer), so an
// existing i2pd destination can be loaded and multihomed:
//   Destination (KeysAndCert, 391 bytes for Ed25519 + key cert)
//   crypto private key: 32 bytes if the crypto type is 4 (X25519), otherwise 256 bytes (ElGamal)
//   signing private key: length of the signature type (Ed25519: the 32-byte seed)
//   if the signing private key is all zeros, an offline signature block and a transient key follow (not supported).
import { readFileSync, writeFileSync } from 'node:fs';
import { Reader, Writer, fail, ok, type Result } from '../common/bytes.js';
import {
  CRYPTO_TYPE_X25519,
  SIG_TYPE_EDDSA_SHA512_ED25519,
  checkKeyPair,
  readDestination,
  type PrivateKeys,
} from './destination.js';

export function encodeKeyFile(keys: PrivateKeys): Uint8Array {
  return new Writer(512)
    .bytes(keys.destination.bytes)
    .bytes(keys.cryptoPrivateKey)
    .bytes(keys.signingPrivateKey)
    .finish();
}

export function decodeKeyFile(buf: Uint8Array): Result<PrivateKeys> {
  const r = new Reader(buf);
  const destination = readDestination(r);
  if (!destination || r.error !== undefined)
    return fail(`not an I2P private key file: ${r.error ?? 'bad destination'}`);
  if (destination.sigType !== SIG_TYPE_EDDSA_SHA512_ED25519) {
    return fail(`signature type ${destination.sigType} is not supported (only Ed25519, type 7)`);
  }
  const cryptoLen = destination.cryptoType === CRYPTO_TYPE_X25519 ? 32 : 256;
  const cryptoPrivateKey = r.bytes(cryptoLen, 'crypto private key').slice();
  const signingPrivateKey = r.bytes(32, 'signing private key').slice();
  if (r.error !== undefined) return fail(`not an I2P private key file: ${r.error}`);
  if (signingPrivateKey.every((b) => b === 0)) return fail('offline-signed key files are not supported');
  if (r.remaining !== 0) return fail(`not an I2P private key file: ${r.remaining} unexpected bytes at the end`);
  const keys: PrivateKeys = { destination, cryptoPrivateKey, signingPrivateKey };
  const mismatch = checkKeyPair(keys);
  if (mismatch) return fail(mismatch);
  return ok(keys);
}

/** Loads a key file; the error result carries a message fit for users. */
export function loadKeyFile(path: string): Result<PrivateKeys> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    return fail(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const res = decodeKeyFile(new Uint8Array(buf));
  return res.ok ? res : fail(`${path}: ${res.error}`);
}

/** Writes a key file readable only by its owner; refuses to overwrite unless asked. */
export function saveKeyFile(path: string, keys: PrivateKeys, overwrite = false): void {
  writeFileSync(path, encodeKeyFile(keys), { mode: 0o600, flag: overwrite ? 'w' : 'wx' });
}
