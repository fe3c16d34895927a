// The network with i2pd routers (netdb-floodfill.md §6, §8; docs/network.md "With i2pd"): our routers start first
// (two of them floodfill), then K i2pd 2.45.1 routers through i2pd-local that know only ours (our RouterInfos in their
// netDb, trust.routers = ours, no SSU2, the §8.1 tunnel lengths). i2pd refuses every inbound link from 127.0.0.0/8, so
// no two i2pd routers ever talk: every byte between them crosses our routers. One I2CP session (our client) on each of
// two i2pd routers, both LeaseSets looked up through i2pd (our floodfills answer), then M messages A -> B, byte-checked.
// i2pd is stopped only by the pidfile i2pd-local wrote (`i2pd-local --stop --dir`).
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { I2cpClient } from '../i2cp/client.js';
import { decodePayload, encodePayload, PROTO_RAW } from '../i2cp/payload.js';
import {
  b32Address,
  destinationHash,
  generatePrivateKeys,
  leaseSetEncryptionKey,
  type PrivateKeys,
} from '../keys/destination.js';
import { buildLeaseSet2 } from '../leaseset/leaseset2.js';
import { Router } from '../router/router.js';
import { OurNetwork } from './ours.js';
import { TrafficRun, deliverySucceeded, trafficFigures } from './traffic.js';
import { cpuPerForwarded } from './cpu.js';
import { StreamingEcho } from './streaming.js';
import { LiveView } from './view.js';
import { I2pdUnavailableError, type I2pdPortBases, type NetworkOptions, type NetworkSummary } from './types.js';

const run = promisify(execFile);

/** Where i2pd-local is: $TUNNELPLANE_I2PD_LOCAL, else ../shared/tools/i2pd-local beside the checkout. */
export function i2pdLocalPath(): string {
  const env = process.env.TUNNELPLANE_I2PD_LOCAL;
  if (env) return env;
  return join(packageRoot(), '..', 'shared', 'tools', 'i2pd-local');
}

/** The checkout's root: the first folder up from this module with a package.json (src/ under vitest, dist/src/ built). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return dir;
}

/** Whether the i2pd mode can run here, and if not why (shown by `--i2pd auto` and `npm start`). */
export function i2pdSupport(): { ok: boolean; why: string } {
  if (spawnSync('sh', ['-c', 'command -v i2pd'], { encoding: 'utf8' }).status !== 0)
    return { ok: false, why: 'i2pd is not installed (apt-get install -y i2pd)' };
  if (!existsSync(i2pdLocalPath()))
    return { ok: false, why: `i2pd-local not found at ${i2pdLocalPath()} (set TUNNELPLANE_I2PD_LOCAL)` };
  // i2pd finds the other destination's LeaseSet only through a floodfill: our routers must answer its netDb.
  if (!('netDb' in Router.prototype))
    return { ok: false, why: 'this build has no floodfill netDb yet (i2pd could not find the other LeaseSet)' };
  return { ok: true, why: '' };
}

/** §8.1 for the i2pd routers: trust only ours, no SSU2 (it refuses reserved ranges), short exploratory tunnels. */
export function i2pdSettings(trusted: string[]): string[] {
  return [
    'ssu2.enabled=false',
    'trust.enabled=true',
    `trust.routers=${trusted.join(',')}`,
    'exploratory.inbound.length=1',
    'exploratory.outbound.length=1',
    'exploratory.inbound.quantity=2',
    'exploratory.outbound.quantity=2',
    'floodfill=false',
  ];
}

/** `count` consecutive free ports on 127.0.0.1 for each of three bases (I2CP, HTTP, transport). */
async function freeBases(count: number): Promise<{ i2cp: number; http: number; transport: number }> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 900) * 10;
    const bases = { i2cp: base, http: base + 10_000, transport: base + 20_000 };
    let ok = true;
    for (const b of Object.values(bases)) for (let k = 0; k < count && ok; k++) ok = await free(b + k);
    if (ok) return bases;
  }
  throw new I2pdUnavailableError('no free ports for the i2pd routers');
}

