// KeysAndCert: the public half of both a Destination (i2cp.md §2.2) and a RouterIdentity (ntcp2-routerinfo.md §1).
// Layout: 384-byte key area (encryption key aligned at the start, signing key at the end, padding between) then a
// Certificate `type(1) | length(2) | payload`; a Key Certificate (type 5) carries `sigType(2) | cryptoType(2)`.
import { randomBytes } from 'node:crypto';
import { Reader, Writer } from './bytes.js';

export const SIG_TYPE_EDDSA_SHA512_ED25519 = 7;
export const CRYPTO_TYPE_ELGAMAL = 0;
export const CRYPTO_TYPE_X25519 = 4;
export const CERT_NULL = 0;
export const CERT_KEY = 5;
/** Bytes before the certificate: 256-byte crypto field + 128-byte signing field. */
export const KEY_AREA = 384;

/** Public key / signature / private key lengths per signature type (common-structures SigningPublicKey). */
const SIG_TYPES: Record<number, { pub: number; sig: number; priv: number; name: string }> = {
  0: { pub: 128, sig: 40, priv: 20, name: 'DSA_SHA1' },
  1: { pub: 64, sig: 64, priv: 32, name: 'ECDSA_SHA256_P256' },
  2: { pub: 96, sig: 96, priv: 48, name: 'ECDSA_SHA384_P384' },
  3: { pub: 132, sig: 132, priv: 66, name: 'ECDSA_SHA512_P521' },
  4: { pub: 256, sig: 256, priv: 512, name: 'RSA_SHA256_2048' },
  5: { pub: 384, sig: 384, priv: 768, name: 'RSA_SHA384_3072' },
  6: { pub: 512, sig: 512, priv: 1024, name: 'RSA_SHA512_4096' },
  7: { pub: 32, sig: 64, priv: 32, name: 'EdDSA_SHA512_Ed25519' },
  8: { pub: 32, sig: 64, priv: 32, name: 'EdDSA_SHA512_Ed25519ph' },
  9: { pub: 64, sig: 64, priv: 32, name: 'GOST_R3410_2012_256' },
  10: { pub: 128, sig: 128, priv: 64, name: 'GOST_R3410_2012_512' },
  11: { pub: 32, sig: 64, priv: 32, name: 'RedDSA_SHA512_Ed25519' },
};
/** Encryption public key lengths per crypto type (0 = ElGamal 256). */
const CRYPTO_PUB_LEN: Record<number, number> = { 0: 256, 1: 64, 2: 96, 3: 132, 4: 32 };

export function signatureLength(sigType: number): number | undefined {
  return SIG_TYPES[sigType]?.sig;
}

export function signingPublicKeyLength(sigType: number): number | undefined {
  return SIG_TYPES[sigType]?.pub;
}

export function cryptoPublicKeyLength(cryptoType: number): number | undefined {
  return CRYPTO_PUB_LEN[cryptoType];
}

export interface KeysAndCert {
  /** The full KeysAndCert bytes (391 for Ed25519 with a key certificate). */
  readonly bytes: Uint8Array;
  readonly sigType: number;
  readonly cryptoType: number;
  readonly signingPublicKey: Uint8Array;
  readonly encryptionPublicKey: Uint8Array;
}

/** Reads one KeysAndCert from a Reader (errors go to the reader); checks only what the structure itself implies. */
export function readKeysAndCert(r: Reader, what = 'destination'): KeysAndCert | undefined {
  const start = r.pos;
  const area = r.bytes(KEY_AREA, `${what} key area`);
  const certType = r.u8('certificate type');
  const certLen = r.u16('certificate length');
  const cert = r.bytes(certLen, 'certificate payload');
  if (r.error !== undefined) return undefined;
  let sigType = 0;
  let cryptoType = 0;
  let excessSig: Uint8Array = new Uint8Array(0);
  if (certType === CERT_KEY) {
    if (certLen < 4) {
      r.invalid(`key certificate too short (${certLen} bytes)`);
      return undefined;
    }
    sigType = (cert[0]! << 8) | cert[1]!;
    cryptoType = (cert[2]! << 8) | cert[3]!;
    const st = SIG_TYPES[sigType];
    if (!st) {
      r.invalid(`unknown signature type ${sigType}`);
      return undefined;
    }
    const excess = Math.max(0, st.pub - 128);
    if (certLen < 4 + excess) {
      r.invalid(`key certificate lacks ${excess} excess signing key bytes`);
      return undefined;
    }
    excessSig = cert.subarray(4, 4 + excess);
  } else if (certType > 5) {
    r.invalid(`unknown certificate type ${certType}`);
    return undefined;
  }
  const st = SIG_TYPES[sigType]!;
  const signingPublicKey =
    st.pub <= 128 ? area.slice(KEY_AREA - st.pub) : new Uint8Array([...area.subarray(256), ...excessSig]);
  const encLen = Math.min(CRYPTO_PUB_LEN[cryptoType] ?? 256, 256);
  return {
    bytes: r.buf.slice(start, r.pos),
    sigType,
    cryptoType,
    signingPublicKey,
    encryptionPublicKey: area.slice(0, encLen),
  };
}

/**
 * Builds Ed25519 (type 7) KeysAndCert bytes with a key certificate. The padding (and the unused rest of the
 * encryption field) is one random 32-byte block repeated, as Proposal 161 and i2pd do, so the structure compresses.
 * `paddingBlock` fixes that block (tests, known-answer data).
 */
export function buildKeysAndCert(
  signingPublicKey: Uint8Array,
  encryptionPublicKey: Uint8Array,
  cryptoType: number,
  paddingBlock: Uint8Array = randomBytes(32),
): KeysAndCert {
  if (signingPublicKey.length !== 32) throw new RangeError('Ed25519 public key must be 32 bytes');
  const encLen = CRYPTO_PUB_LEN[cryptoType];
  if (encLen === undefined || encLen > 256 || encryptionPublicKey.length !== encLen) {
    throw new RangeError(`encryption public key for crypto type ${cryptoType} must be ${encLen ?? '?'} bytes`);
  }
  if (paddingBlock.length !== 32) throw new RangeError('padding block must be 32 bytes');
  const area = new Uint8Array(KEY_AREA);
  for (let i = 0; i < KEY_AREA; i += 32) area.set(paddingBlock, i);
  area.set(encryptionPublicKey, 0);
  area.set(signingPublicKey, KEY_AREA - 32);
  const bytes = new Writer(400)
    .bytes(area)
    .u8(CERT_KEY)
    .u16(4)
    .u16(SIG_TYPE_EDDSA_SHA512_ED25519)
    .u16(cryptoType)
    .finish();
  return {
    bytes,
    sigType: SIG_TYPE_EDDSA_SHA512_ED25519,
    cryptoType,
    signingPublicKey: signingPublicKey.slice(),
    encryptionPublicKey: encryptionPublicKey.slice(),
  };
}
