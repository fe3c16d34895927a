// The balancer in-process: fake routers, fake clock, no sockets.
import { describe, expect, it } from 'vitest';
import { Balancer, BalancerStartError, parseRouterAddress, type BalancerEvent } from '../src/balancer/balancer.js';
import { selectLeases, type OfferedLease } from '../src/balancer/policy.js';
import { statusBlock, eventLine } from '../src/balancer/report.js';
import { generatePrivateKeys, leaseSetEncryptionKey } from '../src/keys/index.js';
import { x25519PublicKey } from '../src/keys/ed25519.js';
import { hex } from '../src/common/bytes.js';
import { FakeClock, FakeRouter, fakeNetwork, settle } from './helpers/fake-i2cp-router.js';
import { parseOptions } from '../src/cli/balance.js';

const keys = generatePrivateKeys();

async function setup(n: number, opts: { hangIndex?: number; downIndex?: number } = {}) {
  const clock = new FakeClock();
  const routers = Array.from({ length: n }, (_, i) => new FakeRouter(7654 + i, clock));
  if (opts.hangIndex !== undefined) {
    routers[opts.hangIndex]!.up = false;
    routers[opts.hangIndex]!.hang = true;
  }
  if (opts.downIndex !== undefined) routers[opts.downIndex]!.up = false;
  const events: BalancerEvent[] = [];
  const b = new Balancer({
    routers: routers.map((r) => ({ host: '127.0.0.1', port: r.port })),
    keys,
    options: { 'inbound.length': '0' },
    clock,
    connector: fakeNetwork(clock, routers),
    onEvent: (e) => events.push(e),
    connectTimeoutMs: 5000,
  });
  await b.start();
  await settle();
  const of = <T extends BalancerEvent['event']>(t: T) => events.filter((e) => e.event === t) as Extract<BalancerEvent, { event: T }>[];
  return { clock, routers, b, events, of };
}

const tunnels = (r: FakeRouter) => r.session!.leaseSets.at(-1)!.leases.map((l) => l.tunnelId).sort();

