// Transit tunnels: this router as a hop of other routers' tunnels (tunnel-build-ecies.md §5-§8, netdb-floodfill.md
// §4.1, §4.3, §7.2-§7.4). Takes VariableTunnelBuild (23) / ShortTunnelBuild (25) and Noise-N garlic to our router whose
// clove carries one, applies the accept policy, answers through TunnelBuildHop, joins accepted tunnels on the data
// plane with the previous hop = the session the request came from, forwards the build or the OBEP's reply, frames the
// IBGW's input and reassembles the OBEP's output, and ends every tunnel after its lifetime. Every table has a cap.
import { randomBytes } from 'node:crypto';
import { I2NP_EXPIRATION_MS, I2NP_TUNNEL_GATEWAY } from '../../constants.js';
import { decodeTunnelGateway, encodeTunnelGateway } from '../../i2np/bodies.js';
import { decodeI2np, encodeI2np } from '../../i2np/header.js';
import { I2NP_SHORT_TUNNEL_BUILD, I2NP_VARIABLE_TUNNEL_BUILD } from '../../i2np/message-types.js';
import { OutboundEndpointReassembler } from '../../frame/endpoint.js';
import { GatewayPacker } from '../../frame/gateway.js';
import { TUNNEL_GRACE_MS } from '../../tunnel/types.js';
import { openRouterGarlic } from '../garlic/router-garlic.js';
import { EphemeralKeyFilter } from '../tunnel-build/ephemeral-key-filter.js';
import {
  TunnelBuildHop,
  transitTunnelConfig,
  wipeTransitTunnelKeys,
  type HopForward,
  type TransitTunnelKeys,
} from '../tunnel-build/hop.js';
import { REPLY_ACCEPT, REPLY_REJECT_BANDWIDTH } from '../tunnel-build/reply-record.js';
import type { HopRole } from '../tunnel-build/request-record.js';
import { bump, hexOf, sameHash, type LocalI2np, type ReasonCounts, type TunnelNet, type TunnelPlane } from './types.js';

/** Why an accepted-looking request was answered with a refusal (reply code 30, tunnel-build-ecies.md §7.1). */
export type TransitRejectReason =
  'limit-total' | 'limit-previous-hop' | 'duplicate-id' | 'next-hop-self' | 'unreachable-next-hop' | 'closed';

export interface TransitLimits {
  /** Transit tunnels at once, all roles (default 5000). */
  maxTunnels: number;
  /** Transit tunnels whose request came from one router (default 625: an eighth of the default total). */
  maxPerPreviousHop: number;
  /** Build requests per router: bucket size (default 200) ... */
  requestBurst: number;
  /** ... refilled at this many per second (default 10). Over it a request is dropped before any X25519 work. */
  requestsPerSecond: number;
  /** Routers whose request rate is tracked (default 4096; the least recently seen is forgotten first). */
  maxTrackedPeers: number;
  /** Accepted skew of a router garlic's DateTime block, ms (default 5 minutes; i2pd checks none, §4.1 item 4). */
  garlicSkewMs: number;
}

export const DEFAULT_TRANSIT_LIMITS: TransitLimits = {
  maxTunnels: 5000,
  maxPerPreviousHop: 625,
  requestBurst: 200,
  requestsPerSecond: 10,
  maxTrackedPeers: 4096,
  garlicSkewMs: 5 * 60_000,
};

export interface TransitTunnelsOptions {
  identHash: Uint8Array;
  /** Our X25519 static private key (RouterIdentity crypto type 4); copied. */
  staticPrivateKey: Uint8Array;
  net: TunnelNet;
  plane: TunnelPlane;
  /** Messages that end here: OBEP LOCAL delivery, ROUTER delivery to us, garlic cloves that are not builds. */
  deliverLocal: (msg: LocalI2np) => void;
  /**
   * A TunnelGateway message for a tunnel id that is not one of our transit IBGWs (e.g. the creator's zero-hop inbound
   * tunnel, or an OBEP reply whose gateway is us). True when taken.
   */
  injectOtherGateway?: (tunnelId: number, message: Uint8Array) => boolean;
  /** Ids the data plane already has from elsewhere (our own tunnels): a request for one is refused as duplicate-id. */
  otherIdInUse?: (tunnelId: number, gateway: boolean) => boolean;
  now?: () => number;
  limits?: Partial<TransitLimits>;
  /** Grace after a tunnel's 10 minutes before it is ended (default the data plane's, 60 s: i2pd's 660 s in all). */
  graceMs?: number;
  /** Test hook: a TunnelBuildHop to use (its clock, replay filter). */
  hop?: TunnelBuildHop;
}

