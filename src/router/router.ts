// A router on the wire (ntcp2-routerinfo.md §6; i2np.md §4): one object an embedding application starts and stops.
// It owns the identity in a data directory, its RouterInfo file, the NTCP2 transport (listener and dialer), a small
// verified peer table (ident hash <-> the numeric peer ids the data plane uses), the data plane, the netDb (stores,
// lookups, floodfill duties, publishing; netdb-floodfill.md §2-§6, docs/netdb.md), and the I2NP dispatch between
// them: the netDb's types (1, 2, 3 and DeliveryStatus not taken by the tunnel side), TunnelData into the data plane
// and its output out over the next hop's session, and the tunnel side (TunnelService: transit hops, our creator, the
// exploratory pool; netdb-floodfill.md §6-§7) wired to both. Design: docs/router.md, docs/tunnels.md, hot path:
// docs/router-data-path.md.
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  I2NP_DELIVERY_STATUS,
  I2NP_EXPIRATION_MS,
  I2NP_TUNNEL_DATA,
  STATUS_OK,
  TUNNEL_DATA_SIZE,
} from '../constants.js';
import { LOCAL_HOP } from '../tunnel/types.js';
import { TunnelJoinError } from '../errors.js';
import { createDataPlane, type DataPlane, type DataPlaneOptions, type OutputBatch } from '../dataplane/index.js';
import { I2NP_DATABASE_LOOKUP, I2NP_DATABASE_SEARCH_REPLY } from '../i2np/message-types.js';
import { Ntcp2Transport, type TransportLimits } from '../transport/ntcp2/transport.js';
import type { CloseInfo, Session } from '../transport/ntcp2/session.js';
import type { ParsePeerRouterInfo } from '../transport/ntcp2/peer-info.js';
import type { FrameAead } from '../transport/ntcp2/frames.js';
import { wipePair, x25519FromPrivate, type X25519Pair } from '../transport/ntcp2/noise.js';
import type { Caps } from './caps.js';
import { ROUTER_INFO_FILE, loadOrCreateRouterSecrets, type RouterSecrets } from './data-dir.js';
import { identHash as hashOfIdentity, identHashBase64 } from './identity.js';
import { buildLocalRouterInfo, nextPublished, writeLocalRouterInfo } from './local-router-info.js';
import { netDbRelativePath, writeRouterInfoFile } from './netdb-files.js';
import { readPeerRouterInfo, type PeerRouterInfo } from './peer.js';
import { MAX_ROUTER_INFO_SIZE } from './router-info.js';
import { NetDb, type NetDbOptions, type NetDbStats } from './netdb/netdb.js';
import { wipeNtcp2Keys } from './ntcp2-keys.js';
import { wipeRouterKeys } from './router-keys.js';
import { CRYPTO_TYPE_X25519 } from '../common/keys-and-cert.js';
import { I2NP_DATA, I2NP_HEADER_SIZE, I2NP_TUNNEL_MAX } from '../constants.js';
import { decodeData, encodeData } from '../i2np/bodies.js';
import { encodeI2np } from '../i2np/header.js';
import { I2NP_BLOCK_MAX, I2NP_SHORT_HEADER } from '../transport/ntcp2/constants.js';
import { TunnelService, type TunnelServiceOptions, type TunnelServiceStats } from './tunnels/service.js';
import type { LocalTunnel, PeerCandidate } from './tunnels/creator.js';
import type { DirectionSettings, TunnelEvent } from './tunnels/pool.js';
import type { TransitLimits } from './tunnels/transit.js';
import type { LocalI2np, OutgoingI2np } from './tunnels/types.js';

/** I2NP DatabaseStore (i2np.md §4.6). */
export const I2NP_DATABASE_STORE = 1;
/**
 * I2NP types that the tunnel-build and garlic layers handle (Garlic 11, TunnelBuild 21, VariableTunnelBuild 23,
 * TunnelBuildReply 22/24, ShortTunnelBuild 25, OutboundTunnelBuildReply 26): counted as unhandled until a handler is
 * registered with `router.handle(type, fn)`.
 */
export const BUILD_AND_GARLIC_TYPES: readonly number[] = [11, 21, 23, 24, 25, 26];

/**
 * I2NP types the tunnel side sees first when it is on (docs/tunnels.md): DeliveryStatus of our tunnel tests (10),
 * Garlic (11), TunnelGateway (19), VariableTunnelBuild (23), ShortTunnelBuild (25). What it does not take falls back
 * to the router's own handling.
 */
export const TUNNEL_SIDE_TYPES: readonly number[] = [10, 11, 19, 23, 25];

/** Peers kept in the table at most; the oldest without a session are forgotten first. */
const DEFAULT_MAX_PEERS = 4096;
/** Messages held for a peer while it is being dialled, per peer and in all; more are dropped as 'dial-queue-full'. */
const DIAL_QUEUE_MAX = 1024;
const DIAL_QUEUE_TOTAL_MAX = 8192;
/** After a failed dial, messages for that peer are dropped ('dial-backoff') for this long instead of re-dialling. */
const DIAL_BACKOFF_MS = 10_000;
/** Our RouterInfo is re-signed before a netDb publish when older than this (i2pd: 30 min, netdb-floodfill.md §6.2). */
const RESIGN_AFTER_MS = 30 * 60_000;