interface I2pdInstance {
  index: number;
  pid: number;
  i2cpPort: number;
  httpPort: number;
  datadir: string;
}

/** K i2pd routers that know only `peers` (router.info files) and trust only `trusted` (Base64 ident hashes). */
export class I2pdRouters {
  readonly dir: string;
  instances: I2pdInstance[] = [];
  private started = false;

  constructor(dir: string) {
    this.dir = dir;
  }

  async start(
    k: number,
    peers: string[],
    trusted: string[],
    extraArgs: string[] = [],
    ports?: I2pdPortBases,
  ): Promise<void> {
    const bases = ports ?? (await freeBases(k));
    const env = {
      ...process.env,
      I2CP_BASE: String(bases.i2cp),
      HTTP_BASE: String(bases.http),
      TRANSPORT_BASE: String(bases.transport),
    };
    const args = ['-n', String(k), '--dir', this.dir, '--loglevel', 'info', '--wait', '60'];
    for (const p of peers) args.push('--peer', p);
    for (const s of i2pdSettings(trusted)) args.push('--set', s);
    args.push(...extraArgs);
    this.started = true;
    await run(i2pdLocalPath(), args, { env, timeout: 90_000 });
    this.instances = JSON.parse(readFileSync(join(this.dir, 'instances.json'), 'utf8')) as I2pdInstance[];
  }

  /** The last `n` lines of every instance's log matching `re`, prefixed with the instance. */
  logLines(re: RegExp, n: number): string[] {
    const out: string[] = [];
    for (const i of this.instances) {
      let text: string;
      try {
        text = readFileSync(join(i.datadir, 'i2pd.log'), 'utf8');
      } catch {
        continue;
      }
      out.push(
        ...text
          .split('\n')
          .filter((l) => re.test(l))
          .slice(-n)
          .map((l) => `r${i.index}: ${l}`),
      );
    }
    return out;
  }

  /** Stops exactly the i2pd processes i2pd-local started (its pidfile), then removes the directory. */
  async stop(): Promise<void> {
    if (this.started)
      await run(i2pdLocalPath(), ['--stop', '--dir', this.dir], { timeout: 30_000 }).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** An i2pd web console page (it answers only Host: localhost), '' when it cannot be read. */
function consolePage(port: number, query: string): Promise<string> {
  return new Promise((resolve) => {
    const req = get(
      { host: '127.0.0.1', port, path: `/?${query}`, headers: { Host: 'localhost' }, timeout: 5000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      },
    );
    req.on('error', () => resolve(''));
    req.on('timeout', () => req.destroy());
  });
}

/**
 * The hops of an i2pd router's client tunnels as its console lists them (`/?page=tunnels`: `⇒ XXXX ⇒ id:me` inbound,
 * `id:me ⇒ XXXX ⇒` outbound, XXXX = the first 4 Base64 characters of a hop's ident hash; netdb-floodfill.md §8.3 (b)),
 * exploratory tunnels left out. i2pd 2.45.1 hangs up on its I2CP destination page, so this is every client tunnel of
 * the router: our I2CP destination's and its shared local destination's.
 */
export async function clientTunnelHops(httpPort: number): Promise<string[][]> {
  const html = await consolePage(httpPort, 'page=tunnels');
  const text = html
    .replace(/<style[\s\S]*?<\/style>/gi, '')
    .replace(/<br\s*\/?>|<\/div>|<\/tr>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&#8658;|&rArr;/g, '⇒')
    .replace(/&nbsp;/g, ' ');
  const tunnels: string[][] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('⇒') || !/\d+:me/.test(line) || line.includes('exploratory')) continue;
    tunnels.push(
      line
        .split('⇒')
        .map((t) => t.trim())
        .filter((t) => /^[A-Za-z0-9~-]{4}$/.test(t)),
    );
  }
  return tunnels;
}

/** One Destination on an i2pd router through our I2CP client: answers LeaseSet requests, hands on what arrives. */
export class I2cpDestination {
  readonly keys: PrivateKeys;
  private readonly enc: { privateKey: Uint8Array; publicKey: Uint8Array };
  private client: I2cpClient | undefined;
  private lastPublished = 0;
  leaseSetsSent = 0;
  onData: (data: Uint8Array) => void = () => undefined;

