// Building our own tunnels (tunnel-build-ecies.md §3-§7, netdb-floodfill.md §7.1, §7.6): a ShortTunnelBuild through
// chosen peers, sent the way i2pd sends it (outbound: straight to the first hop, the reply coming back through one of
// our inbound tunnels or, with none yet, our zero-hop inbound tunnel; inbound: through one of our outbound tunnels,
// Noise-N wrapped for the gateway, or straight to it), replies matched by garlic tag / message id, a 30 s timeout, and
// the built tunnel joined on the data plane as OBGW or IBEP with the gateway framing and endpoint reassembly it needs.
import { randomBytes } from 'node:crypto';
import { I2NP_EXPIRATION_MS, I2NP_TUNNEL_GATEWAY } from '../../constants.js';
import { encodeTunnelGateway } from '../../i2np/bodies.js';
import { decodeI2np, encodeI2np } from '../../i2np/header.js';
import { I2NP_GARLIC, I2NP_OUTBOUND_TUNNEL_BUILD_REPLY, I2NP_SHORT_TUNNEL_BUILD } from '../../i2np/message-types.js';
import type { Delivery } from '../../frame/delivery.js';
import { InboundEndpointReassembler } from '../../frame/endpoint.js';
import { GatewayPacker } from '../../frame/gateway.js';
import { TUNNEL_GRACE_MS } from '../../tunnel/types.js';
import { garlicTagOf } from '../garlic/tag-reply.js';
import { sealRouterGarlic } from '../garlic/router-garlic.js';
import {
  createShortTunnelBuild,
  inboundTunnelConfig,
  outboundTunnelConfig,
  processGarlicBuildReply,
  processShortBuildReply,
  wipeBuiltTunnel,
  type BuiltTunnel,
  type HopReplyStatus,
  type PendingTunnelBuild,
} from '../tunnel-build/creator.js';
import { MAX_BUILD_RECORDS } from '../tunnel-build/request-record.js';
import { bump, hexOf, sameHash, type LocalI2np, type ReasonCounts, type TunnelNet, type TunnelPlane } from './types.js';

/** i2pd deletes a pending build after 30 s without a reply (netdb-floodfill.md §7.6). */
export const BUILD_TIMEOUT_MS = 30_000;
/** Tunnels live 10 minutes; i2pd keeps them 60 s more (660 s) for traffic in flight (§7.6). */
export const TUNNEL_EXPIRE_MS = 600_000;
/** Pending builds at once (each holds a few hundred bytes of keys until its reply or timeout). */
export const DEFAULT_MAX_PENDING_BUILDS = 256;

/** A router a tunnel can go through. */
export interface PeerCandidate {
  identHash: Uint8Array;
  /** X25519 public key of its RouterIdentity (crypto type 4). */
  encryptionKey: Uint8Array;
}

/** One of our tunnels, as the pools and the router see it. No keys. */
export interface LocalTunnel {
  readonly direction: 'inbound' | 'outbound';
  /** Local handle: outbound = our gateway id on the data plane; inbound = our receive id as endpoint. */
  readonly id: number;
  /** Hop ident hashes in forwarding order (empty for a zero-hop tunnel). */
  readonly hops: readonly Uint8Array[];
  /** Inbound: the IBGW router (us for zero-hop) and its receive id, what senders deliver to. Outbound: first hop + id. */
  readonly gateway: Uint8Array;
  readonly gatewayTunnelId: number;
  readonly createdAt: number;
  /** End of its 10 minutes; the data plane keeps it 60 s more. */
  readonly expiresAt: number;
  ended: boolean;
}

export type BuildFailure =
  'rejected' | 'bad-reply' | 'timeout' | 'malformed' | 'send-failed' | 'join-failed' | 'too-many-builds' | 'closed';

export type BuildResult =
  { ok: true; tunnel: LocalTunnel } | { ok: false; reason: BuildFailure; error: string; replies: HopReplyStatus[] };

export interface BuildRequestOptions {
  direction: 'inbound' | 'outbound';
  /** Forwarding order (outbound: first hop after us; inbound: the IBGW first). Empty = zero-hop. At most 8. */
  hops: readonly PeerCandidate[];
  /** Outbound: the inbound tunnel the reply comes back through (default our zero-hop inbound tunnel, i2pd's bootstrap). */
  replyTunnel?: LocalTunnel;
  /** Inbound: the outbound tunnel the request goes through (default: straight to the IBGW). */
  sendTunnel?: LocalTunnel;
}

