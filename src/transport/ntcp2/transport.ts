// NTCP2 transport: a listener and a dialer over node:net, one established session per peer router, connection
// limits (total, per remote IP, handshakes in progress), the msg1 replay cache (ntcp2-routerinfo.md §4.3), and
// orderly shutdown with Termination reason 3. Sessions do the protocol (session.ts); this file decides which
// connections exist.
import { createServer, connect as netConnect, type AddressInfo, type Server, type Socket } from 'node:net';
import { TERM_NORMAL, TERM_ROUTER_SHUTDOWN } from './constants.js';
import { defaultFrameAead, type FrameAead } from './frames.js';
import type { DialTarget, LocalRouter, ParsePeerRouterInfo } from './peer-info.js';
import {
  DEFAULT_SESSION_LIMITS,
  Session,
  type EstablishVerdict,
  type QueuedI2np,
  type SessionContext,
  type SessionEvents,
  type SessionLimits,
} from './session.js';

export interface TransportLimits extends SessionLimits {
  /** All connections, inbound and outbound, handshaking or established. */
  maxConnections: number;
  /** Inbound connections from one remote IP (i2pd allows one pending handshake per IP, §4.9). */
  maxConnectionsPerIp: number;
  /** Inbound handshakes in progress (including probing-resistance drains). */
  maxPendingHandshakes: number;
  /** How long a msg1 ephemeral key is remembered: at least twice the clock skew (§4.3). */
  replayWindowMs: number;
  /** Most ephemeral keys remembered; the oldest go first beyond this. */
  replayCacheMax: number;
  /** TCP connect timeout for dials (i2pd: 25 s, §4.9). */
  connectTimeoutMs: number;
  /**
   * Unsent messages of sessions that ended, held for the peer's next session, all peers together (each peer also
   * at most maxQueuedMessages); held for one handshake timeout, then dropped (`held-expired`).
   */
  maxHeldMessages: number;
}

export const DEFAULT_TRANSPORT_LIMITS: TransportLimits = {
  ...DEFAULT_SESSION_LIMITS,
  maxConnections: 2048,
  maxConnectionsPerIp: 8,
  maxPendingHandshakes: 256,
  replayWindowMs: 2 * 60_000 + 10_000,
  replayCacheMax: 65536,
  connectTimeoutMs: 25_000,
  maxHeldMessages: 8192,
};

/** A session's upcalls as the transport passes them on; onClose comes for every connection, established or not. */
export interface TransportEvents extends Pick<
  SessionEvents,
  'onI2np' | 'onRouterInfo' | 'onDateTime' | 'onOptions' | 'onDrain' | 'onClose'
> {
  /** A session was established and is now the peer's session. */
  onSession?(s: Session): void;
}

export interface TransportOptions {
  local: LocalRouter;
  parseRouterInfo: ParsePeerRouterInfo;
  limits?: Partial<TransportLimits>;
  events?: TransportEvents;
  aead?: FrameAead;
  now?: () => number;
}

export interface TransportStats {
  connections: number;
  established: number;
  pendingInbound: number;
  acceptedTotal: number;
  establishedTotal: number;
  dropped: Record<string, number>;
}

export class Ntcp2Transport {
  readonly limits: TransportLimits;
  private readonly local: LocalRouter;
  private readonly events: TransportEvents;
  private readonly ctx: SessionContext;
  private readonly localKey: string;
  private server: Server | undefined;
  /** Every live connection. */
  private readonly conns = new Set<Session>();
  /** The established session of each peer (hex router hash). */
  private readonly byPeer = new Map<string, Session>();
  private readonly dials = new Map<string, Promise<Session>>();
  private readonly perIp = new Map<string, number>();
  private pendingInbound = 0;
  private readonly replay = new Map<string, number>();
  /** Per peer: messages left unsent by a session that ended, waiting for the peer's next session. */
  private readonly held = new Map<string, { msgs: QueuedI2np[]; timer: NodeJS.Timeout }>();
  private heldTotal = 0;
  private readonly dropped: Record<string, number> = {};
  private acceptedTotal = 0;
  private establishedTotal = 0;
  private closing = false;

