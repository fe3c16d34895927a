// `tunnelplane router` (the CLI, as a child process with --json) against real i2pd 2.45.1 on 127.0.0.1
// (ntcp2-routerinfo.md §6): our router runs as a floodfill; i2pd, given our router.info (i2pd-local --peer), dials
// it; the handshake completes with i2pd's RouterInfo from msg3 parsed and verified (its ident hash is the one of
// its router.info); I2NP arrives, its DatabaseStore is answered with DeliveryStatus ("Publishing confirmed"); its
// console lists our router; a newer RouterInfo of ours sent over the session (SIGHUP) is taken with a valid
// signature (§6 step 8: "RouterInfo updated" and no "Signature verification failed"); SIGTERM ends the sessions
// with Termination reason 3 and exit status 0. Skips without i2pd, except under CI.
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { i2pBase64 } from '../src/keys/encoding.js';
import {
  consolePage,
  i2pdGate,
  localRouter,
  readLog,
  spawnRouterCli,
  startI2pdOnOurs,
  stopRouter,
  waitFor,
  type RouterCli,
} from './helpers/i2pd.js';

const runs = i2pdGate('[router-i2pd-wire]');

const BASE = '/tmp/tunnelplane-test-router-wire';
const OUR_PORT = 43290;
const PORTS = { i2cp: 23754, http: 23170, transport: 43200 };

describe.skipIf(!runs)('tunnelplane router against i2pd 2.45.1', () => {
  const r = localRouter(BASE, 0, PORTS);
  let cli: RouterCli | undefined;
  afterAll(async () => {
    await stopRouter(r);
    cli?.kill('SIGKILL');
  }, 40_000);

  it('i2pd dials our CLI router, stores at it, and accepts our newer RouterInfo', async () => {
    rmSync(BASE, { recursive: true, force: true });
    mkdirSync(BASE, { recursive: true });
    const data = `${BASE}/ours`;
    // Every stdout line must be one JSON object (spawnRouterCli fails the test on one that is not).
    cli = spawnRouterCli(['--data', data, '--port', String(OUR_PORT), '--floodfill']);
    const { events } = cli;

    const ready = await waitFor('ready', 20_000, () => events.find((e) => e.event === 'ready'));
    expect(ready.ntcp2).toBe(`127.0.0.1:${OUR_PORT}`);
    expect(ready.routerInfo).toBe(`${data}/router.info`);
    const ourIdent = ready.ident as string;
    const ourRi = readFileSync(`${data}/router.info`);
    expect(i2pBase64(createHash('sha256').update(ourRi.subarray(0, 391)).digest())).toBe(ourIdent);

    await startI2pdOnOurs(r, { peers: [`${data}/router.info`] });
    expect(readLog(r)).toMatch(/NetDb: 1 routers loaded \(1 floodfils\)/);

    // The handshake: i2pd is the initiator; the session's peer is i2pd's ident hash, read by our codec from its msg3
    // RouterInfo (which is verified before the session exists: a bad one is answered with Termination 15).
    const theirs = readFileSync(`${r.dir}/r0/router.info`);
    const theirIdent = i2pBase64(createHash('sha256').update(theirs.subarray(0, 391)).digest());
    const est = await waitFor('an established session', 45_000, () =>
      events.find((e) => e.event === 'session' && e.state === 'established'),
    );
    expect(est).toMatchObject({ peer: theirIdent, direction: 'in' });

    // I2NP from i2pd; its DatabaseStore (reply token) gets our DeliveryStatus, which i2pd takes.
    const stats = await waitFor('stats with DatabaseStore in and DeliveryStatus out', 40_000, () =>
      events.find(
        (e) =>
          e.event === 'stats' &&
          ((e.i2npIn as Record<string, number>)['1'] ?? 0) > 0 &&
          ((e.i2npOut as Record<string, number>)['10'] ?? 0) > 0,
      ),
    );
    expect(stats.sessions).toBe(1);
    expect(stats.bytesIn as number).toBeGreaterThan(0);
    expect(stats.bytesOut as number).toBeGreaterThan(0);
    await waitFor('"Publishing confirmed" in the i2pd log', 15_000, () =>
      /NetDb: Publishing confirmed/.test(readLog(r)),
    );

    // i2pd's own view: its transports page lists our router (first 4 Base64 characters of our ident hash).
    const page = await consolePage(r, 'page=transports');
    expect(page).toContain(ourIdent.slice(0, 4));

    // §6 step 8: a newer RouterInfo of ours over the session. i2pd logs "updated" even for a bad signature, so the
    // absence of "Signature verification failed" is what proves the signature.
    expect(readLog(r)).not.toMatch(/RouterInfo updated/);
    cli.kill('SIGHUP');
    const pub = await waitFor('published', 10_000, () => events.find((e) => e.event === 'published'));
    expect(pub.sessions).toBe(1);
    const newer = readFileSync(`${data}/router.info`);
    expect(newer.readBigUInt64BE(391) > ourRi.readBigUInt64BE(391)).toBe(true);
    await waitFor('"RouterInfo updated" in the i2pd log', 15_000, () =>
      new RegExp(`RouterInfo updated: ${ourIdent.replace(/[~=+-]/g, '.')}`).test(readLog(r)),
    );
    expect(readLog(r)).not.toMatch(/Signature verification failed/);

    // Graceful stop: Termination reason 3 on the session, exit status 0.
    expect(await cli.terminate(15_000)).toBe(0);
    const closed = events.find((e) => e.event === 'session' && e.state === 'closed');
    expect(closed).toMatchObject({ peer: theirIdent, reason: 'shutdown', code: 3 });
    const stopped = events.find((e) => e.event === 'stopped');
    const inCounts = stopped?.i2npIn as Record<string, number>;
    console.log(
      `[router-i2pd-wire] I2NP in ${JSON.stringify(inCounts)} out ${JSON.stringify(stopped?.i2npOut)}; dropped ${JSON.stringify(stopped?.dropped)}`,
    );
    expect(cli.stderr).toBe('');
  }, 180_000);
});