export interface TunnelCreatorOptions {
  identHash: Uint8Array;
  net: TunnelNet;
  plane: TunnelPlane;
  /** Messages that come out of our inbound tunnels (IBEP, zero-hop) and are not build replies. */
  deliverLocal: (msg: LocalI2np, via: LocalTunnel) => void;
  /** Ids the data plane has from elsewhere (transit tunnels): our new ids avoid them. */
  otherIdInUse?: (tunnelId: number, gateway: boolean) => boolean;
  now?: () => number;
  buildTimeoutMs?: number;
  maxPendingBuilds?: number;
  graceMs?: number;
}

interface Pending {
  pending: PendingTunnelBuild;
  direction: 'inbound' | 'outbound';
  hops: Uint8Array[];
  key: string;
  startedAt: number;
  resolve: (r: BuildResult) => void;
}

interface Live {
  tunnel: LocalTunnel;
  packer: GatewayPacker | undefined;
  ibep: InboundEndpointReassembler | undefined;
}

const randomU32 = (): number => randomBytes(4).readUInt32BE(0);
const randomNonzeroU32 = (): number => {
  for (;;) {
    const v = randomU32();
    if (v !== 0) return v;
  }
};

export interface CreatorStats {
  building: number;
  built: number;
  failed: ReasonCounts;
  /** Messages dropped by our tunnels' framing, by reason. */
  dropped: ReasonCounts;
}

export class TunnelCreator {
  private readonly identHash: Uint8Array;
  private readonly net: TunnelNet;
  private readonly plane: TunnelPlane;
  private readonly deliverLocal: (msg: LocalI2np, via: LocalTunnel) => void;
  private readonly now: () => number;
  private readonly otherIdInUse: ((tunnelId: number, gateway: boolean) => boolean) | undefined;
  private readonly buildTimeoutMs: number;
  private readonly maxPending: number;
  private readonly graceMs: number;
  /** Outbound builds by garlic reply tag (hex), inbound builds by reply message id ("m" + id). Insertion = age order. */
  private readonly pendings = new Map<string, Pending>();
  /** Outbound builds by reply message id: an OBEP whose reply gateway is itself sends the reply unwrapped (§4.3 item 2). */
  private readonly outboundByMsgId = new Map<number, string>();
  /** Inbound tunnels by receive id (IBEP on the data plane, or zero-hop); outbound by gateway id. */
  private readonly inbound = new Map<number, Live>();
  private readonly outbound = new Map<number, Live>();
  private zeroHopIn: LocalTunnel | undefined;
  private closed = false;
  private built = 0;
  private readonly failed: ReasonCounts = {};
  private readonly dropped: ReasonCounts = {};

  constructor(opts: TunnelCreatorOptions) {
    this.identHash = opts.identHash.slice();
    this.net = opts.net;
    this.plane = opts.plane;
    this.deliverLocal = opts.deliverLocal;
    this.now = opts.now ?? Date.now;
    this.otherIdInUse = opts.otherIdInUse;
    this.buildTimeoutMs = opts.buildTimeoutMs ?? BUILD_TIMEOUT_MS;
    this.maxPending = opts.maxPendingBuilds ?? DEFAULT_MAX_PENDING_BUILDS;
    this.graceMs = opts.graceMs ?? TUNNEL_GRACE_MS;
  }

  get building(): number {
    return this.pendings.size;
  }

  /**
   * Builds a tunnel. Resolves (never rejects) when every hop accepted and the tunnel is joined, or with the reason it
   * failed: a hop refused (`rejected`, the hop in `replies`), a reply slot that failed authentication (`bad-reply`),
   * no reply within 30 s (`timeout`), ... A zero-hop tunnel resolves at once.
   */
  build(opts: BuildRequestOptions): Promise<BuildResult> {
    return new Promise((resolve) => {
      try {
        this.startBuild(opts, resolve);
      } catch (e) {
        resolve({ ok: false, reason: 'malformed', error: (e as Error).message, replies: [] });
      }
    });
  }