/**
 * One transit tunnel. Small on purpose (thousands are held): the next hop's ident and the previous hop's count are
 * shared records, an IBGW's packer lives in a small cache and an OBEP's reassembler only while it holds a partial
 * message (docs/tunnels.md, "Memory").
 */
interface TransitEntry {
  role: HopRole;
  receiveTunnelId: number;
  nextTunnelId: number;
  next: IdentRef;
  /** The router the request came from (per-previous-hop cap), if any. */
  from: PreviousHopCount | undefined;
  endAt: number;
  /** Only while partial messages are held (see handleEndpointOutput). */
  obep: OutboundEndpointReassembler | undefined;
}

/** A next hop's ident, shared by the transit tunnels that forward to it. */
interface IdentRef {
  key: string;
  ident: Uint8Array;
  refs: number;
}

/** Transit tunnels whose request came from one router. */
interface PreviousHopCount {
  key: string;
  n: number;
}

/**
 * IBGW packers kept for the most recently used gateways. A transit IBGW's packer flushes every message at once, so it
 * holds no state between messages and can be made again; the cache only spares the hot gateways the construction.
 */
const PACKER_CACHE = 256;

interface Bucket {
  tokens: number;
  last: number;
}

export interface TransitStats {
  /** Live transit tunnels by role. */
  participant: number;
  obep: number;
  ibgw: number;
  /** Requests answered with accept since start. */
  accepted: number;
  /** Requests answered with code 30, by reason. */
  rejected: ReasonCounts;
  /** Requests and messages dropped without an answer, by reason (malformed, no-record, decrypt-failed, replay, rate, ...). */
  dropped: ReasonCounts;
  /** Tunnels ended after their lifetime; joins the data plane refused. */
  expired: number;
  joinFailed: number;
  /** Messages through the roles this component frames: TunnelGateway taken by an IBGW, OBEP deliveries. */
  ibgwMessages: number;
  obepDelivered: number;
}

const randomU32 = (): number => randomBytes(4).readUInt32BE(0);

export class TransitTunnels {
  readonly hop: TunnelBuildHop;
  private readonly identHash: Uint8Array;
  private readonly net: TunnelNet;
  private readonly plane: TunnelPlane;
  private readonly deliverLocal: (msg: LocalI2np) => void;
  private readonly injectOther: ((tunnelId: number, message: Uint8Array) => boolean) | undefined;
  private readonly otherIdInUse: ((tunnelId: number, gateway: boolean) => boolean) | undefined;
  private readonly now: () => number;
  readonly limits: TransitLimits;
  private readonly graceMs: number;
  private readonly garlicFilter = new EphemeralKeyFilter();
  /** Participants and OBEPs by receive id; IBGWs by receive id (the data plane's gateway id space). Insertion = end order. */
  private readonly received = new Map<number, TransitEntry>();
  private readonly gateways = new Map<number, TransitEntry>();
  private readonly perPrevious = new Map<string, PreviousHopCount>();
  private readonly idents = new Map<string, IdentRef>();
  private readonly packers = new Map<number, GatewayPacker>();
  /** The reassembler OBEPs without partial messages share (it holds no tunnel state then), and whether it is in use. */
  private spareObep: OutboundEndpointReassembler | undefined = undefined;
  private spareBusy = false;
  /** One set of callbacks for every packer and reassembler: no closure per tunnel. */
  private readonly onGatewayBody = (b: Uint8Array): void => this.pushGateway(b);
  private readonly obepHandlers = {
    local: (m: Uint8Array) => this.obepLocal(m),
    router: (to: Uint8Array, m: Uint8Array) => this.obepRouter(to, m),
    tunnel: (to: Uint8Array, _tg: Uint8Array, tunnelId: number, m: Uint8Array) => this.obepTunnel(to, tunnelId, m),
  };
  private readonly buckets = new Map<string, Bucket>();
  private closed = false;
  private readonly counts = { participant: 0, obep: 0, ibgw: 0 };
  private readonly rejected: ReasonCounts = {};
  private readonly dropped: ReasonCounts = {};
  private accepted = 0;
  private expired = 0;
  private joinFailed = 0;
  private ibgwMessages = 0;
  private obepDelivered = 0;

