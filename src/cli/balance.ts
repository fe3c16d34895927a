// `tunnelplane balance`: one Destination on several routers, one merged LeaseSet2 for all (Proposal 140 over I2CP).
import { parse, UsageError } from './args.js';
import { loadKeyFile, b32Address } from '../keys/index.js';
import {
  Balancer,
  BalancerStartError,
  parseRouterAddress,
  type BalancerEvent,
  type RouterAddress,
} from '../balancer/balancer.js';
import { eventJson, eventLine, statusBlock } from '../balancer/report.js';
import { utf8 } from '../common/bytes.js';

export const usage = `usage: tunnelplane balance --router HOST:PORT [--router HOST:PORT ...] --keys FILE
                         [--option KEY=VALUE ...] [--duration S] [--json]

Opens an I2CP session for the Destination in FILE on every router, merges the leases all routers offer into one
LeaseSet2 (at most 16 leases; every live router keeps at least one) and sends it to every router, again whenever any
router's leases change. Lost routers are retried with backoff and rejoin when they come back.
  --router HOST:PORT   an I2CP endpoint (repeat for each router; the first one must be reachable at start)
  --keys FILE          private keys (tunnelplane keygen, or an i2pd .dat key file)
  --option KEY=VALUE   I2CP session option for every session, e.g. inbound.length=0 (repeatable)
  --duration S         stop cleanly (DestroySession) after S seconds
  --json               one JSON object per line: session, leases, published, router-lost, router-back, error`;

/** Parses --option values; throws UsageError naming the bad one. */
export function parseOptions(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`cannot read --option '${kv}': expected KEY=VALUE`);
    const key = kv.slice(0, eq);
    const value = kv.slice(eq + 1);
    if (/[=;]/.test(key) || value.includes(';'))
      throw new UsageError(
        `cannot read --option '${kv}': '=' and ';' are not allowed in I2CP option keys, ';' not in values`,
      );
    if (utf8(key).length > 255 || utf8(value).length > 255)
      throw new UsageError(`cannot read --option '${kv}': key and value are limited to 255 bytes`);
    if (key in out) throw new UsageError(`--option ${key} given twice`);
    out[key] = value;
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    router: { type: 'string', multiple: true },
    keys: { type: 'string' },
    option: { type: 'string', multiple: true },
    duration: { type: 'string' },
    json: { type: 'boolean' },
  });
  const routerArgs = values.router ?? [];
  if (routerArgs.length === 0) throw new UsageError('at least one --router HOST:PORT is required');
  const routers: RouterAddress[] = routerArgs.map((s) => {
    const a = parseRouterAddress(s);
    if (!a) throw new UsageError(`--router '${s}' is not HOST:PORT`);
    return a;
  });
  if (!values.keys) throw new UsageError('--keys FILE is required');
  const options = parseOptions(values.option ?? []);
  let durationMs: number | undefined;
  if (values.duration !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(values.duration) || Number(values.duration) <= 0)
      throw new UsageError(`--duration takes a positive number of seconds, not '${values.duration}'`);
    durationMs = Number(values.duration) * 1000;
  }
  const loaded = loadKeyFile(values.keys);
  if (!loaded.ok) {
    process.stderr.write(`tunnelplane balance: bad keys file: ${loaded.error}\n`);
    return 1;
  }
  const json = values.json === true;
  const live = !json && process.stdout.isTTY === true;
  let balancer: Balancer | undefined;
  let lastBlockLines = 0;
  const render = () => {
    if (!balancer || json) return;
    const block = statusBlock(
      balancer.status(),
      balancer.lastPublishAt,
      balancer.lastPublishedSec,
      balancer.publishCount,
      Date.now(),
    );
    if (live) {
      // redraw the status block in place below the event log
      if (lastBlockLines) process.stdout.write(`\x1b[${lastBlockLines}F\x1b[J`);
      process.stdout.write(block + '\n');
      lastBlockLines = block.split('\n').length;
    } else {
      process.stdout.write(block + '\n');
    }
  };
  const onEvent = (e: BalancerEvent) => {
    if (json) {
      process.stdout.write(eventJson(e) + '\n');
      return;
    }
    if (live && lastBlockLines) {
      process.stdout.write(`\x1b[${lastBlockLines}F\x1b[J`);
      lastBlockLines = 0;
    }
    process.stdout.write(eventLine(e, Date.now()) + '\n');
    if (live || e.event === 'published' || e.event === 'router-lost' || e.event === 'router-back') render();
  };
  balancer = new Balancer({ routers, keys: loaded.value, options, onEvent });
  if (!json)
    process.stdout.write(
      `balancing ${b32Address(loaded.value.destination)} over ${routers.length} router${routers.length === 1 ? '' : 's'}\n`,
    );
  try {
    await balancer.start();
  } catch (err) {
    if (err instanceof BalancerStartError) {
      const msg = `first router ${routerArgs[0]} unusable: ${err.message}`;
      if (json) process.stdout.write(eventJson({ event: 'error', router: routerArgs[0]!, message: msg }) + '\n');
      process.stderr.write(`tunnelplane balance: ${msg}\n`);
      return 1;
    }
    throw err;
  }
  const ticker = live ? setInterval(render, 1000) : undefined;
  await new Promise<void>((resolve) => {
    const timer = durationMs !== undefined ? setTimeout(resolve, durationMs) : undefined;
    const onSignal = () => {
      if (timer) clearTimeout(timer);
      resolve();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  if (ticker) clearInterval(ticker);
  await balancer.stop();
  if (!json) process.stdout.write('stopped: sessions destroyed\n');
  return 0;
}
