// Our routers finding each other through one floodfill (docs/netdb.md, netdb-floodfill.md §2-§6), on 127.0.0.1 over
// NTCP2: a floodfill F and four routers that know only F's router.info. Each publishes its RouterInfo to F (reply
// token, confirmed by DeliveryStatus), explores through F and fetches the routers F lists, until every router knows
// every other; their one-hop exploratory pools then build and test tunnels through routers other than F. A LeaseSet2
// stored at F is found by another router's lookup. A second floodfill gets F's floods. F restarted from its data
// directory still holds the RouterInfos (an expired file is removed at load, not loaded).
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { createRouter, type Router, type RouterOptions } from '../src/router/router.js';
import type { TunnelEvent } from '../src/router/tunnels/pool.js';
import { buildLocalRouterInfo, loadOrCreateRouterSecrets } from '../src/router/index.js';
import { netDbRelativePath, writeRouterInfoFile } from '../src/router/netdb-files.js';
import { identHash } from '../src/router/identity.js';
import { encodeDatabaseStore } from '../src/i2np/database-store.js';
import { generatePrivateKeys } from '../src/keys/destination.js';
import { buildLeaseSet2 } from '../src/leaseset/leaseset2.js';
import { until } from './helpers/ntcp2-peer.js';

const dirs: string[] = [];
const routers: Router[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.stop(500)));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const FAST = { tickMs: 200, publishRetryMs: 1000, exploreFastMs: 700, lookupStepMs: 1500 };

