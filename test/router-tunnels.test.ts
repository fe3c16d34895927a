// The tunnel side wired into real routers (docs/router.md "Tunnels"): four routers on 127.0.0.1 with NTCP2 sessions
// between them, each with its exploratory pool at one hop. Each builds inbound and outbound tunnels through the
// others (the build requests and replies go over the routers' own send path with the message ids the tunnel side
// gives), the hops join them as transit OBEP / IBGW on their data planes, and the pools' tunnel tests (a
// DeliveryStatus out through an outbound tunnel and back through an inbound one, netdb-floodfill.md §7.5) pass. Stats
// and 'tunnel' events report it. Hostile build and garlic messages from a peer are counted, not thrown.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRouter, type Router } from '../src/router/router.js';
import type { TunnelEvent } from '../src/router/tunnels/pool.js';
import { Rng, testSeed } from './helpers/chacha-rng.js';
import { until } from './helpers/ntcp2-peer.js';

const dirs: string[] = [];
const routers: Router[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.stop(500)));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function started(length: number, quantity = 2): Promise<{ r: Router; events: TunnelEvent[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'tp-router-tun-'));
  dirs.push(dir);
  const r = createRouter({
    dataDir: dir,
    port: 0,
    dataPlane: { threads: 'inline' },
    tunnels: {
      exploratory: { inbound: { length, quantity }, outbound: { length, quantity } },
      // A build lost with a session replaced in a simultaneous dial is retried after 5 s instead of i2pd's 30.
      poolOptions: { testIntervalMs: 1500 },
      tickMs: 250,
      buildTimeoutMs: 5000,
    },
  });
  routers.push(r);
  const events: TunnelEvent[] = [];
  r.on('tunnel', (e: TunnelEvent) => events.push(e));
  await r.start();
  return { r, events };
}