  constructor(opts: TransitTunnelsOptions) {
    this.identHash = opts.identHash.slice();
    this.net = opts.net;
    this.plane = opts.plane;
    this.deliverLocal = opts.deliverLocal;
    this.injectOther = opts.injectOtherGateway;
    this.otherIdInUse = opts.otherIdInUse;
    this.now = opts.now ?? Date.now;
    this.limits = { ...DEFAULT_TRANSIT_LIMITS, ...opts.limits };
    this.graceMs = opts.graceMs ?? TUNNEL_GRACE_MS;
    this.hop =
      opts.hop ??
      new TunnelBuildHop({ staticPrivateKey: opts.staticPrivateKey, identHash: opts.identHash, now: this.now });
  }

  get size(): number {
    return this.received.size + this.gateways.size;
  }

  // ---------------------------------------------------------------- build requests

  /**
   * A VariableTunnelBuild (23) or ShortTunnelBuild (25) body received from router `from` (absent: delivered locally,
   * e.g. by one of our OBEPs). Never throws; every outcome is counted. Returns what happened.
   */
  handleBuild(type: number, body: Uint8Array, from?: Uint8Array): 'accepted' | 'rejected' | 'dropped' {
    try {
      return this.handleBuildInner(type, body, from);
    } catch {
      bump(this.dropped, 'internal-error');
      return 'dropped';
    }
  }

  private handleBuildInner(type: number, body: Uint8Array, from?: Uint8Array): 'accepted' | 'rejected' | 'dropped' {
    if (type !== I2NP_SHORT_TUNNEL_BUILD && type !== I2NP_VARIABLE_TUNNEL_BUILD) {
      bump(this.dropped, 'malformed');
      return 'dropped';
    }
    const fromKey = from instanceof Uint8Array && from.length === 32 ? hexOf(from) : undefined;
    const now = this.now();
    // The rate check comes before the X25519 operation a flood would otherwise make us pay for every request.
    if (fromKey !== undefined && !this.takeToken(fromKey, now)) {
      bump(this.dropped, 'rate');
      return 'dropped';
    }
    const opened = this.hop.open(type, body);
    if (!opened.ok) {
      bump(this.dropped, opened.reason);
      return 'dropped';
    }
    const req = opened.value.request;
    const reason = this.decide(req.role, req.receiveTunnelId, req.nextIdent, fromKey);
    const answer = this.hop.answer(opened.value, reason === undefined ? REPLY_ACCEPT : REPLY_REJECT_BANDWIDTH);
    let outcome: 'accepted' | 'rejected' = 'rejected';
    if (reason !== undefined) bump(this.rejected, reason);
    if (answer.tunnel) outcome = this.admit(answer.tunnel, from, fromKey, now) ? 'accepted' : 'rejected';
    this.forward(answer.forward);
    return outcome;
  }

  /** The accept policy: undefined = accept, else why not (all reported as code 30, §7.1). */
  private decide(
    role: HopRole,
    receiveTunnelId: number,
    nextIdent: Uint8Array,
    fromKey: string | undefined,
  ): TransitRejectReason | undefined {
    if (this.closed) return 'closed';
    if (this.size >= this.limits.maxTunnels) return 'limit-total';
    if (fromKey !== undefined && (this.perPrevious.get(fromKey)?.n ?? 0) >= this.limits.maxPerPreviousHop)
      return 'limit-previous-hop';
    const gateway = role === 'ibgw';
    if ((gateway ? this.gateways : this.received).has(receiveTunnelId) || this.otherIdInUse?.(receiveTunnelId, gateway))
      return 'duplicate-id';
    const self = sameHash(nextIdent, this.identHash);
    // Our data path cannot send TunnelData to ourselves; an OBEP whose reply gateway is us is fine (§4.3 item 2).
    if (self && role !== 'obep') return 'next-hop-self';
    if (!self && this.net.isReachable && !this.net.isReachable(nextIdent)) return 'unreachable-next-hop';
    return undefined;
  }

