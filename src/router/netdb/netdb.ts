// The router's netDb (netdb-floodfill.md §1-§6): stores verified RouterInfos and LeaseSet2s from DatabaseStore (§2),
// answers DatabaseLookup with DatabaseStore or DatabaseSearchReply in the reply encryption asked for (§3, §4.2),
// directly or through the reply tunnel (§5), acknowledges stores with a reply token (§2.2) and, as a floodfill, floods
// new entries to the closest other floodfills (§2.3 item 5). It also runs this router's side of the netDb: publishing
// its own RouterInfo to the closest floodfills, exploring for other routers (exploration and random RouterInfo
// lookups, then fetching the hashes the replies list) and looking keys up on request. Every table is capped, every
// requester rate-limited; hostile input is counted by reason and dropped, never thrown. Design: docs/netdb.md.
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { I2NP_DELIVERY_STATUS, I2NP_EXPIRATION_MS, I2NP_TUNNEL_GATEWAY } from '../../constants.js';
import { decodeDeliveryStatus, encodeDeliveryStatus, encodeTunnelGateway } from '../../i2np/bodies.js';
import {
  decodeDatabaseLookup,
  encodeDatabaseLookup,
  type DatabaseLookupBody,
  type LookupType,
} from '../../i2np/database-lookup.js';
import { decodeDatabaseSearchReply, encodeDatabaseSearchReply } from '../../i2np/database-search-reply.js';
import {
  decodeDatabaseStore,
  DSM_TYPE_LEASESET2,
  DSM_TYPE_ROUTER_INFO,
  encodeDatabaseStore,
} from '../../i2np/database-store.js';
import { encodeI2np } from '../../i2np/header.js';
import {
  I2NP_DATABASE_LOOKUP,
  I2NP_DATABASE_SEARCH_REPLY,
  I2NP_DATABASE_STORE,
  I2NP_GARLIC,
} from '../../i2np/message-types.js';
import { gzipRouterInfo } from '../../i2np/router-info-gzip.js';
import { wrapTagReply } from '../garlic/tag-reply.js';
import { listNetDbFiles, netDbRelativePath, writeRouterInfoFile } from '../netdb-files.js';
import { MAX_ROUTER_INFO_SIZE } from '../router-info.js';
import type { PeerRouterInfo } from '../peer.js';
import { closest, routingKey } from './routing-key.js';
import {
  checkLeaseSet2Store,
  checkRouterInfo,
  checkRouterInfoStore,
  routerInfoEntry,
  NetDbTables,
  type LeaseSetEntry,
  type RouterInfoEntry,
} from './store.js';

/** Floodfills a new entry is flooded to (i2pd and the cited Java revision: 3, §2.3 item 5). */
export const FLOOD_COUNT = 3;
/** Routers listed in a DatabaseSearchReply (Java MAX_ROUTERS_RETURNED, i2pd: 3, §3.2). */
export const SEARCH_REPLY_COUNT = 3;
/** Floodfills one lookup of ours asks at most (i2pd's limit for LeaseSets, §6.3). */
export const MAX_FLOODFILLS_ASKED = 7;

