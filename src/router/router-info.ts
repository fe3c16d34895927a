// RouterInfo (ntcp2-routerinfo.md §2.1, common-structures "RouterInfo"): identity(391) | published(8, ms) |
// num_addresses(1) | RouterAddress* | peer_size(1) | peer hashes (32 each; always 0 in practice) | options Mapping |
// signature over every preceding byte. RouterAddress = cost(1) | expiration(8) | transport style String | Mapping.
// Parsing never throws and keeps the exact bytes: a parsed RouterInfo is never re-encoded, so its signature stays valid.
import { Reader, Writer, fail, ok, type Result } from '../common/bytes.js';
import { encodeMapping, readMapping, type Mapping } from '../common/mapping.js';
import { SIG_TYPE_EDDSA_SHA512_ED25519, signatureLength } from '../common/keys-and-cert.js';
import { ed25519Sign, ed25519Verify } from '../keys/ed25519.js';
import { identHash, readRouterIdentity, type RouterIdentity } from './identity.js';
import type { RouterKeys } from './router-keys.js';

/** i2pd's MAX_RI_BUFFER_SIZE: a larger RouterInfo is invalid there (§2.1), and this parser refuses it too. */
export const MAX_ROUTER_INFO_SIZE = 3072;
/** The live network (§2.3); 16–254 are test networks. */
export const NET_ID_MAINNET = 2;
/** The API version i2pd 2.45.1 publishes: ≥ 0.9.51 for short tunnel builds, ≥ 0.9.38 for floodfill (§3.4). */
export const DEFAULT_ROUTER_VERSION = '0.9.57';

export interface RouterAddress {
  /** 0–255; lower is preferred. i2pd ignores it when reading. */
  readonly cost: number;
  /** Transport style, e.g. "NTCP2" or "SSU2". */
  readonly style: string;
  readonly options: ReadonlyMap<string, string>;
}

export interface RouterInfo {
  /** The signed bytes exactly as received or built. */
  readonly bytes: Uint8Array;
  readonly identity: RouterIdentity;
  /** SHA-256 of the identity bytes. */
  readonly identHash: Uint8Array;
  /** Date published, ms since the epoch. */
  readonly published: number;
  readonly addresses: readonly RouterAddress[];
  readonly options: ReadonlyMap<string, string>;
  /** Bytes covered by the signature (offset 0 to the end of the options). */
  readonly signedLength: number;
  readonly signature: Uint8Array;
}

/**
 * Parses the structure of a RouterInfo. Checks lengths, the certificate and every count; does not check the
 * signature (verifyRouterInfo) nor what i2pd requires of the content (routerInfoProblem).
 */
export function parseRouterInfo(buf: Uint8Array): Result<RouterInfo> {
  if (!(buf instanceof Uint8Array)) return fail('RouterInfo must be a Uint8Array');
  if (buf.length > MAX_ROUTER_INFO_SIZE)
    return fail(`RouterInfo of ${buf.length} bytes is larger than ${MAX_ROUTER_INFO_SIZE}`);
  const r = new Reader(buf);
  const identity = readRouterIdentity(r);
  if (!identity || r.error !== undefined) return fail(r.error ?? 'bad router identity');
  const published = r.date('published');
  const count = r.u8('address count');
  const addresses: RouterAddress[] = [];
  for (let i = 0; i < count && r.error === undefined; i++) {
    const cost = r.u8('address cost');
    // expiration: "must be all zero" (§2.1); older routers wrote other values, which no reader uses
    r.bytes(8, 'address expiration');
    const style = r.string('transport style');
    const options = readMapping(r, `address ${i} options`);
    addresses.push({ cost, style, options });
  }
  const peerSize = r.u8('peer size');
  r.bytes(peerSize * 32, 'peer hashes');
  const options = readMapping(r, 'router options');
  const signedLength = r.pos;
  const sigLen = signatureLength(identity.sigType);
  if (sigLen === undefined) return fail(`unknown signature type ${identity.sigType}`);
  const signature = r.bytes(sigLen, 'signature').slice();
  if (r.error !== undefined) return fail(r.error);
  if (r.remaining !== 0) return fail(`${r.remaining} trailing bytes after the RouterInfo signature`);
  return ok({
    bytes: buf.slice(),
    identity,
    identHash: identHash(identity),
    published,
    addresses,
    options,
    signedLength,
    signature,
  });
}