  private admit(t: TransitTunnelKeys, from: Uint8Array | undefined, fromKey: string | undefined, now: number): boolean {
    try {
      const nextHop = t.role === 'obep' ? 0 : this.net.peerIdOf(t.nextIdent);
      const previousHop =
        t.role !== 'ibgw' && from !== undefined && fromKey !== undefined ? this.net.peerIdOf(from) : undefined;
      this.plane.join(transitTunnelConfig(t, previousHop === undefined ? { nextHop } : { nextHop, previousHop }));
    } catch {
      this.joinFailed++;
      return false;
    } finally {
      // The data plane cloned the keys; ours go now (tunnel-build-ecies.md §8: only the plane keeps them).
      wipeTransitTunnelKeys(t);
    }
    const nextKey = hexOf(t.nextIdent);
    let next = this.idents.get(nextKey);
    if (next === undefined) this.idents.set(nextKey, (next = { key: nextKey, ident: t.nextIdent, refs: 0 }));
    next.refs++;
    let prev: PreviousHopCount | undefined;
    if (fromKey !== undefined) {
      prev = this.perPrevious.get(fromKey);
      if (prev === undefined) this.perPrevious.set(fromKey, (prev = { key: fromKey, n: 0 }));
      prev.n++;
    }
    const e: TransitEntry = {
      role: t.role,
      receiveTunnelId: t.receiveTunnelId,
      nextTunnelId: t.nextTunnelId,
      next,
      from: prev,
      endAt: Math.max(t.expiresAt, now) + this.graceMs,
      obep: undefined,
    };
    (t.role === 'ibgw' ? this.gateways : this.received).set(t.receiveTunnelId, e);
    this.counts[t.role]++;
    this.accepted++;
    return true;
  }

  private forward(f: HopForward): void {
    if (f.kind === 'reply-local') {
      const m = f.message;
      const msg = encodeI2np(m.type, m.msgId, m.expiration, m.body);
      if (!this.injectGateway(f.tunnelId, msg)) bump(this.dropped, 'reply-no-local-gateway');
      return;
    }
    if (!this.net.send(f.to, f.message)) bump(this.dropped, 'forward-failed');
  }

  /** Token bucket per requesting router; the table forgets the least recently seen router when full. */
  private takeToken(key: string, now: number): boolean {
    let b = this.buckets.get(key);
    if (b === undefined) {
      if (this.buckets.size >= this.limits.maxTrackedPeers) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: this.limits.requestBurst, last: now };
    } else {
      this.buckets.delete(key); // re-inserted below: Map order = least recently seen first
      b.tokens = Math.min(
        this.limits.requestBurst,
        b.tokens + (Math.max(0, now - b.last) * this.limits.requestsPerSecond) / 1000,
      );
      b.last = now;
    }
    this.buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  // ---------------------------------------------------------------- garlic to our router

  /**
   * A Garlic (11) body that may be Noise-N garlic to our router (netdb-floodfill.md §4.1). Build cloves go to
   * handleBuild with the same sender; other LOCAL cloves to deliverLocal. False when it does not decrypt to us (then
   * it is not ours: the caller may offer it elsewhere) or is refused (stale, replayed); counted either way.
   */
  handleGarlic(body: Uint8Array, from?: Uint8Array): boolean {
    try {
      const now = this.now();
      const g = openRouterGarlic(this.hop.noise, body);
      if (!g.ok) {
        bump(this.dropped, 'garlic-undecryptable');
        return false;
      }
      const p = g.value.payload;
      if (p.dateTime !== undefined && Math.abs(p.dateTime * 1000 - now) > this.limits.garlicSkewMs) {
        bump(this.dropped, 'garlic-stale');
        return false;
      }
      if (this.garlicFilter.checkAndAdd(g.value.ephemeralKey, now)) {
        bump(this.dropped, 'garlic-replay');
        return false;
      }
      for (const c of p.cloves) {
        if (c.delivery !== 'local') {
          bump(this.dropped, 'garlic-clove-not-local');
          continue;
        }
        if (c.type === I2NP_SHORT_TUNNEL_BUILD || c.type === I2NP_VARIABLE_TUNNEL_BUILD)
          this.handleBuild(c.type, c.body, from);
        else this.deliverLocal({ type: c.type, msgId: c.msgId, expiration: c.expiration, body: c.body.slice() });
      }
      return true;
    } catch {
      bump(this.dropped, 'internal-error');
      return false;
    }
  }