describe('router with its tunnel side', () => {
  it('four routers build one-hop exploratory tunnels through each other over NTCP2, and their tunnel tests pass', async () => {
    const all = [await started(1), await started(1), await started(1), await started(1)];
    for (const x of all) for (const y of all) if (x !== y) x.r.addPeer(y.r.routerInfo);
    const done = () =>
      all.every(({ r, events }) => {
        const s = r.stats().tunnels!;
        return s.inbound >= 2 && s.outbound >= 2 && events.filter((e) => e.event === 'tested').length >= 4;
      });
    const ok = await until(done, 40_000);
    const summary = all.map(({ r, events }) => ({
      tunnels: r.stats().tunnels,
      transit: r.stats().transit,
      kinds: events.map((e) => `${e.direction}:${e.event}${e.reason ? `:${e.reason}` : ''}`),
    }));
    expect(ok, JSON.stringify(summary)).toBe(true);
    // Every tunnel built by someone is a transit tunnel on its hop: OBEPs for outbound tunnels, IBGWs for inbound.
    let obep = 0,
      ibgw = 0;
    const built = { inbound: 0, outbound: 0 };
    for (const { r } of all) {
      const t = r.stats().transit!;
      obep += t.obep;
      ibgw += t.ibgw;
      expect(t.participant).toBe(0); // one-hop tunnels have no participants
      expect(t.rejected).toEqual({});
      const s = r.stats().tunnels!;
      built.inbound += s.inbound;
      built.outbound += s.outbound;
    }
    expect(obep).toBeGreaterThanOrEqual(built.outbound);
    expect(ibgw).toBeGreaterThanOrEqual(built.inbound);
    // The builds and replies went over NTCP2: ShortTunnelBuild (25) and TunnelGateway (19) / TunnelData (18) between them.
    const out = all.map(({ r }) => r.stats().i2npOut);
    expect(out.reduce((n, o) => n + (o['25'] ?? 0), 0)).toBeGreaterThan(0);
    expect(out.reduce((n, o) => n + (o['18'] ?? 0), 0)).toBeGreaterThan(0);
    // A passed test names the tunnel and its hop.
    const tested = all[0]!.events.find((e) => e.event === 'tested')!;
    expect(tested.hops).toHaveLength(1);
    expect(tested.latencyMs).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('two-hop tunnels: participants on the middle hop carry the tests', async () => {
    const all = [await started(2, 1), await started(2, 1), await started(2, 1)];
    for (const x of all) for (const y of all) if (x !== y) x.r.addPeer(y.r.routerInfo);
    const ok = await until(
      () => all.every(({ events }) => events.some((e) => e.event === 'tested' && e.hops.length === 2)),
      40_000,
    );
    expect(
      ok,
      JSON.stringify(
        all.map(({ r, events }) => ({
          transit: r.stats().transit,
          kinds: events.map((e) => `${e.direction}:${e.event}${e.reason ? `:${e.reason}` : ''}`),
        })),
      ),
    ).toBe(true);
    expect(all.reduce((n, { r }) => n + r.stats().transit!.participant, 0)).toBeGreaterThan(0);
  }, 60_000);

  it('hostile builds, garlic and TunnelGateway from a peer are counted and dropped, no exception', async () => {
    const rng = new Rng(testSeed('router tunnels hostile'));
    const a = await started(1, 0);
    const dir = mkdtempSync(join(tmpdir(), 'tp-router-tun-'));
    dirs.push(dir);
    const b = createRouter({
      dataDir: dir,
      port: 0,
      dataPlane: { threads: 'inline' },
      tunnels: { exploratory: false },
    });
    routers.push(b);
    await b.start();
    a.r.addPeer(b.routerInfo);
    await a.r.connect(b.identHash);
    const warnings: Error[] = [];
    b.on('warning', (e: Error) => warnings.push(e));
    a.r.send(b.identHash, 25, rng.bytes(10)); // shorter than one record
    a.r.send(b.identHash, 25, rng.bytes(1 + 4 * 218)); // no record for us
    a.r.send(b.identHash, 23, rng.bytes(1 + 4 * 528));
    a.r.send(b.identHash, 23, rng.bytes(3000)); // length disagrees with the count
    a.r.send(b.identHash, 11, rng.bytes(300)); // not garlic to our key
    a.r.send(b.identHash, 19, rng.bytes(3)); // truncated TunnelGateway
    const dropped = () => Object.values(b.stats().transit!.dropped).reduce((x, y) => x + y, 0);
    expect(await until(() => dropped() >= 6, 10_000), JSON.stringify(b.stats())).toBe(true);
    expect(b.stats().transit!.accepted).toBe(0);
    expect(b.stats().dropped['handler-error']).toBeUndefined();
    expect(warnings).toEqual([]);
    expect(b.stats().sessions).toBe(1);
  }, 30_000);

  it('a router whose dial just failed is left out of new tunnels until its back-off ends (i2pd: unreachable)', async () => {
    const a = await started(1, 0);
    const b = await started(1, 0);
    const c = await started(1, 0);
    a.r.addPeer(b.r.routerInfo);
    a.r.addPeer(c.r.routerInfo);
    const cHex = Buffer.from(c.r.identHash).toString('hex');
    await c.r.stop(0);
    // A message for C makes A dial it; the dial fails (nothing listens) and C enters the 10 s back-off.
    a.r.send(c.r.identHash, 20, new Uint8Array(8));
    expect(await until(() => (a.r.stats().dropped['dial-failed'] ?? 0) >= 1, 10_000)).toBe(true);
    // 32 one-hop builds with B and C as the only candidates: had C stayed a candidate, each would pick it with
    // probability 1/2 (and fail at once, 'send-failed'); none may.
    const evs: TunnelEvent[] = [];
    a.r.tunnels!.on('tunnel', (e: TunnelEvent) => {
      if (e.pool === 'probe') evs.push(e);
    });
    a.r.tunnels!.createPool('probe', { inbound: { length: 1, quantity: 16 }, outbound: { length: 1, quantity: 16 } });
    expect(
      await until(() => evs.filter((e) => e.event === 'built').length >= 32, 8_000),
      JSON.stringify(evs.map((e) => `${e.event}:${e.reason ?? ''}`)),
    ).toBe(true);
    expect(evs.filter((e) => e.hops.includes(cHex))).toEqual([]);
  }, 30_000);

  it('transit: false answers build requests with code 30: the creator reports the refusing hop', async () => {
    const a = await started(1, 1);
    const dir = mkdtempSync(join(tmpdir(), 'tp-router-tun-'));
    dirs.push(dir);
    const b = createRouter({
      dataDir: dir,
      port: 0,
      dataPlane: { threads: 'inline' },
      tunnels: { transit: false, exploratory: false },
    });
    routers.push(b);
    await b.start();
    a.r.addPeer(b.routerInfo);
    const refused = () => a.events.filter((e) => e.event === 'build-failed' && e.reason === 'rejected');
    expect(
      await until(
        () => refused().some((e) => e.direction === 'inbound') && refused().some((e) => e.direction === 'outbound'),
        15_000,
      ),
      JSON.stringify(a.events),
    ).toBe(true);
    expect(refused()[0]!.hop).toBe(0);
    expect(b.stats().transit!.rejected['limit-total']).toBeGreaterThanOrEqual(2);
    expect(b.stats().transit!.accepted).toBe(0);
    expect(a.events.some((e) => e.event === 'built')).toBe(false);
  }, 30_000);
});