/** Checks the signature with the identity's signing key. Only Ed25519 (type 7) is supported; others are "not valid". */
export function verifyRouterInfo(ri: RouterInfo): boolean {
  if (ri.identity.sigType !== SIG_TYPE_EDDSA_SHA512_ED25519) return false;
  return ed25519Verify(ri.identity.signingPublicKey, ri.bytes.subarray(0, ri.signedLength), ri.signature);
}

export interface RouterInfoContent {
  /** ms since the epoch; every new RouterInfo of a router must be strictly newer than the last (§3.2). */
  readonly published: number;
  readonly addresses: readonly { readonly style: string; readonly cost: number; readonly options: Mapping }[];
  /** Router options (caps, netId, router.version, …); encoded sorted by key. */
  readonly options: Mapping;
}

/** Encodes and signs a RouterInfo. Throws RangeError for content that cannot be encoded or exceeds 3072 bytes. */
export function buildRouterInfo(keys: RouterKeys, content: RouterInfoContent): Uint8Array {
  if (keys.identity.sigType !== SIG_TYPE_EDDSA_SHA512_ED25519)
    throw new RangeError('only Ed25519 router identities can sign');
  if (content.addresses.length > 255) throw new RangeError('at most 255 addresses');
  const w = new Writer(1024).bytes(keys.identity.bytes).date(content.published).u8(content.addresses.length);
  for (const a of content.addresses) {
    w.u8(a.cost).uint(0, 8).string(a.style);
    encodeMapping(a.options, w);
  }
  w.u8(0); // peer_size: always 0
  encodeMapping(content.options, w);
  const signed = w.finish();
  if (signed.length + 64 > MAX_ROUTER_INFO_SIZE)
    throw new RangeError(`RouterInfo would be ${signed.length + 64} bytes (max ${MAX_ROUTER_INFO_SIZE})`);
  return new Writer(signed.length + 64).bytes(signed).bytes(ed25519Sign(keys.signingPrivateKey, signed)).finish();
}

export interface AcceptOptions {
  /** Our network id (default 2). */
  readonly netId?: number;
  /** Clock (ms) for the "published in the future" check. */
  readonly now?: number;
  /** How far ahead `published` may be (default 2 min, as i2pd for a new RouterInfo, §3.2). */
  readonly maxFutureMs?: number;
}

/**
 * What i2pd 2.45.1 requires of a RouterInfo's content before it uses it (§3.1, §3.2), as a reason, or undefined when
 * usable: netId equal to ours, a `router.version` with digits, a supported transport (NTCP2 with `s`, or SSU2 with
 * v=2), not published more than 2 min ahead. The signature is a separate check (verifyRouterInfo).
 */
export function routerInfoProblem(ri: RouterInfo, opts: AcceptOptions = {}): string | undefined {
  const netId = opts.netId ?? NET_ID_MAINNET;
  const theirs = ri.options.get('netId');
  if (theirs === undefined) return 'no netId';
  if (theirs !== String(netId)) return `netId ${theirs} is not ${netId}`;
  const version = ri.options.get('router.version');
  if (version === undefined) return 'no router.version';
  if (!/[1-9]/.test(version)) return `router.version '${version}' has no version digits`;
  const usable = ri.addresses.some(
    (a) => (a.style.startsWith('NTCP') && a.options.has('s')) || (a.style === 'SSU2' && a.options.get('v') === '2'),
  );
  if (!usable) return 'no supported transport (NTCP2 with s, or SSU2 v=2)';
  const now = opts.now ?? Date.now();
  if (ri.published > now + (opts.maxFutureMs ?? 120_000)) return `published ${ri.published - now} ms in the future`;
  return undefined;
}
