// RouterIdentity (ntcp2-routerinfo.md §1): a KeysAndCert, for a modern router X25519 (crypto type 4) + Ed25519
// (signature type 7) with key certificate `05 0004 0007 0004`, 391 bytes. SHA-256 over all of it, padding included,
// is the ident hash: the netDb key, the NTCP2 `RH` and the name of the router's netDb file.
import { createHash } from 'node:crypto';
import { Reader, fail, ok, type Result } from '../common/bytes.js';
import {
  CRYPTO_TYPE_X25519,
  SIG_TYPE_EDDSA_SHA512_ED25519,
  buildKeysAndCert,
  readKeysAndCert,
  type KeysAndCert,
} from '../common/keys-and-cert.js';
import { i2pBase64 } from '../keys/encoding.js';

/** Length of an X25519 + Ed25519 RouterIdentity with its 7-byte key certificate. */
export const ROUTER_IDENTITY_LENGTH = 391;
export const IDENT_HASH_LENGTH = 32;

export type RouterIdentity = KeysAndCert;

/** Reads a RouterIdentity of any signature / crypto type the structure allows (errors go to the reader). */
export function readRouterIdentity(r: Reader): RouterIdentity | undefined {
  return readKeysAndCert(r, 'router identity');
}

export function parseRouterIdentity(buf: Uint8Array): Result<RouterIdentity> {
  const r = new Reader(buf);
  const id = readRouterIdentity(r);
  if (!id || r.error !== undefined) return fail(r.error ?? 'bad router identity');
  if (r.remaining !== 0) return fail(`${r.remaining} trailing bytes after router identity`);
  return ok(id);
}

/**
 * A new X25519 + Ed25519 identity. The 320 padding bytes are one random 32-byte block repeated, as i2pd 2.45.1 writes
 * them (§1); they are part of the hash, so an identity is built once and stored, never rebuilt.
 */
export function buildRouterIdentity(
  ed25519PublicKey: Uint8Array,
  x25519PublicKey: Uint8Array,
  paddingBlock?: Uint8Array,
): RouterIdentity {
  return buildKeysAndCert(ed25519PublicKey, x25519PublicKey, CRYPTO_TYPE_X25519, paddingBlock);
}

/** Whether this identity is the modern X25519 + Ed25519 kind this router creates and i2pd picks for tunnels. */
export function isModernIdentity(id: RouterIdentity): boolean {
  return id.sigType === SIG_TYPE_EDDSA_SHA512_ED25519 && id.cryptoType === CRYPTO_TYPE_X25519;
}

/** SHA-256 of the identity bytes (the router hash). */
export function identHash(id: RouterIdentity | Uint8Array): Uint8Array {
  const bytes = id instanceof Uint8Array ? id : id.bytes;
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/** I2P Base64 of an ident hash: 44 characters ending in `=`, as in netDb file names and i2pd's console. */
export function identHashBase64(hash: Uint8Array): string {
  if (hash.length !== IDENT_HASH_LENGTH) throw new RangeError('ident hash must be 32 bytes');
  return i2pBase64(hash);
}
