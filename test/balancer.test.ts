// The balancer in-process: fake routers, fake clock, no sockets.
import { describe, expect, it } from 'vitest';
import { Balancer, BalancerStartError, parseRouterAddress, type BalancerEvent } from '../src/balancer/balancer.js';
import { admissibleLeases, MAX_LEASE_AHEAD_MS, selectLeases, type OfferedLease } from '../src/balancer/policy.js';
import { checkLeaseSet2Times } from '../src/leaseset/leaseset2.js';
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
  const of = <T extends BalancerEvent['event']>(t: T) =>
    events.filter((e) => e.event === t) as Extract<BalancerEvent, { event: T }>[];
  return { clock, routers, b, events, of };
}

const tunnels = (r: FakeRouter) =>
  r
    .session!.leaseSets.at(-1)!
    .leases.map((l) => l.tunnelId)
    .sort();

describe('balancer', () => {
  it('opens a session for the same Destination on every router with the given options', async () => {
    const { routers, of } = await setup(3);
    expect(of('session').map((e) => e.router)).toEqual(['127.0.0.1:7654', '127.0.0.1:7655', '127.0.0.1:7656']);
    for (const r of routers) {
      const cs = r.received.find((m) => m.type === 'CreateSession');
      expect(cs?.type === 'CreateSession' && hex(cs.config.destination)).toBe(hex(keys.destination.bytes));
      expect(cs?.type === 'CreateSession' && Object.fromEntries(cs.config.options)).toMatchObject({
        'inbound.length': '0',
        'i2cp.leaseSetType': '3',
        'i2cp.leaseSetEncType': '4',
      });
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
    expect(pub[2]!.leases[0]).toMatchObject({
      gateway: expect.stringMatching(/^[A-Za-z0-9~-]{43}=$/),
      tunnelId: expect.any(Number),
      end: expect.any(Number),
    });
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
    expect(of('router-lost')).toMatchObject([
      { router: '127.0.0.1:7656', reason: 'router closed the connection', retryInMs: 1000 },
    ]);
    expect(of('published')).toHaveLength(before + 1);
    expect(of('published').at(-1)!.routers).toEqual(['127.0.0.1:7654', '127.0.0.1:7655']);
    expect(tunnels(r0)).toEqual([765400, 765500]);
    expect(tunnels(r1)).toEqual([765400, 765500]);
    expect(b.status()[2]).toMatchObject({ state: 'down', offered: 0, published: 0 });
    // still down: 1 s, 2 s, 4 s ...
    await clock.advance(1000);
    await clock.advance(2000);
    const errs = of('error').filter((e) => e.router === '127.0.0.1:7656');
    expect(errs.map((e) => e.message)).toEqual([
      expect.stringMatching(/ECONNREFUSED.*retry in 2 s/),
      expect.stringMatching(/ECONNREFUSED.*retry in 4 s/),
    ]);
    r2.revive();
    await clock.advance(4000);
    expect(of('router-back')).toMatchObject([{ router: '127.0.0.1:7656' }]);
    r2.requestLeaseSet(2);
    await settle();
    expect(of('published').at(-1)!.routers).toHaveLength(3);
    for (const r of routers) expect(tunnels(r)).toEqual([765400, 765500, 765600, 765601]);
  });

  it('survives an onEvent callback that throws: counted, and the loss, retry and return still happen', async () => {
    const clock = new FakeClock();
    const routers = [0, 1].map((i) => new FakeRouter(7654 + i, clock));
    const seen: string[] = [];
    const b = new Balancer({
      routers: routers.map((r) => ({ host: '127.0.0.1', port: r.port })),
      keys,
      clock,
      connector: fakeNetwork(clock, routers),
      onEvent: (e) => {
        seen.push(e.event);
        throw new Error('listener bug');
      },
      connectTimeoutMs: 5000,
    });
    await b.start();
    await settle();
    for (const r of routers) r.requestLeaseSet(1);
    await settle();
    routers[1]!.down();
    await settle();
    await clock.advance(1000); // refused retry, inside the reconnect timer
    routers[1]!.revive();
    await clock.advance(2000);
    routers[1]!.requestLeaseSet(1);
    await settle();
    expect(seen).toEqual(expect.arrayContaining(['session', 'published', 'router-lost', 'error', 'router-back']));
    expect(b.eventErrors).toBe(seen.length);
    expect(tunnels(routers[0]!)).toEqual([765400, 765500]);
    await b.stop();
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
    const b = new Balancer({
      routers: routers.map((r) => ({ host: '127.0.0.1', port: r.port })),
      keys,
      clock,
      connector: fakeNetwork(clock, routers),
    });
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
    expect(of('router-lost')).toMatchObject([
      { router: '127.0.0.1:7655', reason: expect.stringMatching(/invalid type 99/) },
    ]);
  });

  it('answers a request that arrives in the same chunk as SessionStatus(Created)', async () => {
    const clock = new FakeClock();
    const routers = [new FakeRouter(7654, clock)];
    routers[0]!.immediateLeases = 2;
    const events: BalancerEvent[] = [];
    const b = new Balancer({
      routers: [{ host: '127.0.0.1', port: 7654 }],
      keys,
      clock,
      connector: fakeNetwork(clock, routers),
      onEvent: (e) => events.push(e),
    });
    await b.start();
    await settle();
    expect(routers[0]!.session!.leaseSets).toHaveLength(1);
    expect(events.filter((e) => e.event === 'published')).toHaveLength(1);
    expect(b.status()[0]).toMatchObject({ state: 'ready', sessionId: 100, offered: 2, published: 2 });
  });

  it('stop() destroys every session', async () => {
    const { routers, b } = await setup(2);
    await b.stop();
    for (const r of routers)
      expect(r.received.at(-1)).toMatchObject({ type: 'DestroySession', sessionId: r.session!.sessionId });
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

describe('lease end dates a router may claim', () => {
  it('one router claiming far-future ends neither breaks nor stretches the merged LeaseSet2', async () => {
    // an hour ahead (fits the 16-bit expires offset, but i2pd refuses the set), a year, the largest Date I2CP carries
    for (const ahead of [3_600_000, 365 * 86_400_000, Number.MAX_SAFE_INTEGER - 1_795_000_000_000]) {
      const { clock, routers, events, of } = await setup(2);
      const [honest, liar] = routers as [FakeRouter, FakeRouter];
      honest.requestLeaseSet(2);
      liar.requestLeaseSet(2, clock.now() + ahead);
      await settle();
      expect(events.filter((e) => e.event === 'error')).toEqual([]);
      const nowSec = Math.floor(clock.now() / 1000);
      for (const r of routers) {
        const ls = r.session!.leaseSets.at(-1)!;
        expect(ls.leases).toHaveLength(4); // the liar's leases stay, clamped
        expect(checkLeaseSet2Times(ls, nowSec), `${ahead}`).toBeUndefined();
        expect(ls.published + ls.expires).toBeLessThanOrEqual(nowSec + MAX_LEASE_AHEAD_MS / 1000 + 1);
        expect(r.leaseSetErrors).toEqual([]);
      }
      const last = of('published').at(-1)!;
      expect(last.leases.filter((l) => l.router === '127.0.0.1:7655').map((l) => l.end)).toEqual(
        new Array(2).fill(Math.floor((clock.now() + MAX_LEASE_AHEAD_MS) / 1000) * 1000),
      );
    }
  });

  it('a router asking in a loop cannot push `published` ahead of the clock: past 10 s the answers merge, one a second', async () => {
    const { clock, routers, of } = await setup(2);
    const [flooder, other] = routers as [FakeRouter, FakeRouter];
    other.requestLeaseSet(1);
    await settle();
    const start = clock.now();
    for (let i = 0; i < 100; i++) flooder.requestLeaseSet(1, clock.now() + 600_000, 5000 + i);
    await settle();
    // one LeaseSet2 for `other`, then one a second ahead of the clock up to 10 s ahead; the rest wait
    expect(of('published').map((p) => (p.published - start) / 1000)).toEqual(Array.from({ length: 11 }, (_, i) => i));
    await clock.advance(999);
    expect(of('published')).toHaveLength(11);
    await clock.advance(1);
    // one second later a single LeaseSet2 answers all the waiting requests, still 10 s ahead at most
    expect(of('published')).toHaveLength(12);
    expect(of('published').at(-1)!.published).toBe(start + 11_000);
    await clock.advance(28_000);
    expect(of('published')).toHaveLength(12);
    const last = of('published').at(-1)!;
    expect(last.leases.map((l) => l.tunnelId).sort()).toEqual([5099, 765500]);
    expect(of('router-lost')).toEqual([]); // each asked router was answered inside its 10 s deadline
    for (const r of routers) {
      expect(r.leaseSetErrors).toEqual([]);
      expect(checkLeaseSet2Times(r.session!.leaseSets.at(-1)!, Math.floor(clock.now() / 1000))).toBeUndefined();
    }
  });

  it('admissibleLeases clamps each end to now + 600 s and drops what no LeaseSet2 can hold', () => {
    const now = 1_795_000_000_500;
    const pub = Math.floor(now / 1000);
    const L = (tunnelId: number, end: number): OfferedLease => ({
      gateway: new Uint8Array(32),
      tunnelId,
      end,
      router: 'r',
    });
    const got = admissibleLeases(
      [
        L(1, now + 600_000), // the most an honest router claims: as is
        L(2, now + 600_001), // clamped
        L(3, 8.64e15), // clamped
        L(4, now + 1000), // ends in the next second: kept
        L(5, pub * 1000 + 999), // ends within the published second: no LeaseSet2 published then can hold it
        L(6, now - 1), // ended
        L(7, Number.NaN),
        L(8, Number.POSITIVE_INFINITY),
      ],
      now,
      pub,
    );
    expect(got.map((l) => [l.tunnelId, l.end])).toEqual([
      [1, now + 600_000],
      [2, now + 600_000],
      [3, now + 600_000],
      [4, now + 1000],
    ]);
    // a LeaseSet2 published long before the end cannot express it in its 16-bit expires offset
    expect(admissibleLeases([L(9, now + 600_000)], now, pub - 0xffff).map((l) => l.tunnelId)).toEqual([]);
    expect(admissibleLeases([L(9, now + 600_000)], now, pub - 0xffff + 600).map((l) => l.tunnelId)).toEqual([9]);
  });
});

describe('lease selection policy (> 16 leases)', () => {
  const gw = (n: number) => new Uint8Array(32).fill(n);
  const L = (router: string, g: number, tunnelId: number, end = 2000): OfferedLease => ({
    gateway: gw(g),
    tunnelId,
    end,
    router,
  });
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
      a: [
        L('a', 1, 1, 3000),
        L('a', 2, 2, 2500),
        L('a', 9, 3, 5000),
        L('a', 2, 4, 2400),
        ...Array.from({ length: 10 }, (_, i) => L('a', 7, 10 + i)),
      ],
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
    expect(eventLine(events.at(-1)!, 0)).toMatch(
      /published LeaseSet2 .* with 2 leases \(127\.0\.0\.1:7654×2\) to 1 router$/,
    );
  });
});
