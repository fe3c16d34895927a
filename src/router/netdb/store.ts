// The netDb's tables (netdb-floodfill.md §2.3): RouterInfos and LeaseSet2s keyed by their netDb key, each entry the
// exact signed bytes received, admitted only after the checks of §2.3 item 3 (signature, key = SHA-256 of the identity
// or destination, not from the future, not expired) and replacing an entry only when strictly newer (§2.3 item 4).
// Both tables have a cap; expiry is policy (§2.3 item 6): RouterInfos older than a maximum age, LeaseSets at their
// own expiry. Validation never throws: a refusal is a reason string the caller counts.
import { createHash } from 'node:crypto';
import { gunzipRouterInfo } from '../../i2np/router-info-gzip.js';
import { DSM_TYPE_LEASESET2 } from '../../i2np/database-store.js';
import {
  checkLeaseSet2Times,
  FLAG_UNPUBLISHED,
  MAX_LS2_BYTES,
  parseLeaseSet2,
  verifyLeaseSet2,
} from '../../leaseset/leaseset2.js';
import { parseCaps } from '../caps.js';
import { readPeerRouterInfo, type PeerRouterInfo } from '../peer.js';

/** i2pd 2.45.1 drops LeaseSet data larger than this (MAX_LS_BUFFER_SIZE, §2.1). */
export const MAX_LEASESET_STORE_BYTES = 3072;
/** How far ahead of our clock a `published` may be (i2pd NETDB_EXPIRATION_TIMEOUT_THRESHOLD, §2.3 item 3). */
export const MAX_FUTURE_MS = 2 * 60_000;

export interface RouterInfoEntry {
  readonly key: string;
  readonly hash: Uint8Array;
  /** Signed RouterInfo bytes exactly as received. */
  readonly bytes: Uint8Array;
  readonly published: number;
  readonly floodfill: boolean;
  readonly peer: PeerRouterInfo;
  readonly storedAt: number;
}

