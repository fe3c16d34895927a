// Real i2pd routers for integration tests, via ../shared/tools/i2pd-local. One router per --dir, so a single router
// can be stopped and restarted (with --keep: same identity) without touching the others. Every router is stopped
// by the pid the tool recorded (`i2pd-local --stop --dir`).
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const I2PD_LOCAL = fileURLToPath(new URL('../../../shared/tools/i2pd-local', import.meta.url));

/** Whether the i2pd tests can run here. Under CI (process.env.CI) absence is an error, not a skip. */
export function i2pdAvailable(): { ok: boolean; why: string } {
  const has = spawnSync('sh', ['-c', 'command -v i2pd'], { encoding: 'utf8' }).status === 0;
  if (!has) return { ok: false, why: 'i2pd is not installed (apt-get install -y i2pd)' };
  if (!existsSync(I2PD_LOCAL)) return { ok: false, why: `${I2PD_LOCAL} not found` };
  return { ok: true, why: '' };
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

export async function startRouter(r: LocalRouter, keep = false): Promise<void> {
  const args = ['-n', '1', '--dir', r.dir, '--loglevel', 'info', ...(keep ? ['--keep'] : [])];
  await run(I2PD_LOCAL, args, { env: r.env, timeout: 40_000 });
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