export interface NetDbOptions {
  /** Answer lookups with what we know, flood new entries (the router's `f` cap). */
  floodfill: boolean;
  /** Entries per table (default 5000 each). */
  maxRouterInfos: number;
  maxLeaseSets: number;
  /** A RouterInfo is dropped this long after it was published (default 2 h: i2pd re-signs every 30 min, §6.2). */
  routerInfoMaxAgeMs: number;
  /** Write stored RouterInfos to DIR/netDb and load them at start (default: when floodfill). */
  persist: boolean;
  /** Lookups and stores per requesting router: bucket size (default 64) refilled at `requestsPerSecond` (16). */
  requestBurst: number;
  requestsPerSecond: number;
  /** Requesters whose rate is tracked (default 4096; the least recently seen is forgotten first). */
  maxTrackedRequesters: number;
  /** Publish our RouterInfo to this many of the closest floodfills (default 2), every `publishIntervalMs`. */
  publishCount: number;
  /** Default 15 min (i2pd: at least every 40 min, §6.2); retried every `publishRetryMs` (5 s) until confirmed. */
  publishIntervalMs: number;
  publishRetryMs: number;
  /** Exploration rounds: every `exploreFastMs` (5 s) while we know fewer than `exploreUntil` routers, else `exploreIntervalMs` (30 s, i2pd's). 0 = never. */
  exploreIntervalMs: number;
  exploreFastMs: number;
  exploreUntil: number;
  /** A floodfill's answer to one of our lookups is awaited this long before the next is asked (default 3 s). */
  lookupStepMs: number;
  /** Lookups of ours in flight (default 512; each is a key and a few hashes). */
  maxPendingLookups: number;
  /** Routers never listed in an exploration reply (e.g. routers others cannot dial). */
  exploreExclude?: (identHash: Uint8Array) => boolean;
  /** Timer period (default 1 s). */
  tickMs: number;
}

export const DEFAULT_NETDB_OPTIONS: Omit<NetDbOptions, 'floodfill' | 'persist'> = {
  maxRouterInfos: 5000,
  maxLeaseSets: 5000,
  routerInfoMaxAgeMs: 2 * 3_600_000,
  requestBurst: 64,
  requestsPerSecond: 16,
  maxTrackedRequesters: 4096,
  publishCount: 2,
  publishIntervalMs: 15 * 60_000,
  publishRetryMs: 5_000,
  exploreIntervalMs: 30_000,
  exploreFastMs: 5_000,
  exploreUntil: 20,
  lookupStepMs: 3_000,
  maxPendingLookups: 512,
  tickMs: 1_000,
};

/** What the netDb needs of its router. */
export interface NetDbHost {
  readonly identHash: Uint8Array;
  /** Sends an I2NP message straight to a router (its session, or a dial); false when dropped. */
  send(to: Uint8Array, type: number, body: Uint8Array): boolean;
  /** Whether a message to this router can leave now (a session, or an address to dial). */
  canReach(identHash: Uint8Array): boolean;
  /** An I2NP message (16-byte header) for one of our own gateway tunnels: a reply whose gateway is us (§5). */
  injectGateway(tunnelId: number, message: Uint8Array): boolean;
  /** A newer verified RouterInfo entered the netDb: the peer table takes it. */
  onRouterInfo(p: PeerRouterInfo): void;
  /** Our signed RouterInfo to publish (the host re-signs it when it is getting old). */
  ownRouterInfo(): Uint8Array;
  /** DIR of the router (persistence). */
  readonly dataDir: string;
  now?: () => number;
}

export interface NetDbStats {
  routerInfos: number;
  floodfills: number;
  leaseSets: number;
  /** Entries stored (new or newer) from DatabaseStore. */
  stores: number;
  /** DatabaseLookups received, answered with a DatabaseStore, answered with a DatabaseSearchReply. */
  lookups: number;
  lookupsFound: number;
  searchReplies: number;
  /** DatabaseStores sent as floods. */
  floods: number;
  deliveryStatusSent: number;
  /** Our RouterInfo: stores sent, confirmed by DeliveryStatus. */
  published: number;
  publishConfirmed: number;
  /** Our lookups sent (explorations and fetches included). */
  lookupsSent: number;
  /** RouterInfos loaded from DIR/netDb at start; files removed as expired or invalid. */
  loaded: number;
  removedFiles: number;
  dropped: Record<string, number>;
}

interface Pending {
  key: Uint8Array;
  kind: LookupType;
  asked: Set<string>;
  stepDeadline: number;
  deadline: number;
  waiters: ((found: boolean) => void)[];
}

interface Bucket {
  tokens: number;
  last: number;
}

const hexOf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const fromHex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const randomU32 = (): number => randomBytes(4).readUInt32BE(0) || 1;