async function started(
  opts: { floodfill?: boolean; dir?: string; tunnels?: boolean } = {},
): Promise<{ r: Router; events: TunnelEvent[]; dir: string }> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tp-netdb-'));
  if (!opts.dir) dirs.push(dir);
  const o: RouterOptions = {
    dataDir: dir,
    port: 0,
    floodfill: opts.floodfill === true,
    dataPlane: { threads: 'inline' },
    netDb: FAST,
    tunnels:
      opts.tunnels === false
        ? false
        : {
            exploratory: { inbound: { length: 1, quantity: 2 }, outbound: { length: 1, quantity: 2 } },
            poolOptions: { testIntervalMs: 1500 },
            tickMs: 250,
            buildTimeoutMs: 5000,
          },
  };
  const r = createRouter(o);
  routers.push(r);
  const events: TunnelEvent[] = [];
  r.on('tunnel', (e: TunnelEvent) => events.push(e));
  await r.start();
  return { r, events, dir };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('netDb: our routers through one floodfill', () => {
  it('four routers seeded only with the floodfill find each other and build three-hop tunnels through each other', async () => {
    const f = await started({ floodfill: true });
    const others = [await started(), await started(), await started(), await started()];
    for (const o of others) o.r.addPeer(f.r.routerInfo);
    const all = [f, ...others];
    const knowsAll = () =>
      all.every(({ r }) => all.every(({ r: x }) => x === r || r.netDb.routerInfo(x.identHash) !== undefined));
    const found = await until(knowsAll, 40_000);
    expect(found, JSON.stringify(all.map(({ r }) => r.stats().netdb))).toBe(true);
    // They learnt it the netDb way: F stored each router's publish (confirmed), the others explored and fetched.
    const fs = f.r.stats().netdb!;
    expect(fs.routerInfos).toBe(4);
    expect(fs.lookups).toBeGreaterThan(0);
    expect(fs.searchReplies).toBeGreaterThan(0);
    expect(fs.lookupsFound).toBeGreaterThan(0);
    for (const { r } of others) {
      const s = r.stats().netdb!;
      expect(s.publishConfirmed).toBeGreaterThan(0);
      expect(s.lookupsSent).toBeGreaterThan(0);
      expect(s.floodfills).toBe(1);
    }
    // Three-hop tunnels: with F and three others known, every such tunnel goes through at least two routers a router
    // only knew from the netDb (hops are distinct). Built, joined by the hops, tested both ways.
    for (const { r } of others)
      r.tunnels!.createPool('via-netdb', { inbound: { length: 3, quantity: 1 }, outbound: { length: 3, quantity: 1 } });
    const tested = await until(
      () =>
        others.every(({ events }) =>
          (['inbound', 'outbound'] as const).every((d) =>
            events.some((e) => e.pool === 'via-netdb' && e.event === 'tested' && e.direction === d),
          ),
        ),
      45_000,
    );
    expect(
      tested,
      JSON.stringify(
        others.map(({ events }) =>
          events.filter((e) => e.pool === 'via-netdb').map((e) => `${e.direction}:${e.event}:${e.reason ?? ''}`),
        ),
      ),
    ).toBe(true);
    const fHex = hex(f.r.identHash);
    for (const { events } of others) {
      const t = events.find((e) => e.pool === 'via-netdb' && e.event === 'tested')!;
      expect(t.hops).toHaveLength(3);
      expect(t.hops.filter((h) => h !== fHex).length).toBeGreaterThanOrEqual(2);
    }
  }, 90_000);

  it('a LeaseSet2 stored at the floodfill is found by another router; a second floodfill gets the flood', async () => {
    const f = await started({ floodfill: true, tunnels: false });
    const g = await started({ floodfill: true, tunnels: false });
    const a = await started({ tunnels: false });
    const b = await started({ tunnels: false });
    g.r.addPeer(f.r.routerInfo);
    a.r.addPeer(f.r.routerInfo);
    b.r.addPeer(f.r.routerInfo);
    // G publishes to F; F's table then holds G as a floodfill to flood to.
    expect(await until(() => f.r.netDb.routerInfo(g.r.identHash) !== undefined, 15_000)).toBe(true);
    const keys = generatePrivateKeys();
    const nowSec = Math.floor(Date.now() / 1000);
    const ls = buildLeaseSet2({
      keys,
      published: nowSec,
      leases: [{ gateway: a.r.identHash, tunnelId: 1234, end: nowSec + 600 }],
      encryptionKeys: [{ type: 4, key: new Uint8Array(32).fill(7) }],
    });
    const key = new Uint8Array(createHash('sha256').update(keys.destination.bytes).digest());
    // A stores it with a reply token (as a publisher does): F acks, keeps the exact bytes, floods it to G.
    await a.r.connect(f.r.identHash);
    expect(
      a.r.send(
        f.r.identHash,
        1,
        encodeDatabaseStore({
          key,
          type: 3,
          replyToken: 77,
          replyTunnelId: 0,
          replyGateway: a.r.identHash,
          data: ls,
        }),
      ),
    ).toBe(true);
    expect(await until(() => g.r.netDb.leaseSet(key) !== undefined, 10_000), JSON.stringify(f.r.stats().netdb)).toBe(
      true,
    );
    expect(Buffer.from(f.r.netDb.leaseSet(key)!.bytes).equals(Buffer.from(ls))).toBe(true);
    expect(Buffer.from(g.r.netDb.leaseSet(key)!.bytes).equals(Buffer.from(ls))).toBe(true);
    expect(f.r.stats().netdb!.floods).toBeGreaterThan(0);
    expect(f.r.stats().netdb!.deliveryStatusSent).toBeGreaterThan(0);
    // B looks it up: F answers with the DatabaseStore.
    expect(await b.r.netDb.lookup(key, 'leaseset', 10_000)).toBe(true);
    expect(Buffer.from(b.r.netDb.leaseSet(key)!.bytes).equals(Buffer.from(ls))).toBe(true);
    // An unknown key: a miss, answered with a DatabaseSearchReply, not a hang.
    expect(await b.r.netDb.lookup(new Uint8Array(32).fill(9), 'leaseset', 10_000)).toBe(false);
  }, 60_000);

  it('a restarted floodfill keeps the RouterInfos it stored; an expired file is removed at load', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-netdb-ff-'));
    dirs.push(dir);
    let f = await started({ floodfill: true, dir, tunnels: false });
    const fHash = f.r.identHash;
    const fRi = f.r.routerInfo;
    const others = [await started({ tunnels: false }), await started({ tunnels: false })];
    for (const o of others) o.r.addPeer(fRi);
    expect(await until(() => f.r.stats().netdb!.routerInfos === 2, 15_000)).toBe(true);
    await f.r.stop(200);
    routers.splice(routers.indexOf(f.r), 1);
    // A valid but old RouterInfo file (published 3 h ago: past the 2 h maximum age).
    const oldDir = mkdtempSync(join(tmpdir(), 'tp-netdb-old-'));
    dirs.push(oldDir);
    const sec = loadOrCreateRouterSecrets(oldDir);
    if (!sec.ok) throw new Error(sec.error);
    const oldRi = buildLocalRouterInfo(sec.value.keys, sec.value.ntcp2, {
      host: '127.0.0.1',
      port: 9,
      published: Date.now() - 3 * 3_600_000,
    });
    const oldPath = join(dir, netDbRelativePath(identHash(sec.value.keys.identity)));
    writeRouterInfoFile(oldPath, oldRi);
    expect(readdirSync(join(dir, 'netDb'), { recursive: true }).filter((n) => String(n).endsWith('.dat'))).toHaveLength(
      3,
    );
    f = await started({ floodfill: true, dir, tunnels: false });
    expect(hex(f.r.identHash)).toBe(hex(fHash));
    const s = f.r.stats().netdb!;
    expect(s.loaded).toBe(2);
    expect(s.routerInfos).toBe(2);
    expect(s.removedFiles).toBe(1);
    expect(existsSync(oldPath)).toBe(false);
    for (const o of others) expect(f.r.netDb.routerInfo(o.r.identHash)).toBeDefined();
  }, 60_000);
});