describe('balancer', () => {
  it('opens a session for the same Destination on every router with the given options', async () => {
    const { routers, of } = await setup(3);
    expect(of('session').map((e) => e.router)).toEqual(['127.0.0.1:7654', '127.0.0.1:7655', '127.0.0.1:7656']);
    for (const r of routers) {
      const cs = r.received.find((m) => m.type === 'CreateSession');
      expect(cs?.type === 'CreateSession' && hex(cs.config.destination)).toBe(hex(keys.destination.bytes));
      expect(cs?.type === 'CreateSession' && Object.fromEntries(cs.config.options)).toMatchObject({ 'inbound.length': '0', 'i2cp.leaseSetType': '3', 'i2cp.leaseSetEncType': '4' });
    }
  });

  it('answers each request with one merged, signed LeaseSet2 sent to every router that has asked', async () => {
    const { routers, of } = await setup(3);
    const [r0, r1, r2] = routers as [FakeRouter, FakeRouter, FakeRouter];
    r0.requestLeaseSet(2);
    await settle();
    expect(tunnels(r0)).toEqual([765400, 765401]);
    expect(r1.session!.leaseSets).toHaveLength(0); // has not asked yet
    r1.requestLeaseSet(1);
    await settle();
    r2.requestLeaseSet(3);
    await settle();
    const all = [765400, 765401, 765500, 765600, 765601, 765602];
    for (const r of routers) {
      expect(tunnels(r)).toEqual(all);
      expect(r.leaseSetErrors).toEqual([]);
      // the private key handed over matches the LeaseSet's X25519 key
      const ls = r.session!.leaseSets.at(-1)!;
      expect(hex(x25519PublicKey(r.session!.privateKeys.at(-1)![0]!.key))).toBe(hex(ls.keys[0]!.key));
      expect(ls.keys[0]!.type).toBe(4);
    }
    expect(hex(r0.session!.leaseSets.at(-1)!.keys[0]!.key)).toBe(hex(leaseSetEncryptionKey(keys).publicKey));
    const pub = of('published');
    expect(pub).toHaveLength(3);
    expect(pub[2]!.routers).toHaveLength(3);
    expect(pub[2]!.leases.filter((l) => l.router === '127.0.0.1:7656')).toHaveLength(3);
    expect(pub[2]!.leases[0]).toMatchObject({ gateway: expect.stringMatching(/^[A-Za-z0-9~-]{43}=$/), tunnelId: expect.any(Number), end: expect.any(Number) });
    // strictly newer `published` each time, even within one clock second
    const ps = pub.map((p) => p.published);
    expect(ps[1]! - ps[0]!).toBeGreaterThanOrEqual(1000);
    expect(ps[2]! - ps[1]!).toBeGreaterThanOrEqual(1000);
    expect(of('leases').map((e) => e.leases.length)).toEqual([2, 1, 3]);
  });

  it('answers well inside the 10-second deadline: sessions survive many request rounds', async () => {
    const { clock, routers, of } = await setup(2);
    for (let round = 0; round < 6; round++) {
      for (const r of routers) r.requestLeaseSet(1, clock.now() + 600_000, 1000 + round);
      await clock.advance(15_000);
    }
    expect(of('router-lost')).toEqual([]);
    expect(of('published')).toHaveLength(12);
    for (const r of routers) expect(r.session!.leaseSets).toHaveLength(12 - (r === routers[0] ? 0 : 1));
  });

  it('removes a lost router, republishes to the others, retries with backoff and takes it back', async () => {
    const { clock, routers, of, b } = await setup(3);
    const [r0, r1, r2] = routers as [FakeRouter, FakeRouter, FakeRouter];
    for (const r of routers) r.requestLeaseSet(1);
    await settle();
    const before = of('published').length;
    r2.down();
    await settle();
    expect(of('router-lost')).toMatchObject([{ router: '127.0.0.1:7656', reason: 'router closed the connection', retryInMs: 1000 }]);
    expect(of('published')).toHaveLength(before + 1);
    expect(of('published').at(-1)!.routers).toEqual(['127.0.0.1:7654', '127.0.0.1:7655']);
    expect(tunnels(r0)).toEqual([765400, 765500]);
    expect(tunnels(r1)).toEqual([765400, 765500]);
    expect(b.status()[2]).toMatchObject({ state: 'down', offered: 0, published: 0 });
    // still down: 1 s, 2 s, 4 s ...
    await clock.advance(1000);
    await clock.advance(2000);
    const errs = of('error').filter((e) => e.router === '127.0.0.1:7656');
    expect(errs.map((e) => e.message)).toEqual([expect.stringMatching(/ECONNREFUSED.*retry in 2 s/), expect.stringMatching(/ECONNREFUSED.*retry in 4 s/)]);
    r2.revive();
    await clock.advance(4000);
    expect(of('router-back')).toMatchObject([{ router: '127.0.0.1:7656' }]);
    r2.requestLeaseSet(2);
    await settle();
    expect(of('published').at(-1)!.routers).toHaveLength(3);
    for (const r of routers) expect(tunnels(r)).toEqual([765400, 765500, 765600, 765601]);
  });

  it('is not held up by an unreachable router', async () => {
    const { clock, routers, of } = await setup(3, { hangIndex: 1 });
    expect(of('session')).toHaveLength(2);
    routers[0]!.requestLeaseSet(1);
    routers[2]!.requestLeaseSet(1);
    await settle();
    expect(of('published').at(-1)!.routers).toEqual(['127.0.0.1:7654', '127.0.0.1:7656']);
    await clock.advance(5000);
    expect(of('error')).toMatchObject([{ router: '127.0.0.1:7655', message: expect.stringMatching(/timed out/) }]);
  });

  it('refuses to start when the first router is unreachable, and leaves nothing running', async () => {
    const clock = new FakeClock();
    const routers = [new FakeRouter(7654, clock), new FakeRouter(7655, clock)];
    routers[0]!.up = false;
    const b = new Balancer({ routers: routers.map((r) => ({ host: '127.0.0.1', port: r.port })), keys, clock, connector: fakeNetwork(clock, routers) });
    await expect(b.start()).rejects.toThrow(BalancerStartError);
    await settle();
    // the second router was mid-handshake: its connection is closed without a session, and nothing retries
    const seen = routers[1]!.received.length;
    expect(routers[1]!.openConnections).toBe(0);
    await clock.advance(60_000);
    expect(routers[1]!.received.length).toBe(seen);
    expect(routers[1]!.openConnections).toBe(0);
  });

  it('treats garbage from a router as a lost router', async () => {
    const { routers, of } = await setup(2);
    routers[1]!.sendRaw(new Uint8Array([0, 0, 0, 1, 99, 0]));
    await settle();
    expect(of('router-lost')).toMatchObject([{ router: '127.0.0.1:7655', reason: expect.stringMatching(/invalid type 99/) }]);
  });

  it('answers a request that arrives in the same chunk as SessionStatus(Created)', async () => {
    const clock = new FakeClock();
    const routers = [new FakeRouter(7654, clock)];
    routers[0]!.immediateLeases = 2;
    const events: BalancerEvent[] = [];
    const b = new Balancer({ routers: [{ host: '127.0.0.1', port: 7654 }], keys, clock, connector: fakeNetwork(clock, routers), onEvent: (e) => events.push(e) });
    await b.start();
    await settle();
    expect(routers[0]!.session!.leaseSets).toHaveLength(1);
    expect(events.filter((e) => e.event === 'published')).toHaveLength(1);
    expect(b.status()[0]).toMatchObject({ state: 'ready', sessionId: 100, offered: 2, published: 2 });
  });

  it('stop() destroys every session', async () => {
    const { routers, b } = await setup(2);
    await b.stop();
    for (const r of routers) expect(r.received.at(-1)).toMatchObject({ type: 'DestroySession', sessionId: r.session!.sessionId });
  });

  it('keeps every router represented when more than 16 leases are offered', async () => {
    const { routers, of } = await setup(3);
    routers[0]!.requestLeaseSet(12);
    routers[1]!.requestLeaseSet(7);
    routers[2]!.requestLeaseSet(1);
    await settle();
    const last = of('published').at(-1)!;
    expect(last.leases).toHaveLength(16);
    const per = (r: string) => last.leases.filter((l) => l.router === r).length;
    expect([per('127.0.0.1:7654'), per('127.0.0.1:7655'), per('127.0.0.1:7656')]).toEqual([8, 7, 1]);
    for (const r of routers) expect(r.leaseSetErrors).toEqual([]);
  });
});