export interface RouterOptions {
  /** Data directory: router.keys, ntcp2.keys (created on first use, 0600) and router.info. */
  dataDir: string;
  /** NTCP2 listen address, an IP literal (default 127.0.0.1). */
  host?: string;
  /** NTCP2 port (default 0: any free port; the bound one is published). */
  port?: number;
  /** Publish `f` in caps (floodfill). */
  floodfill?: boolean;
  /** Caps beyond floodfill (default bandwidth L, reachable R). */
  caps?: Partial<Caps>;
  /** Data plane options (default one worker thread); onOutput is the router's. */
  dataPlane?: Omit<DataPlaneOptions, 'onOutput'>;
  /** NTCP2 limits (connections, timeouts, queues). */
  limits?: Partial<TransportLimits>;
  /** Frame AEAD for the NTCP2 data phase (default: defaultFrameAead(): the WASM frame kernel up to 4 KB, node:crypto above; docs/ntcp2.md §5). */
  frameAead?: FrameAead;
  /** Peers kept in the table (default 4096). */
  maxPeers?: number;
  /** Write peers' verified RouterInfos under DIR/netDb (default false: the table is in memory). */
  storePeers?: boolean;
  /** The tunnel side (default on: transit accepted, exploratory pool with i2pd's defaults); false: none at all. */
  tunnels?: RouterTunnelOptions | false;
  /** NetDb settings (docs/netdb.md); `floodfill` comes from the option above. */
  netDb?: Partial<Omit<NetDbOptions, 'floodfill'>>;
}

/** Tunnel side settings (docs/tunnels.md; defaults as i2pd 2.45.1, netdb-floodfill.md §6.5). */
export interface RouterTunnelOptions {
  /** Accept transit tunnels (default true); false answers every request with code 30 (`limit-total`). */
  transit?: boolean;
  transitLimits?: Partial<TransitLimits>;
  /** Exploratory pool (default 2 hops x 3 tunnels each way); false: none. */
  exploratory?: { inbound?: Partial<DirectionSettings>; outbound?: Partial<DirectionSettings> } | false;
  poolOptions?: TunnelServiceOptions['poolOptions'];
  buildTimeoutMs?: number;
  tickMs?: number;
}

/** A peer as the router knows it. `id` is the number the data plane uses for it (TunnelConfig.nextHop, prevHop). */
export interface PeerEntry {
  readonly id: number;
  readonly identHash: Uint8Array;
  /** I2P Base64 of the ident hash. */
  readonly ident: string;
  /** Its newest verified RouterInfo, if one was received. */
  info: PeerRouterInfo | undefined;
  session: Session | undefined;
  /** Messages waiting for a dial to complete (bounded by DIAL_QUEUE_MAX). */
  waiting:
    { type: number; body: Uint8Array; msgId: number | undefined; expirationSec: number | undefined }[] | undefined;
  lastSeen: number;
  /** When the last dial to it failed (0: never). */
  dialFailedAt: number;
}

/** What an I2NP handler gets. `body` is a view valid only during the call. */
export interface I2npMessageIn {
  type: number;
  msgId: number;
  /** Seconds since the epoch, as on the wire (NTCP2 short header). */
  expirationSec: number;
  body: Uint8Array;
  peer: PeerEntry;
  session: Session;
}
export type I2npHandler = (m: I2npMessageIn) => void;

export interface SessionEvent {
  peer: string;
  direction: 'in' | 'out';
  state: 'established' | 'closed';
  reason?: string;
  code?: number;
}

export interface RouterReady {
  ident: string;
  routerInfo: string;
  ntcp2: string;
  /** Files created by this start (a first run creates router.keys and ntcp2.keys). */
  created: string[];
}

export interface RouterStats {
  sessions: number;
  /** I2NP messages received / sent, by type number. */
  i2npIn: Record<string, number>;
  i2npOut: Record<string, number>;
  /** NTCP2 bytes on the wire, all sessions since start. */
  bytesIn: number;
  bytesOut: number;
  /** Dropped things by reason: the router's, the transport's and the data plane's (prefixed `dataplane.`). */
  dropped: Record<string, number>;
  peers: number;
  /** Data plane: messages in / out. */
  tunnelDataIn: number;
  tunnelDataOut: number;
  /** Tunnel side (absent with `tunnels: false`): transit tunnels by role, rejections by reason; our tunnels. */
  transit?: TunnelServiceStats['transit'];
  tunnels?: TunnelServiceStats['tunnels'];
  /** The netDb: entries held, stores, lookups, replies, floods, drops by reason. */
  netdb?: NetDbStats;
}

/**
 * Largest payload `sendData` takes: the OBEP forwards the whole Data message (16-byte header, 4-byte length) inside a
 * TunnelGateway (6 bytes more) as one NTCP2 I2NP block, which i2pd and we cap at I2NP_BLOCK_MAX with its 9-byte
 * short header (ntcp2-routerinfo.md §4.7) — a little under what 64 tunnel fragments hold (I2NP_TUNNEL_MAX).
 */
export const MAX_DATA_PAYLOAD =
  Math.min(I2NP_TUNNEL_MAX, I2NP_BLOCK_MAX - I2NP_SHORT_HEADER - 6) - I2NP_HEADER_SIZE - 4;

/** Where client data goes: an inbound tunnel of the receiving router, as a LeaseSet names it (gateway + tunnel id). */
export interface DataTarget {
  gateway: Uint8Array;
  tunnelId: number;
}

/** An I2NP Data (20) message that ended at this router: the 'data' event. */
export interface DataEvent {
  /** The Data message's payload (its own copy). */
  payload: Uint8Array;
  msgId: number;
  /** The inbound tunnel of ours it came out of (absent for a garlic clove or an OBEP's local delivery). */
  inbound: LocalTunnel | undefined;
}