export class NetDb {
  readonly opts: NetDbOptions;
  private readonly host: NetDbHost;
  private readonly now: () => number;
  private readonly tables: NetDbTables;
  private readonly ownKey: string;
  private readonly buckets = new Map<string, Bucket>();
  private readonly pending = new Map<string, Pending>();
  /** Tokens of our RouterInfo stores awaiting their DeliveryStatus. */
  private readonly publishTokens = new Map<number, number>();
  private lastPublishAttempt = 0;
  private lastPublishConfirmed = 0;
  private lastExplore = 0;
  private lastExpire = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly counters = {
    stores: 0,
    lookups: 0,
    lookupsFound: 0,
    searchReplies: 0,
    floods: 0,
    deliveryStatusSent: 0,
    published: 0,
    publishConfirmed: 0,
    lookupsSent: 0,
    loaded: 0,
    removedFiles: 0,
  };
  private readonly dropped: Record<string, number> = {};

  constructor(host: NetDbHost, opts: Partial<NetDbOptions> & { floodfill: boolean }) {
    this.host = host;
    this.now = host.now ?? Date.now;
    this.opts = { ...DEFAULT_NETDB_OPTIONS, persist: opts.floodfill, ...opts };
    this.tables = new NetDbTables(this.opts);
    this.ownKey = hexOf(host.identHash);
  }