  // ---------------------------------------------------------------- IBGW input

  /** A TunnelGateway (19) body; true when its tunnel is one of ours (transit IBGW or `injectOtherGateway`). */
  handleTunnelGateway(body: Uint8Array): boolean {
    const d = decodeTunnelGateway(body);
    if (!d.ok) {
      bump(this.dropped, 'malformed-tunnel-gateway');
      return false;
    }
    return this.injectGateway(d.value.tunnelId, d.value.message);
  }

  /**
   * Frames one I2NP message (16-byte header included) into our IBGW tunnel `tunnelId` as LOCAL fragments
   * (netdb-floodfill.md §7.3); the data plane adds the IBGW layer. Falls back to `injectOtherGateway`.
   */
  injectGateway(tunnelId: number, message: Uint8Array): boolean {
    const e = this.gateways.get(tunnelId);
    if (e === undefined) {
      if (this.injectOther?.(tunnelId, message)) return true;
      bump(this.dropped, 'unknown-gateway-tunnel');
      return false;
    }
    try {
      let packer = this.packers.get(tunnelId);
      if (packer === undefined) {
        packer = new GatewayPacker({ tunnelId: e.receiveTunnelId, flushDelayMs: null, onBody: this.onGatewayBody });
        if (this.packers.size >= PACKER_CACHE) this.packers.delete(this.packers.keys().next().value!);
        this.packers.set(tunnelId, packer);
      }
      packer.send(message);
      packer.flush();
      this.ibgwMessages++;
      return true;
    } catch {
      bump(this.dropped, 'ibgw-unframeable');
      return false;
    }
  }

  private pushGateway(body: Uint8Array): void {
    if (!this.plane.pushGateway(body)) bump(this.dropped, 'dataplane-queue-full');
  }

  // ---------------------------------------------------------------- OBEP output

  /**
   * A data plane output body with nextHop = LOCAL_HOP: `receiveTunnelId` = OutputBatch.nextTunnelIds[i]. True when it
   * is one of our OBEPs (reassembled and handed on by delivery type, netdb-floodfill.md §7.3).
   */
  handleEndpointOutput(receiveTunnelId: number, body: Uint8Array): boolean {
    const e = this.received.get(receiveTunnelId);
    if (e === undefined || e.role !== 'obep') return false;
    const own = e.obep;
    if (own !== undefined) {
      own.receive(body);
      if (own.pending === 0) e.obep = undefined; // its partial messages completed: no state left
      return true;
    }
    // Most OBEP output is whole messages in one body (tunnel tests, build replies): the shared reassembler takes
    // them, and becomes this tunnel's own only when it is left holding a partial message. A nested call (a
    // handler feeding another OBEP) gets a fresh one, so partial messages of two tunnels never meet.
    const shared = !this.spareBusy;
    const r = shared ? (this.spareObep ??= this.newObep()) : this.newObep();
    if (shared) this.spareBusy = true;
    try {
      r.receive(body);
    } finally {
      if (shared) this.spareBusy = false;
    }
    if (r.pending > 0) {
      e.obep = r;
      if (shared) this.spareObep = undefined;
    }
    return true;
  }

  private newObep(): OutboundEndpointReassembler {
    return new OutboundEndpointReassembler({ clock: this.now, handlers: this.obepHandlers });
  }

  /** An OBEP's reassembled I2NP message as header fields and its own copy of the body; undefined: counted dropped. */
  private obepMessage(m: Uint8Array): LocalI2np | undefined {
    const d = decodeI2np(m);
    if (!d.ok) {
      bump(this.dropped, 'obep-malformed-i2np');
      return undefined;
    }
    this.obepDelivered++;
    const h = d.value.header;
    return { type: h.type, msgId: h.msgId, expiration: h.expiration, body: d.value.payload.slice() };
  }

  private obepLocal(m: Uint8Array): void {
    const msg = this.obepMessage(m);
    if (msg) this.deliverLocal(msg);
  }

  private obepRouter(to: Uint8Array, m: Uint8Array): void {
    if (sameHash(to, this.identHash)) return this.obepLocal(m);
    const msg = this.obepMessage(m);
    if (msg && !this.net.send(to, msg)) bump(this.dropped, 'forward-failed');
  }