const hexOf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/**
 * The router. Events: 'ready' (RouterReady), 'session' (SessionEvent), 'routerInfo' (PeerEntry, a newer verified
 * RouterInfo stored), 'joinError' (TunnelJoinError from the data plane), 'tunnel' (TunnelEvent from the pools),
 * 'data' (DataEvent: client data out of our inbound tunnels), 'warning' (Error).
 */
export class Router extends EventEmitter {
  readonly dataDir: string;
  private readonly opts: RouterOptions;
  private secrets: RouterSecrets | undefined;
  private transport: Ntcp2Transport | undefined;
  private plane: DataPlane | undefined;
  private tunnelSide: TunnelService | undefined;
  private db: NetDb | undefined;
  private riBytes: Uint8Array | undefined;
  private riPublished = 0;
  private ownHash: Uint8Array | undefined;
  private staticPair: X25519Pair | undefined;
  private readyInfo: RouterReady | undefined;
  private readonly byHash = new Map<string, PeerEntry>();
  private readonly byId = new Map<number, PeerEntry>();
  private nextId = 1;
  private readonly handlers = new Map<number, I2npHandler>();
  private readonly inCounts: Record<string, number> = {};
  private readonly outCounts: Record<string, number> = {};
  private readonly drops: Record<string, number> = {};
  private closedBytesIn = 0;
  private closedBytesOut = 0;
  /** Messages held for dials in progress, all peers. */
  private waitingTotal = 0;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  /** Each established session's peer entry: the per-message lookup, without hashing the peer's key. */
  private readonly sessionPeer = new WeakMap<Session, PeerEntry>();
  /** Sessions paused because the data plane refused a push; resumed on its 'drain'. */
  private readonly paused = new Set<Session>();

  constructor(opts: RouterOptions) {
    super();
    if (!opts || typeof opts.dataDir !== 'string' || opts.dataDir === '')
      throw new TypeError('createRouter needs a dataDir');
    const port = opts.port ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new RangeError(`port must be 0..65535, not ${opts.port}`);
    this.opts = opts;
    this.dataDir = opts.dataDir;
    this.handlers.set(I2NP_DATABASE_STORE, (m) => this.db?.handleStore(m.body, m.peer.identHash));
    this.handlers.set(I2NP_DATABASE_LOOKUP, (m) => this.db?.handleLookup(m.body, m.peer.identHash));
    this.handlers.set(I2NP_DATABASE_SEARCH_REPLY, (m) => this.db?.handleSearchReply(m.body, m.peer.identHash));
    this.handlers.set(I2NP_TUNNEL_DATA, (m) => this.onTunnelData(m));
    // With the tunnel side on, it sees DeliveryStatus first (its tests) and hands the rest back (startTunnels).
    if (opts.tunnels === false)
      this.handlers.set(I2NP_DELIVERY_STATUS, (m) => {
        if (!this.db?.handleDeliveryStatus(m.body)) this.count('unhandled');
      });
  }