  constructor() {
    this.keys = generatePrivateKeys();
    this.enc = leaseSetEncryptionKey(this.keys);
  }

  /** The b32 label (without .b32.i2p), as i2pd's console names the destination. */
  get b32(): string {
    return b32Address(this.keys.destination).replace(/\.b32\.i2p$/, '');
  }

  get hash(): Uint8Array {
    return destinationHash(this.keys.destination);
  }

  async open(port: number, hops: number): Promise<void> {
    const c = await I2cpClient.connect({ host: '127.0.0.1', port });
    this.client = c;
    c.onMessage((m) => {
      if (m.type === 'RequestVariableLeaseSet') {
        // i2pd publishes only with an outbound tunnel too and does not retry a skipped publish (§6.3): answer a moment
        // later, when the outbound tunnels asked for at the same time exist.
        setTimeout(() => {
          if (c.closed) return;
          this.lastPublished = Math.max(Math.floor(Date.now() / 1000), this.lastPublished + 1);
          const ls = buildLeaseSet2({
            keys: this.keys,
            published: this.lastPublished,
            leases: m.leases.map((l) => ({ ...l, end: Math.floor(l.end / 1000) })),
            encryptionKeys: [{ type: 4, key: this.enc.publicKey }],
          });
          c.sendCreateLeaseSet2(ls, [{ type: 4, key: this.enc.privateKey }]);
          this.leaseSetsSent++;
        }, 3000);
      } else if (m.type === 'MessagePayload') {
        const p = decodePayload(m.payload);
        if (p.ok) this.onData(p.value.data);
      }
    });
    await c.createSession(this.keys, {
      'inbound.length': String(hops),
      'outbound.length': String(hops),
      'inbound.quantity': '2',
      'outbound.quantity': '2',
      'i2cp.leaseSetEncType': '4',
      'i2cp.fastReceive': 'true',
    });
  }

  /** Looks a Destination up through i2pd (its netDb asks our floodfills) until found or `ms` ran out. */
  async find(hash: Uint8Array, ms: number, signal?: AbortSignal): Promise<boolean> {
    const end = Date.now() + ms;
    while (Date.now() < end && !signal?.aborted && this.client && !this.client.closed) {
      const r = await this.client.hostLookup(hash, 45_000).catch(() => undefined);
      if (r?.result === 0) return true;
      await new Promise((res) => setTimeout(res, 2000));
    }
    return false;
  }

  private nonce = 1;
  send(to: PrivateKeys['destination'], data: Uint8Array): boolean {
    const c = this.client;
    if (!c || c.closed) return false;
    const payload = encodePayload({ data, fromPort: 0, toPort: 0, protocol: PROTO_RAW });
    c.sendMessageExpires(to.bytes, payload, { nonce: this.nonce++ & 0xffffffff, expiration: Date.now() + 60_000 });
    return true;
  }

