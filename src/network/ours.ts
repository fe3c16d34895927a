// Our routers of a private network on 127.0.0.1 (netdb-floodfill.md §8.1, docs/network.md): N tunnelplane routers in
// this process, each with its own data directory under one temporary directory and its own NTCP2 port, the first
// ones floodfill, every router told only the floodfills' RouterInfos (the netDb introduces the rest), each with a
// client pool ("network") whose tunnels carry the traffic. In-process rather than child processes: the traffic generator sends through the routers' own tunnels
// and reads their counters directly, and one process is one thing to clean up; the routers still meet only over
// NTCP2 and each has its own data plane.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRouter, type Router, type RouterStats } from '../router/router.js';
import type { DataPlaneOptions } from '../dataplane/index.js';
import type { LocalTunnel } from '../router/tunnels/creator.js';
import type { TunnelEvent } from '../router/tunnels/pool.js';

const hexOf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** NetDb timers for a loopback network (docs/netdb.md): seconds, where i2pd's defaults are minutes. */
const NETWORK_NETDB = { tickMs: 250, publishRetryMs: 1000, exploreFastMs: 1000, lookupStepMs: 1500 };

/** The client pool each router keeps for the network's traffic. */
export const NETWORK_POOL = 'network';

export interface OurNetworkOptions {
  routers: number;
  /** Hops of the traffic tunnels (default min(2, routers - 1)); every hop is another of our routers. */
  hops?: number;
  /** Tunnels each way per router (default 3). */
  quantity?: number;
  /** Floodfill routers among ours (default 1 per 3, at least 1). */
  floodfills?: number;
  /** Parent of the temporary directory (default the OS temp dir). */
  baseDir?: string;
  /** Data plane per router (default one worker thread each; 'inline' for tests on a small machine). */
  dataPlane?: Omit<DataPlaneOptions, 'onOutput'>;
  /** Pool tunnel tests every this many ms (default 2 s): a tunnel through a dead router is dropped after two misses. */
  testIntervalMs?: number;
  /** Build timeout (default 10 s; i2pd's 30 s is long for a loopback network). */
  buildTimeoutMs?: number;
  /**
   * Who is told whose RouterInfo at start: 'floodfills' (default) gives every router only the floodfills' and lets
   * the netDb do the rest (publish, explore, fetch; docs/netdb.md); 'all' gives every router every other's.
   */
  seed?: 'floodfills' | 'all';
}

export interface OurRouter {
  index: number;
  router: Router;
  ident: string;
  floodfill: boolean;
  dataDir: string;
  /** Stopped by kill(): not used for traffic, not in the live view. */
  alive: boolean;
}

/** N of our routers; start() brings them up and seeds them, stop() stops them and removes the directory. */
export class OurNetwork {
  readonly dir: string;
  readonly members: OurRouter[] = [];
  readonly hops: number;
  readonly quantity: number;
  private readonly opts: OurNetworkOptions;
  private readonly listeners: ((i: number, e: TunnelEvent) => void)[] = [];
  private stopped = false;
  private readonly ourHashes = new Set<string>();

  /** One `ready` event per started router (the network's --json stream and the live view share them). */
  readyEvents(): {
    event: 'ready';
    router: number;
    ident: string;
    floodfill: boolean;
    ntcp2: string;
    dataDir: string;
  }[] {
    return this.members.map((m) => ({
      event: 'ready',
      router: m.index,
      ident: m.ident,
      floodfill: m.floodfill,
      ntcp2: m.router.ready!.ntcp2,
      dataDir: m.dataDir,
    }));
  }

  constructor(opts: OurNetworkOptions) {
    if (!Number.isInteger(opts.routers) || opts.routers < 1 || opts.routers > 64)
      throw new RangeError('routers must be 1..64');
    this.opts = opts;
    this.hops = opts.hops ?? Math.min(2, opts.routers - 1);
    if (!Number.isInteger(this.hops) || this.hops < 0 || this.hops > Math.min(8, opts.routers - 1))
      throw new RangeError(`hops must be 0..${Math.min(8, opts.routers - 1)} with ${opts.routers} routers`);
    this.quantity = opts.quantity ?? 3;
    this.dir = mkdtempSync(join(opts.baseDir ?? tmpdir(), 'tunnelplane-network-'));
  }

