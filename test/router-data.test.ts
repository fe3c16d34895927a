// Client data between our own routers (docs/network.md "Client data"): router X sends an I2NP Data message out through
// one of its outbound tunnels (TUNNEL delivery at the OBEP, tunnel-message.md §3) to an inbound tunnel of router Y,
// and Y's inbound endpoint hands the payload to its 'data' event. Routers on 127.0.0.1 over NTCP2, tunnels of 1, 2 and
// 3 hops, payloads from 1 byte to the largest one tunnel message can carry (64 fragments), every byte compared.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRouter, MAX_DATA_PAYLOAD, type DataEvent, type Router } from '../src/router/router.js';
import { Rng, testSeed } from './helpers/chacha-rng.js';
import { until } from './helpers/ntcp2-peer.js';

const dirs: string[] = [];
const routers: Router[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.stop(500)));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function network(n: number, hops: number): Promise<Router[]> {
  const all: Router[] = [];
  for (let i = 0; i < n; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'tp-router-data-'));
    dirs.push(dir);
    const r = createRouter({
      dataDir: dir,
      port: 0,
      dataPlane: { threads: 'inline' },
      tunnels: {
        exploratory: { inbound: { length: hops, quantity: 2 }, outbound: { length: hops, quantity: 2 } },
        poolOptions: { testIntervalMs: 2000 },
        tickMs: 250,
        buildTimeoutMs: 5000,
      },
    });
    routers.push(r);
    all.push(r);
    await r.start();
  }
  for (const x of all) for (const y of all) if (x !== y) x.addPeer(y.routerInfo);
  const ready = await until(
    () =>
      all.every((r) => {
        const p = r.tunnels!.exploratory!;
        return p.tunnels('inbound').length >= 1 && p.tunnels('outbound').length >= 1;
      }),
    40_000,
  );
  expect(ready, JSON.stringify(all.map((r) => r.stats().tunnels))).toBe(true);
  return all;
}

const key = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('client data between our routers', () => {
  for (const hops of [1, 2, 3]) {
    it(`${hops}-hop tunnels, ${hops + 1} routers: every payload arrives byte for byte at the receiver's inbound endpoint`, async () => {
      const rng = new Rng(testSeed(`router data ${hops} hops`));
      const all = await network(hops + 1, hops);
      // Tiny, about one tunnel message, several fragments, and the largest a Data message can carry.
      const sizes = [1, 955, 956, 3000, 30_000, MAX_DATA_PAYLOAD];
      for (let i = 0; i < 3; i++) sizes.push(1 + rng.int(30_000));
      // Every ordered pair sends every size; the receiver checks each arrival against what was sent to it.
      const expected = new Map<Router, Map<string, number>>();
      const got = new Map<Router, DataEvent[]>();
      for (const y of all) {
        expected.set(y, new Map());
        got.set(y, []);
        y.on('data', (e: DataEvent) => got.get(y)!.push(e));
      }
      let sent = 0;
      for (const x of all) {
        for (const y of all) {
          if (x === y) continue;
          for (const size of sizes) {
            const payload = rng.bytes(size);
            const ib = y.tunnels!.exploratory!.select('inbound')!;
            const ob = x.tunnels!.exploratory!.select('outbound')!;
            expect(ob.hops).toHaveLength(hops);
            expect(ib.hops).toHaveLength(hops);
            const m = expected.get(y)!;
            m.set(key(payload), (m.get(key(payload)) ?? 0) + 1);
            expect(
              x.sendData(payload.slice(), { gateway: ib.gateway, tunnelId: ib.gatewayTunnelId }, ob),
            ).toBeGreaterThan(0);
            sent++;
          }
          // Paced per pair: the endpoints' reassembly keeps at most 128 messages per tunnel in flight.
          await until(() => [...got.values()].reduce((n, l) => n + l.length, 0) >= sent, 10_000);
        }
      }
      const arrived = () => [...got.values()].reduce((n, l) => n + l.length, 0);
      const diag = () => {
        const missing = [...expected.entries()].map(([y, m]) => {
          const left = new Map(m);
          for (const e of got.get(y)!) left.set(key(e.payload), (left.get(key(e.payload)) ?? 0) - 1);
          return [...left.entries()].filter(([, v]) => v > 0).map(([k]) => k.length / 2);
        });
        return JSON.stringify({
          missing,
          stats: all.map((r) => ({ d: r.stats().dropped, t: r.stats().transit!.dropped })),
        });
      };
      expect(await until(() => arrived() >= sent, 20_000), `${arrived()} of ${sent} ${diag()}`).toBe(true);
      for (const y of all) {
        const m = expected.get(y)!;
        const own = new Set(y.tunnels!.creator.tunnels('inbound'));
        for (const e of got.get(y)!) {
          const k = key(e.payload);
          expect(m.get(k), `unexpected payload of ${e.payload.length} bytes`).toBeGreaterThan(0);
          m.set(k, m.get(k)! - 1);
          // It came out of one of the receiver's own inbound tunnels of the pool's length.
          expect(e.inbound && own.has(e.inbound)).toBe(true);
          expect(e.inbound!.hops).toHaveLength(hops);
        }
        expect([...m.values()].every((v) => v === 0)).toBe(true);
      }
      for (const r of all) {
        const d = r.stats().dropped;
        expect(d['data-unclaimed'] ?? 0).toBe(0);
        expect(d['bad-data'] ?? 0).toBe(0);
      }
      // The big ones were fragmented: far more TunnelData than Data messages crossed the wire.
      const td = all.reduce((n, r) => n + (r.stats().i2npOut['18'] ?? 0), 0);
      expect(td).toBeGreaterThan(sent * 5);
    }, 90_000);
  }

  it('refuses an oversized payload or a bad target, counts sends without a tunnel and data nobody listens for', async () => {
    const [x, y] = await network(2, 1);
    const ib = y!.tunnels!.exploratory!.select('inbound')!;
    const to = { gateway: ib.gateway, tunnelId: ib.gatewayTunnelId };
    expect(() => x!.sendData(new Uint8Array(MAX_DATA_PAYLOAD + 1), to)).toThrow(RangeError);
    expect(() => x!.sendData(new Uint8Array(1), { gateway: ib.gateway, tunnelId: 0 })).toThrow(RangeError);
    expect(x!.sendData(new Uint8Array(1), to, 'no-such-pool')).toBe(0);
    expect(x!.stats().dropped['data-no-outbound-tunnel']).toBe(1);
    // No 'data' listener on y: the message is counted there, not emitted into the void.
    expect(x!.sendData(new Uint8Array([1, 2, 3]), to)).toBeGreaterThan(0);
    expect(await until(() => (y!.stats().dropped['data-unclaimed'] ?? 0) === 1, 10_000)).toBe(true);
  }, 60_000);
});
