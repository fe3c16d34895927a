// Tunnel pools on the in-process network: built to quantity, tested with DeliveryStatus round trips, replaced ahead
// of expiry so they never run empty, expired (and the hops' transit tunnels ended after 660 s, their keys wiped in the
// hops' engines), failed tunnels removed
// and rebuilt through other peers; the service's stats and 'tunnel' events.
import { afterEach, describe, expect, it } from 'vitest';
import { I2NP_TUNNEL_DATA } from '../src/constants.js';
import type { TunnelEvent } from '../src/router/tunnels/pool.js';
import { SimNet, type SimRouter } from './helpers/tunnel-net.js';
import type { LayerEngine } from '../src/tunnel/engine.js';
import { engineKeyMaterial } from '../src/testing/index.js';

let net: SimNet;
afterEach(async () => {
  await net?.close();
});

/** The inline engine of a simulated router's data plane. */
const engineOf = (r: SimRouter): LayerEngine =>
  (r.plane as unknown as { shards: { runner: { engine: LayerEngine } }[] }).shards[0]!.runner.engine;
/** Ids of the tunnels an engine holds live keys for (`gateway`: the IBGW/OBGW table). */
const liveIds = (e: LayerEngine, gateway: boolean): number[] => {
  const t = (e as unknown as Record<'received' | 'gateways', Map<number, { ended: boolean }>>)[
    gateway ? 'gateways' : 'received'
  ];
  return [...t].filter(([, st]) => !st.ended).map(([id]) => id);
};
const nonZero = (k: Uint8Array): boolean => k.some((b) => b !== 0);

const count = (r: SimRouter, event: TunnelEvent['event'], dir?: 'inbound' | 'outbound') =>
  r.events.filter((e) => e.event === event && (dir === undefined || e.direction === dir)).length;

