// Real i2pd routers for integration tests, via ../shared/tools/i2pd-local. One router per --dir, so a single router
// can be stopped and restarted (with --keep: same identity) without touching the others. Every router is stopped
// by the pid the tool recorded (`i2pd-local --stop --dir`). Also the pieces the i2pd test files share: the
// skip-or-fail gate, `tunnelplane router --json` as a child with its event lines, and the LeaseSet2 answer of an
// I2CP client.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Lease } from '../../src/i2cp/messages.js';
import { leaseSetEncryptionKey, type PrivateKeys } from '../../src/keys/index.js';
import { buildLeaseSet2 } from '../../src/leaseset/leaseset2.js';

const run = promisify(execFile);
export const I2PD_LOCAL = fileURLToPath(new URL('../../../shared/tools/i2pd-local', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/tunnelplane.js', import.meta.url));

/** Whether the i2pd tests can run here. Under CI (process.env.CI) absence is an error, not a skip. */
export function i2pdAvailable(): { ok: boolean; why: string } {
  const has = spawnSync('sh', ['-c', 'command -v i2pd'], { encoding: 'utf8' }).status === 0;
  if (!has) return { ok: false, why: 'i2pd is not installed (apt-get install -y i2pd)' };
  if (!existsSync(I2PD_LOCAL)) return { ok: false, why: `${I2PD_LOCAL} not found` };
  return { ok: true, why: '' };
}

/**
 * The gate at the top of an i2pd test file: true where i2pd can run; otherwise logs why the file is skipped, or
 * throws under CI, where a missing i2pd must fail the run instead of hiding it.
 */
export function i2pdGate(tag: string): boolean {
  const avail = i2pdAvailable();
  if (!avail.ok && process.env.CI) throw new Error(`${tag} i2pd test required under CI: ${avail.why}`);
  if (!avail.ok) console.log(`${tag} skipped: ${avail.why}`);
  return avail.ok;
}

export interface LocalRouter {
  index: number;
  dir: string;
  i2cpPort: number;
  httpPort: number;
  log: string;
  env: NodeJS.ProcessEnv;
}

export function localRouter(
  baseDir: string,
  index: number,
  ports: { i2cp: number; http: number; transport: number },
): LocalRouter {
  const env = {
    ...process.env,
    I2CP_BASE: String(ports.i2cp + index),
    HTTP_BASE: String(ports.http + index),
    TRANSPORT_BASE: String(ports.transport + index),
  };
  const dir = `${baseDir}/r${index}`;
  return { index, dir, i2cpPort: ports.i2cp + index, httpPort: ports.http + index, log: `${dir}/r0/i2pd.log`, env };
}

/** Starts the one i2pd of `r` with more i2pd-local options (`--loglevel`, `--peer`, `--set`, ...). */
export async function startI2pd(r: LocalRouter, args: string[]): Promise<void> {
  await run(I2PD_LOCAL, ['-n', '1', '--dir', r.dir, ...args], { env: r.env, timeout: 40_000 });
}

export async function startRouter(r: LocalRouter, keep = false): Promise<void> {
  await startI2pd(r, ['--loglevel', 'info', ...(keep ? ['--keep'] : [])]);
}

export interface PeerOptions {
  /** router.info files of our routers: all i2pd knows at start (its netDb). */
  peers: string[];
  /** Ident hashes (I2P Base64) it may build through (trust.routers); absent: any router it knows. */
  trust?: string[];
  /** Exploratory tunnels each way; absent: i2pd's default. */
  quantity?: number;
  /** Further i2pd-local options (--tunconf, --datafile). */
  extra?: string[];
}

/**
 * Starts the i2pd of `r` against our routers only (netdb-floodfill.md §8.1): debug log, no SSU2 (we speak NTCP2),
 * one-hop exploratory tunnels, so the hop next to i2pd is one of ours.
 */
export async function startI2pdOnOurs(r: LocalRouter, o: PeerOptions): Promise<void> {
  const set = [
    'ssu2.enabled=false',
    ...(o.trust ? ['trust.enabled=true', `trust.routers=${o.trust.join(',')}`] : []),
    'exploratory.inbound.length=1',
    'exploratory.outbound.length=1',
    ...(o.quantity !== undefined
      ? [`exploratory.inbound.quantity=${o.quantity}`, `exploratory.outbound.quantity=${o.quantity}`]
      : []),
  ];
  await startI2pd(r, [
    '--loglevel',
    'debug',
    ...o.peers.flatMap((p) => ['--peer', p]),
    ...set.flatMap((kv) => ['--set', kv]),
    ...(o.extra ?? []),
  ]);
}

export async function stopRouter(r: LocalRouter): Promise<void> {
  await run(I2PD_LOCAL, ['--stop', '--dir', r.dir], { env: r.env, timeout: 30_000 }).catch(() => undefined);
}

export function readLog(r: LocalRouter): string {
  try {
    return readFileSync(r.log, 'utf8');
  } catch {
    return '';
  }
}

/** The last `n` lines of i2pd's log that match `re` (diagnostics after a failure). */
export function logTail(r: LocalRouter, re: RegExp, n: number): string {
  return readLog(r)
    .split('\n')
    .filter((l) => re.test(l))
    .slice(-n)
    .join('\n');
}

/** Log lines that mean i2pd rejected a LeaseSet (the floodfill-less publish attempt is expected and not counted). */
export function leaseSetErrors(log: string): string[] {
  return log
    .split('\n')
    .filter(
      (l) => /leaseset/i.test(l) && /(verification failed|invalid|error|expired|too|wrong|mismatch|can't)/i.test(l),
    )
    .filter((l) => !/no (more )?floodfills found/i.test(l));
}

/** A page of i2pd's web console (it only answers requests whose Host header is its http.hostname, "localhost"). */
export async function consolePage(r: LocalRouter, query: string): Promise<string> {
  const { get } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = get(
      // A fresh connection per page: i2pd closes the socket after answering, so a kept-alive one hangs up on reuse.
      {
        host: '127.0.0.1',
        port: r.httpPort,
        path: `/?${query}`,
        headers: { Host: 'localhost' },
        timeout: 5000,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('console timeout')));
  });
}

/**
 * Polls `probe` every `everyMs` until it returns something other than undefined or false; throws after `ms` with
 * what it waited for. Every wait on an i2pd is bounded this way.
 */
export async function waitFor<T>(
  what: string,
  ms: number,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  everyMs = 200,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** An i2pd console page as text: tags out, entities in, one line per row. */
export function consoleText(html: string): string {
  return html
    .replace(/<style[\s\S]*?<\/style>/gi, '')
    .replace(/<br\s*\/?>|<\/div>|<\/tr>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&#8658;|&rArr;/g, '⇒')
    .replace(/&nbsp;/g, ' ');
}

/** One JSON line of `tunnelplane router --json`, with the time it was read here (ms). */
export type RouterEvent = Record<string, unknown> & { event: string; at: number };

export interface RouterCli {
  /** Every event line so far, in order. */
  events: RouterEvent[];
  /** All it wrote to stderr so far. */
  readonly stderr: string;
  exited: Promise<number | null>;
  /** Sends `signal` while the child runs (SIGHUP republishes, SIGTERM stops it). */
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, then its exit status, or 'timeout' if it has not exited within `ms`. */
  terminate(ms?: number): Promise<number | null | 'timeout'>;
}

/**
 * `tunnelplane router <args> --json` as a child process. Every stdout line must be one JSON object: a line that is
 * not throws in the stream handler and fails the test.
 */
export function spawnRouterCli(args: string[]): RouterCli {
  const child = spawn(process.execPath, [BIN, 'router', ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: RouterEvent[] = [];
  let stderr = '';
  let buf = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    buf += c;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      events.push({ ...(JSON.parse(line) as RouterEvent), at: Date.now() });
    }
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const kill = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  return {
    events,
    get stderr() {
      return stderr;
    },
    exited,
    kill,
    async terminate(ms = 15_000) {
      kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), ms)));
      const code = await Promise.race([exited, late]);
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * An I2CP client's answer to RequestVariableLeaseSet for `keys`: a signed LeaseSet2 with the router's leases (ends in
 * seconds) and the X25519 LeaseSet key, and the private key to hand over with it. Each one is published at least a
 * second after the last, since a router keeps a LeaseSet only if it is newer than the one it holds.
 */
export function leaseSetAnswerer(keys: PrivateKeys): {
  leaseSet(leases: Lease[]): Uint8Array;
  privateKeys: { type: number; key: Uint8Array }[];
} {
  const enc = leaseSetEncryptionKey(keys);
  let lastPublished = 0;
  return {
    leaseSet(leases) {
      lastPublished = Math.max(Math.floor(Date.now() / 1000), lastPublished + 1);
      return buildLeaseSet2({
        keys,
        published: lastPublished,
        leases: leases.map((l) => ({ ...l, end: Math.floor(l.end / 1000) })),
        encryptionKeys: [{ type: 4, key: enc.publicKey }],
      });
    },
    privateKeys: [{ type: 4, key: enc.privateKey }],
  };
}
