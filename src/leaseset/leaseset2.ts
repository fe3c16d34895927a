// LeaseSet2 (store type 3): build, sign, verify and parse (leaseset.md §4-§5).
//   header:  Destination | published(4 s) | expires(2, s after published) | flags(2) | [offline signature]
//   body:    options Mapping | numk(1) | numk × (keytype(2) keylen(2) key) | num(1) | num × Lease2(40) | signature
//   Lease2:  gateway(32) | tunnelId(4) | end(4 s)
// The signature covers 0x03 ‖ everything before the signature (§5.3).
import type { KeyObject } from 'node:crypto';
import { Reader, Writer, concat, fail, ok, type Result } from '../common/bytes.js';
import { encodeMapping, readMapping, type Mapping } from '../common/mapping.js';
import {
  readDestination,
  signatureLength,
  signingPublicKeyLength,
  signingKeyObject,
  type Destination,
  type PrivateKeys,
} from '../keys/destination.js';
import { ed25519Sign, ed25519Verify } from '../keys/ed25519.js';

export const LS2_STORE_TYPE = 3;
export const MAX_LEASES = 16;
export const LEASE2_SIZE = 40;
export const FLAG_OFFLINE_KEYS = 0x0001;
export const FLAG_UNPUBLISHED = 0x0002;
export const FLAG_BLINDED = 0x0004;
/** i2pd's LeaseSet2 buffer limit (leaseset.md §5.4); larger sets are rejected by the router. */
export const MAX_LS2_BYTES = 4096;

export interface Lease2 {
  /** SHA-256 ident hash of the inbound gateway router. */
  gateway: Uint8Array;
  tunnelId: number;
  /** Expiry, seconds since the epoch. */
  end: number;
}

export interface EncryptionKey {
  type: number;
  key: Uint8Array;
}

export interface OfflineSignature {
  expires: number;
  sigType: number;
  transientPublicKey: Uint8Array;
  signature: Uint8Array;
}

export interface LeaseSet2 {
  destination: Destination;
  /** Seconds since the epoch. */
  published: number;
  /** Seconds after `published`. */
  expires: number;
  flags: number;
  offline?: OfflineSignature;
  options: Map<string, string>;
  keys: EncryptionKey[];
  leases: Lease2[];
  signature: Uint8Array;
  /** The serialized structure (no store-type byte), signature included. */
  bytes: Uint8Array;
  /** Offset of the signature inside `bytes`. */
  signedLength: number;
}

export interface BuildLeaseSet2 {
  keys: PrivateKeys;
  published: number;
  leases: readonly Lease2[];
  encryptionKeys: readonly EncryptionKey[];
  options?: Mapping;
  flags?: number;
  /** Seconds after published; default: latest lease end − published (0 without leases). */
  expires?: number;
}

/** Serializes and signs a LeaseSet2. Throws RangeError on input that cannot form a valid LeaseSet2. */
export function buildLeaseSet2(p: BuildLeaseSet2): Uint8Array {
  if (p.leases.length > MAX_LEASES)
    throw new RangeError(`a LeaseSet2 holds at most ${MAX_LEASES} leases, not ${p.leases.length}`);
  if (p.encryptionKeys.length < 1 || p.encryptionKeys.length > 255)
    throw new RangeError('a LeaseSet2 needs 1..255 encryption keys');
  const flags = p.flags ?? 0;
  if (flags & FLAG_OFFLINE_KEYS) throw new RangeError('offline keys are not supported when building');
  let maxEnd = 0;
  for (const l of p.leases) maxEnd = Math.max(maxEnd, l.end);
  const expires = p.expires ?? (p.leases.length ? Math.max(0, maxEnd - p.published) : 0);
  if (expires > 0xffff) throw new RangeError(`LeaseSet2 expires offset ${expires} s exceeds 65535`);
  const w = new Writer(p.keys.destination.bytes.length + 80 + p.leases.length * LEASE2_SIZE + 64);
  w.u8(LS2_STORE_TYPE); // signed prefix, cut off below
  w.bytes(p.keys.destination.bytes).u32(p.published).u16(expires).u16(flags);
  encodeMapping(p.options ?? {}, w);
  w.u8(p.encryptionKeys.length);
  for (const k of p.encryptionKeys) w.u16(k.type).u16(k.key.length).bytes(k.key);
  w.u8(p.leases.length);
  for (const l of p.leases) {
    if (l.gateway.length !== 32) throw new RangeError('lease gateway must be a 32-byte hash');
    w.bytes(l.gateway).u32(l.tunnelId).u32(l.end);
  }
  const signed = w.finish();
  const signature = ed25519Sign(signingKeyObject(p.keys), signed);
  return concat(signed.subarray(1), signature);
}