  /**
   * Loads or creates the identity, listens for NTCP2, writes DIR/router.info with the bound address and starts the
   * data plane. Rejects (with the router stopped) if the directory is unusable or the address cannot be bound.
   */
  async start(): Promise<RouterReady> {
    if (this.state !== 'new') throw new Error(`router already ${this.state}`);
    this.state = 'starting';
    const sec = loadOrCreateRouterSecrets(this.dataDir);
    if (!sec.ok) {
      this.state = 'stopped';
      throw new Error(sec.error);
    }
    this.secrets = sec.value;
    const host = this.opts.host ?? '127.0.0.1';
    const identHash = hashOfIdentity(sec.value.keys.identity);
    this.ownHash = identHash;
    const staticKey = x25519FromPrivate(sec.value.ntcp2.staticPrivateKey);
    this.staticPair = staticKey;
    const parse: ParsePeerRouterInfo = (b) => {
      const r = readPeerRouterInfo(b);
      if (!r.ok) return { ok: false, error: `${r.kind}: ${r.error}` };
      // Remember every verified RouterInfo a session carries (msg3, RouterInfo blocks).
      this.learn(r.value);
      return {
        ok: true,
        value: {
          identHash: r.value.identHash,
          staticKey: r.value.ntcp2?.staticKey,
          published: r.value.routerInfo.published,
        },
      };
    };
    this.transport = new Ntcp2Transport({
      local: { identHash, staticKey, iv: sec.value.ntcp2.iv, routerInfo: () => this.riBytes! },
      parseRouterInfo: parse,
      limits: this.opts.limits,
      ...(this.opts.frameAead ? { aead: this.opts.frameAead } : {}),
      events: {
        onSession: (s) => this.onSession(s),
        onI2np: (s, type, msgId, exp, body) => this.onI2np(s, type, msgId, exp, body),
        onRouterInfo: (s, _flag, ri) => this.onRouterInfoBlock(s, ri),
        onClose: (s, info) => this.onSessionClose(s, info),
        onDrain: (s) => this.onSessionDrain(s),
      },
    });
    let bound;
    try {
      bound = await this.transport.listen(this.opts.port ?? 0, host);
    } catch (e) {
      this.state = 'stopped';
      await this.transport.close(0);
      throw new Error(
        `cannot listen on ${host}:${this.opts.port ?? 0}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        { cause: e },
      );
    }
    let written;
    try {
      written = writeLocalRouterInfo(this.dataDir, sec.value, { host, port: bound.port, caps: this.caps() });
    } catch (e) {
      this.state = 'stopped';
      await this.transport.close(0);
      throw new Error(
        `cannot write ${join(this.dataDir, ROUTER_INFO_FILE)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        { cause: e },
      );
    }
    this.riBytes = written.bytes;
    this.riPublished = written.routerInfo.published;
    this.plane = createDataPlane({ threads: 1, ...this.opts.dataPlane, onOutput: (b) => this.onOutput(b) });
    this.plane.on('error', (e: unknown) => {
      if (e instanceof TunnelJoinError) {
        this.count('tunnel-join-error');
        this.tunnelSide?.onJoinError(e);
        this.emit('joinError', e);
      } else this.emit('warning', e instanceof Error ? e : new Error(String(e)));
    });
    this.plane.on('drain', () => this.onPlaneDrain());
    if (this.opts.tunnels !== false) this.startTunnels(this.opts.tunnels ?? {}, sec.value, identHash, this.plane);
    this.db = new NetDb(
      {
        identHash,
        dataDir: this.dataDir,
        send: (to, type, body) => this.sendTo(this.peer(to), type, body),
        canReach: (h) => this.canReach(h),
        injectGateway: (id, msg) => this.tunnelSide?.transit.injectGateway(id, msg) ?? false,
        onRouterInfo: (p) => this.learnPeer(p),
        ownRouterInfo: () => this.ownRouterInfoForPublish(),
      },
      { ...this.opts.netDb, floodfill: this.opts.floodfill === true },
    );
    this.state = 'running';
    this.db.start();
    this.readyInfo = {
      ident: identHashBase64(identHash),
      routerInfo: written.path,
      ntcp2: `${host}:${bound.port}`,
      created: sec.value.created,
    };
    this.emit('ready', this.readyInfo);
    return this.readyInfo;
  }

  /** The tunnel side on the router's send path, peer ids, data plane and netDb (docs/tunnels.md "Wiring"). */
  private startTunnels(o: RouterTunnelOptions, sec: RouterSecrets, identHash: Uint8Array, plane: DataPlane): void {
    const limits: Partial<TransitLimits> = { ...o.transitLimits, ...(o.transit === false ? { maxTunnels: 0 } : {}) };
    const t = new TunnelService({
      identHash,
      staticPrivateKey: sec.keys.cryptoPrivateKey,
      plane,
      net: {
        send: (to, m) => this.sendI2np(to, m),
        peerIdOf: (h) => this.peerId(h),
        isReachable: (h) => this.canReach(h),
      },
      peers: { candidates: () => this.tunnelCandidates() },
      // Client data has its own path ('data' event); the rest is the router's own handling.
      deliverLocal: (m, via) => (m.type === I2NP_DATA ? this.onData(m, via) : this.dispatchLocal(m)),
      transitLimits: limits,
      ...(o.exploratory !== undefined ? { exploratory: o.exploratory } : {}),
      ...(o.poolOptions ? { poolOptions: o.poolOptions } : {}),
      ...(o.buildTimeoutMs !== undefined ? { buildTimeoutMs: o.buildTimeoutMs } : {}),
      ...(o.tickMs !== undefined ? { tickMs: o.tickMs } : {}),
    });
    t.on('tunnel', (ev: TunnelEvent) => this.emit('tunnel', ev));
    for (const type of TUNNEL_SIDE_TYPES) {
      // Only if the application has not installed its own handler for that type.
      if (this.handlers.has(type)) continue;
      this.handlers.set(type, (m) => {
        if (t.handleI2np(m.type, m.msgId, m.body, m.peer.identHash)) return;
        if (m.type === I2NP_DELIVERY_STATUS && this.db?.handleDeliveryStatus(m.body)) return;
        this.count('unhandled');
      });
    }
    this.tunnelSide = t;
    t.start();
  }

  /** Routers a pool may build through: known RouterInfos with an X25519 (crypto type 4) identity. */
  private tunnelCandidates(): PeerCandidate[] {
    const list: PeerCandidate[] = [];
    const now = Date.now();
    for (const e of this.byHash.values()) {
      const id = e.info?.routerInfo.identity;
      // A router whose last dial failed is left out until the back-off ends, as i2pd leaves out routers it marked
      // unreachable (netdb-floodfill.md §6.6): a build through a stopped router would only time out.
      if (!e.session && e.dialFailedAt !== 0 && now - e.dialFailedAt < DIAL_BACKOFF_MS) continue;
      if (id && id.cryptoType === CRYPTO_TYPE_X25519)
        list.push({ identHash: e.identHash, encryptionKey: id.encryptionPublicKey });
    }
    return list;
  }

  /** Whether a message to this router can leave: a session, or a dialable address not in back-off. */
  canReach(identHash: Uint8Array): boolean {
    const e = this.byHash.get(hexOf(identHash));
    if (!e) return false;
    if (e.session?.state === 'established' || e.waiting) return true;
    if (e.dialFailedAt !== 0 && Date.now() - e.dialFailedAt < DIAL_BACKOFF_MS) return false;
    return e.info?.ntcp2Addresses.some((a) => a.dialable) ?? false;
  }

  /** The netDb (after start): entries, lookups, publishing (docs/netdb.md). */
  get netDb(): NetDb {
    if (!this.db) throw new Error('router not started');
    return this.db;
  }

  /** The tunnel side (undefined with `tunnels: false` or before start). */
  get tunnels(): TunnelService | undefined {
    return this.tunnelSide;
  }

  private caps(): Partial<Caps> {
    return {
      bandwidth: ['L'],
      reachable: true,
      ...this.opts.caps,
      ...(this.opts.floodfill ? { floodfill: true } : {}),
    };
  }

  get ready(): RouterReady | undefined {
    return this.readyInfo;
  }

  /** Our ident hash (after start). */
  get identHash(): Uint8Array {
    if (!this.ownHash) throw new Error('router not started');
    return this.ownHash;
  }

  /** Our current signed RouterInfo. */
  get routerInfo(): Uint8Array {
    if (!this.riBytes) throw new Error('router not started');
    return this.riBytes;
  }

  /** The data plane: join / end tunnels here (nextHop and previousHop are peer ids from peerId()). */
  get dataPlane(): DataPlane {
    if (!this.plane) throw new Error('router not started');
    return this.plane;
  }

  get ntcp2(): Ntcp2Transport {
    return this.transportOrThrow();
  }

  private transportOrThrow(): Ntcp2Transport {
    if (!this.transport) throw new Error('router not started');
    return this.transport;
  }

  // ---------------------------------------------------------------- peers

  /** The table entry for a peer, created (with a new id) if needed. */
  peer(identHash: Uint8Array): PeerEntry {
    const key = hexOf(identHash);
    let e = this.byHash.get(key);
    if (!e) {
      this.evictIfFull();
      let id = this.nextId++;
      if (id >= LOCAL_HOP) {
        this.nextId = 1;
        id = this.nextId++;
      } // ids never reach LOCAL_HOP
      while (this.byId.has(id)) id = this.nextId++;
      e = {
        id,
        identHash: Uint8Array.from(identHash),
        ident: identHashBase64(identHash),
        info: undefined,
        session: undefined,
        waiting: undefined,
        lastSeen: Date.now(),
        dialFailedAt: 0,
      };
      this.byHash.set(key, e);
      this.byId.set(id, e);
    }
    return e;
  }

  /** The numeric id the data plane uses for this peer (TunnelConfig.nextHop / previousHop). */
  peerId(identHash: Uint8Array): number {
    return this.peer(identHash).id;
  }

  peerById(id: number): PeerEntry | undefined {
    return this.byId.get(id);
  }

  peers(): IterableIterator<PeerEntry> {
    return this.byHash.values();
  }

  private evictIfFull(): void {
    const max = this.opts.maxPeers ?? DEFAULT_MAX_PEERS;
    if (this.byHash.size < max) return;
    let oldest: [string, PeerEntry] | undefined;
    for (const kv of this.byHash)
      if (!kv[1].session && !kv[1].waiting && (!oldest || kv[1].lastSeen < oldest[1].lastSeen)) oldest = kv;
    if (oldest) {
      this.byHash.delete(oldest[0]);
      this.byId.delete(oldest[1].id);
      this.count('peer-evicted');
    }
  }

  /** Stores a verified RouterInfo if it is newer than the one held (peer table and netDb); returns the entry. */
  private learn(p: PeerRouterInfo): PeerEntry | undefined {
    if (this.ownHash && hexOf(p.identHash) === hexOf(this.ownHash)) return undefined; // our own, reflected
    this.db?.offerRouterInfo(p);
    return this.learnPeer(p);
  }

  /** The peer-table half of learn(): what the netDb calls for a RouterInfo it stored. */
  private learnPeer(p: PeerRouterInfo): PeerEntry | undefined {
    if (this.ownHash && hexOf(p.identHash) === hexOf(this.ownHash)) return undefined;
    const e = this.peer(p.identHash);
    if (e.info && e.info.routerInfo.published >= p.routerInfo.published) return e;
    e.info = p;
    e.lastSeen = Date.now();
    if (this.opts.storePeers) {
      try {
        writeRouterInfoFile(join(this.dataDir, netDbRelativePath(e.identHash)), p.routerInfo.bytes);
      } catch {
        this.count('netdb-write-failed');
      }
    }
    this.emit('routerInfo', e);
    return e;
  }

  /** Adds a peer from signed RouterInfo bytes (verified). Throws with the reason when it is not usable. */
  addPeer(bytes: Uint8Array): PeerEntry {
    const r = readPeerRouterInfo(bytes);
    if (!r.ok) throw new Error(`RouterInfo rejected (${r.kind}): ${r.error}`);
    const e = this.learn(r.value);
    if (!e) throw new Error('that RouterInfo is our own');
    return e;
  }

  /** Adds a peer from a RouterInfo file (router.info or a netDb .dat). */
  addPeerFile(path: string): PeerEntry {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new Error(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
        cause: e,
      });
    }
    if (bytes.length > MAX_ROUTER_INFO_SIZE)
      throw new Error(`${path} is ${bytes.length} bytes, more than a RouterInfo (${MAX_ROUTER_INFO_SIZE})`);
    try {
      return this.addPeer(bytes);
    } catch (e) {
      throw new Error(`${path}: ${(e as Error).message}`, { cause: e });
    }
  }

  // ---------------------------------------------------------------- client data

  /** Client data (i2np.md §4.3) out of one of our inbound tunnels: the 'data' event, or counted when nobody listens. */
  private onData(m: LocalI2np, via: LocalTunnel | undefined): void {
    const d = decodeData(m.body);
    if (!d.ok) {
      this.count('bad-data');
      return;
    }
    if (this.listenerCount('data') === 0) {
      this.count('data-unclaimed');
      return;
    }
    this.emit('data', { payload: d.value, msgId: m.msgId, inbound: via } satisfies DataEvent);
  }

  /**
   * Sends client data as an I2NP Data (20) message out through one of our outbound tunnels (`via`: that tunnel, or the
   * name of the pool to pick one from at random, default the exploratory pool) to the inbound tunnel `to` of another
   * router: its OBEP hands it to that tunnel's gateway as a TunnelGateway (tunnel-message.md §3, TUNNEL delivery), and
   * it comes out of the receiver's inbound endpoint as its 'data' event. Payloads longer than one tunnel message are
   * fragmented by our gateway and reassembled at both endpoints. Returns the Data message's id (DataEvent.msgId at the
   * receiver, never 0), or 0 when dropped (counted: no tunnel, queue full). Throws RangeError for a payload over
   * MAX_DATA_PAYLOAD or a tunnel id outside 1..2^32-1.
   */
  sendData(payload: Uint8Array, to: DataTarget, via: LocalTunnel | string = 'exploratory'): number {
    if (!(payload instanceof Uint8Array) || payload.length > MAX_DATA_PAYLOAD)
      throw new RangeError(`payload must be bytes, at most ${MAX_DATA_PAYLOAD}`);
    if (!Number.isInteger(to.tunnelId) || to.tunnelId < 1 || to.tunnelId > 0xffffffff || to.gateway.length !== 32)
      throw new RangeError('target needs a 32-byte gateway hash and a tunnel id 1..2^32-1');
    const side = this.tunnelSide;
    if (!side || this.state !== 'running') {
      this.count('data-not-running');
      return 0;
    }
    const tunnel = typeof via === 'string' ? side.pool(via)?.select('outbound') : via;
    if (!tunnel) {
      this.count('data-no-outbound-tunnel');
      return 0;
    }
    const msgId = randomMsgId();
    const msg = encodeI2np(I2NP_DATA, msgId, Date.now() + I2NP_EXPIRATION_MS, encodeData(payload));
    if (!side.creator.sendThrough(tunnel, msg, { delivery: 'TUNNEL', toHash: to.gateway, tunnelId: to.tunnelId })) {
      this.count('data-send-failed');
      return 0;
    }
    return msgId;
  }

  /** Dials a known peer (its RouterInfo must have a dialable NTCP2 address); resolves with the session. */
  connect(identHash: Uint8Array): Promise<Session> {
    const t = this.transportOrThrow();
    if (this.state !== 'running') return Promise.reject(new Error('router is not running'));
    const e = this.peer(identHash);
    if (e.session?.state === 'established') return Promise.resolve(e.session);
    const a = e.info?.ntcp2Addresses.find((x) => x.dialable);
    if (!a) return Promise.reject(new Error(`no dialable NTCP2 address known for ${e.ident}`));
    return t.connect({ identHash: e.identHash, staticKey: a.staticKey, iv: a.iv!, host: a.host!, port: a.port! });
  }

  // ---------------------------------------------------------------- sessions

  private onSession(s: Session): void {
    const e = this.peer(s.peerHash!);
    e.session = s;
    e.lastSeen = Date.now();
    this.sessionPeer.set(s, e);
    this.emit('session', { peer: e.ident, direction: s.direction, state: 'established' } satisfies SessionEvent);
    const w = e.waiting;
    e.waiting = undefined;
    e.dialFailedAt = 0;
    if (w) {
      this.waitingTotal -= w.length;
      for (const m of w) this.sendTo(e, m.type, m.body, m.msgId, m.expirationSec);
    }
  }

  private onSessionClose(s: Session, info: CloseInfo): void {
    this.closedBytesIn += s.bytesIn;
    this.closedBytesOut += s.bytesOut;
    this.paused.delete(s);
    if (s.establishedAt === 0 || !s.peerHash) return; // never established: counted by the transport
    const e = this.byHash.get(hexOf(s.peerHash));
    if (e && e.session === s) e.session = undefined;
    this.emit('session', {
      peer: identHashBase64(s.peerHash),
      direction: s.direction,
      state: 'closed',
      reason: info.reason,
      ...(info.code !== undefined ? { code: info.code } : {}),
    } satisfies SessionEvent);
  }

  private onSessionDrain(_s: Session): void {
    // Room again in a session's send queue: nothing is retried (dropped messages are counted), so nothing to do.
  }

  // ---------------------------------------------------------------- I2NP in

  /**
   * Installs the handler for an I2NP type, replacing the router's own (DatabaseStore 1, TunnelData 18) or giving one
   * to a type it counts as unhandled (e.g. BUILD_AND_GARLIC_TYPES). `undefined` removes it.
   */
  handle(type: number, handler: I2npHandler | undefined): void {
    if (!Number.isInteger(type) || type < 0 || type > 255) throw new RangeError('I2NP type must be 0..255');
    if (handler) this.handlers.set(type, handler);
    else this.handlers.delete(type);
  }

  private onI2np(s: Session, type: number, msgId: number, expirationSec: number, body: Uint8Array): void {
    this.inCounts[type] = (this.inCounts[type] ?? 0) + 1;
    const e = this.sessionPeer.get(s) ?? this.peer(s.peerHash!);
    const h = this.handlers.get(type);
    if (!h) {
      this.count('unhandled');
      return;
    }
    try {
      h({ type, msgId, expirationSec, body, peer: e, session: s });
    } catch (err) {
      // An application handler's bug costs that message, not the session it came on.
      this.count('handler-error');
      this.emit('warning', err instanceof Error ? err : new Error(String(err)));
    }
  }

  private onTunnelData(m: I2npMessageIn): void {
    if (m.body.length !== TUNNEL_DATA_SIZE) {
      this.count('bad-tunneldata');
      return;
    }
    const plane = this.plane;
    if (!plane) {
      this.count('no-dataplane');
      return;
    }
    if (!plane.push(m.body, m.peer.id)) {
      // Queue full (counted by the data plane as queueFull): stop reading this session until it drains, so TCP
      // slows the sender.
      if (!this.paused.has(m.session)) {
        this.paused.add(m.session);
        m.session.pauseReceive();
      }
    }
  }

  private onPlaneDrain(): void {
    for (const s of this.paused) s.resumeReceive();
    this.paused.clear();
  }

  /**
   * A message that ended at this router and is not the tunnel side's (OBEP LOCAL / ROUTER-to-us delivery, a garlic
   * clove, our inbound tunnels' output): the netDb's types go there without a link to answer over (replies follow the
   * message's own reply fields, netdb-floodfill.md §2.2, §5).
   */
  private dispatchLocal(m: LocalI2np): void {
    const db = this.db;
    if (!db) return this.count('local-unhandled');
    switch (m.type) {
      case I2NP_DATABASE_STORE:
        return db.handleStore(m.body);
      case I2NP_DATABASE_LOOKUP:
        return db.handleLookup(m.body);
      case I2NP_DATABASE_SEARCH_REPLY:
        return db.handleSearchReply(m.body);
      case I2NP_DELIVERY_STATUS:
        if (!db.handleDeliveryStatus(m.body)) this.count('local-unhandled');
        return;
      default:
        this.count('local-unhandled');
    }
  }

  private onRouterInfoBlock(s: Session, ri: Uint8Array): void {
    const p = readPeerRouterInfo(ri);
    if (!p.ok) {
      this.count(`ri-block-${p.kind}`);
      return;
    }
    this.learn(p.value);
    void s;
  }

  // ---------------------------------------------------------------- I2NP out

  /**
   * Sends an I2NP message to a peer: over its session, or after dialling it when its RouterInfo is known. Ownership
   * of `body` passes to the router. Returns false when it was dropped (counted by reason).
   */
  send(identHash: Uint8Array, type: number, body: Uint8Array): boolean {
    return this.sendTo(this.peer(identHash), type, body);
  }

  /**
   * Sends an I2NP message with the given message id and expiration (epoch ms), as the tunnel side needs: a forwarded
   * build carries the id the next hop or the creator waits for (tunnel-build-ecies.md §9). Otherwise as `send`.
   */
  sendI2np(identHash: Uint8Array, m: OutgoingI2np): boolean {
    return this.sendTo(this.peer(identHash), m.type, m.body, m.msgId >>> 0, Math.floor(m.expiration / 1000));
  }

  private sendTo(e: PeerEntry, type: number, body: Uint8Array, msgId?: number, expirationSec?: number): boolean {
    const s = e.session;
    if (s && s.state === 'established') {
      if (
        !s.sendI2np(
          type,
          msgId ?? randomMsgId(),
          expirationSec ?? Math.floor((Date.now() + I2NP_EXPIRATION_MS) / 1000),
          body,
        )
      ) {
        this.count('send-queue-full');
        return false;
      }
      this.outCounts[type] = (this.outCounts[type] ?? 0) + 1;
      return true;
    }
    if (this.state !== 'running') {
      this.count('stopping');
      return false;
    }
    if (e.waiting) {
      if (e.waiting.length >= DIAL_QUEUE_MAX || this.waitingTotal >= DIAL_QUEUE_TOTAL_MAX) {
        this.count('dial-queue-full');
        return false;
      }
      e.waiting.push({ type, body, msgId, expirationSec });
      this.waitingTotal++;
      return true;
    }
    if (!e.info?.ntcp2Addresses.some((a) => a.dialable)) {
      this.count('no-route');
      return false;
    }
    if (e.dialFailedAt !== 0 && Date.now() - e.dialFailedAt < DIAL_BACKOFF_MS) {
      this.count('dial-backoff');
      return false;
    }
    if (this.waitingTotal >= DIAL_QUEUE_TOTAL_MAX) {
      this.count('dial-queue-full');
      return false;
    }
    e.waiting = [{ type, body, msgId, expirationSec }];
    this.waitingTotal++;
    this.connect(e.identHash).catch((err: Error) => {
      const n = e.waiting?.length ?? 0;
      e.waiting = undefined;
      this.waitingTotal -= n;
      e.dialFailedAt = Date.now();
      this.drops['dial-failed'] = (this.drops['dial-failed'] ?? 0) + n;
      this.emit('warning', new Error(`dial ${e.ident} failed: ${err.message}`));
    });
    return true;
  }

  /** Data plane output: every forwarded TunnelData goes to its next hop's session (docs/router-data-path.md). */
  private onOutput(b: OutputBatch): void {
    if (b.count === 0) return;
    // One bulk copy of the whole batch out of the shared slot; each message is then a view into it, owned by the
    // session queue it goes to until sealed.
    const bodies = b.bodies.slice(0, b.count * TUNNEL_DATA_SIZE);
    for (let i = 0; i < b.count; i++) {
      if (b.status[i] !== STATUS_OK) continue;
      const hop = b.nextHops[i]!;
      const body = bodies.subarray(i * TUNNEL_DATA_SIZE, (i + 1) * TUNNEL_DATA_SIZE);
      if (hop === LOCAL_HOP) {
        // Our OBEPs and IBEPs (netdb-floodfill.md §7.3): reassembly may keep a fragment for seconds, so it gets its
        // own 1028 bytes rather than a view that would hold the whole batch copy alive.
        if (!this.tunnelSide?.handleEndpointOutput(b.nextTunnelIds[i]!, body.slice()))
          this.count('local-delivery-unhandled');
        continue;
      }
      const e = this.byId.get(hop);
      if (!e) {
        this.count('unknown-next-hop');
        continue;
      }
      this.sendTo(e, I2NP_TUNNEL_DATA, body);
    }
  }

  /**
   * Re-signs our RouterInfo with a strictly newer `published`, rewrites DIR/router.info, and sends it in a RouterInfo
   * block (§5.2; flag bit 0 = flood request, default 0 as i2pd sends its own) to one peer or to every session.
   * Returns the number of sessions it went to.
   */
  publishRouterInfo(opts: { to?: Uint8Array; flag?: number } = {}): number {
    const t = this.transportOrThrow();
    const bytes = this.resign();
    let n = 0;
    const targets = opts.to ? [t.session(opts.to)].filter((x): x is Session => x !== undefined) : [...t.sessions()];
    for (const s of targets) if (s.sendRouterInfo(bytes, opts.flag ?? 0)) n++;
    return n;
  }

  /** Re-signs our RouterInfo with a strictly newer `published` and rewrites DIR/router.info. */
  private resign(): Uint8Array {
    const secrets = this.secrets!;
    const [host, port] = splitHostPort(this.readyInfo!.ntcp2);
    const published = nextPublished(this.riPublished);
    const bytes = buildLocalRouterInfo(secrets.keys, secrets.ntcp2, { host, port, caps: this.caps(), published });
    writeRouterInfoFile(join(this.dataDir, ROUTER_INFO_FILE), bytes);
    this.riBytes = bytes;
    this.riPublished = published;
    return bytes;
  }

  /** What the netDb publishes: our RouterInfo, re-signed first when it is older than RESIGN_AFTER_MS (§6.2). */
  private ownRouterInfoForPublish(): Uint8Array {
    if (this.riBytes && Date.now() - this.riPublished < RESIGN_AFTER_MS) return this.riBytes;
    try {
      return this.resign();
    } catch {
      this.count('resign-failed');
      return this.riBytes!;
    }
  }

  // ---------------------------------------------------------------- stats and stop

  private count(reason: string): void {
    this.drops[reason] = (this.drops[reason] ?? 0) + 1;
  }

  stats(): RouterStats {
    let bytesIn = this.closedBytesIn;
    let bytesOut = this.closedBytesOut;
    let sessions = 0;
    const t = this.transport;
    if (t) {
      for (const s of t.sessions()) {
        sessions++;
        bytesIn += s.bytesIn;
        bytesOut += s.bytesOut;
      }
    }
    const dropped: Record<string, number> = { ...this.drops };
    if (t) for (const [k, v] of Object.entries(t.stats.dropped)) dropped[`ntcp2.${k}`] = v;
    let tunnelDataIn = 0;
    let tunnelDataOut = 0;
    if (this.plane) {
      const ps = this.plane.stats();
      tunnelDataIn = ps.messagesIn;
      tunnelDataOut = ps.messagesOut;
      for (const [k, v] of Object.entries(ps.dropped)) if (v > 0) dropped[`dataplane.${k}`] = v;
    }
    const r: RouterStats = {
      sessions,
      i2npIn: { ...this.inCounts },
      i2npOut: { ...this.outCounts },
      bytesIn,
      bytesOut,
      dropped,
      peers: this.byHash.size,
      tunnelDataIn,
      tunnelDataOut,
    };
    if (this.db) r.netdb = this.db.stats();
    if (this.tunnelSide) {
      // Our own tunnels' gateway / endpoint drops (framing, queue full), prefixed `tunnels.`.
      for (const [k, v] of Object.entries(this.tunnelSide.creator.stats().dropped)) dropped[`tunnels.${k}`] = v;
      const ts = this.tunnelSide.stats();
      r.transit = ts.transit;
      r.tunnels = ts.tunnels;
    }
    return r;
  }

  /**
   * Graceful stop: Termination (reason 3, router shutdown) on every session, the data plane closed (its keys wiped),
   * our private keys wiped. Resolves when everything is closed (sessions that do not close within `graceMs` are
   * destroyed).
   */
  async stop(graceMs = 3_000): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    for (const e of this.byHash.values()) e.waiting = undefined;
    this.waitingTotal = 0;
    // Pools stopped and every tunnel ended first (keys wiped on the plane), so nothing is built while sessions close.
    this.tunnelSide?.close();
    this.db?.close();
    await this.transport?.close(graceMs);
    await this.plane?.close();
    if (this.secrets) {
      wipeRouterKeys(this.secrets.keys);
      wipeNtcp2Keys(this.secrets.ntcp2);
    }
    if (this.staticPair) wipePair(this.staticPair);
    this.state = 'stopped';
  }
}

// Message ids: a random start, then +1 (a per-message randomBytes call would cost more than the rest of a forward;
// ids only need to differ between messages, i2np.md §1).
let msgIdCounter = randomBytes(4).readUInt32BE(0);
function randomMsgId(): number {
  msgIdCounter = (msgIdCounter + 1) >>> 0;
  return msgIdCounter || 1;
}

function splitHostPort(s: string): [string, number] {
  const i = s.lastIndexOf(':');
  return [s.slice(0, i), Number(s.slice(i + 1))];
}

/** Creates a router; call `start()` to load its identity and listen. */
export function createRouter(options: RouterOptions): Router {
  return new Router(options);
}