  constructor(opts: TransportOptions) {
    this.limits = { ...DEFAULT_TRANSPORT_LIMITS, ...opts.limits };
    this.local = opts.local;
    this.localKey = Buffer.from(opts.local.identHash).toString('hex');
    this.events = opts.events ?? {};
    const now = opts.now ?? Date.now;
    this.ctx = {
      local: opts.local,
      parseRouterInfo: opts.parseRouterInfo,
      limits: this.limits,
      aead: opts.aead ?? defaultFrameAead(),
      now,
      seenEphemeral: (x) => this.seenEphemeral(x),
      count: (r) => this.count(r),
    };
  }

  /** Starts accepting on host:port (port 0 = any); resolves with the bound address. */
  listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    if (this.server) return Promise.reject(new Error('already listening'));
    const server = createServer({ noDelay: true, pauseOnConnect: false }, (sock) => this.accept(sock));
    this.server = server;
    server.on('error', () => this.count('listener-error'));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server.address() as AddressInfo);
      });
    });
  }

  get address(): AddressInfo | undefined {
    return (this.server?.address() as AddressInfo | null) ?? undefined;
  }

  private accept(sock: Socket): void {
    const ip = sock.remoteAddress ?? '';
    if (this.closing) {
      sock.destroy();
      return;
    }
    if (this.conns.size >= this.limits.maxConnections) {
      this.count('limit-connections');
      sock.destroy();
      return;
    }
    if ((this.perIp.get(ip) ?? 0) >= this.limits.maxConnectionsPerIp) {
      this.count('limit-per-ip');
      sock.destroy();
      return;
    }
    if (this.pendingInbound >= this.limits.maxPendingHandshakes) {
      this.count('limit-handshakes');
      sock.destroy();
      return;
    }
    this.acceptedTotal++;
    this.pendingInbound++;
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1);
    const s = new Session(sock, 'in', this.ctx, this.sessionEvents(ip, true));
    this.conns.add(s);
  }

  /**
   * Dials a peer. Resolves with its established session: an existing one, the pending dial's, or a new one.
   * Rejects when the connection fails or closes before the handshake completes.
   */
  connect(target: DialTarget, opts: { localAddress?: string } = {}): Promise<Session> {
    if (
      target.identHash?.length !== 32 ||
      target.staticKey?.length !== 32 ||
      target.iv?.length !== 16 ||
      !Number.isInteger(target.port) ||
      target.port <= 0 ||
      target.port > 65535
    ) {
      return Promise.reject(
        new RangeError('dial target needs a 32-byte identHash and staticKey, a 16-byte iv and a port 1..65535'),
      );
    }
    const key = Buffer.from(target.identHash).toString('hex');
    const have = this.byPeer.get(key);
    if (have && have.state === 'established') return Promise.resolve(have);
    const pending = this.dials.get(key);
    if (pending) return pending;
    if (this.closing) return Promise.reject(new Error('transport is closing'));
    if (key === this.localKey) return Promise.reject(new Error('refusing to dial ourselves'));
    if (this.conns.size >= this.limits.maxConnections) {
      this.count('limit-connections');
      return Promise.reject(new Error('connection limit reached'));
    }
    const p = new Promise<Session>((resolve, reject) => {
      const sock = netConnect({ host: target.host, port: target.port, localAddress: opts.localAddress, noDelay: true });
      const timer = setTimeout(() => {
        this.count('connect-timeout');
        s.abortNow({ reason: 'connect-timeout', by: 'local' });
      }, this.limits.connectTimeoutMs);
      const base = this.sessionEvents(undefined, false);
      const s: Session = new Session(
        sock,
        'out',
        this.ctx,
        {
          ...base,
          onEstablished: (x) => {
            clearTimeout(timer);
            const verdict = base.onEstablished!(x);
            if (verdict.accept) resolve(x);
            // A simultaneous dial lost: the caller wants a session with the peer, and the kept one is that.
            else if (verdict.keep) resolve(verdict.keep);
            else reject(new Error(`session refused: ${verdict.reason}`));
            return verdict;
          },
          onClose: (x, info) => {
            clearTimeout(timer);
            base.onClose!(x, info);
            reject(
              new Error(
                `connection closed before the handshake completed: ${info.reason}${info.detail ? ` (${info.detail})` : ''}`,
              ),
            );
          },
        },
        target,
      );
      this.conns.add(s);
      sock.once('connect', () => {
        clearTimeout(timer);
        s.start();
      });
    });
    this.dials.set(key, p);
    const done = () => {
      if (this.dials.get(key) === p) this.dials.delete(key);
    };
    p.then(done, done);
    return p;
  }

  private sessionEvents(ip: string | undefined, inbound: boolean): SessionEvents {
    let pending = inbound;
    const release = () => {
      if (pending) {
        pending = false;
        this.pendingInbound--;
      }
    };
    return {
      onEstablished: (s) => {
        release();
        const verdict = this.admit(s);
        if (verdict.accept) {
          this.establishedTotal++;
          this.events.onSession?.(s);
        }
        return verdict;
      },
      onI2np: this.events.onI2np,
      onRouterInfo: this.events.onRouterInfo,
      onDateTime: this.events.onDateTime,
      onOptions: this.events.onOptions,
      onDrain: this.events.onDrain,
      onUnsent: (s, msgs) => this.hold(s, msgs),
      onClose: (s, info) => {
        release();
        this.conns.delete(s);
        if (ip !== undefined) {
          const n = (this.perIp.get(ip) ?? 1) - 1;
          if (n <= 0) this.perIp.delete(ip);
          else this.perIp.set(ip, n);
        }
        const key = s.peerKey;
        if (key !== undefined && this.byPeer.get(key) === s) this.byPeer.delete(key);
        this.events.onClose?.(s, info);
      },
    };
  }

  /**
   * One session per peer (docs/ntcp2.md §4). A second session with the same peer in the same direction replaces the
   * first (the peer reconnected). Two sessions in opposite directions established within one handshake timeout are
   * a simultaneous dial: both routers keep the one initiated by the router with the smaller hash, so they agree
   * without talking. The loser is superseded, not dropped: its queue moves to the kept session and it reads the
   * peer's in-flight frames until the peer closes it; messages of a session that ended wait for the next one.
   */
  private admit(s: Session): EstablishVerdict {
    if (this.closing) return { accept: false, reason: 'shutting-down', code: TERM_ROUTER_SHUTDOWN };
    const key = s.peerKey!;
    if (key === this.localKey) {
      this.count('self-connection');
      return { accept: false, reason: 'self-connection', code: TERM_NORMAL };
    }
    const old = this.byPeer.get(key);
    if (old && old !== s && old.state === 'established') {
      const simultaneous =
        old.direction !== s.direction && this.ctx.now() - old.establishedAt < this.limits.handshakeTimeoutMs;
      if (simultaneous) {
        const initiatorOf = (x: Session) => (x.direction === 'out' ? this.localKey : key);
        const keepNew = initiatorOf(s) < initiatorOf(old);
        if (!keepNew) {
          this.count('duplicate-session');
          return { accept: false, reason: 'duplicate', code: TERM_NORMAL, keep: old };
        }
      }
      this.count('replaced-session');
      this.byPeer.set(key, s);
      old.supersede(s, TERM_NORMAL, 'replaced');
      this.release(key, s);
      return { accept: true };
    }
    this.byPeer.set(key, s);
    this.release(key, s);
    return { accept: true };
  }

  /**
   * Keeps the unsent messages of a session that ended for the peer's next session: during a simultaneous dial the
   * kept session may be established a moment later than the loser ends. Bounded per peer and in all, for one
   * handshake timeout.
   */
  private hold(s: Session, msgs: QueuedI2np[]): void {
    const key = s.peerKey;
    const cur = key === undefined ? undefined : this.byPeer.get(key);
    if (cur && cur !== s && cur.state === 'established') {
      cur.adopt(msgs);
      return;
    }
    if (key === undefined || this.closing) {
      this.countN('send-closed', msgs.length);
      return;
    }
    let h = this.held.get(key);
    if (!h) {
      const timer = setTimeout(() => this.expireHeld(key), this.limits.handshakeTimeoutMs);
      timer.unref?.();
      h = { msgs: [], timer };
      this.held.set(key, h);
    }
    const room = Math.max(
      0,
      Math.min(this.limits.maxQueuedMessages - h.msgs.length, this.limits.maxHeldMessages - this.heldTotal),
    );
    const take = msgs.length <= room ? msgs : msgs.slice(0, room);
    for (const m of take) h.msgs.push(m);
    this.heldTotal += take.length;
    this.countN('held-full', msgs.length - take.length);
  }

  /** Hands a peer's held messages to its newly admitted session. */
  private release(key: string, s: Session): void {
    const h = this.held.get(key);
    if (!h) return;
    this.held.delete(key);
    clearTimeout(h.timer);
    this.heldTotal -= h.msgs.length;
    s.adopt(h.msgs);
  }

  private expireHeld(key: string): void {
    const h = this.held.get(key);
    if (!h) return;
    this.held.delete(key);
    this.heldTotal -= h.msgs.length;
    this.countN('held-expired', h.msgs.length);
  }

  /** Messages held for peers without a session (see hold). */
  get heldMessages(): number {
    return this.heldTotal;
  }

  /** The established session with a peer, if any. */
  session(identHash: Uint8Array | string): Session | undefined {
    const key = typeof identHash === 'string' ? identHash : Buffer.from(identHash).toString('hex');
    return this.byPeer.get(key);
  }

  sessions(): IterableIterator<Session> {
    return this.byPeer.values();
  }

  private seenEphemeral(x: Uint8Array): boolean {
    const now = this.ctx.now();
    const key = Buffer.from(x).toString('hex');
    // Drop expired entries from the oldest end (Map keeps insertion order), then the oldest beyond the cap.
    for (const [k, exp] of this.replay) {
      if (exp > now && this.replay.size < this.limits.replayCacheMax) break;
      this.replay.delete(k);
    }
    const seen = this.replay.has(key);
    if (!seen) this.replay.set(key, now + this.limits.replayWindowMs);
    return seen;
  }

  private count(reason: string): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1;
  }

  private countN(reason: string, n: number): void {
    if (n > 0) this.dropped[reason] = (this.dropped[reason] ?? 0) + n;
  }

  get stats(): TransportStats {
    return {
      connections: this.conns.size,
      established: this.byPeer.size,
      pendingInbound: this.pendingInbound,
      acceptedTotal: this.acceptedTotal,
      establishedTotal: this.establishedTotal,
      dropped: { ...this.dropped },
    };
  }

  /** Size of the replay cache (for tests and stats). */
  get replayCacheSize(): number {
    return this.replay.size;
  }

  /**
   * Stops listening, sends Termination reason 3 on every established session, closes every connection, and
   * resolves when all are gone (or after `graceMs`, destroying the rest).
   */
  async close(graceMs = 3_000): Promise<void> {
    this.closing = true;
    const server = this.server;
    this.server = undefined;
    const serverClosed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    for (const s of [...this.conns]) {
      if (s.state === 'established') s.terminate(TERM_ROUTER_SHUTDOWN, 'shutdown');
      else s.abortNow({ reason: 'shutdown', by: 'local' });
    }
    const deadline = Date.now() + graceMs;
    while (this.conns.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const s of [...this.conns]) s.abortNow({ reason: 'shutdown', by: 'local' });
    await serverClosed;
    this.replay.clear();
    for (const key of [...this.held.keys()]) {
      clearTimeout(this.held.get(key)!.timer);
      this.expireHeld(key);
    }
  }
}
