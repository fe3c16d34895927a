// Endpoint roles on top of the Reassembler: the outbound endpoint (OBEP) hands each message on by its delivery
// type, the inbound endpoint (IBEP, our own inbound tunnel) accepts only LOCAL (tunnel-message.md §6.1: i2pd drops
// TUNNEL / ROUTER there as possible leakage). Bodies arrive with all layers removed. Never throws per message:
// every drop is counted by reason in `drops`.
import { I2NP_EXPIRATION_MS, I2NP_TUNNEL_GATEWAY, IV_OFFSET, TUNNEL_DATA_SIZE } from '../constants.js';
import { encodeI2np } from '../i2np/header.js';
import { encodeTunnelGateway } from '../i2np/bodies.js';
import type { SlabAllocator } from './alloc.js';
import { type DeliveredMessage, readU32 } from './delivery.js';
import { type RandomSource, randomU32, systemRandom } from './random.js';
import {
  type PushResult,
  Reassembler,
  type ReassemblerOptions,
  type ReassemblyDropReason,
  type ReassemblyPool,
} from './reassembler.js';

export type EndpointDropReason = ReassemblyDropReason | 'not-local' | 'duplicate-body';

/**
 * Default number of recent body IVs an endpoint remembers to drop repeated bodies: 0 (off), because in the data
 * plane the router-wide replay filter (src/tunnel/replay-filter.ts, tunnel-crypto-aes.md §5) already drops repeated
 * TunnelData before any layer work. Turn it on for an endpoint fed from elsewhere.
 */
export const DEFAULT_DUPLICATE_WINDOW = 0;

export interface EndpointLimits {
  expiryMs?: number;
  maxMessagesPerTunnel?: number;
  maxBytesPerTunnel?: number;
  /** Shared with the other endpoints of the router for the global caps. */
  pool?: ReassemblyPool;
  /** Where delivered messages are carved from (share one per thread; see src/frame/alloc.ts). */
  allocator?: SlabAllocator;
  /**
   * How many recent bodies (by their original IV, unique per body) to remember so a repeated body is dropped
   * before reassembly; entries also age out after expiryMs. 0 (default, see DEFAULT_DUPLICATE_WINDOW) disables.
   * Without it (and without the router's replay filter in front) a complete second copy of a
   * message's bodies arriving after delivery would deliver the message again (the vectors' Reassembler has no such
   * filter by design: "a late duplicate fragment starts a new, incomplete message").
   */
  duplicateWindow?: number;
}

export interface OutboundEndpointHandlers {
  /** LOCAL: the message is for this router. */
  local(message: Uint8Array): void;
  /** TUNNEL: send `tunnelGateway` (a complete TunnelGateway I2NP message for `tunnelId`) to router `toHash`. */
  tunnel(toHash: Uint8Array, tunnelGateway: Uint8Array, tunnelId: number, message: Uint8Array): void;
  /** ROUTER: send the message to router `toHash`. */
  router(toHash: Uint8Array, message: Uint8Array): void;
}

export interface OutboundEndpointReassemblerOptions extends EndpointLimits {
  handlers: OutboundEndpointHandlers;
  clock?: () => number;
  random?: RandomSource;
}

export interface InboundEndpointReassemblerOptions extends EndpointLimits {
  /** Receives every LOCAL message. */
  onMessage(message: Uint8Array): void;
  clock?: () => number;
}

abstract class EndpointBase {
  protected readonly reassembler: Reassembler;
  readonly drops: Record<EndpointDropReason, number>;
  private readonly dupWindow: number;
  /** Recent accepted bodies (52 bits of the IV), with a ring of (key, time) in arrival order for ageing out. */
  private readonly recent = new Set<number>();
  private readonly ringKey: Float64Array;
  private readonly ringTime: Float64Array;
  private ringHead = 0;
  private ringCount = 0;
  private readonly now: () => number;

  constructor(opts: EndpointLimits & { clock?: () => number }) {
    const ro: ReassemblerOptions = { onMessage: (m) => this.dispatch(m) };
    if (opts.clock !== undefined) ro.clock = opts.clock;
    if (opts.expiryMs !== undefined) ro.expiryMs = opts.expiryMs;
    if (opts.maxMessagesPerTunnel !== undefined) ro.maxMessagesPerTunnel = opts.maxMessagesPerTunnel;
    if (opts.maxBytesPerTunnel !== undefined) ro.maxBytesPerTunnel = opts.maxBytesPerTunnel;
    if (opts.pool !== undefined) ro.pool = opts.pool;
    if (opts.allocator !== undefined) ro.allocator = opts.allocator;
    this.reassembler = new Reassembler(ro);
    // One counter object: the reassembler's reasons plus the dispatch ones.
    this.drops = this.reassembler.drops as Record<EndpointDropReason, number>;
    this.drops['not-local'] = 0;
    this.drops['duplicate-body'] = 0;
    const w = opts.duplicateWindow ?? DEFAULT_DUPLICATE_WINDOW;
    if (!Number.isInteger(w) || w < 0) throw new RangeError('duplicateWindow must be an integer >= 0');
    this.dupWindow = w;
    this.ringKey = new Float64Array(w);
    this.ringTime = new Float64Array(w);
    this.now = opts.clock ?? Date.now;
  }

  /** One 1028-byte body with all layers removed. Returns 'ok' or why the body was dropped; never throws. */
  receive(body: Uint8Array): PushResult | 'duplicate-body' {
    if (this.dupWindow === 0 || !(body instanceof Uint8Array) || body.length !== TUNNEL_DATA_SIZE) {
      return this.reassembler.push(body);
    }
    const now = this.now();
    const recent = this.recent;
    const w = this.dupWindow;
    const expiry = this.reassembler.expiryMs;
    while (this.ringCount > 0 && (this.ringCount === w || now - this.ringTime[this.ringHead]! >= expiry)) {
      recent.delete(this.ringKey[this.ringHead]!);
      this.ringHead = (this.ringHead + 1) % w;
      this.ringCount--;
    }
    // 52 bits of the IV: a safe-integer key, collisions negligible for windows of thousands.
    const key = readU32(body, IV_OFFSET) * 0x100000 + (readU32(body, IV_OFFSET + 4) >>> 12);
    if (recent.has(key)) {
      this.drops['duplicate-body']++;
      return 'duplicate-body';
    }
    const r = this.reassembler.push(body);
    if (r === 'ok') {
      recent.add(key);
      const tail = (this.ringHead + this.ringCount) % w;
      this.ringKey[tail] = key;
      this.ringTime[tail] = now;
      this.ringCount++;
    }
    return r;
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

export class OutboundEndpointReassembler extends EndpointBase {
  private readonly handlers: OutboundEndpointHandlers;
  private readonly clock: () => number;
  private readonly random: RandomSource;

  constructor(opts: OutboundEndpointReassemblerOptions) {
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
          I2NP_TUNNEL_GATEWAY,
          randomU32(this.random),
          this.clock() + I2NP_EXPIRATION_MS,
          encodeTunnelGateway(m.tunnelId!, m.message),
        );
        this.handlers.tunnel(m.toHash!, tg, m.tunnelId!, m.message);
        return;
      }
    }
  }
}

export class InboundEndpointReassembler extends EndpointBase {
  private readonly onMessage: (message: Uint8Array) => void;

  constructor(opts: InboundEndpointReassemblerOptions) {
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
