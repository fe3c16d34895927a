// The tunnel side of a router in one object: transit hops, our creator, the exploratory pool and client pools, with one
// dispatch for the I2NP types they own (DeliveryStatus 10 of our tests, Garlic 11, TunnelGateway 19, builds 23 / 25)
// and one for the data plane's local output (OBEP / IBEP bodies). The router wires it in a few lines (docs/tunnels.md).
import { EventEmitter } from 'node:events';
import { I2NP_DELIVERY_STATUS, I2NP_TUNNEL_GATEWAY } from '../../constants.js';
import { I2NP_GARLIC, I2NP_SHORT_TUNNEL_BUILD, I2NP_VARIABLE_TUNNEL_BUILD } from '../../i2np/message-types.js';
import { TunnelCreator, type LocalTunnel } from './creator.js';
import {
  CLIENT_DEFAULTS,
  TunnelPool,
  type DirectionSettings,
  type PeerSource,
  type TunnelEvent,
  type TunnelPoolOptions,
} from './pool.js';
import { TransitTunnels, type TransitLimits, type TransitStats } from './transit.js';
import type { LocalI2np, TunnelNet, TunnelPlane } from './types.js';

export interface TunnelServiceOptions {
  identHash: Uint8Array;
  /** X25519 private key of our RouterIdentity (crypto type 4). */
  staticPrivateKey: Uint8Array;
  net: TunnelNet;
  plane: TunnelPlane;
  peers: PeerSource;
  /**
   * Messages that end at this router and are not the tunnel side's (DatabaseStore, lookups, client data ...); `via` is
   * the inbound tunnel of ours they came out of, absent for a garlic clove or an OBEP's local delivery.
   */
  deliverLocal: (msg: LocalI2np, via?: LocalTunnel) => void;
  now?: () => number;
  transitLimits?: Partial<TransitLimits>;
  /** Exploratory pool settings (defaults i2pd's 2 hops, 3 tunnels each way); false: no exploratory pool. */
  exploratory?: { inbound?: Partial<DirectionSettings>; outbound?: Partial<DirectionSettings> } | false;
  /** Extra pool options (test interval, ...), applied to every pool. */
  poolOptions?: Partial<
    Pick<TunnelPoolOptions, 'testIntervalMs' | 'maxTestFailures' | 'replaceBeforeMs' | 'buildsPerTick'>
  >;
  buildTimeoutMs?: number;
  /** start() ticks this often (default 1 s). */
  tickMs?: number;
}

export interface TunnelsStats {
  inbound: number;
  outbound: number;
  building: number;
  failed: number;
}

export interface TunnelServiceStats {
  transit: TransitStats;
  tunnels: TunnelsStats;
}

/** Events: 'tunnel' (TunnelEvent) from every pool. */
export class TunnelService extends EventEmitter {
  readonly transit: TransitTunnels;
  readonly creator: TunnelCreator;
  readonly exploratory: TunnelPool | undefined;
  private readonly pools = new Map<string, TunnelPool>();
  private readonly opts: TunnelServiceOptions;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(opts: TunnelServiceOptions) {
    super();
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.creator = new TunnelCreator({
      identHash: opts.identHash,
      net: opts.net,
      plane: opts.plane,
      now: this.now,
      deliverLocal: (m, via) => this.fromTunnel(m, via),
      otherIdInUse: (id, gateway) => this.transit.hasTunnel(id, gateway),
      ...(opts.buildTimeoutMs !== undefined ? { buildTimeoutMs: opts.buildTimeoutMs } : {}),
    });
    this.transit = new TransitTunnels({
      identHash: opts.identHash,
      staticPrivateKey: opts.staticPrivateKey,
      net: opts.net,
      plane: opts.plane,
      now: this.now,
      deliverLocal: (m) => this.local(m),
      injectOtherGateway: (id, m) => this.creator.injectGateway(id, m),
      otherIdInUse: (id, gateway) => this.creator.hasTunnel(id, gateway),
      ...(opts.transitLimits ? { limits: opts.transitLimits } : {}),
    });
    if (opts.exploratory !== false) {
      const e = opts.exploratory ?? {};
      this.exploratory = this.createPool('exploratory', {
        ...(e.inbound ? { inbound: e.inbound } : {}),
        ...(e.outbound ? { outbound: e.outbound } : {}),
      });
    }
  }