  private drop(reason: string): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
  }

  // ---------------------------------------------------------------- tables

  /** A verified RouterInfo met elsewhere (NTCP2 handshake, RouterInfo block, a peer file): into the table. */
  offerRouterInfo(p: PeerRouterInfo): boolean {
    if (hexOf(p.identHash) === this.ownKey) return false;
    const now = this.now();
    if (p.routerInfo.published + this.opts.routerInfoMaxAgeMs < now) return false;
    return this.putRouterInfo(routerInfoEntry(p, now)) === 'stored';
  }

  private putRouterInfo(e: RouterInfoEntry): 'stored' | 'not-newer' | 'full' {
    const r = this.tables.putRouterInfo(e);
    if (r === 'full') this.drop('routerinfo-table-full');
    if (r === 'stored' && this.opts.persist) {
      try {
        writeRouterInfoFile(join(this.host.dataDir, netDbRelativePath(e.hash)), e.bytes);
      } catch {
        this.drop('file-write-failed');
      }
    }
    return r;
  }

  routerInfo(key: Uint8Array): RouterInfoEntry | undefined {
    return this.tables.routerInfos.get(hexOf(key));
  }

  /** An unexpired LeaseSet. */
  leaseSet(key: Uint8Array): LeaseSetEntry | undefined {
    return this.tables.leaseSet(hexOf(key), this.now());
  }

  routerInfos(): IterableIterator<RouterInfoEntry> {
    return this.tables.routerInfos.values();
  }

  leaseSets(): IterableIterator<LeaseSetEntry> {
    return this.tables.leaseSets.values();
  }

  /** Floodfills we know, ourselves excluded. */
  floodfills(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const e of this.tables.routerInfos.values()) if (e.floodfill && e.key !== this.ownKey) out.push(e.hash);
    return out;
  }

  private closestFloodfills(key: Uint8Array, n: number, exclude: Set<string>): Uint8Array[] {
    return closest(routingKey(key, this.now()), this.floodfills(), n, exclude);
  }

  // ---------------------------------------------------------------- rate

  /** Token bucket per requester (§3: lookups and stores are capped per peer). */
  private allow(requester: string): boolean {
    const now = this.now();
    let b = this.buckets.get(requester);
    if (b === undefined) {
      if (this.buckets.size >= this.opts.maxTrackedRequesters) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
      b = { tokens: this.opts.requestBurst, last: now };
    } else this.buckets.delete(requester); // re-inserted below: Map order = least recently seen first
    b.tokens = Math.min(this.opts.requestBurst, b.tokens + ((now - b.last) / 1000) * this.opts.requestsPerSecond);
    b.last = now;
    this.buckets.set(requester, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  // ---------------------------------------------------------------- DatabaseStore (§2)

  /**
   * A DatabaseStore body, from the router `from` over a link, or (absent) delivered locally: an OBEP's delivery or a
   * clove of a garlic to us. Never throws.
   */
  handleStore(body: Uint8Array, from?: Uint8Array): void {
    try {
      this.store(body, from);
    } catch {
      this.drop('store-internal-error');
    }
  }

  private store(body: Uint8Array, from: Uint8Array | undefined): void {
    if (!this.allow(from ? hexOf(from) : 'local')) return this.drop('store-rate');
    const d = decodeDatabaseStore(body);
    if (!d.ok) return this.drop('store-malformed');
    const s = d.value;
    if (s.key.every((x) => x === 0)) return this.drop('store-zero-key');
    const now = this.now();
    // §2.3 item 2: acknowledged before validation, as i2pd and Java do.
    if (s.replyToken !== 0) this.sendDeliveryStatus(s.replyToken, s.replyTunnelId ?? 0, s.replyGateway!, now);
    let stored = false;
    if (s.type === DSM_TYPE_ROUTER_INFO) {
      if (s.data.length > MAX_ROUTER_INFO_SIZE) return this.drop('routerinfo-oversized');
      const c = checkRouterInfoStore(s.key, s.data, now, this.opts.routerInfoMaxAgeMs);
      if (!c.ok) return this.drop(c.reason);
      if (c.value.key === this.ownKey) return this.drop('routerinfo-our-own');
      const r = this.putRouterInfo(c.value);
      if (r === 'stored') {
        stored = true;
        this.host.onRouterInfo(c.value.peer);
      } else if (r === 'not-newer') this.drop('routerinfo-not-newer');
    } else if (s.type === DSM_TYPE_LEASESET2) {
      const c = checkLeaseSet2Store(s.key, s.data, now);
      if (!c.ok) return this.drop(c.reason);
      const r = this.tables.putLeaseSet(c.value);
      if (r === 'stored') stored = true;
      else if (r === 'not-newer') this.drop('leaseset-not-newer');
      else this.drop('leaseset-table-full');
    } else {
      return this.drop(`store-type-${s.type}-unsupported`);
    }
    const key = hexOf(s.key);
    const p = this.pending.get(key);
    if (p) this.settle(key, p, true);
    if (!stored) return;
    this.counters.stores++;
    // §2.3 item 5: a new entry from its publisher (token != 0) goes to the closest other floodfills, token 0.
    if (this.opts.floodfill && s.replyToken !== 0) {
      const exclude = new Set([this.ownKey, key]);
      if (from) exclude.add(hexOf(from));
      const flood = encodeDatabaseStore({
        key: s.key,
        type: s.type,
        data: s.type === DSM_TYPE_ROUTER_INFO ? gzipRouterInfo(this.tables.routerInfos.get(key)!.bytes) : s.data,
      });
      for (const ff of this.closestFloodfills(s.key, FLOOD_COUNT, exclude)) {
        if (!this.host.canReach(ff)) {
          this.drop('flood-unreachable');
          continue;
        }
        if (this.host.send(ff, I2NP_DATABASE_STORE, flood)) this.counters.floods++;
        else this.drop('flood-send-failed');
      }
    }
  }

  /** DeliveryStatus(token) directly to the gateway router, or as TunnelGateway through its tunnel (§2.2, §5). */
  private sendDeliveryStatus(token: number, tunnelId: number, gateway: Uint8Array, now: number): void {
    const status = encodeDeliveryStatus(token, now);
    if (this.reply(gateway, tunnelId === 0 ? undefined : tunnelId, I2NP_DELIVERY_STATUS, status, now))
      this.counters.deliveryStatusSent++;
  }

  /** Sends a reply directly to `to`, or into tunnel `tunnelId` at gateway `to` (us: injected here). */
  private reply(to: Uint8Array, tunnelId: number | undefined, type: number, body: Uint8Array, now: number): boolean {
    if (tunnelId === undefined) {
      if (hexOf(to) === this.ownKey) {
        this.drop('reply-to-self');
        return false;
      }
      if (!this.host.canReach(to)) {
        this.drop('reply-no-route');
        return false;
      }
      if (this.host.send(to, type, body)) return true;
      this.drop('reply-send-failed');
      return false;
    }
    const msg = encodeI2np(type, randomU32(), now + I2NP_EXPIRATION_MS, body);
    if (hexOf(to) === this.ownKey) {
      if (this.host.injectGateway(tunnelId, msg)) return true;
      this.drop('reply-unknown-own-tunnel');
      return false;
    }
    if (!this.host.canReach(to)) {
      this.drop('reply-no-route');
      return false;
    }
    if (this.host.send(to, I2NP_TUNNEL_GATEWAY, encodeTunnelGateway(tunnelId, msg))) return true;
    this.drop('reply-send-failed');
    return false;
  }

  // ---------------------------------------------------------------- DatabaseLookup (§3)

  /** A DatabaseLookup body, from `from` over a link or (absent) delivered locally. Never throws. */
  handleLookup(body: Uint8Array, from?: Uint8Array): void {
    try {
      this.lookupIn(body, from);
    } catch {
      this.drop('lookup-internal-error');
    }
  }

  private lookupIn(body: Uint8Array, from: Uint8Array | undefined): void {
    const d = decodeDatabaseLookup(body);
    // Rate first, keyed by the link's router or, for tunnelled lookups, the reply gateway named in the lookup.
    const requester = from ? hexOf(from) : d.ok ? `gw:${hexOf(d.value.from)}` : 'local';
    if (!this.allow(requester)) return this.drop('lookup-rate');
    if (!d.ok) return this.drop('lookup-malformed');
    this.counters.lookups++;
    const l = d.value;
    if (l.encryption === 'elgamal') return this.drop('lookup-elgamal-unsupported');
    const now = this.now();
    const key = hexOf(l.key);
    const excluded = new Set(l.excluded.map(hexOf));
    excluded.add(this.ownKey);
    // Exploration (§3.2 item 1): non-floodfills closest to the key; an RI we hold is answered (reseed.floodfill quirk).
    if (l.lookupType === 'exploration') {
      const ri = this.tables.routerInfos.get(key);
      if (ri) return this.answerStore(l, DSM_TYPE_ROUTER_INFO, ri.hash, gzipRouterInfo(ri.bytes), now);
      const candidates: Uint8Array[] = [];
      for (const e of this.tables.routerInfos.values())
        if (!e.floodfill && !this.opts.exploreExclude?.(e.hash)) candidates.push(e.hash);
      excluded.add(hexOf(l.from));
      const peers = closest(routingKey(l.key, now), candidates, SEARCH_REPLY_COUNT, excluded);
      return this.answerSearch(l, peers, now);
    }
    if (l.lookupType === 'routerinfo' || l.lookupType === 'any') {
      const ri = this.tables.routerInfos.get(key);
      if (ri) return this.answerStore(l, DSM_TYPE_ROUTER_INFO, ri.hash, gzipRouterInfo(ri.bytes), now);
    }
    if (l.lookupType === 'leaseset' || l.lookupType === 'any') {
      const ls = this.tables.leaseSet(key, now);
      if (ls) return this.answerStore(l, ls.type, ls.hash, ls.bytes, now);
    }
    // §3.2 item 4: a miss lists the floodfills closest to the key.
    excluded.add(key);
    return this.answerSearch(l, this.closestFloodfills(l.key, SEARCH_REPLY_COUNT, excluded), now);
  }

  private answerStore(l: DatabaseLookupBody, type: number, key: Uint8Array, data: Uint8Array, now: number): void {
    if (this.sendLookupReply(l, I2NP_DATABASE_STORE, encodeDatabaseStore({ key, type, data }), now))
      this.counters.lookupsFound++;
  }

  private answerSearch(l: DatabaseLookupBody, peers: Uint8Array[], now: number): void {
    const body = encodeDatabaseSearchReply(l.key, peers, this.host.identHash);
    if (this.sendLookupReply(l, I2NP_DATABASE_SEARCH_REPLY, body, now)) this.counters.searchReplies++;
  }

  /**
   * The reply as the lookup asks (§3.2 item 5, §4.2): wrapped in a single-tag garlic when it carries an ECIES reply
   * key and tag (the message clove first: i2pd drops anything else), in clear otherwise; then directly to `from` or
   * into its reply tunnel (§5).
   */
  private sendLookupReply(l: DatabaseLookupBody, type: number, body: Uint8Array, now: number): boolean {
    let t = type;
    let b = body;
    if (l.encryption === 'ecies' && l.replyKey && l.replyTags && l.replyTags.length > 0) {
      b = wrapTagReply(l.replyKey, l.replyTags[0]!, {
        type,
        msgId: randomU32(),
        expiration: now + I2NP_EXPIRATION_MS,
        body,
      });
      t = I2NP_GARLIC;
    }
    return this.reply(l.from, l.replyTunnelId, t, b, now);
  }

  // ---------------------------------------------------------------- DatabaseSearchReply (§3.3)

  /** A DatabaseSearchReply to one of our lookups: fetch the routers it lists, ask the next floodfill. Never throws. */
  handleSearchReply(body: Uint8Array, from?: Uint8Array): void {
    try {
      this.searchReplyIn(body, from);
    } catch {
      this.drop('searchreply-internal-error');
    }
  }

  private searchReplyIn(body: Uint8Array, from: Uint8Array | undefined): void {
    const d = decodeDatabaseSearchReply(body);
    if (!d.ok) return this.drop('searchreply-malformed');
    const key = hexOf(d.value.key);
    const p = this.pending.get(key);
    // Only answers to our own lookups are read: anything else could make us send lookups on a stranger's behalf.
    const sender = from ? hexOf(from) : hexOf(d.value.from);
    if (!p || !p.asked.has(sender)) return this.drop('searchreply-unsolicited');
    const senderHash = fromHex(sender);
    // At most SEARCH_REPLY_COUNT * 2 fetches per reply, whatever it lists (a DSRM may carry 255 hashes).
    let fetched = 0;
    for (const h of d.value.peers) {
      if (fetched >= SEARCH_REPLY_COUNT * 2) break;
      const hk = hexOf(h);
      if (hk === this.ownKey || this.tables.routerInfos.has(hk) || this.pending.has(hk)) continue;
      if (this.startLookup(Uint8Array.from(h), 'routerinfo', senderHash)) fetched++;
    }
    if (p.kind === 'exploration') return this.settle(key, p, false);
    this.askNext(key, p);
  }

  // ---------------------------------------------------------------- our lookups

  /**
   * Looks a key up at the closest floodfills we know (directly, one at a time, at most MAX_FLOODFILLS_ASKED).
   * Resolves true once the entry is in our netDb (it may already be), false on a miss or after `timeoutMs`.
   */
  lookup(key: Uint8Array, kind: 'routerinfo' | 'leaseset', timeoutMs = 15_000): Promise<boolean> {
    if (kind === 'routerinfo' ? this.routerInfo(key) : this.leaseSet(key)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const k = hexOf(key);
      let p = this.pending.get(k);
      if (!p) {
        if (!this.startLookup(Uint8Array.from(key), kind, undefined, timeoutMs)) return resolve(false);
        p = this.pending.get(k);
        if (!p) return resolve(false);
      }
      p.waiters.push(resolve);
    });
  }

  /** Starts a lookup of ours (first floodfill: `to` or the closest). False when none can be asked or too many run. */
  private startLookup(key: Uint8Array, kind: LookupType, to?: Uint8Array, timeoutMs = 15_000): boolean {
    const k = hexOf(key);
    if (this.pending.has(k)) return true;
    if (this.pending.size >= this.opts.maxPendingLookups) {
      this.drop('lookup-pending-full');
      return false;
    }
    const now = this.now();
    const p: Pending = {
      key,
      kind,
      asked: new Set(),
      stepDeadline: now + this.opts.lookupStepMs,
      deadline: now + timeoutMs,
      waiters: [],
    };
    this.pending.set(k, p);
    if (to) return this.ask(p, to) || (this.pending.delete(k), false);
    if (!this.askNext(k, p)) return false;
    return true;
  }

  /** Asks the closest floodfill not yet asked; settles the lookup (miss) when there is none. */
  private askNext(k: string, p: Pending): boolean {
    if (p.asked.size >= MAX_FLOODFILLS_ASKED) {
      this.settle(k, p, false);
      return false;
    }
    const exclude = new Set([...p.asked, this.ownKey, k]);
    const next = this.closestFloodfills(p.key, 1, exclude)[0];
    if (!next || !this.ask(p, next)) {
      this.settle(k, p, false);
      return false;
    }
    return true;
  }

  private ask(p: Pending, to: Uint8Array): boolean {
    p.asked.add(hexOf(to));
    p.stepDeadline = this.now() + this.opts.lookupStepMs;
    const body = encodeDatabaseLookup({
      key: p.key,
      from: this.host.identHash,
      lookupType: p.kind,
      // Exploration excludes ourselves; a retry excludes the floodfills already asked (§3.1).
      excluded:
        p.kind === 'exploration' ? [this.host.identHash] : [...p.asked].filter((h) => h !== hexOf(to)).map(fromHex),
    });
    if (!this.host.canReach(to) || !this.host.send(to, I2NP_DATABASE_LOOKUP, body)) {
      this.drop('lookup-send-failed');
      return false;
    }
    this.counters.lookupsSent++;
    return true;
  }

  private settle(k: string, p: Pending, found: boolean): void {
    this.pending.delete(k);
    for (const w of p.waiters) w(found);
  }

  // ---------------------------------------------------------------- publishing and exploring (§6.2, §6.4)

  /** A DeliveryStatus (10) body: true when it confirms one of our RouterInfo stores. */
  handleDeliveryStatus(body: Uint8Array): boolean {
    const d = decodeDeliveryStatus(body);
    if (!d.ok) return false;
    if (!this.publishTokens.delete(d.value.msgId)) return false;
    this.counters.publishConfirmed++;
    this.lastPublishConfirmed = this.now();
    return true;
  }

  /** Sends our RouterInfo (reply token, direct reply) to the `publishCount` floodfills closest to us. Returns how many. */
  publish(): number {
    const now = this.now();
    this.lastPublishAttempt = now;
    const targets = this.closestFloodfills(this.host.identHash, this.opts.publishCount, new Set([this.ownKey]));
    if (targets.length === 0) return 0;
    const gz = gzipRouterInfo(this.host.ownRouterInfo());
    let n = 0;
    for (const ff of targets) {
      const token = randomU32();
      const body = encodeDatabaseStore({
        key: this.host.identHash,
        type: DSM_TYPE_ROUTER_INFO,
        replyToken: token,
        replyTunnelId: 0,
        replyGateway: this.host.identHash,
        data: gz,
      });
      if (!this.host.canReach(ff) || !this.host.send(ff, I2NP_DATABASE_STORE, body)) {
        this.drop('publish-send-failed');
        continue;
      }
      if (this.publishTokens.size >= 64) this.publishTokens.delete(this.publishTokens.keys().next().value!);
      this.publishTokens.set(token, now);
      this.counters.published++;
      n++;
    }
    return n;
  }

  /**
   * One exploration round: an exploration lookup (non-floodfills near a random key) and a RouterInfo lookup for
   * another random key (its miss lists floodfills), each to the floodfill closest to its key; the replies' hashes are
   * then fetched. Returns the lookups started.
   */
  explore(): number {
    let n = 0;
    for (const kind of ['exploration', 'routerinfo'] as const) {
      const key = new Uint8Array(randomBytes(32));
      const ff = this.closestFloodfills(key, 1, new Set([this.ownKey]))[0];
      if (ff && this.startLookup(key, kind, ff, this.opts.lookupStepMs * 2)) n++;
    }
    this.lastExplore = this.now();
    return n;
  }

  tick(now = this.now()): void {
    if (this.closed) return;
    if (now - this.lastExpire >= 60_000) this.expire(now);
    for (const [k, p] of this.pending) {
      if (now >= p.deadline) this.settle(k, p, false);
      else if (now >= p.stepDeadline) {
        if (p.kind === 'exploration' || p.waiters.length === 0) this.settle(k, p, false);
        else this.askNext(k, p);
      }
    }
    const confirmed = this.lastPublishConfirmed > 0 && this.lastPublishConfirmed >= this.lastPublishAttempt - 60_000;
    const due = confirmed
      ? now - this.lastPublishAttempt >= this.opts.publishIntervalMs
      : now - this.lastPublishAttempt >= this.opts.publishRetryMs;
    if (due) this.publish();
    if (this.opts.exploreIntervalMs > 0) {
      const every =
        this.tables.routerInfos.size < this.opts.exploreUntil ? this.opts.exploreFastMs : this.opts.exploreIntervalMs;
      if (now - this.lastExplore >= every) this.explore();
    }
  }

  /** Drops expired entries (their files too). */
  expire(now = this.now()): void {
    this.lastExpire = now;
    const gone = this.tables.expire(now);
    if (gone.leaseSets)
      this.dropped['leaseset-expired-dropped'] = (this.dropped['leaseset-expired-dropped'] ?? 0) + gone.leaseSets;
    for (const k of gone.routerInfos) {
      this.dropped['routerinfo-expired-dropped'] = (this.dropped['routerinfo-expired-dropped'] ?? 0) + 1;
      if (this.opts.persist) this.removeFile(join(this.host.dataDir, netDbRelativePath(fromHex(k))));
    }
  }

  private removeFile(path: string): void {
    try {
      unlinkSync(path);
      this.counters.removedFiles++;
    } catch {
      // already gone
    }
  }

  /**
   * Loads DIR/netDb (persist on): every RouterInfo file verified as a store would be; expired, invalid or misnamed
   * files removed, at most maxRouterInfos kept. Returns how many were loaded.
   */
  load(): number {
    if (!this.opts.persist) return 0;
    const now = this.now();
    let n = 0;
    for (const path of listNetDbFiles(this.host.dataDir, this.opts.maxRouterInfos * 2)) {
      const name = basename(path);
      if (!/^routerInfo-[A-Za-z0-9~-]{43}=\.dat$/.test(name)) continue; // not ours to judge (or a temporary file)
      let bytes: Uint8Array;
      try {
        if (statSync(path).size > MAX_ROUTER_INFO_SIZE) {
          this.removeFile(path);
          continue;
        }
        bytes = readFileSync(path);
      } catch {
        continue;
      }
      const b64 = name.slice('routerInfo-'.length, -'.dat'.length);
      const hash = new Uint8Array(Buffer.from(b64.replace(/-/g, '+').replace(/~/g, '/'), 'base64'));
      const c = hash.length === 32 ? checkRouterInfo(hash, bytes, now, this.opts.routerInfoMaxAgeMs) : undefined;
      if (!c || !c.ok || c.value.key === this.ownKey) {
        this.removeFile(path);
        continue;
      }
      if (this.tables.putRouterInfo(c.value) !== 'stored') continue;
      this.host.onRouterInfo(c.value.peer);
      n++;
    }
    this.counters.loaded += n;
    return n;
  }

  /** Loads the files and starts the timer (unref'd); the first publish and exploration happen on the first tick. */
  start(): void {
    this.load();
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.opts.tickMs);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const [k, p] of this.pending) this.settle(k, p, false);
  }

  stats(): NetDbStats {
    let floodfills = 0;
    for (const e of this.tables.routerInfos.values()) if (e.floodfill) floodfills++;
    return {
      routerInfos: this.tables.routerInfos.size,
      floodfills,
      leaseSets: this.tables.leaseSets.size,
      ...this.counters,
      dropped: { ...this.dropped },
    };
  }
}
