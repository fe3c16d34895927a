// Endpoint roles on top of the Reassembler: the outbound endpoint (OBEP) hands each message on by its delivery
// type, the inbound endpoint (IBEP, our own inbound tunnel) accepts only LOCAL (tunnel-message.md §6.1: i2pd drops
// TUNNEL / ROUTER there as possible leakage). Bodies arrive with all layers removed. Never throws per message:
// every drop is counted by reason in `drops`.
import { I2NP_EXPIRATION_MS, I2NP_TUNNEL_GATEWAY } from '../constants.js';
import { encodeI2np } from '../i2np/header.js';
import { encodeTunnelGateway } from '../i2np/bodies.js';
import type { DeliveredMessage } from './delivery.js';
import { type RandomSource, randomU32, systemRandom } from './random.js';
import {
  type PushResult, Reassembler, type ReassemblerOptions, type ReassemblyDropReason, type ReassemblyPool,
} from './reassembler.js';

export type EndpointDropReason = ReassemblyDropReason | 'not-local';

export interface EndpointLimits {
  expiryMs?: number;
  maxMessagesPerTunnel?: number;
  maxBytesPerTunnel?: number;
  /** Shared with the other endpoints of the router for the global caps. */
  pool?: ReassemblyPool;
}

export interface OutboundEndpointHandlers {
  /** LOCAL: the message is for this router. */
  local(message: Uint8Array): void;
  /** TUNNEL: send `tunnelGateway` (a complete TunnelGateway I2NP message for `tunnelId`) to router `toHash`. */
  tunnel(toHash: Uint8Array, tunnelGateway: Uint8Array, tunnelId: number, message: Uint8Array): void;
  /** ROUTER: send the message to router `toHash`. */
  router(toHash: Uint8Array, message: Uint8Array): void;
}

export interface OutboundEndpointOptions extends EndpointLimits {
  handlers: OutboundEndpointHandlers;
  clock?: () => number;
  random?: RandomSource;
}

export interface InboundEndpointOptions extends EndpointLimits {
  /** Receives every LOCAL message. */
  onMessage(message: Uint8Array): void;
  clock?: () => number;
}

abstract class EndpointBase {
  protected readonly reassembler: Reassembler;
  readonly drops: Record<EndpointDropReason, number>;

  constructor(opts: EndpointLimits & { clock?: () => number }) {
    const ro: ReassemblerOptions = { onMessage: (m) => this.dispatch(m) };
    if (opts.clock !== undefined) ro.clock = opts.clock;
    if (opts.expiryMs !== undefined) ro.expiryMs = opts.expiryMs;
    if (opts.maxMessagesPerTunnel !== undefined) ro.maxMessagesPerTunnel = opts.maxMessagesPerTunnel;
    if (opts.maxBytesPerTunnel !== undefined) ro.maxBytesPerTunnel = opts.maxBytesPerTunnel;
    if (opts.pool !== undefined) ro.pool = opts.pool;
    this.reassembler = new Reassembler(ro);
    // One counter object: the reassembler's reasons plus the dispatch ones.
    this.drops = this.reassembler.drops as Record<EndpointDropReason, number>;
    this.drops['not-local'] = 0;
  }

  /** One 1028-byte body with all layers removed. */
  receive(body: Uint8Array): PushResult {
    return this.reassembler.push(body);
  }

  /** Expires due partial messages (receive does this too; call it from a periodic task for idle tunnels). */
  sweep(now?: number): void {
    this.reassembler.sweep(now);
  }

  /** Frees all partial state (tunnel expired). */
  close(): void {
    this.reassembler.clear();
  }

  /** Partial messages held; bytes held. */
  get pending(): number {
    return this.reassembler.pending;
  }
  get pendingBytes(): number {
    return this.reassembler.bytes;
  }
  get delivered(): number {
    return this.reassembler.delivered;
  }

  protected abstract dispatch(m: DeliveredMessage): void;
}

export class OutboundEndpoint extends EndpointBase {
  private readonly handlers: OutboundEndpointHandlers;
  private readonly clock: () => number;
  private readonly random: RandomSource;

  constructor(opts: OutboundEndpointOptions) {
    super(opts);
    const h = opts.handlers;
    if (typeof h !== 'object' || h === null) throw new TypeError('handlers must be an object');
    for (const k of ['local', 'tunnel', 'router'] as const) {
      if (typeof h[k] !== 'function') throw new TypeError(`handlers.${k} must be a function`);
    }
    this.handlers = h;
    this.clock = opts.clock ?? Date.now;
    this.random = opts.random ?? systemRandom;
  }

  protected dispatch(m: DeliveredMessage): void {
    switch (m.delivery) {
      case 'LOCAL':
        this.handlers.local(m.message);
        return;
      case 'ROUTER':
        this.handlers.router(m.toHash!, m.message);
        return;
      case 'TUNNEL': {
        // A fresh I2NP TunnelGateway message (type 19) for the named gateway, as i2pd's OBEP does.
        const tg = encodeI2np(
          I2NP_TUNNEL_GATEWAY, randomU32(this.random), this.clock() + I2NP_EXPIRATION_MS,
          encodeTunnelGateway(m.tunnelId!, m.message),
        );
        this.handlers.tunnel(m.toHash!, tg, m.tunnelId!, m.message);
        return;
      }
    }
  }
}

export class InboundEndpoint extends EndpointBase {
  private readonly onMessage: (message: Uint8Array) => void;

  constructor(opts: InboundEndpointOptions) {
    super(opts);
    if (typeof opts.onMessage !== 'function') throw new TypeError('onMessage must be a function');
    this.onMessage = opts.onMessage;
  }

  protected dispatch(m: DeliveredMessage): void {
    if (m.delivery !== 'LOCAL') {
      this.drops['not-local']++;
      return;
    }
    this.onMessage(m.message);
  }
}
