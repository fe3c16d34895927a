// The keygen and balance commands as users run them (bin/tunnelplane.js over dist/, which `npm test` builds first):
// clear errors and non-zero exits without stack traces, and one short --json run against a real i2pd router.
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { i2pdAvailable, leaseSetErrors, localRouter, readLog, startRouter, stopRouter } from './helpers/i2pd.js';

const BIN = fileURLToPath(new URL('../bin/tunnelplane.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../dist/src/cli/balance.js', import.meta.url)));
if (!built) throw new Error('dist/ is missing: run `npm run build` (npm test does) before these tests');

function cli(args: string[], timeout = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { timeout, env: { ...process.env, TUNNELPLANE_DEBUG: '' } },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const dir = mkdtempSync(join(tmpdir(), 'tp-cli-'));
const keyFile = join(dir, 'dest.dat');
const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at /);

/** A local port with nothing listening. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('tunnelplane keygen', () => {
  it('writes an i2pd-format key file and prints its .b32.i2p address; --address reads it back', async () => {
    const a = await cli(['keygen', keyFile]);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/^[a-z2-7]{52}\.b32\.i2p\n$/);
    const b = await cli(['keygen', '--address', keyFile]);
    expect(b.stdout).toBe(a.stdout);
    const again = await cli(['keygen', keyFile]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/file exists \(use --force/);
  });
});

describe('tunnelplane balance errors', () => {
  it('bad keys file: clear message, exit 1, no stack trace', async () => {
    const bad = join(dir, 'bad.dat');
    writeFileSync(bad, 'not a key file');
    const r = await cli(['balance', '--router', '127.0.0.1:1', '--keys', bad]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^tunnelplane balance: bad keys file: .*bad\.dat: not an I2P private key file/);
    noStack(r.stderr);
    const missing = await cli(['balance', '--router', '127.0.0.1:1', '--keys', join(dir, 'nope.dat')]);
    expect(missing.code, missing.stderr).toBe(1);
    expect(missing.stderr).toMatch(/^tunnelplane balance: bad keys file: cannot read .*nope.dat: ENOENT/);
  });

  it('unreadable option: clear message, exit 2 with usage', async () => {
    const r = await cli(['balance', '--router', '127.0.0.1:1', '--keys', keyFile, '--option', 'inbound.length']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/cannot read --option 'inbound.length': expected KEY=VALUE/);
    noStack(r.stderr);
    const r2 = await cli(['balance', '--router', 'nohost', '--keys', keyFile]);
    expect(r2.stderr).toMatch(/--router 'nohost' is not HOST:PORT/);
  });

  it('unreachable first router: clear message, exit 1, no stack trace', async () => {
    const port = await closedPort();
    const r = await cli(['balance', '--router', `127.0.0.1:${port}`, '--keys', keyFile, '--duration', '5']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `first router 127\\.0\\.0\\.1:${port} unusable: cannot connect to 127\\.0\\.0\\.1:${port}: ECONNREFUSED`,
      ),
    );
    noStack(r.stderr);
  });
});

const avail = i2pdAvailable();
if (!avail.ok && process.env.CI) throw new Error(`i2pd CLI test cannot run under CI: ${avail.why}`);
if (!avail.ok) console.warn(`skipping the i2pd CLI run: ${avail.why}`);

describe.skipIf(!avail.ok)('tunnelplane balance --json against i2pd', () => {
  const router = localRouter('/tmp/tunnelplane-test-balancer-cli', 0, { i2cp: 19754, http: 19170, transport: 39200 });
  afterAll(() => stopRouter(router), 30_000);

  it('prints session, leases and published events and stops cleanly after --duration', async () => {
    await startRouter(router);
    const port = await closedPort(); // a second router that is down: it must not hold up the first
    const r = await cli(
      [
        'balance',
        '--router',
        `127.0.0.1:${router.i2cpPort}`,
        '--router',
        `127.0.0.1:${port}`,
        '--keys',
        keyFile,
        '--json',
        '--duration',
        '24',
        '--option',
        'inbound.length=0',
        '--option',
        'outbound.length=0',
        '--option',
        'inbound.quantity=1',
        '--option',
        'outbound.quantity=1',
      ],
      60_000,
    );
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const e of events)
      expect(['session', 'leases', 'published', 'router-lost', 'router-back', 'error']).toContain(e.event);
    expect(events.find((e) => e.event === 'session')).toMatchObject({
      event: 'session',
      router: `127.0.0.1:${router.i2cpPort}`,
      sessionId: expect.any(Number),
    });
    expect(events.some((e) => e.event === 'error' && e.router === `127.0.0.1:${port}`)).toBe(true);
    const pub = events.find((e) => e.event === 'published')!;
    expect(Object.keys(pub)).toEqual(['event', 'published', 'routers', 'leases']);
    expect(pub.routers).toEqual([`127.0.0.1:${router.i2cpPort}`]);
    expect((pub.leases as unknown[])[0]).toEqual({
      gateway: expect.stringMatching(/^[A-Za-z0-9~-]{43}=$/),
      tunnelId: expect.any(Number),
      end: expect.any(Number),
      router: `127.0.0.1:${router.i2cpPort}`,
    });
    expect(Object.keys((pub.leases as object[])[0]!)).toEqual(['gateway', 'tunnelId', 'end', 'router']);
    const log = readLog(router);
    expect(leaseSetErrors(log)).toEqual([]);
    // DestroySession at the end: i2pd then sees the client hang up
    expect(log).toMatch(/I2CP: Can't receive header|I2CP: Session \d+ destroyed|Destroy/i);
  }, 90_000);
});