  private obepTunnel(to: Uint8Array, tunnelId: number, m: Uint8Array): void {
    this.obepDelivered++;
    if (sameHash(to, this.identHash)) {
      this.injectGateway(tunnelId, m.slice());
      return;
    }
    const msg = {
      type: I2NP_TUNNEL_GATEWAY,
      msgId: randomU32(),
      expiration: this.now() + I2NP_EXPIRATION_MS,
      body: encodeTunnelGateway(tunnelId, m),
    };
    if (!this.net.send(to, msg)) bump(this.dropped, 'forward-failed');
  }

  // ---------------------------------------------------------------- lifetime

  /** Ends every tunnel whose lifetime (+ grace) is over; call every few seconds. */
  tick(now = this.now()): void {
    for (const table of [this.received, this.gateways]) {
      for (const e of table.values()) {
        if (e.endAt > now) break;
        this.endEntry(e, true);
      }
    }
    // Partial OBEP messages of idle tunnels expire too (their receive() would do it only with traffic).
    for (const e of this.received.values()) {
      if (e.obep === undefined) continue;
      e.obep.sweep(now);
      if (e.obep.pending === 0) e.obep = undefined;
    }
  }

  /** The data plane refused a join after the fact (TunnelJoinError): forget the tunnel. */
  onJoinError(tunnelId: number, gateway: boolean): void {
    const e = (gateway ? this.gateways : this.received).get(tunnelId);
    if (e === undefined) return;
    this.joinFailed++;
    this.endEntry(e, false);
  }

  private endEntry(e: TransitEntry, expired: boolean): void {
    const gateway = e.role === 'ibgw';
    (gateway ? this.gateways : this.received).delete(e.receiveTunnelId);
    try {
      this.plane.end(e.receiveTunnelId, { gateway });
    } catch {
      // the plane is closing: its close() wipes the keys
    }
    e.obep?.close();
    e.obep = undefined;
    if (gateway) this.packers.delete(e.receiveTunnelId);
    this.counts[e.role]--;
    if (--e.next.refs <= 0) this.idents.delete(e.next.key);
    if (e.from !== undefined && --e.from.n <= 0) this.perPrevious.delete(e.from.key);
    if (expired) this.expired++;
  }

  /** Refuses new requests and ends every transit tunnel. */
  close(): void {
    this.closed = true;
    for (const e of [...this.received.values(), ...this.gateways.values()]) this.endEntry(e, false);
    this.buckets.clear();
    this.hop.destroy();
  }

  /** Whether a transit tunnel has this receive id (IBGWs: `gateway`, the data plane's other id space). */
  hasTunnel(receiveTunnelId: number, gateway: boolean): boolean {
    return (gateway ? this.gateways : this.received).has(receiveTunnelId);
  }

  /** Transit tunnel metadata for a receive id (tests, diagnostics); no keys. */
  lookup(
    receiveTunnelId: number,
    gateway = false,
  ): { role: HopRole; nextTunnelId: number; nextIdent: Uint8Array; endAt: number } | undefined {
    const e = (gateway ? this.gateways : this.received).get(receiveTunnelId);
    return e && { role: e.role, nextTunnelId: e.nextTunnelId, nextIdent: e.next.ident.slice(), endAt: e.endAt };
  }

  stats(): TransitStats {
    return {
      ...this.counts,
      accepted: this.accepted,
      rejected: { ...this.rejected },
      dropped: { ...this.dropped },
      expired: this.expired,
      joinFailed: this.joinFailed,
      ibgwMessages: this.ibgwMessages,
      obepDelivered: this.obepDelivered,
    };
  }

  /** Sizes of the internal tables (for the memory-bound tests). */
  tableSizes(): {
    tunnels: number;
    perPrevious: number;
    buckets: number;
    nextIdents: number;
    packers: number;
    reassemblers: number;
  } {
    let reassemblers = 0;
    for (const e of this.received.values()) if (e.obep !== undefined) reassemblers++;
    return {
      tunnels: this.size,
      perPrevious: this.perPrevious.size,
      buckets: this.buckets.size,
      nextIdents: this.idents.size,
      packers: this.packers.size,
      reassemblers,
    };
  }
}
