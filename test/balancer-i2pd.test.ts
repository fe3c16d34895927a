// Integration: the balancer against three real i2pd 2.45.1 routers on loopback (i2pd-notes.md).
// Sessions open on all, the merged LeaseSet2 is accepted by each (sessions outlive the 10 s answer deadline several
// times over, no LeaseSet error in any log), a killed router's leases leave the next publish and come back when it
// restarts; SendMessageExpires with bit 15 (Proposal 171) is accepted, and its MessageStatus codes are recorded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Balancer, type BalancerEvent } from '../src/balancer/balancer.js';
import { I2cpClient } from '../src/i2cp/client.js';
import { SendFlags } from '../src/i2cp/messages.js';
import { encodePayload } from '../src/i2cp/payload.js';
import { b32Address, destinationHash, generatePrivateKeys } from '../src/keys/index.js';
import {
  consolePage,
  i2pdGate,
  leaseSetAnswerer,
  leaseSetErrors,
  localRouter,
  readLog,
  startRouter,
  stopRouter,
  type LocalRouter,
} from './helpers/i2pd.js';

const runs = i2pdGate('[balancer-i2pd]');

const BASE_DIR = '/tmp/tunnelplane-test-balancer-i2pd';
const PORTS = { i2cp: 19654, http: 19070, transport: 39100 };
const ZERO_HOP = {
  'inbound.length': '0',
  'outbound.length': '0',
  'inbound.quantity': '2',
  'outbound.quantity': '1',
  'inbound.lengthVariance': '0',
  'outbound.lengthVariance': '0',
};
// 3 routers × 8 inbound tunnels = 24 leases offered: more than 16, so the LeaseSet2 policy is exercised (i2pd adds
// about two zero-hop tunnels per 15 s tick, so the total passes 16 some 45-60 s after the sessions open)
const BALANCED = { ...ZERO_HOP, 'inbound.quantity': '8' };

class EventLog {
  events: BalancerEvent[] = [];
  private waiters: { pred: (e: BalancerEvent) => boolean; resolve: (e: BalancerEvent) => void }[] = [];
  push = (e: BalancerEvent) => {
    this.events.push(e);
    this.waiters = this.waiters.filter((w) => (w.pred(e) ? (w.resolve(e), false) : true));
  };
  /** Resolves with the first event from index `from` on that matches. */
  wait<T extends BalancerEvent>(pred: (e: BalancerEvent) => e is T, ms: number, what: string, from = 0): Promise<T> {
    const hit = this.events.slice(from).find(pred);
    if (hit) return Promise.resolve(hit as T);
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`no ${what} within ${ms} ms; events: ${this.events.map((e) => e.event).join(',')}`)),
        ms,
      );
      this.waiters.push({ pred, resolve: (e) => (clearTimeout(t), resolve(e as T)) });
    });
  }
}