  close(): void {
    this.client?.close();
  }
}

export async function runI2pdNetwork(o: NetworkOptions): Promise<NetworkSummary> {
  const support = i2pdSupport();
  if (!support.ok) throw new I2pdUnavailableError(`--i2pd: ${support.why}`);
  const emit = o.onEvent ?? (() => undefined);
  const hops = o.hops ?? 1;
  const net = new OurNetwork({
    routers: o.routers,
    floodfills: Math.min(2, o.routers),
    hops: Math.min(hops, o.routers - 1),
    ...(o.dataPlane ? { dataPlane: o.dataPlane } : {}),
    ...(o.baseDir ? { baseDir: o.baseDir } : {}),
  });
  const i2pd = new I2pdRouters(join(net.dir, 'i2pd'));
  const a = new I2cpDestination();
  const b = new I2cpDestination();
  const echo = o.streamingBytes ? new StreamingEcho() : undefined;
  const view = new LiveView();
  const t0 = performance.now();
  let phase = 'starting';
  let traffic: TrafficRun | undefined;
  const ticker = setInterval(
    () =>
      emit({
        event: 'stats',
        t: Math.round((performance.now() - t0) / 100) / 10,
        phase,
        routers: view.rows(net.stats()),
        ...(traffic ? { traffic: traffic.snapshot() } : {}),
      }),
    o.intervalMs ?? 1000,
  );
  try {
    await net.start();
    for (const e of net.readyEvents()) emit(e);
    phase = 'starting i2pd';
    await i2pd.start(
      o.i2pd,
      net.members.map((m) => m.router.ready!.routerInfo),
      net.members.map((m) => m.ident),
      echo ? await echo.prepare(join(net.dir, 'streaming')) : [],
      o.i2pdPorts,
    );
    phase = 'i2cp sessions';
    await a.open(i2pd.instances[0]!.i2cpPort, hops);
    await b.open(i2pd.instances[1]!.i2cpPort, hops);
    phase = 'looking up LeaseSets';
    const found = await Promise.all([a.find(b.hash, 180_000, o.signal), b.find(a.hash, 180_000, o.signal)]);
    if (!found.every(Boolean)) throw new Error('the i2pd destinations did not find each other within 180 s');
    const before = net.members.map((m) => m.router.stats().tunnelDataOut);
    phase = 'traffic';
    const tr = new TrafficRun({
      messages: o.messages,
      timeoutMs: o.timeoutMs ?? 30_000,
      ...(o.durationMs !== undefined ? { durationMs: o.durationMs } : {}),
      ...(o.window !== undefined ? { window: o.window } : { window: 16 }),
      ...(o.seed !== undefined ? { seed: o.seed } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      path: () => ({ from: 'A', to: 'B', send: (p) => a.send(b.keys.destination, p) }),
    });
    traffic = tr;
    b.onData = (d) => tr.received('B', d);
    const cpu0 = process.cpuUsage();
    const r = await tr.run();
    const cpu = process.cpuUsage(cpu0);
    let streaming;
    if (echo) {
      phase = 'i2pd streaming';
      streaming = await echo.run(o.streamingBytes!, 180_000, o.signal);
      // On failure, i2pd's own account of the LeaseSets and streams, for whoever reads the summary.
      if (!streaming.ok) streaming.i2pdLog = i2pd.logLines(/LeaseSet|Streaming|I2PTunnel|not found/i, 20);
    }
    phase = 'done';
    const forwarded = net.members.map((m, i) => m.router.stats().tunnelDataOut - before[i]!);
    // Every hop of both routers' client tunnels is one of ours (i2pd's console), and our routers carried the traffic.
    const ours = new Set(net.members.map((m) => m.ident.slice(0, 4)));
    const seen = [
      ...(await clientTunnelHops(i2pd.instances[0]!.httpPort)),
      ...(await clientTunnelHops(i2pd.instances[1]!.httpPort)),
    ];
    // Our I2CP destinations' tunnels are the ones of their length (i2pd's shared local destination has 3 hops and
    // may go through i2pd itself, §6.6; zero-hop tunnels have no hop to check).
    const mine = seen.filter((t) => t.length === hops);
    const consoleOurs = mine.length > 0 && mine.every((t) => t.every((h) => ours.has(h)));
    const s: NetworkSummary = {
      event: 'summary',
      ...trafficFigures(r),
      hopsOurs: consoleOurs && r.delivered > 0 && forwarded.some((n) => n > 0),
      i2pdTunnelHops: mine,
      ...(streaming ? { streaming } : {}),
      mode: 'i2pd',
      routers: o.routers,
      i2pd: o.i2pd,
      hops,
      seed: r.seed,
      bytesDelivered: r.bytesDelivered,
      elapsedMs: r.elapsedMs,
      forwarded,
      cpuUsPerForwarded: cpuPerForwarded(cpu, forwarded),
      ok: false,
    };
    s.ok = deliverySucceeded(s) && (streaming?.ok ?? true);
    return s;
  } finally {
    clearInterval(ticker);
    echo?.close();
    a.close();
    b.close();
    await i2pd.stop();
    await net.stop();
  }
}