/** Reads a LeaseSet2 (without the store-type byte) from a Reader; errors go to the reader. */
export function readLeaseSet2(r: Reader): LeaseSet2 | undefined {
  const start = r.pos;
  const destination = readDestination(r);
  if (!destination) return undefined;
  const published = r.u32('published');
  const expires = r.u16('expires');
  const flags = r.u16('flags');
  let offline: OfflineSignature | undefined;
  let finalSigLen = signatureLength(destination.sigType) ?? 0;
  if (flags & FLAG_OFFLINE_KEYS) {
    const oexp = r.u32('offline expires');
    const sigType = r.u16('transient sig type');
    const pubLen = signingPublicKeyLength(sigType);
    const tSigLen = signatureLength(sigType);
    if (pubLen === undefined || tSigLen === undefined) {
      r.invalid(`unknown transient signature type ${sigType}`);
      return undefined;
    }
    const transientPublicKey = r.bytes(pubLen, 'transient key').slice();
    const signature = r.bytes(finalSigLen, 'offline signature').slice();
    offline = { expires: oexp, sigType, transientPublicKey, signature };
    finalSigLen = tSigLen;
  }
  const options = readMapping(r, 'options');
  const numk = r.u8('numk');
  const keys: EncryptionKey[] = [];
  for (let i = 0; i < numk && r.error === undefined; i++) {
    const type = r.u16('key type');
    const len = r.u16('key length');
    keys.push({ type, key: r.bytes(len, 'encryption key').slice() });
  }
  if (r.error === undefined && numk === 0) r.invalid('LeaseSet2 without encryption keys');
  const num = r.u8('num leases');
  if (r.error === undefined && num > MAX_LEASES) r.invalid(`${num} leases (max ${MAX_LEASES})`);
  const leases: Lease2[] = [];
  for (let i = 0; i < num && r.error === undefined; i++) {
    const gateway = r.bytes(32, 'lease gateway').slice();
    const tunnelId = r.u32('lease tunnel id');
    const end = r.u32('lease end');
    leases.push({ gateway, tunnelId, end });
  }
  const signedLength = r.pos - start;
  const signature = r.bytes(finalSigLen, 'signature').slice();
  if (r.error !== undefined) return undefined;
  const ls: LeaseSet2 = {
    destination,
    published,
    expires,
    flags,
    options,
    keys,
    leases,
    signature,
    bytes: r.buf.slice(start, r.pos),
    signedLength,
  };
  if (offline) ls.offline = offline;
  return ls;
}

export function parseLeaseSet2(buf: Uint8Array): Result<LeaseSet2> {
  const r = new Reader(buf);
  const ls = readLeaseSet2(r);
  if (!ls || r.error !== undefined) return fail(r.error ?? 'bad LeaseSet2');
  if (r.remaining !== 0) return fail(`${r.remaining} trailing bytes after LeaseSet2`);
  return ok(ls);
}

/**
 * Verifies the signature over 0x03 ‖ structure (and the offline signature when present). Only Ed25519 keys (type 7)
 * can be verified here; other types report false.
 */
export function verifyLeaseSet2(ls: LeaseSet2, publicKey?: KeyObject): boolean {
  let signer: KeyObject | Uint8Array = publicKey ?? ls.destination.signingPublicKey;
  if (ls.destination.sigType !== 7) return false;
  if (ls.offline) {
    const o = ls.offline;
    const w = new Writer().u32(o.expires).u16(o.sigType).bytes(o.transientPublicKey).finish();
    if (!ed25519Verify(ls.destination.signingPublicKey, w, o.signature)) return false;
    if (o.sigType !== 7) return false;
    signer = o.transientPublicKey;
  }
  const msg = new Uint8Array(ls.signedLength + 1);
  msg[0] = LS2_STORE_TYPE;
  msg.set(ls.bytes.subarray(0, ls.signedLength), 1);
  return ed25519Verify(signer, msg, ls.signature);
}

/** Acceptance checks i2pd applies besides the signature (leaseset.md §5.4), relative to `nowSec`. */
export function checkLeaseSet2Times(ls: LeaseSet2, nowSec: number): string | undefined {
  const limit = 12 * 60;
  if (ls.published > nowSec + limit) return 'published more than 12 min in the future';
  if (ls.published + limit < nowSec) return 'published more than 12 min in the past';
  if (ls.published + ls.expires > nowSec + limit) return 'expires more than 12 min in the future';
  for (const l of ls.leases) if (l.end > nowSec + limit) return 'a lease ends more than 12 min in the future';
  if (ls.bytes.length > MAX_LS2_BYTES) return `larger than ${MAX_LS2_BYTES} bytes`;
  return undefined;
}
