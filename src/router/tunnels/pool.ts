// Tunnel pools (netdb-floodfill.md §6.5, §7.5, §7.6): keep `quantity` + `backupQuantity` inbound and outbound tunnels
// of `length` (± `lengthVariance`) hops through peers from a peer source, no peer twice in one tunnel; replace each
// tunnel from 30 s before its 10 minutes end (i2pd: from 570 s) so the pool never runs empty; test pairs of tunnels
// with a DeliveryStatus sent out through the outbound one and back through the inbound one, and drop a tunnel after
// two consecutive failed tests. Emits 'tunnel' (TunnelEvent) on every change.
import { randomBytes, randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { I2NP_DELIVERY_STATUS, I2NP_EXPIRATION_MS } from '../../constants.js';
import { decodeDeliveryStatus, encodeDeliveryStatus } from '../../i2np/bodies.js';
import { encodeI2np } from '../../i2np/header.js';
import { MAX_BUILD_RECORDS } from '../tunnel-build/request-record.js';
import type { BuildResult, LocalTunnel, PeerCandidate, TunnelCreator } from './creator.js';
import { hexOf, sameHash } from './types.js';

/** Where a pool finds routers to build through (the router's netDb / peer table). */
export interface PeerSource {
  /** Routers usable as hops (crypto type 4, short builds). Ours is skipped if present. */
  candidates(): readonly PeerCandidate[];
}

export interface DirectionSettings {
  /** Tunnels wanted (i2pd exploratory 3, client 5; ≤ 16). */
  quantity: number;
  /** Extra tunnels kept on top of `quantity` (default 0). */
  backupQuantity: number;
  /** Hops, 0..8 (i2pd exploratory 2, client 3). */
  length: number;
  /** > 0: add 0..v hops; < 0: add -|v|..|v| (Java I2P's rule). Default 0. */
  lengthVariance: number;
}

export interface TunnelPoolOptions {
  name: string;
  creator: TunnelCreator;
  peers: PeerSource;
  identHash: Uint8Array;
  inbound?: Partial<DirectionSettings>;
  outbound?: Partial<DirectionSettings>;
  now?: () => number;
  /** Tunnel test round (default 15 s: i2pd tests every 10-20 s). An unanswered test counts as failed at the next round. */
  testIntervalMs?: number;
  /** Consecutive failed tests that remove a tunnel (default 2, as i2pd). */
  maxTestFailures?: number;
  /** Start a replacement this long before a tunnel's 10 minutes end (default 30 s: i2pd's 570 s). */
  replaceBeforeMs?: number;
  /** Builds started per direction per tick (default 2, as i2pd per pass). */
  buildsPerTick?: number;
}

/** Exploratory pool defaults (i2pd Config.cpp): 2 hops, 3 tunnels each way. */
export const EXPLORATORY_DEFAULTS: DirectionSettings = { quantity: 3, backupQuantity: 0, length: 2, lengthVariance: 0 };
/** Client pool defaults (i2pd Destination.h): 3 hops, 5 tunnels each way. */
export const CLIENT_DEFAULTS: DirectionSettings = { quantity: 5, backupQuantity: 0, length: 3, lengthVariance: 0 };

export type TunnelEventKind = 'built' | 'build-failed' | 'expired' | 'tested' | 'test-failed' | 'failed';

export interface TunnelEvent {
  pool: string;
  event: TunnelEventKind;
  direction: 'inbound' | 'outbound';
  /** Local id (LocalTunnel.id); absent for a failed build. */
  id?: number;
  /** Hop ident hashes, hex, forwarding order. */
  hops: string[];
  /** build-failed: why (BuildFailure) and the hop that refused, if one did. */
  reason?: string;
  hop?: number;
  /** tested: round trip in ms. */
  latencyMs?: number;
}

interface Member {
  tunnel: LocalTunnel;
  failures: number;
  replaced: boolean;
}

interface PendingTest {
  outbound: Member;
  inbound: Member;
  sentAt: number;
}

export interface PoolStats {
  inbound: number;
  outbound: number;
  building: number;
  /** Builds that failed plus tunnels removed after failed tests, since start. */
  failed: number;
  built: number;
  testsPassed: number;
  testsFailed: number;
}

const MAX_QUANTITY = 16;

function settings(base: DirectionSettings, over: Partial<DirectionSettings> | undefined): DirectionSettings {
  const s = { ...base, ...over };
  if (!Number.isInteger(s.quantity) || s.quantity < 0 || s.quantity > MAX_QUANTITY)
    throw new RangeError(`quantity must be 0..${MAX_QUANTITY}`);
  if (!Number.isInteger(s.backupQuantity) || s.backupQuantity < 0 || s.backupQuantity > MAX_QUANTITY)
    throw new RangeError(`backupQuantity must be 0..${MAX_QUANTITY}`);
  if (!Number.isInteger(s.length) || s.length < 0 || s.length > MAX_BUILD_RECORDS)
    throw new RangeError(`length must be 0..${MAX_BUILD_RECORDS}`);
  if (!Number.isInteger(s.lengthVariance) || Math.abs(s.lengthVariance) > 3)
    throw new RangeError('lengthVariance must be -3..3');
  return s;
}

export class TunnelPool extends EventEmitter {
  readonly name: string;
  private readonly creator: TunnelCreator;
  private readonly peers: PeerSource;
  private readonly identHash: Uint8Array;
  readonly inboundSettings: DirectionSettings;
  readonly outboundSettings: DirectionSettings;
  private readonly now: () => number;
  private readonly testIntervalMs: number;
  private readonly maxTestFailures: number;
  private readonly replaceBeforeMs: number;
  private readonly buildsPerTick: number;
  private readonly members = { inbound: [] as Member[], outbound: [] as Member[] };
  private readonly buildingCount = { inbound: 0, outbound: 0 };
  private readonly tests = new Map<number, PendingTest>();
  private lastTestRound = 0;
  private stopped = false;
  private readonly counters = { failed: 0, built: 0, testsPassed: 0, testsFailed: 0 };

  constructor(opts: TunnelPoolOptions) {
    super();
    this.name = opts.name;
    this.creator = opts.creator;
    this.peers = opts.peers;
    this.identHash = opts.identHash.slice();
    this.inboundSettings = settings(EXPLORATORY_DEFAULTS, opts.inbound);
    this.outboundSettings = settings(EXPLORATORY_DEFAULTS, opts.outbound);
    this.now = opts.now ?? Date.now;
    this.testIntervalMs = opts.testIntervalMs ?? 15_000;
    this.maxTestFailures = opts.maxTestFailures ?? 2;
    this.replaceBeforeMs = opts.replaceBeforeMs ?? 30_000;
    this.buildsPerTick = opts.buildsPerTick ?? 2;
    this.lastTestRound = this.now();
  }

  /** Established tunnels not yet expired (usable for traffic). */
  tunnels(direction: 'inbound' | 'outbound'): LocalTunnel[] {
    const now = this.now();
    return this.members[direction].filter((m) => !m.tunnel.ended && m.tunnel.expiresAt > now).map((m) => m.tunnel);
  }

  /** A random usable tunnel, or undefined. */
  select(direction: 'inbound' | 'outbound'): LocalTunnel | undefined {
    const list = this.tunnels(direction);
    return list.length === 0 ? undefined : list[randomInt(list.length)];
  }

  /** Builds what is missing, expires what is over, runs the tunnel tests when due. Call every few seconds. */
  tick(now = this.now()): void {
    if (this.stopped) return;
    for (const dir of ['inbound', 'outbound'] as const) this.expire(dir, now);
    if (now - this.lastTestRound >= this.testIntervalMs) {
      this.lastTestRound = now;
      this.testRound(now);
    }
    for (const dir of ['inbound', 'outbound'] as const) this.manage(dir, now);
  }

  private expire(dir: 'inbound' | 'outbound', now: number): void {
    const list = this.members[dir];
    for (let i = list.length - 1; i >= 0; i--) {
      const m = list[i]!;
      if (m.tunnel.ended || m.tunnel.expiresAt <= now) {
        list.splice(i, 1);
        // The creator keeps it on the data plane for the grace (traffic in flight) and ends it then (tick).
        this.event('expired', dir, m.tunnel);
      }
    }
  }

  private manage(dir: 'inbound' | 'outbound', now: number): void {
    const s = dir === 'inbound' ? this.inboundSettings : this.outboundSettings;
    const wanted = s.quantity + s.backupQuantity;
    // A tunnel within replaceBeforeMs of its end already has (or now gets) its replacement.
    let healthy = 0;
    for (const m of this.members[dir]) {
      if (m.tunnel.ended) continue;
      if (m.tunnel.expiresAt - now > this.replaceBeforeMs) healthy++;
      else if (!m.replaced) m.replaced = true;
    }
    let need = wanted - healthy - this.buildingCount[dir];
    for (let i = 0; i < this.buildsPerTick && need > 0; i++, need--) this.buildOne(dir, s);
  }

  private hopCount(s: DirectionSettings): number {
    let n = s.length;
    if (s.lengthVariance > 0) n += randomInt(s.lengthVariance + 1);
    else if (s.lengthVariance < 0) n += randomInt(-Math.abs(s.lengthVariance), Math.abs(s.lengthVariance) + 1);
    return Math.max(0, Math.min(MAX_BUILD_RECORDS, n));
  }

  /** `n` distinct peers at random, never ourselves (netdb-floodfill.md §6.6 keeps only "≠ previous hop"; we keep all distinct). */
  private selectPeers(n: number): PeerCandidate[] | undefined {
    if (n === 0) return [];
    const seen = new Set<string>();
    const list: PeerCandidate[] = [];
    for (const c of this.peers.candidates()) {
      if (sameHash(c.identHash, this.identHash)) continue;
      const k = hexOf(c.identHash);
      if (seen.has(k)) continue;
      seen.add(k);
      list.push(c);
    }
    if (list.length < n) return undefined;
    for (let i = list.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      [list[i], list[j]] = [list[j]!, list[i]!];
    }
    return list.slice(0, n);
  }

  private buildOne(dir: 'inbound' | 'outbound', s: DirectionSettings): void {
    const hops = this.selectPeers(this.hopCount(s));
    if (hops === undefined) {
      this.counters.failed++;
      this.emit('tunnel', {
        pool: this.name,
        event: 'build-failed',
        direction: dir,
        hops: [],
        reason: 'no-peers',
      } satisfies TunnelEvent);
      return;
    }
    this.buildingCount[dir]++;
    const opts =
      dir === 'outbound'
        ? { direction: dir, hops, ...this.pick('inbound', 'replyTunnel') }
        : { direction: dir, hops, ...this.pick('outbound', 'sendTunnel') };
    void this.creator.build(opts).then((r) => this.built(dir, hops, r));
  }

  private pick<K extends string>(dir: 'inbound' | 'outbound', key: K): Partial<Record<K, LocalTunnel>> {
    const t = this.select(dir);
    return t === undefined ? {} : ({ [key]: t } as Partial<Record<K, LocalTunnel>>);
  }

  private built(dir: 'inbound' | 'outbound', hops: PeerCandidate[], r: BuildResult): void {
    this.buildingCount[dir]--;
    if (!r.ok) {
      this.counters.failed++;
      const refused = r.replies.find((x) => x.status !== 'accepted');
      const ev: TunnelEvent = {
        pool: this.name,
        event: 'build-failed',
        direction: dir,
        hops: hops.map((h) => hexOf(h.identHash)),
        reason: r.reason,
      };
      if (refused) ev.hop = refused.hop;
      this.emit('tunnel', ev);
      return;
    }
    if (this.stopped) {
      this.creator.end(r.tunnel);
      return;
    }
    this.counters.built++;
    this.members[dir].push({ tunnel: r.tunnel, failures: 0, replaced: false });
    this.event('built', dir, r.tunnel);
  }

  // ---------------------------------------------------------------- tests (netdb-floodfill.md §7.5)

  private testRound(now: number): void {
    // Tests of the previous round still unanswered have failed.
    for (const [id, t] of this.tests) {
      this.tests.delete(id);
      this.counters.testsFailed++;
      this.testFailed(t.outbound, 'outbound');
      this.testFailed(t.inbound, 'inbound');
    }
    const obs = this.members.outbound.filter((m) => !m.tunnel.ended && m.tunnel.expiresAt > now);
    const ibs = this.members.inbound.filter((m) => !m.tunnel.ended && m.tunnel.expiresAt > now);
    if (obs.length === 0 || ibs.length === 0) return;
    const n = Math.max(obs.length, ibs.length);
    for (let i = 0; i < n; i++) {
      const ob = obs[i % obs.length]!;
      const ib = ibs[i % ibs.length]!;
      const msgId = randomBytes(4).readUInt32BE(0);
      if (this.tests.has(msgId)) continue;
      const ds = encodeI2np(I2NP_DELIVERY_STATUS, msgId, now + I2NP_EXPIRATION_MS, encodeDeliveryStatus(msgId, now));
      this.tests.set(msgId, { outbound: ob, inbound: ib, sentAt: now });
      this.creator.sendThrough(ob.tunnel, ds, {
        delivery: 'TUNNEL',
        toHash: ib.tunnel.gateway,
        tunnelId: ib.tunnel.gatewayTunnelId,
      });
    }
  }

  private testFailed(m: Member, dir: 'inbound' | 'outbound'): void {
    if (m.tunnel.ended) return;
    m.failures++;
    this.event('test-failed', dir, m.tunnel);
    if (m.failures < this.maxTestFailures) return;
    const list = this.members[dir];
    const i = list.indexOf(m);
    if (i >= 0) list.splice(i, 1);
    this.creator.end(m.tunnel);
    this.counters.failed++;
    this.event('failed', dir, m.tunnel);
  }

  /** A DeliveryStatus (10) body that came out of one of our inbound tunnels: true when it answers one of our tests. */
  handleDeliveryStatus(body: Uint8Array): boolean {
    const d = decodeDeliveryStatus(body);
    if (!d.ok) return false;
    const t = this.tests.get(d.value.msgId);
    if (t === undefined) return false;
    this.tests.delete(d.value.msgId);
    const latencyMs = this.now() - t.sentAt;
    this.counters.testsPassed++;
    for (const [m, dir] of [
      [t.outbound, 'outbound'],
      [t.inbound, 'inbound'],
    ] as const) {
      m.failures = 0;
      if (!m.tunnel.ended) this.event('tested', dir, m.tunnel, latencyMs);
    }
    return true;
  }

  private event(event: TunnelEventKind, direction: 'inbound' | 'outbound', t: LocalTunnel, latencyMs?: number): void {
    const ev: TunnelEvent = { pool: this.name, event, direction, id: t.id, hops: t.hops.map(hexOf) };
    if (latencyMs !== undefined) ev.latencyMs = latencyMs;
    this.emit('tunnel', ev);
  }

  /** Stops building and ends every tunnel of the pool. */
  stop(): void {
    this.stopped = true;
    for (const dir of ['inbound', 'outbound'] as const) {
      for (const m of this.members[dir]) this.creator.end(m.tunnel);
      this.members[dir] = [];
    }
    this.tests.clear();
  }

  stats(): PoolStats {
    return {
      inbound: this.tunnels('inbound').length,
      outbound: this.tunnels('outbound').length,
      building: this.buildingCount.inbound + this.buildingCount.outbound,
      ...this.counters,
    };
  }
}