describe('tunnel pools', () => {
  it('builds to quantity, passes its tests, replaces tunnels before they expire and never runs empty', async () => {
    net = new SimNet();
    const a = net.add('A', { poolOptions: { testIntervalMs: 15_000 } });
    const hops = ['B', 'C', 'D'].map((n) => net.add(n));
    const pool = a.service.createPool('exploratory', {
      inbound: { quantity: 2, length: 2 },
      outbound: { quantity: 2, length: 2, lengthVariance: 1 },
    });
    await net.advance(5_000);
    expect(pool.tunnels('inbound').length).toBe(2);
    expect(pool.tunnels('outbound').length).toBe(2);
    for (const t of [...pool.tunnels('inbound'), ...pool.tunnels('outbound')]) {
      expect(t.hops.length).toBeGreaterThanOrEqual(2);
      expect(new Set(t.hops.map((h) => Buffer.from(h).toString('hex'))).size).toBe(t.hops.length); // no peer twice
    }
    expect(count(a, 'built')).toBe(4);
    await net.advance(16_000);
    expect(count(a, 'tested')).toBeGreaterThanOrEqual(4);
    expect(count(a, 'test-failed')).toBe(0);
    const firstIds = new Set(pool.tunnels('inbound').map((t) => t.id));
    // The hops' first-generation transit tunnels, with their keys live in each hop's (inline) engine.
    const firstTransit = hops.map((r) => {
      const engine = engineOf(r);
      const ids = [
        ...liveIds(engine, false).map((id) => [id, false] as const),
        ...liveIds(engine, true).map((id) => [id, true] as const),
      ];
      for (const [id, gw] of ids) expect(engineKeyMaterial(engine, id, gw).some(nonZero)).toBe(true);
      return { engine, ids };
    });
    expect(firstTransit.reduce((n, h) => n + h.ids.length, 0)).toBeGreaterThanOrEqual(8);
    // Through the whole first lifetime and beyond: never fewer than `quantity` usable tunnels each way.
    let minIn = Infinity,
      minOut = Infinity;
    for (let t = 0; t < 700_000; t += 5_000) {
      await net.advance(5_000, 5_000);
      minIn = Math.min(minIn, pool.tunnels('inbound').length);
      minOut = Math.min(minOut, pool.tunnels('outbound').length);
    }
    expect(minIn).toBeGreaterThanOrEqual(2);
    expect(minOut).toBeGreaterThanOrEqual(2);
    expect(count(a, 'expired')).toBeGreaterThanOrEqual(4);
    expect(pool.tunnels('inbound').some((t) => firstIds.has(t.id))).toBe(false);
    expect(count(a, 'test-failed')).toBe(0);
    expect(count(a, 'tested')).toBeGreaterThan(40);
    // The hops ended the first generation's transit tunnels after 660 s (plus at most one tick).
    const expired = hops.reduce((n, r) => n + r.service.transit.stats().expired, 0);
    expect(expired).toBeGreaterThanOrEqual(8);
    // Every first-generation transit tunnel has ended on its hop with its keys wiped (or is forgotten already).
    for (const { engine, ids } of firstTransit)
      for (const [id, gw] of ids) expect(engineKeyMaterial(engine, id, gw).some(nonZero), `tunnel ${id}`).toBe(false);
    const live = hops.reduce((n, r) => {
      const s = r.service.transit.stats();
      return n + s.participant + s.obep + s.ibgw;
    }, 0);
    // Live transit hops = hops of the tunnels A still has on the data plane (usable + those in their 60 s grace).
    const aLive = [...a.service.creator.tunnels('inbound'), ...a.service.creator.tunnels('outbound')].reduce(
      (n, t) => n + t.hops.length,
      0,
    );
    expect(live).toBe(aLive);
    const s = a.service.stats();
    expect(s.tunnels).toEqual({ inbound: 2, outbound: 2, building: 0, failed: 0 });
    for (const r of net.routers) expect(r.planeDrops).toEqual({});
  }, 120_000);

  it('a hop that stops carrying traffic: tests fail twice, the tunnels are removed and rebuilt through other peers', async () => {
    net = new SimNet();
    const a = net.add('A', { poolOptions: { testIntervalMs: 10_000 } });
    const b = net.add('B');
    const c = net.add('C');
    net.peerFilter = (r) => (r === a ? [b] : []);
    const pool = a.service.createPool('client', {
      inbound: { quantity: 1, length: 1 },
      outbound: { quantity: 1, length: 1 },
    });
    await net.advance(21_000);
    expect(count(a, 'tested', 'outbound')).toBeGreaterThanOrEqual(1);
    // B goes silent for TunnelData; the next peer available is C.
    net.intercept = (m) => (m.msg.type === I2NP_TUNNEL_DATA && (m.to === b || m.from === b) ? 'drop' : undefined);
    net.peerFilter = (r) => (r === a ? [c] : []);
    await net.advance(35_000);
    expect(count(a, 'test-failed', 'outbound')).toBeGreaterThanOrEqual(2);
    expect(count(a, 'failed', 'outbound')).toBe(1);
    expect(count(a, 'failed', 'inbound')).toBe(1);
    await net.advance(21_000);
    const ob = pool.tunnels('outbound');
    expect(ob.length).toBe(1);
    expect(ob[0]!.hops[0]).toEqual(c.identHash);
    const testedAfter = a.events
      .slice(a.events.findIndex((e) => e.event === 'failed'))
      .filter((e) => e.event === 'tested');
    expect(testedAfter.length).toBeGreaterThanOrEqual(2);
    expect(a.service.stats().tunnels.failed).toBe(2);
  }, 60_000);

  it('no peers: build-failed events, the pool keeps trying, zero-hop pools work without peers', async () => {
    net = new SimNet();
    const a = net.add('A', { poolOptions: { testIntervalMs: 5_000 } });
    const p1 = a.service.createPool('p1', {
      inbound: { quantity: 1, length: 1 },
      outbound: { quantity: 1, length: 1 },
    });
    const p0 = a.service.createPool('p0', {
      inbound: { quantity: 1, length: 0 },
      outbound: { quantity: 1, length: 0 },
    });
    await net.advance(12_000);
    expect(p1.tunnels('inbound').length).toBe(0);
    expect(
      a.events.filter((e) => e.pool === 'p1' && e.event === 'build-failed' && e.reason === 'no-peers').length,
    ).toBeGreaterThan(2);
    expect(p0.tunnels('inbound').length).toBe(1);
    expect(a.events.filter((e) => e.pool === 'p0' && e.event === 'tested').length).toBeGreaterThanOrEqual(2);
  });
});