export interface LeaseSetEntry {
  readonly key: string;
  readonly hash: Uint8Array;
  /** DatabaseStore type byte (3: LeaseSet2). */
  readonly type: number;
  /** The structure's bytes exactly as received (no store-type prefix). */
  readonly bytes: Uint8Array;
  /** Seconds since the epoch, as in the LeaseSet2. */
  readonly published: number;
  /** Epoch ms: published + expires. */
  readonly expiresAt: number;
  readonly storedAt: number;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

const hexOf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

/** A RouterInfo from signed bytes, checked as §2.3 item 3 asks; `key` must be its ident hash. */
export function checkRouterInfo(
  key: Uint8Array,
  riBytes: Uint8Array,
  now: number,
  maxAgeMs: number,
): Checked<RouterInfoEntry> {
  const p = readPeerRouterInfo(riBytes, { now, maxFutureMs: MAX_FUTURE_MS, requireNtcp2: false });
  if (!p.ok) return { ok: false, reason: `routerinfo-${p.kind}` };
  if (!sameBytes(p.value.identHash, key)) return { ok: false, reason: 'routerinfo-key-mismatch' };
  if (p.value.routerInfo.published + maxAgeMs < now) return { ok: false, reason: 'routerinfo-expired' };
  return { ok: true, value: routerInfoEntry(p.value, now) };
}

/** The table entry of an already verified RouterInfo. */
export function routerInfoEntry(p: PeerRouterInfo, now: number): RouterInfoEntry {
  const ri = p.routerInfo;
  return {
    key: hexOf(p.identHash),
    hash: Uint8Array.from(p.identHash),
    bytes: ri.bytes,
    published: ri.published,
    floodfill: parseCaps(ri.options.get('caps') ?? '').floodfill,
    peer: p,
    storedAt: now,
  };
}

/** The gzip data of a RouterInfo DatabaseStore, inflated (capped, §2.1) and checked. */
export function checkRouterInfoStore(
  key: Uint8Array,
  gz: Uint8Array,
  now: number,
  maxAgeMs: number,
): Checked<RouterInfoEntry> {
  const ri = gunzipRouterInfo(gz);
  if (!ri.ok) return { ok: false, reason: 'routerinfo-gzip' };
  return checkRouterInfo(key, ri.value, now, maxAgeMs);
}

/** A LeaseSet2 store's data (leaseset.md §5.3-§5.4, netdb-floodfill.md §2.3 item 3). */
export function checkLeaseSet2Store(key: Uint8Array, data: Uint8Array, now: number): Checked<LeaseSetEntry> {
  if (data.length > MAX_LEASESET_STORE_BYTES || data.length > MAX_LS2_BYTES)
    return { ok: false, reason: 'leaseset-oversized' };
  const p = parseLeaseSet2(data);
  if (!p.ok) return { ok: false, reason: 'leaseset-malformed' };
  const ls = p.value;
  const destHash = createHash('sha256').update(ls.destination.bytes).digest();
  if (!sameBytes(destHash, key)) return { ok: false, reason: 'leaseset-key-mismatch' };
  if (ls.flags & FLAG_UNPUBLISHED) return { ok: false, reason: 'leaseset-unpublished' };
  const nowSec = Math.floor(now / 1000);
  if (checkLeaseSet2Times(ls, nowSec) !== undefined) return { ok: false, reason: 'leaseset-times' };
  const expiresAt = (ls.published + ls.expires) * 1000;
  if (expiresAt <= now) return { ok: false, reason: 'leaseset-expired' };
  if (!verifyLeaseSet2(ls)) return { ok: false, reason: 'leaseset-signature' };
  return {
    ok: true,
    value: {
      key: hexOf(key),
      hash: Uint8Array.from(key),
      type: DSM_TYPE_LEASESET2,
      bytes: ls.bytes,
      published: ls.published,
      expiresAt,
      storedAt: now,
    },
  };
}

export type PutResult = 'stored' | 'not-newer' | 'full';

export interface NetDbTablesOptions {
  maxRouterInfos: number;
  maxLeaseSets: number;
  /** A RouterInfo is dropped this long after its `published`. */
  routerInfoMaxAgeMs: number;
}

/** The two tables; callers check entries first (check* above). */
export class NetDbTables {
  readonly routerInfos = new Map<string, RouterInfoEntry>();
  readonly leaseSets = new Map<string, LeaseSetEntry>();
  constructor(readonly opts: NetDbTablesOptions) {}

  putRouterInfo(e: RouterInfoEntry): PutResult {
    const old = this.routerInfos.get(e.key);
    if (old) {
      if (old.published >= e.published) return 'not-newer';
    } else if (this.routerInfos.size >= this.opts.maxRouterInfos) {
      this.expire(e.storedAt);
      if (this.routerInfos.size >= this.opts.maxRouterInfos) return 'full';
    }
    this.routerInfos.set(e.key, e);
    return 'stored';
  }

  putLeaseSet(e: LeaseSetEntry): PutResult {
    const old = this.leaseSets.get(e.key);
    if (old) {
      if (old.published >= e.published) return 'not-newer';
    } else if (this.leaseSets.size >= this.opts.maxLeaseSets) {
      this.expire(e.storedAt);
      if (this.leaseSets.size >= this.opts.maxLeaseSets) return 'full';
    }
    this.leaseSets.set(e.key, e);
    return 'stored';
  }

  /** An unexpired LeaseSet. */
  leaseSet(key: string, now: number): LeaseSetEntry | undefined {
    const e = this.leaseSets.get(key);
    return e && e.expiresAt > now ? e : undefined;
  }

  /** Drops what has expired; returns the RouterInfo keys dropped (their files go too). */
  expire(now: number): { routerInfos: string[]; leaseSets: number } {
    const gone: string[] = [];
    for (const [k, e] of this.routerInfos)
      if (e.published + this.opts.routerInfoMaxAgeMs < now) {
        this.routerInfos.delete(k);
        gone.push(k);
      }
    let ls = 0;
    for (const [k, e] of this.leaseSets)
      if (e.expiresAt <= now) {
        this.leaseSets.delete(k);
        ls++;
      }
    return { routerInfos: gone, leaseSets: ls };
  }
}
