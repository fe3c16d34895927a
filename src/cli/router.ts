// `tunnelplane router`: runs a router on the wire (NTCP2, ntcp2-routerinfo.md §6) from a data directory: identity
// created on the first run, DIR/router.info written on every run, optional peers dialled from their RouterInfo files.
import { accessSync, constants as fsConstants, mkdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { parse, UsageError } from './args.js';
import {
  createRouter,
  type Router,
  type RouterStats,
  type RouterTunnelOptions,
  type SessionEvent,
} from '../router/router.js';
import type { TunnelEvent } from '../router/tunnels/pool.js';

export const usage = `usage: tunnelplane router --data DIR [--host 127.0.0.1] [--port N] [--floodfill]
                        [--peer ROUTER_INFO_FILE]... [--duration S] [--json]
                        [--no-transit] [--exploratory-length N] [--exploratory-quantity N]

Runs an I2P router speaking NTCP2: loads (or on the first run creates) its identity in DIR, listens on HOST:PORT,
writes DIR/router.info (give this file to a peer: i2pd-local --peer DIR/router.info), keeps a netDb (stores
verified RouterInfos and LeaseSets, answers lookups; as --floodfill floods new entries and keeps RouterInfos in
DIR/netDb across restarts), publishes its RouterInfo to the floodfills it knows and finds other routers through them,
accepts transit tunnels (ShortTunnelBuild, VariableTunnelBuild, garlic-wrapped builds), keeps an exploratory tunnel
pool through known peers, and dials each --peer. SIGINT / SIGTERM send Termination to every session and exit 0.
SIGHUP re-signs the RouterInfo with a newer date, rewrites DIR/router.info and sends it to every connected peer.
  --data DIR        data directory (router.keys, ntcp2.keys, router.info); created if missing
  --host IP         NTCP2 address to listen on and publish (default 127.0.0.1; an IP literal)
  --port N          NTCP2 port (default 0: any free port, the bound one is published)
  --floodfill       publish caps with f (peers then store RouterInfos and LeaseSets here)
  --peer FILE       a peer's signed RouterInfo (router.info or netDb .dat) to dial at start (repeatable); one
                    floodfill's router.info is enough: the others are found through it
  --duration S      stop cleanly after S seconds
  --no-transit      refuse every transit tunnel (build requests answered with code 30)
  --exploratory-length N    hops of our exploratory tunnels, 0..8 (default 2, as i2pd)
  --exploratory-quantity N  exploratory tunnels each way, 0..16 (default 3, as i2pd; 0: no pool)
  --json            one JSON object per line: ready, session, tunnel, dial, published, stats (every 5 s), stopped`;

const STATS_EVERY_MS = 5_000;

function statsJson(s: RouterStats): Record<string, unknown> {
  return {
    event: 'stats',
    sessions: s.sessions,
    i2npIn: s.i2npIn,
    i2npOut: s.i2npOut,
    bytesIn: s.bytesIn,
    bytesOut: s.bytesOut,
    dropped: s.dropped,
    ...(s.transit ? { transit: s.transit } : {}),
    ...(s.tunnels ? { tunnels: s.tunnels } : {}),
    ...(s.netdb ? { netdb: s.netdb } : {}),
  };
}

function counts(c: Record<string, number>): string {
  const e = Object.entries(c);
  return e.length === 0 ? '-' : e.map(([k, v]) => `${k}:${v}`).join(' ');
}

function statsLine(s: RouterStats): string {
  const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0);
  const tun =
    s.transit && s.tunnels
      ? `  transit p/obep/ibgw ${s.transit.participant}/${s.transit.obep}/${s.transit.ibgw} rejected [${counts(s.transit.rejected)}]  tunnels in ${s.tunnels.inbound} out ${s.tunnels.outbound} building ${s.tunnels.building} failed ${s.tunnels.failed}`
      : '';
  const n = s.netdb;
  const db = n
    ? `  netdb ri ${n.routerInfos} (ff ${n.floodfills}) ls ${n.leaseSets} stores ${n.stores} lookups ${n.lookups} dsrm ${n.searchReplies} floods ${n.floods} dropped [${counts(n.dropped)}]`
    : '';
  return `sessions ${s.sessions}  i2np in [${counts(s.i2npIn)}] out [${counts(s.i2npOut)}]  bytes in ${s.bytesIn} out ${s.bytesOut}  dropped ${dropped}${tun}${db}`;
}

function tunnelLine(e: TunnelEvent): string {
  const hops = e.hops.map((h) => h.slice(0, 8)).join(' > ') || 'zero-hop';
  return `tunnel ${e.pool} ${e.direction} ${e.event}${e.id !== undefined ? ` ${e.id}` : ''} [${hops}]${e.reason ? ` (${e.reason}${e.hop !== undefined ? `, hop ${e.hop}` : ''})` : ''}${e.latencyMs !== undefined ? ` ${e.latencyMs} ms` : ''}`;
}

function smallInt(name: string, v: string | undefined, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) > max) throw new UsageError(`${name} takes a number 0..${max}, not '${v}'`);
  return Number(v);
}

function sessionLine(e: SessionEvent): string {
  const arrow = e.direction === 'in' ? '<-' : '->';
  return `session ${arrow} ${e.peer} ${e.state}${e.reason ? ` (${e.reason}${e.code !== undefined ? `, code ${e.code}` : ''})` : ''}`;
}