  private startBuild(opts: BuildRequestOptions, resolve: (r: BuildResult) => void): void {
    if (this.closed) return resolve({ ok: false, reason: 'closed', error: 'creator closed', replies: [] });
    const now = this.now();
    if (opts.hops.length === 0) return resolve({ ok: true, tunnel: this.zeroHop(opts.direction, now) });
    if (opts.hops.length > MAX_BUILD_RECORDS) throw new RangeError(`at most ${MAX_BUILD_RECORDS} hops`);
    const seen = new Set<string>();
    for (const h of opts.hops) {
      const k = hexOf(h.identHash);
      if (seen.has(k) || sameHash(h.identHash, this.identHash))
        throw new RangeError('a peer twice in one tunnel, or ourselves as a hop');
      seen.add(k);
    }
    if (this.pendings.size >= this.maxPending)
      return resolve({ ok: false, reason: 'too-many-builds', error: 'too many builds pending', replies: [] });
    const hops = opts.hops.map((h) => ({ identHash: h.identHash, encryptionKey: h.encryptionKey }));
    if (opts.direction === 'outbound') {
      const reply = opts.replyTunnel && !opts.replyTunnel.ended ? opts.replyTunnel : this.zeroHopInbound(now);
      const req = createShortTunnelBuild({
        direction: 'outbound',
        hops,
        replyIdent: reply.gateway,
        replyTunnelId: reply.gatewayTunnelId,
        now,
      });
      const key = hexOf(req.pending.replyGarlic!.tag);
      this.pendings.set(key, {
        pending: req.pending,
        direction: 'outbound',
        hops: hops.map((h) => h.identHash.slice()),
        key,
        startedAt: now,
        resolve,
      });
      this.outboundByMsgId.set(req.pending.replyMsgId, key);
      if (!this.net.send(req.firstHop, req.message)) this.failPending(key, 'send-failed', 'first hop unreachable');
      return;
    }
    const ibgw = hops[0]!;
    const req = createShortTunnelBuild({
      direction: 'inbound',
      hops,
      replyIdent: this.identHash,
      replyTunnelId: this.freeReceiveId(),
      now,
    });
    const key = `m${req.pending.replyMsgId}`;
    if (this.pendings.has(key)) throw new RangeError('reply id in use');
    this.pendings.set(key, {
      pending: req.pending,
      direction: 'inbound',
      hops: hops.map((h) => h.identHash.slice()),
      key,
      startedAt: now,
      resolve,
    });
    const via =
      opts.sendTunnel && !opts.sendTunnel.ended && opts.sendTunnel.hops.length > 0 ? opts.sendTunnel : undefined;
    let sent: boolean;
    if (via === undefined) {
      sent = this.net.send(ibgw.identHash, req.message);
    } else {
      // netdb-floodfill.md §7.1: through an outbound tunnel, ROUTER delivery to the IBGW, Noise-N wrapped for it unless
      // it is that tunnel's first hop.
      const m = req.message;
      let inner = encodeI2np(m.type, m.msgId, m.expiration, m.body);
      if (!sameHash(via.hops[0]!, ibgw.identHash)) {
        const garlic = sealRouterGarlic(
          ibgw.encryptionKey,
          [{ type: m.type, msgId: m.msgId, expiration: m.expiration, body: m.body }],
          { now },
        );
        inner = encodeI2np(I2NP_GARLIC, randomU32(), m.expiration, garlic);
      }
      sent = this.sendThrough(via, inner, { delivery: 'ROUTER', toHash: ibgw.identHash });
    }
    if (!sent) this.failPending(key, 'send-failed', 'could not send the build request');
  }

  /** Receive ids are checked in both id spaces: a zero-hop inbound tunnel's id is a TunnelGateway id too. */
  private freeReceiveId(): number {
    for (;;) {
      const id = randomNonzeroU32();
      if (!this.inbound.has(id) && !this.otherIdInUse?.(id, false) && !this.otherIdInUse?.(id, true)) return id;
    }
  }

  private freeGatewayId(): number {
    for (;;) {
      const id = randomNonzeroU32();
      if (!this.outbound.has(id) && !this.otherIdInUse?.(id, true)) return id;
    }
  }

  /** Whether one of our tunnels holds this id: gateway = OBGW ids and zero-hop inbound ids (TunnelGateway ids). */
  hasTunnel(id: number, gateway: boolean): boolean {
    if (!gateway) return this.inbound.has(id);
    return this.outbound.has(id) || this.inbound.get(id)?.tunnel.hops.length === 0;
  }