describe.skipIf(!runs)('balancer against real i2pd routers', () => {
  const routers: LocalRouter[] = [0, 1, 2].map((i) => localRouter(BASE_DIR, i, PORTS));
  const label = (r: LocalRouter) => `127.0.0.1:${r.i2cpPort}`;
  const log = new EventLog();
  const keys = generatePrivateKeys();
  let balancer: Balancer;
  let probe: I2cpClient | undefined;
  let probeResult: Promise<{
    flag15: number[];
    flag0: number[];
    alive: boolean;
    reconfigured: boolean;
    bandwidth: number[];
    hostReply: number;
  }>;
  let firstFullPublishAt = 0;

  beforeAll(async () => {
    await Promise.all(routers.map((r) => startRouter(r)));
    balancer = new Balancer({
      routers: routers.map((r) => ({ host: '127.0.0.1', port: r.i2cpPort })),
      keys,
      options: BALANCED,
      onEvent: log.push,
      backoffMaxMs: 4000,
    });
    await balancer.start();
    probeResult = runProbe();
  }, 60_000);

  afterAll(async () => {
    await balancer?.stop();
    await probe?.destroySession().catch(() => undefined);
    await Promise.all(routers.map((r) => stopRouter(r)));
  }, 60_000);

  /** A second Destination on router 0 that sends SendMessageExpires with and without bit 15 and records statuses. */
  async function runProbe() {
    const pk = generatePrivateKeys();
    const answer = leaseSetAnswerer(pk);
    probe = await I2cpClient.connect({ host: '127.0.0.1', port: routers[0]!.i2cpPort });
    const statuses = new Map<number, number[]>();
    let answered!: () => void;
    const ready = new Promise<void>((r) => (answered = r));
    probe.onMessage((m) => {
      if (m.type === 'RequestVariableLeaseSet') {
        probe!.sendCreateLeaseSet2(answer.leaseSet(m.leases), answer.privateKeys);
        answered();
      }
      if (m.type === 'MessageStatus') statuses.set(m.nonce, [...(statuses.get(m.nonce) ?? []), m.status]);
    });
    await probe.createSession(pk, ZERO_HOP);
    await ready;
    const payload = encodePayload({ data: new TextEncoder().encode('ping'), fromPort: 0, toPort: 0, protocol: 18 });
    probe.sendMessageExpires(keys.destination.bytes, payload, {
      nonce: 15,
      flags: SendFlags.SWITCH_OUTBOUND_TUNNEL,
      expiration: Date.now() + 60_000,
    });
    probe.sendMessageExpires(keys.destination.bytes, payload, { nonce: 1, flags: 0, expiration: Date.now() + 60_000 });
    // the rest of the session messages, against the same router
    await probe.reconfigure(pk, { ...ZERO_HOP, 'inbound.nickname': 'probe' });
    const bandwidth = await probe.getBandwidthLimits();
    const reply = await probe.hostLookup(destinationHash(keys.destination), 12_000);
    await new Promise((r) => setTimeout(r, 3000));
    return {
      flag15: statuses.get(15) ?? [],
      flag0: statuses.get(1) ?? [],
      alive: !probe.closed,
      reconfigured: true,
      bandwidth,
      hostReply: reply.result,
    };
  }

  it('opens a session for the Destination on all three routers', async () => {
    for (const r of routers)
      await log.wait(
        (e): e is BalancerEvent => e.event === 'session' && e.router === label(r),
        10_000,
        `session on ${label(r)}`,
      );
  });

  it('sends the merged LeaseSet2 to every router, and every router keeps accepting it', async () => {
    const full = await log.wait(
      (e): e is Extract<BalancerEvent, { event: 'published' }> => e.event === 'published' && e.routers.length === 3,
      40_000,
      'a publish to all three routers',
    );
    firstFullPublishAt = Date.now();
    for (const r of routers) expect(full.leases.some((l) => l.router === label(r))).toBe(true);
    // more than 16 leases offered: 16 published, every router represented
    const capped = await log.wait(
      (e): e is Extract<BalancerEvent, { event: 'published' }> => e.event === 'published' && e.leases.length === 16,
      75_000,
      'a 16-lease publish',
    );
    for (const r of routers) expect(capped.leases.some((l) => l.router === label(r))).toBe(true);
    const offered = routers.map(
      (r) =>
        (log.events.filter((e) => e.event === 'leases' && e.router === label(r)).at(-1) as { leases: unknown[] }).leases
          .length,
    );
    console.info(
      `routers offered ${offered.join('+')} = ${offered.reduce((a, b) => a + b)} leases; published 16: ${routers.map((r) => capped.leases.filter((l) => l.router === label(r)).length).join('+')}`,
    );
    const cappedAt = Date.now();
    // stay up for at least 3.5 × i2pd's 10 s deadline (and > 10 s after the 16-lease LeaseSet2: an invalid answer
    // would have closed the asking router's session); zero-hop pools ask every 15 s and must be answered each time
    await new Promise((r) =>
      setTimeout(r, Math.max(0, firstFullPublishAt + 35_000 - Date.now(), cappedAt + 11_000 - Date.now())),
    );
    expect(log.events.filter((e) => e.event === 'router-lost' || e.event === 'error')).toEqual([]);
    expect(balancer.status().map((s) => s.state)).toEqual(['ready', 'ready', 'ready']);
    expect(Date.now() - firstFullPublishAt).toBeGreaterThanOrEqual(35_000);
    const leaseEvents = log.events.filter((e) => e.event === 'leases');
    for (const r of routers) expect(leaseEvents.filter((e) => e.router === label(r)).length).toBeGreaterThanOrEqual(2);
    const published = log.events
      .filter((e): e is Extract<BalancerEvent, { event: 'published' }> => e.event === 'published')
      .map((e) => e.published);
    for (let i = 1; i < published.length; i++) expect(published[i]!).toBeGreaterThan(published[i - 1]!);
    for (const r of routers) {
      const text = readLog(r);
      expect(leaseSetErrors(text), `LeaseSet errors in ${r.log}`).toEqual([]);
      // i2pd tries to publish only once it holds a valid local LeaseSet (i2pd-notes.md §2): one line per accepted LeaseSet2
      expect(text).toMatch(/Can't publish LeaseSet, no more floodfills found/);
      const page = await consolePage(r, 'page=local_destinations');
      expect(page).toContain(b32Address(keys.destination).replace('.b32.i2p', ''));
      const count = (re: RegExp) => text.split('\n').filter((l) => re.test(l)).length;
      console.info(
        `${r.log}: ${count(/Can't publish LeaseSet/)}× "Can't publish LeaseSet, no more floodfills found" (publish attempts of accepted LeaseSet2s), 0 LeaseSet errors`,
      );
    }
  }, 150_000);

  it('SendMessageExpires with bit 15 (SWITCH_OUTBOUND_TUNNEL) is accepted like flags 0', async () => {
    const res = await probeResult;
    console.info(`MessageStatus codes from i2pd: bit 15 set -> [${res.flag15}], flags 0 -> [${res.flag0}]`);
    expect(res.alive).toBe(true);
    expect(res.flag15[0]).toBe(1); // Accepted
    expect(res.flag15).toEqual(res.flag0);
  }, 60_000);

  it('ReconfigureSession, GetBandwidthLimits and HostLookup work against i2pd', async () => {
    const res = await probeResult;
    console.info(
      `ReconfigureSession -> Updated; BandwidthLimits -> [${res.bandwidth}]; HostLookup(hash of the balanced Destination) -> HostReply result ${res.hostReply}`,
    );
    expect(res.reconfigured).toBe(true);
    expect(res.bandwidth).toHaveLength(16);
    // an isolated router has no floodfill to ask, and local I2CP destinations are not in its netDb: failure (1)
    expect(res.hostReply).toBe(1);
  }, 60_000);

  it("drops a killed router's leases from the next publish, and takes them back when it restarts", async () => {
    const victim = routers[2]!;
    const victimGateways = new Set(
      log.events.flatMap((e) =>
        e.event === 'leases' && e.router === label(victim) ? e.leases.map((l) => l.gateway) : [],
      ),
    );
    const mark = log.events.length;
    await stopRouter(victim);
    await log.wait(
      (e): e is BalancerEvent => e.event === 'router-lost' && e.router === label(victim),
      15_000,
      'router-lost',
      mark,
    );
    const after = await log.wait(
      (e): e is Extract<BalancerEvent, { event: 'published' }> => e.event === 'published',
      15_000,
      'publish after loss',
      mark,
    );
    expect(after.routers).toEqual([label(routers[0]!), label(routers[1]!)]);
    expect(after.leases.filter((l) => l.router === label(victim))).toEqual([]);
    expect(after.leases.filter((l) => victimGateways.has(l.gateway))).toEqual([]);
    expect(after.leases.length).toBeGreaterThan(0);

    const mark2 = log.events.length;
    await startRouter(victim, true);
    await log.wait(
      (e): e is BalancerEvent => e.event === 'router-back' && e.router === label(victim),
      20_000,
      'router-back',
      mark2,
    );
    const back = await log.wait(
      (e): e is Extract<BalancerEvent, { event: 'published' }> =>
        e.event === 'published' && e.leases.some((l) => l.router === label(victim)),
      40_000,
      'a publish with the restarted router',
      mark2,
    );
    expect(back.routers).toHaveLength(3);
    expect(leaseSetErrors(readLog(victim))).toEqual([]);
  }, 120_000);
});