/** DIR must exist (or be creatable) and be writable: checked up front for a clear message. */
function checkDataDir(dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, fsConstants.W_OK | fsConstants.R_OK | fsConstants.X_OK);
    return undefined;
  } catch (e) {
    return `data directory ${dir} is not writable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    data: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    floodfill: { type: 'boolean' },
    peer: { type: 'string', multiple: true },
    duration: { type: 'string' },
    json: { type: 'boolean' },
    'no-transit': { type: 'boolean' },
    'exploratory-length': { type: 'string' },
    'exploratory-quantity': { type: 'string' },
  });
  if (!values.data) throw new UsageError('--data DIR is required');
  const host = values.host ?? '127.0.0.1';
  if (isIP(host) === 0)
    throw new UsageError(`--host must be an IP literal (peers cannot use a hostname), not '${host}'`);
  let port = 0;
  if (values.port !== undefined) {
    if (!/^\d+$/.test(values.port) || Number(values.port) > 65535)
      throw new UsageError(`--port takes a number 0..65535, not '${values.port}'`);
    port = Number(values.port);
  }
  let durationMs: number | undefined;
  if (values.duration !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(values.duration) || Number(values.duration) <= 0)
      throw new UsageError(`--duration takes a positive number of seconds, not '${values.duration}'`);
    durationMs = Number(values.duration) * 1000;
  }
  const length = smallInt('--exploratory-length', values['exploratory-length'], 8);
  const quantity = smallInt('--exploratory-quantity', values['exploratory-quantity'], 16);
  const dir = { ...(length !== undefined ? { length } : {}), ...(quantity !== undefined ? { quantity } : {}) };
  const tunnels: RouterTunnelOptions = {
    ...(values['no-transit'] ? { transit: false } : {}),
    ...(quantity === 0 ? { exploratory: false } : { exploratory: { inbound: dir, outbound: dir } }),
  };
  const json = values.json === true;
  const out = (o: Record<string, unknown>, line: string) =>
    process.stdout.write((json ? JSON.stringify(o) : line) + '\n');
  const fail = (msg: string): number => {
    if (json) process.stdout.write(JSON.stringify({ event: 'error', message: msg }) + '\n');
    process.stderr.write(`tunnelplane router: ${msg}\n`);
    return 1;
  };

  const dirProblem = checkDataDir(values.data);
  if (dirProblem) return fail(dirProblem);
  const router: Router = createRouter({
    dataDir: values.data,
    host,
    port,
    floodfill: values.floodfill === true,
    tunnels,
  });
  // `reason` is always present in JSON (null while established), so consumers can rely on the field.
  router.on('session', (e: SessionEvent) => out({ event: 'session', ...e, reason: e.reason ?? null }, sessionLine(e)));
  // Every pool change is an event, except a repeated "no peers" for the same pool and direction (it recurs each tick
  // until the netDb knows enough routers).
  const noPeers = new Set<string>();
  router.on('tunnel', (e: TunnelEvent) => {
    const k = `${e.pool}/${e.direction}`;
    if (e.event === 'build-failed' && e.reason === 'no-peers') {
      if (noPeers.has(k)) return;
      noPeers.add(k);
    } else noPeers.delete(k);
    // TunnelEvent.event becomes `kind`: `event` is the line's type in --json.
    const { event: kind, ...rest } = e;
    out({ event: 'tunnel', kind, ...rest }, tunnelLine(e));
  });
  router.on('warning', (e: Error) => out({ event: 'warning', message: e.message }, `warning: ${e.message}`));
  let ready;
  try {
    ready = await router.start();
  } catch (e) {
    return fail((e as Error).message);
  }
  const peers = [];
  for (const file of values.peer ?? []) {
    try {
      peers.push(router.addPeerFile(file));
    } catch (e) {
      await router.stop(500);
      return fail(`--peer ${(e as Error).message}`);
    }
  }
  out(
    { event: 'ready', ident: ready.ident, routerInfo: ready.routerInfo, ntcp2: ready.ntcp2 },
    `router ${ready.ident} listening on ${ready.ntcp2}${ready.created.length ? ` (new identity: ${ready.created.join(', ')})` : ''}; RouterInfo in ${ready.routerInfo}`,
  );
  for (const p of peers) {
    router
      .connect(p.identHash)
      .catch((e: Error) =>
        out({ event: 'dial', peer: p.ident, ok: false, error: e.message }, `dial ${p.ident} failed: ${e.message}`),
      );
  }
  const ticker = setInterval(() => {
    const s = router.stats();
    out(statsJson(s), statsLine(s));
  }, STATS_EVERY_MS);
  const onHup = () => {
    try {
      const n = router.publishRouterInfo();
      out({ event: 'published', sessions: n }, `RouterInfo re-signed and sent to ${n} peer${n === 1 ? '' : 's'}`);
    } catch (e) {
      out(
        { event: 'warning', message: `cannot publish: ${(e as Error).message}` },
        `warning: cannot publish: ${(e as Error).message}`,
      );
    }
  };
  process.on('SIGHUP', onHup);
  const signal = await new Promise<string>((resolve) => {
    const timer = durationMs !== undefined ? setTimeout(() => resolve('duration'), durationMs) : undefined;
    const onSignal = (name: string) => () => {
      if (timer) clearTimeout(timer);
      resolve(name);
    };
    process.once('SIGINT', onSignal('SIGINT'));
    process.once('SIGTERM', onSignal('SIGTERM'));
  });
  clearInterval(ticker);
  process.off('SIGHUP', onHup);
  await router.stop();
  const s = router.stats();
  out({ ...statsJson(s), event: 'stopped', why: signal }, `stopped (${signal}): ${statsLine(s)}`);
  return 0;
}