  async start(): Promise<void> {
    const n = this.opts.routers;
    const floodfills = Math.max(1, Math.min(n, this.opts.floodfills ?? Math.ceil(n / 3)));
    const settings = { length: this.hops, quantity: this.quantity };
    for (let i = 0; i < n; i++) {
      const dataDir = join(this.dir, `router-${i}`);
      const router = createRouter({
        dataDir,
        host: '127.0.0.1',
        port: 0,
        floodfill: i < floodfills,
        // A loopback network of a few routers: publish, explore and retry in seconds rather than i2pd's minutes.
        // Exploration replies list only our routers: i2pd routers refuse links from loopback, so a router that learnt
        // one that way could only fail to dial it (docs/netdb.md).
        netDb: { ...NETWORK_NETDB, exploreExclude: (h: Uint8Array) => !this.ourHashes.has(hexOf(h)) },
        ...(this.opts.dataPlane ? { dataPlane: this.opts.dataPlane } : {}),
        tunnels: {
          // The exploratory pool stays small: it only carries tests and build replies here.
          exploratory: {
            inbound: { length: Math.min(1, this.hops), quantity: 1 },
            outbound: { length: Math.min(1, this.hops), quantity: 1 },
          },
          poolOptions: { testIntervalMs: this.opts.testIntervalMs ?? 2_000 },
          buildTimeoutMs: this.opts.buildTimeoutMs ?? 10_000,
          tickMs: 500,
        },
      });
      const m: OurRouter = { index: i, router, ident: '', floodfill: i < floodfills, dataDir, alive: true };
      this.members.push(m);
      router.on('tunnel', (e: TunnelEvent) => {
        for (const l of this.listeners) l(i, e);
      });
      // A warning (a failed dial to a stopped router, ...) is counted in the router's stats; nothing to print here.
      router.on('warning', () => undefined);
      const ready = await router.start();
      m.ident = ready.ident;
      this.ourHashes.add(hexOf(router.identHash));
    }
    this.seed(this.opts.seed ?? 'floodfills');
    for (const m of this.members)
      m.router.tunnels!.createClientPool(NETWORK_POOL, { inbound: settings, outbound: settings });
  }

  /** Every router learns the floodfills' RouterInfos (or, with 'all', every other's). */
  private seed(how: 'floodfills' | 'all'): void {
    for (const x of this.members)
      for (const y of this.members)
        if (x !== y && (how === 'all' || y.floodfill)) x.router.addPeer(y.router.routerInfo);
  }

  /** Whether every live router's netDb holds every other live router's RouterInfo. */
  introduced(): boolean {
    const alive = this.alive();
    return alive.every((x) =>
      alive.every((y) => x === y || x.router.netDb.routerInfo(y.router.identHash) !== undefined),
    );
  }

  onTunnel(fn: (routerIndex: number, e: TunnelEvent) => void): void {
    this.listeners.push(fn);
  }

  alive(): OurRouter[] {
    return this.members.filter((m) => m.alive);
  }

  /** Usable tunnels of a router's traffic pool. */
  tunnels(m: OurRouter, direction: 'inbound' | 'outbound'): LocalTunnel[] {
    return m.router.tunnels?.pool(NETWORK_POOL)?.tunnels(direction) ?? [];
  }

  /** Whether every live router knows every other and has at least `min` tunnels each way. */
  ready(min = 1): boolean {
    return (
      this.introduced() &&
      this.alive().every((m) => this.tunnels(m, 'inbound').length >= min && this.tunnels(m, 'outbound').length >= min)
    );
  }

  /** Our routers' ident hashes (hex), to tell our hops from others. */
  identHexes(): Set<string> {
    return new Set(this.members.map((m) => Buffer.from(m.router.identHash).toString('hex')));
  }

  /** Stops one router at once (no grace): its sessions close, the others' tunnels through it die with it. */
  async kill(index: number): Promise<void> {
    const m = this.members[index];
    if (!m || !m.alive) return;
    m.alive = false;
    await m.router.stop(0);
  }

  stats(): { index: number; ident: string; floodfill: boolean; alive: boolean; stats: RouterStats }[] {
    return this.members.map((m) => ({
      index: m.index,
      ident: m.ident,
      floodfill: m.floodfill,
      alive: m.alive,
      stats: m.router.stats(),
    }));
  }

  /** Stops every router and removes the temporary directory (keys included). Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.members.map((m) => m.router.stop(500).catch(() => undefined)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