  /** Our zero-hop inbound tunnel (gateway = us), made on first use: the reply path of bootstrap outbound builds. */
  zeroHopInbound(now = this.now()): LocalTunnel {
    if (this.zeroHopIn === undefined || this.zeroHopIn.ended || this.zeroHopIn.expiresAt <= now) {
      if (this.zeroHopIn && !this.zeroHopIn.ended) this.end(this.zeroHopIn);
      this.zeroHopIn = this.zeroHop('inbound', now);
    }
    return this.zeroHopIn;
  }

  private zeroHop(direction: 'inbound' | 'outbound', now: number): LocalTunnel {
    const id = direction === 'inbound' ? this.freeReceiveId() : this.freeGatewayId();
    const tunnel: LocalTunnel = {
      direction,
      id,
      hops: [],
      gateway: this.identHash,
      gatewayTunnelId: id,
      createdAt: now,
      expiresAt: now + TUNNEL_EXPIRE_MS,
      ended: false,
    };
    (direction === 'inbound' ? this.inbound : this.outbound).set(id, { tunnel, packer: undefined, ibep: undefined });
    return tunnel;
  }

  // ---------------------------------------------------------------- replies

  /**
   * A Garlic (11) body: true when it carries the key+tag reply of one of our outbound builds (netdb-floodfill.md §4.3).
   * A reply under our tag that fails authentication ends that build as `bad-reply` (only the path saw the tag).
   */
  handleGarlic(body: Uint8Array): boolean {
    const tag = garlicTagOf(body);
    if (tag === undefined) return false;
    const key = hexOf(tag);
    const p = this.take(key);
    if (p === undefined) return false;
    const r = processGarlicBuildReply(p.pending, body);
    if (!r.ok && !p.pending.isFinished) p.pending.discard();
    this.settle(
      p,
      r.ok
        ? { ok: true, value: r.value }
        : { ok: false, reason: r.reason === 'rejected' ? 'rejected' : 'bad-reply', error: r.error, replies: r.replies },
    );
    return true;
  }

  /**
   * An OutboundTunnelBuildReply (26) that came out of one of our inbound tunnels unwrapped (its OBEP was the reply
   * tunnel's gateway, netdb-floodfill.md §4.3 item 2): true when it answers one of our outbound builds.
   */
  handleOutboundReply(msgId: number, body: Uint8Array): boolean {
    const key = this.outboundByMsgId.get(msgId);
    if (key === undefined) return false;
    const p = this.take(key)!;
    this.settleShortReply(p, body);
    return true;
  }

  private take(key: string): Pending | undefined {
    const p = this.pendings.get(key);
    if (p === undefined) return undefined;
    this.pendings.delete(key);
    if (p.direction === 'outbound') this.outboundByMsgId.delete(p.pending.replyMsgId);
    return p;
  }

  /** A ShortTunnelBuild (25) addressed to us: true when its message id is the reply of one of our inbound builds. */
  handleBuildReply(msgId: number, body: Uint8Array): boolean {
    const key = `m${msgId}`;
    const p = this.pendings.get(key);
    if (p === undefined || p.direction !== 'inbound') return false;
    this.take(key);
    this.settleShortReply(p, body);
    return true;
  }

  /** A plain short reply (26 unwrapped, or 25 back through our inbound tunnel): process it and settle the build. */
  private settleShortReply(p: Pending, body: Uint8Array): void {
    const r = processShortBuildReply(p.pending, body);
    this.settle(
      p,
      r.ok
        ? { ok: true, value: r.value }
        : {
            ok: false,
            reason: r.reason === 'creator-record-changed' ? 'bad-reply' : r.reason,
            error: r.error,
            replies: r.replies,
          },
    );
  }

  private settle(
    p: Pending,
    r: { ok: true; value: BuiltTunnel } | { ok: false; reason: BuildFailure; error: string; replies: HopReplyStatus[] },
  ): void {
    if (!r.ok) {
      bump(this.failed, r.reason);
      p.resolve(r);
      return;
    }
    const t = r.value;
    let tunnel: LocalTunnel;
    try {
      tunnel = this.joinBuilt(t, p.hops);
    } catch (e) {
      bump(this.failed, 'join-failed');
      p.resolve({ ok: false, reason: 'join-failed', error: (e as Error).message, replies: t.replies });
      return;
    } finally {
      wipeBuiltTunnel(t); // the data plane cloned them
    }
    this.built++;
    p.resolve({ ok: true, tunnel });
  }

