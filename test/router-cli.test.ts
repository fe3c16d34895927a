// `tunnelplane router` as a user runs it (src/cli/router.ts): the first run creates the identity and a later run keeps
// it, every run rewrites DIR/router.info with a newer date, --json prints one object per line, --duration and SIGTERM
// exit 0 after closing sessions, and bad input (port, peer file, data directory) gets a clear error and no listener.
import { afterAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/tunnelplane.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'tp-router-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cli(args: string[], timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'router', ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

const lines = (s: string) =>
  s
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('tunnelplane router', () => {
  it('first run creates the identity, a second keeps it; router.info is rewritten newer; --duration exits 0', async () => {
    const dir = join(root, 'a');
    const one = await cli(['--data', dir, '--duration', '0.5', '--json']);
    expect(one.code, one.stderr).toBe(0);
    const ev1 = lines(one.stdout);
    expect(ev1[0]).toMatchObject({ event: 'ready', routerInfo: join(dir, 'router.info') });
    expect(ev1[0]!.ntcp2).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(ev1.at(-1)).toMatchObject({ event: 'stopped', sessions: 0 });
    const ri1 = readFileSync(join(dir, 'router.info'));
    const keys1 = readFileSync(join(dir, 'router.keys'));
    const two = await cli(['--data', dir, '--duration', '0.5', '--json', '--floodfill']);
    expect(two.code, two.stderr).toBe(0);
    expect(lines(two.stdout)[0]!.ident).toBe(ev1[0]!.ident);
    expect(readFileSync(join(dir, 'router.keys')).equals(keys1)).toBe(true);
    const ri2 = readFileSync(join(dir, 'router.info'));
    expect(ri2.readBigUInt64BE(391) > ri1.readBigUInt64BE(391)).toBe(true);
    // Mapping strings are length-prefixed (ntcp2-routerinfo.md §2.1): caps=LfR with --floodfill, LR without.
    expect(ri2.toString('latin1')).toContain('caps=\x03LfR;');
    expect(ri1.toString('latin1')).toContain('caps=\x02LR;');
  }, 30_000);

  it('readable output without --json; SIGTERM closes the session to a --peer with Termination and exits 0', async () => {
    const a = join(root, 'b1');
    const b = join(root, 'b2');
    const first = spawn(process.execPath, [BIN, 'router', '--data', a, '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let outA = '';
    first.stdout.setEncoding('utf8').on('data', (c: string) => (outA += c));
    const exitA = new Promise<number | null>((r) => first.once('exit', (c) => r(c)));
    const deadline = Date.now() + 15_000;
    while (!outA.includes('"ready"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const second = spawn(process.execPath, [BIN, 'router', '--data', b, '--peer', join(a, 'router.info')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let outB = '';
    second.stdout.setEncoding('utf8').on('data', (c: string) => (outB += c));
    const exitB = new Promise<number | null>((r) => second.once('exit', (c) => r(c)));
    while (!outB.includes('established') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(outB).toMatch(
      /^router \S{44} listening on 127\.0\.0\.1:\d+ \(new identity: router\.keys, ntcp2\.keys\); RouterInfo in /,
    );
    expect(outB).toMatch(/session -> \S{44} established/);
    second.kill('SIGTERM');
    expect(await exitB).toBe(0);
    expect(outB).toMatch(/stopped \(SIGTERM\)/);
    while (!outA.includes('"closed"') && Date.now() < deadline + 5_000) await new Promise((r) => setTimeout(r, 50));
    first.kill('SIGINT');
    expect(await exitA).toBe(0);
    const evA = lines(outA);
    expect(evA.filter((e) => e.event === 'session').map((e) => [e.direction, e.state, e.reason, e.code])).toEqual([
      ['in', 'established', null, undefined],
      ['in', 'closed', 'termination-received', 3],
    ]);
    expect(evA.at(-1)).toMatchObject({ event: 'stopped', why: 'SIGINT' });
  }, 40_000);

  it('--json stats carry transit, tunnels and netdb; a pool without peers reports no-peers once per direction', async () => {
    const run = await cli([
      '--data',
      join(root, 't'),
      '--duration',
      '5.6',
      '--json',
      '--exploratory-length',
      '1',
      '--exploratory-quantity',
      '1',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const ev = lines(run.stdout);
    const stats = ev.find((e) => e.event === 'stats');
    expect(stats?.transit).toMatchObject({ participant: 0, obep: 0, ibgw: 0, accepted: 0, rejected: {} });
    expect(stats?.tunnels).toEqual({ inbound: 0, outbound: 0, building: 0, failed: expect.any(Number) });
    // The netDb's counters (docs/netdb.md): nothing known, nothing stored, nothing dropped.
    expect(stats?.netdb).toMatchObject({
      routerInfos: 0,
      leaseSets: 0,
      stores: 0,
      lookups: 0,
      searchReplies: 0,
      floods: 0,
      dropped: {},
    });
    // The pool retries every second (failed counts each try), but the line appears once per pool and direction.
    expect((stats!.tunnels as { failed: number }).failed).toBeGreaterThan(2);
    const tun = ev.filter((e) => e.event === 'tunnel');
    expect(tun.map((e) => `${e.pool}/${e.direction}/${e.kind}/${e.reason}`).sort()).toEqual([
      'exploratory/inbound/build-failed/no-peers',
      'exploratory/outbound/build-failed/no-peers',
    ]);
    const bad = await cli(['--data', join(root, 't'), '--exploratory-length', '9']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--exploratory-length takes a number 0..8, not '9'");
    // Without a pool: no tunnel lines at all.
    const none = await cli([
      '--data',
      join(root, 't'),
      '--duration',
      '1.5',
      '--json',
      '--exploratory-quantity',
      '0',
      '--no-transit',
    ]);
    expect(none.code, none.stderr).toBe(0);
    expect(lines(none.stdout).filter((e) => e.event === 'tunnel')).toEqual([]);
  }, 30_000);

  it('bad input: a clear message, no router', async () => {
    const bad = await cli(['--data', join(root, 'c'), '--port', '70000']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--port takes a number 0..65535, not '70000'");
    const host = await cli(['--data', join(root, 'c'), '--host', 'localhost']);
    expect(host.code).toBe(2);
    expect(host.stderr).toContain('--host must be an IP literal');
    const noData = await cli([]);
    expect(noData.code).toBe(2);
    expect(noData.stderr).toContain('--data DIR is required');
    const missing = await cli(['--data', join(root, 'c'), '--peer', join(root, 'nope.info'), '--json']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--peer cannot read .*nope\.info: ENOENT/);
    expect(lines(missing.stdout).map((e) => e.event)).toEqual(['error']);
    const junk = join(root, 'junk.info');
    writeFileSync(junk, 'not a RouterInfo');
    const notRi = await cli(['--data', join(root, 'c'), '--peer', junk]);
    expect(notRi.code).toBe(1);
    expect(notRi.stderr).toMatch(/junk\.info: RouterInfo rejected \(malformed\)/);
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    const notDir = await cli(['--data', join(file, 'sub')]);
    expect(notDir.code).toBe(1);
    expect(notDir.stderr).toMatch(/data directory .*a-file\/sub is not writable: ENOTDIR/);
    const taken = join(root, 'd');
    const holder = spawn(process.execPath, [BIN, 'router', '--data', taken, '--port', '0', '--json'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let hout = '';
    holder.stdout.setEncoding('utf8').on('data', (c: string) => (hout += c));
    const end = Date.now() + 15_000;
    while (!hout.includes('"ready"') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    const port = (JSON.parse(hout.split('\n')[0]!) as { ntcp2: string }).ntcp2.split(':')[1]!;
    const clash = await cli(['--data', join(root, 'e'), '--port', port]);
    holder.kill('SIGTERM');
    expect(clash.code).toBe(1);
    expect(clash.stderr).toContain(`cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
  }, 60_000);
});