describe('lease selection policy (> 16 leases)', () => {
  const gw = (n: number) => new Uint8Array(32).fill(n);
  const L = (router: string, g: number, tunnelId: number, end = 2000): OfferedLease => ({ gateway: gw(g), tunnelId, end, router });
  const offers = (m: Record<string, OfferedLease[]>) => new Map(Object.entries(m));

  it('drops ended leases and keeps everything when 16 or fewer remain', () => {
    const got = selectLeases(offers({ a: [L('a', 1, 1), L('a', 1, 2, 500)], b: [L('b', 2, 3)] }), 1000);
    expect(got.map((l) => l.tunnelId).sort()).toEqual([1, 3]);
  });

  it('deals slots round-robin so every router keeps at least one', () => {
    const o = offers({
      a: Array.from({ length: 16 }, (_, i) => L('a', 1, i)),
      b: Array.from({ length: 16 }, (_, i) => L('b', 2, 100 + i)),
      c: Array.from({ length: 16 }, (_, i) => L('c', 3, 200 + i)),
      d: [L('d', 4, 300)],
    });
    const got = selectLeases(o, 1000);
    const count = (r: string) => got.filter((l) => l.router === r).length;
    expect([count('a'), count('b'), count('c'), count('d')]).toEqual([5, 5, 5, 1]);
  });

  it('narrows gateways: within its share a router uses its most shared gateways first', () => {
    const o = offers({
      a: [L('a', 1, 1, 3000), L('a', 2, 2, 2500), L('a', 9, 3, 5000), L('a', 2, 4, 2400), ...Array.from({ length: 10 }, (_, i) => L('a', 7, 10 + i))],
      b: [L('b', 2, 20), L('b', 2, 21), L('b', 5, 22), L('b', 6, 23), L('b', 8, 24), L('b', 7, 25)],
    });
    const got = selectLeases(o, 1000);
    expect(got).toHaveLength(16);
    const gws = new Set(got.map((l) => l.gateway[0]));
    // a keeps gateways 7 (11 leases offered overall) and 2 (4); its single-use gateways 1 and 9 are left out
    expect(gws.has(1)).toBe(false);
    expect(gws.has(9)).toBe(false);
    expect(got.filter((l) => l.router === 'b')).toHaveLength(6);
  });

  it('with more than 16 routers keeps the 16 with the freshest leases', () => {
    const m: Record<string, OfferedLease[]> = {};
    for (let i = 0; i < 18; i++) m[`r${i}`] = [L(`r${i}`, i, i, 2000 + i)];
    const got = selectLeases(offers(m), 1000);
    expect(got.map((l) => l.router).sort()).toEqual(Array.from({ length: 16 }, (_, i) => `r${i + 2}`).sort());
  });
});

describe('balance command pieces', () => {
  it('parses router addresses and options, rejecting unreadable ones', () => {
    expect(parseRouterAddress('127.0.0.1:7654')).toEqual({ host: '127.0.0.1', port: 7654 });
    expect(parseRouterAddress('[::1]:7654')).toEqual({ host: '::1', port: 7654 });
    expect(parseRouterAddress('localhost')).toBeUndefined();
    expect(parseRouterAddress('h:70000')).toBeUndefined();
    expect(parseOptions(['inbound.length=0', 'x=a=b'])).toEqual({ 'inbound.length': '0', x: 'a=b' });
    expect(() => parseOptions(['inbound.length'])).toThrow(/cannot read --option 'inbound.length'/);
    expect(() => parseOptions(['=1'])).toThrow(/KEY=VALUE/);
    expect(() => parseOptions(['a=1;'])).toThrow(/';'/);
    expect(() => parseOptions(['a=1', 'a=2'])).toThrow(/twice/);
  });

  it('formats the status block and event lines', async () => {
    const { b, routers, events } = await setup(2);
    routers[0]!.requestLeaseSet(2);
    await settle();
    const s = statusBlock(b.status(), b.lastPublishAt, b.lastPublishedSec, b.publishCount, Date.now());
    expect(s).toMatch(/^routers 2\/2 up · last publish \d\d:\d\d:\d\d \(published=\d+, #1\)/);
    expect(s).toMatch(/127\.0\.0\.1:7654 +ready +session 100 +leases offered +2 published +2/);
    expect(s).toMatch(/127\.0\.0\.1:7655 +session +session 100 +leases offered +0 published +0/);
    expect(eventLine(events.at(-1)!, 0)).toMatch(/published LeaseSet2 .* with 2 leases \(127\.0\.0\.1:7654×2\) to 1 router$/);
  });
});