  private joinBuilt(t: BuiltTunnel, hops: Uint8Array[]): LocalTunnel {
    if (t.direction === 'outbound') {
      const id = this.freeGatewayId();
      this.plane.join(outboundTunnelConfig(t, { gatewayTunnelId: id, firstHop: this.net.peerIdOf(hops[0]!) }));
      const tunnel: LocalTunnel = {
        direction: 'outbound',
        id,
        hops,
        gateway: hops[0]!,
        gatewayTunnelId: t.firstHopTunnelId,
        createdAt: t.createdAt,
        expiresAt: t.expiresAt,
        ended: false,
      };
      this.outbound.set(id, { tunnel, packer: undefined, ibep: undefined });
      return tunnel;
    }
    if (this.inbound.has(t.receiveTunnelId)) throw new Error('receive id in use');
    this.plane.join(inboundTunnelConfig(t, { previousHop: this.net.peerIdOf(hops[hops.length - 1]!) }));
    const tunnel: LocalTunnel = {
      direction: 'inbound',
      id: t.receiveTunnelId,
      hops,
      gateway: hops[0]!,
      gatewayTunnelId: t.firstHopTunnelId,
      createdAt: t.createdAt,
      expiresAt: t.expiresAt,
      ended: false,
    };
    this.inbound.set(t.receiveTunnelId, { tunnel, packer: undefined, ibep: undefined });
    return tunnel;
  }

  private failPending(key: string, reason: BuildFailure, error: string): void {
    const p = this.take(key);
    if (p === undefined) return;
    p.pending.discard();
    bump(this.failed, reason);
    p.resolve({ ok: false, reason, error, replies: [] });
  }

  // ---------------------------------------------------------------- traffic

  /**
   * Sends one I2NP message (16-byte header included) through our outbound tunnel with the given delivery at its
   * endpoint (tunnel-message.md §3). Zero-hop: delivered from here. False when dropped (counted).
   */
  sendThrough(tunnel: LocalTunnel, message: Uint8Array, delivery: Delivery): boolean {
    const live = this.outbound.get(tunnel.id);
    if (live === undefined || tunnel.direction !== 'outbound' || tunnel.ended) {
      bump(this.dropped, 'no-such-outbound-tunnel');
      return false;
    }
    if (tunnel.hops.length === 0) return this.deliverFromHere(message, delivery);
    try {
      live.packer ??= new GatewayPacker({
        tunnelId: tunnel.id,
        flushDelayMs: null,
        onBody: (b) => this.pushGateway(b),
      });
      live.packer.send(message, delivery);
      live.packer.flush();
      return true;
    } catch {
      bump(this.dropped, 'obgw-unframeable');
      return false;
    }
  }

  private pushGateway(body: Uint8Array): void {
    if (!this.plane.pushGateway(body)) bump(this.dropped, 'dataplane-queue-full');
  }

  /** A zero-hop outbound tunnel: we are the endpoint, so the delivery happens here. */
  private deliverFromHere(message: Uint8Array, delivery: Delivery): boolean {
    const d = decodeI2np(message);
    if (!d.ok) {
      bump(this.dropped, 'malformed-i2np');
      return false;
    }
    const h = d.value.header;
    const to = delivery.toHash;
    if (
      delivery.delivery === 'LOCAL' ||
      (to !== undefined && sameHash(to, this.identHash) && delivery.delivery === 'ROUTER')
    ) {
      return this.dispatchLocal({
        type: h.type,
        msgId: h.msgId,
        expiration: h.expiration,
        body: d.value.payload.slice(),
      });
    }
    if (delivery.delivery === 'ROUTER')
      return this.net.send(to!, {
        type: h.type,
        msgId: h.msgId,
        expiration: h.expiration,
        body: d.value.payload.slice(),
      });
    if (sameHash(to!, this.identHash) && this.injectGateway(delivery.tunnelId!, message)) return true;
    return this.net.send(to!, {
      type: I2NP_TUNNEL_GATEWAY,
      msgId: randomU32(),
      expiration: this.now() + I2NP_EXPIRATION_MS,
      body: encodeTunnelGateway(delivery.tunnelId!, message),
    });
  }

  private dispatchLocal(msg: LocalI2np): boolean {
    // Our own outbound traffic delivered to ourselves: hand it on as if an inbound tunnel delivered it.
    const zero = this.zeroHopInbound();
    this.deliverInbound(msg, zero);
    return true;
  }