  /** A pool (client destinations: CLIENT_DEFAULTS are i2pd's 3 hops x 5 tunnels). */
  createPool(
    name: string,
    settings: { inbound?: Partial<DirectionSettings>; outbound?: Partial<DirectionSettings> } = {},
  ): TunnelPool {
    if (this.pools.has(name)) throw new Error(`pool ${name} exists`);
    const pool = new TunnelPool({
      name,
      creator: this.creator,
      peers: this.opts.peers,
      identHash: this.opts.identHash,
      now: this.now,
      ...this.opts.poolOptions,
      ...(settings.inbound ? { inbound: settings.inbound } : {}),
      ...(settings.outbound ? { outbound: settings.outbound } : {}),
    });
    pool.on('tunnel', (ev: TunnelEvent) => this.emit('tunnel', ev));
    this.pools.set(name, pool);
    return pool;
  }

  /** A client pool with i2pd's client defaults unless overridden. */
  createClientPool(
    name: string,
    settings: { inbound?: Partial<DirectionSettings>; outbound?: Partial<DirectionSettings> } = {},
  ): TunnelPool {
    return this.createPool(name, {
      inbound: { ...CLIENT_DEFAULTS, ...settings.inbound },
      outbound: { ...CLIENT_DEFAULTS, ...settings.outbound },
    });
  }

  removePool(name: string): void {
    const p = this.pools.get(name);
    if (!p) return;
    p.stop();
    p.removeAllListeners('tunnel');
    this.pools.delete(name);
  }

  pool(name: string): TunnelPool | undefined {
    return this.pools.get(name);
  }

  /**
   * An I2NP message received from router `from` (absent: delivered locally). True when the tunnel side took it:
   * DeliveryStatus answering a pool test, Garlic (our build replies, Noise-N garlic to us), TunnelGateway for our
   * gateways, VariableTunnelBuild / ShortTunnelBuild (our inbound build replies, transit requests). Never throws.
   */
  handleI2np(type: number, msgId: number, body: Uint8Array, from?: Uint8Array): boolean {
    switch (type) {
      case I2NP_SHORT_TUNNEL_BUILD:
        if (this.creator.handleBuildReply(msgId, body)) return true;
        this.transit.handleBuild(type, body, from);
        return true;
      case I2NP_VARIABLE_TUNNEL_BUILD:
        this.transit.handleBuild(type, body, from);
        return true;
      case I2NP_GARLIC:
        if (this.creator.handleGarlic(body)) return true;
        return this.transit.handleGarlic(body, from);
      case I2NP_TUNNEL_GATEWAY:
        return this.transit.handleTunnelGateway(body);
      case I2NP_DELIVERY_STATUS:
        for (const p of this.pools.values()) if (p.handleDeliveryStatus(body)) return true;
        return false;
      default:
        return false;
    }
  }

  /** Data plane output with nextHop = LOCAL_HOP (OutputBatch.nextTunnelIds[i] = the receive id). False: not ours. */
  handleEndpointOutput(receiveTunnelId: number, body: Uint8Array): boolean {
    return (
      this.transit.handleEndpointOutput(receiveTunnelId, body) ||
      this.creator.handleEndpointOutput(receiveTunnelId, body)
    );
  }

  /** The data plane's 'error' event with a TunnelJoinError: forget that transit tunnel. */
  onJoinError(err: { tunnelId: number; gateway: boolean }): void {
    this.transit.onJoinError(err.tunnelId, err.gateway);
  }

  private local(m: LocalI2np, via?: LocalTunnel): void {
    if (!this.handleI2np(m.type, m.msgId, m.body)) this.opts.deliverLocal(m, via);
  }

  private fromTunnel(m: LocalI2np, via: LocalTunnel): void {
    this.local(m, via);
  }

  tick(now = this.now()): void {
    this.transit.tick(now);
    this.creator.tick(now);
    for (const p of this.pools.values()) p.tick(now);
  }

  /** Ticks every `tickMs` (unref'd). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.opts.tickMs ?? 1000);
    this.timer.unref();
  }

  /** Stops ticking, stops the pools, ends every tunnel (keys wiped on the data plane). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const p of this.pools.values()) p.stop();
    this.creator.close();
    this.transit.close();
  }

  stats(): TunnelServiceStats {
    let inbound = 0,
      outbound = 0,
      failed = 0;
    for (const p of this.pools.values()) {
      const s = p.stats();
      inbound += s.inbound;
      outbound += s.outbound;
      failed += s.failed;
    }
    return { transit: this.transit.stats(), tunnels: { inbound, outbound, building: this.creator.building, failed } };
  }
}