  /** A TunnelGateway message for one of our zero-hop inbound tunnels (we are its gateway and endpoint). */
  injectGateway(tunnelId: number, message: Uint8Array): boolean {
    const live = this.inbound.get(tunnelId);
    if (live === undefined || live.tunnel.hops.length !== 0 || live.tunnel.ended) return false;
    const d = decodeI2np(message);
    if (!d.ok) {
      bump(this.dropped, 'malformed-i2np');
      return true;
    }
    const h = d.value.header;
    this.deliverInbound(
      { type: h.type, msgId: h.msgId, expiration: h.expiration, body: d.value.payload.slice() },
      live.tunnel,
    );
    return true;
  }

  /** A data plane output body with nextHop = LOCAL_HOP: true when `receiveTunnelId` is one of our IBEPs. */
  handleEndpointOutput(receiveTunnelId: number, body: Uint8Array): boolean {
    const live = this.inbound.get(receiveTunnelId);
    if (live === undefined || live.tunnel.hops.length === 0) return false;
    live.ibep ??= new InboundEndpointReassembler({
      clock: this.now,
      onMessage: (m) => {
        const d = decodeI2np(m);
        if (!d.ok) {
          bump(this.dropped, 'malformed-i2np');
          return;
        }
        const h = d.value.header;
        this.deliverInbound(
          { type: h.type, msgId: h.msgId, expiration: h.expiration, body: d.value.payload.slice() },
          live.tunnel,
        );
      },
    });
    live.ibep.receive(body);
    return true;
  }

  private deliverInbound(msg: LocalI2np, via: LocalTunnel): void {
    // Outbound build replies come back this way (netdb-floodfill.md §4.3).
    if (msg.type === I2NP_GARLIC && this.handleGarlic(msg.body)) return;
    if (msg.type === I2NP_SHORT_TUNNEL_BUILD && this.handleBuildReply(msg.msgId, msg.body)) return;
    if (msg.type === I2NP_OUTBOUND_TUNNEL_BUILD_REPLY && this.handleOutboundReply(msg.msgId, msg.body)) return;
    this.deliverLocal(msg, via);
  }

  // ---------------------------------------------------------------- lifetime

  /** Ends a tunnel on the data plane (keys wiped there) and forgets it. */
  end(tunnel: LocalTunnel): void {
    if (tunnel.ended) return;
    tunnel.ended = true;
    const table = tunnel.direction === 'inbound' ? this.inbound : this.outbound;
    const live = table.get(tunnel.id);
    if (live === undefined || live.tunnel !== tunnel) return;
    table.delete(tunnel.id);
    live.ibep?.close();
    if (tunnel.hops.length > 0) {
      try {
        this.plane.end(tunnel.id, { gateway: tunnel.direction === 'outbound' });
      } catch {
        // the plane is closing: its close() wipes the keys
      }
    }
  }

  /** Times out pending builds (30 s) and ends tunnels past their lifetime + grace. Call every few seconds. */
  tick(now = this.now()): void {
    for (const [key, p] of this.pendings) {
      if (now - p.startedAt < this.buildTimeoutMs) continue;
      this.failPending(key, 'timeout', `no reply within ${this.buildTimeoutMs} ms`);
    }
    for (const table of [this.inbound, this.outbound]) {
      for (const live of [...table.values()]) {
        if (live.tunnel.expiresAt + this.graceMs <= now) this.end(live.tunnel);
        else live.ibep?.sweep(now);
      }
    }
  }

  /** Live tunnels (tests, diagnostics). */
  tunnels(direction: 'inbound' | 'outbound'): LocalTunnel[] {
    return [...(direction === 'inbound' ? this.inbound : this.outbound).values()].map((l) => l.tunnel);
  }

  /** Discards every pending build (keys wiped) and ends every tunnel. */
  close(): void {
    this.closed = true;
    for (const key of [...this.pendings.keys()]) this.failPending(key, 'closed', 'creator closed');
    for (const table of [this.inbound, this.outbound]) for (const live of [...table.values()]) this.end(live.tunnel);
  }

  stats(): CreatorStats {
    return {
      building: this.pendings.size,
      built: this.built,
      failed: { ...this.failed },
      dropped: { ...this.dropped },
    };
  }
}
