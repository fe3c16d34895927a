// The netDb against a scripted host (no sockets; docs/netdb.md, netdb-floodfill.md §1-§5): routing keys and XOR order
// cross-checked with a BigInt reference on seeded random keys; DatabaseStore of RouterInfos and LeaseSet2s verified
// and kept byte for byte, acknowledged (directly or through the reply tunnel, also when it is ours), flooded to the
// three closest other floodfills; hostile stores (bad signature, older `published`, wrong key, oversized, unpublished,
// expired, garbage) counted by reason and never thrown; lookups answered with DatabaseStore or DatabaseSearchReply, in
// the single-tag garlic a lookup asks for (message clove first), through the reply tunnel; exploration lists
// non-floodfills; a flood of lookups from one router is cut at its bucket; caps and expiry hold.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { NetDb, type NetDbHost, type NetDbOptions } from '../src/router/netdb/netdb.js';
import { closest, routingKey, utcDateString } from '../src/router/netdb/routing-key.js';
import { generateRouterKeys, type RouterKeys } from '../src/router/router-keys.js';
import { generateNtcp2Keys } from '../src/router/ntcp2-keys.js';
import { buildLocalRouterInfo } from '../src/router/local-router-info.js';
import { identHash } from '../src/router/identity.js';
import type { PeerRouterInfo } from '../src/router/peer.js';
import { decodeDatabaseStore, encodeDatabaseStore } from '../src/i2np/database-store.js';
import { encodeDatabaseLookup, type DatabaseLookupInput } from '../src/i2np/database-lookup.js';
import { decodeDatabaseSearchReply, encodeDatabaseSearchReply } from '../src/i2np/database-search-reply.js';
import { decodeDeliveryStatus, decodeTunnelGateway } from '../src/i2np/bodies.js';
import { decodeI2np } from '../src/i2np/header.js';
import { gunzipRouterInfo, gzipRouterInfo } from '../src/i2np/router-info-gzip.js';
import { openTagReply } from '../src/router/garlic/tag-reply.js';
import { generatePrivateKeys, leaseSetEncryptionKey, type PrivateKeys } from '../src/keys/destination.js';
import { buildLeaseSet2, FLAG_UNPUBLISHED } from '../src/leaseset/leaseset2.js';
import { Rng, testSeed } from './helpers/chacha-rng.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

interface Sent {
  to: string;
  type: number;
  body: Uint8Array;
}

class FakeHost implements NetDbHost {
  readonly identHash: Uint8Array;
  readonly dataDir = '/nonexistent-netdb-test';
  readonly sent: Sent[] = [];
  readonly injected: { tunnelId: number; message: Uint8Array }[] = [];
  readonly learnt: PeerRouterInfo[] = [];
  clock = Date.now();
  reachable = (_h: Uint8Array) => true;
  ri: Uint8Array;
  constructor(readonly keys: RouterKeys = generateRouterKeys()) {
    this.identHash = identHash(keys.identity);
    this.ri = riOf(keys, { floodfill: true });
  }
  now = () => this.clock;
  send(to: Uint8Array, type: number, body: Uint8Array): boolean {
    this.sent.push({ to: hex(to), type, body });
    return true;
  }
  canReach(h: Uint8Array): boolean {
    return this.reachable(h);
  }
  injectGateway(tunnelId: number, message: Uint8Array): boolean {
    this.injected.push({ tunnelId, message });
    return true;
  }
  onRouterInfo(p: PeerRouterInfo): void {
    this.learnt.push(p);
  }
  ownRouterInfo(): Uint8Array {
    return this.ri;
  }
  take(): Sent[] {
    return this.sent.splice(0);
  }
}

function riOf(keys: RouterKeys, o: { floodfill?: boolean; published?: number } = {}): Uint8Array {
  return buildLocalRouterInfo(keys, generateNtcp2Keys(), {
    host: '127.0.0.1',
    port: 9000,
    caps: { floodfill: o.floodfill === true },
    ...(o.published !== undefined ? { published: o.published } : {}),
  });
}

interface Router {
  keys: RouterKeys;
  hash: Uint8Array;
  ri: Uint8Array;
}
function router(o: { floodfill?: boolean; published?: number } = {}): Router {
  const keys = generateRouterKeys();
  return { keys, hash: identHash(keys.identity), ri: riOf(keys, o) };
}

const QUIET: Partial<NetDbOptions> = { exploreIntervalMs: 0, publishCount: 0, persist: false };

function netdb(host: FakeHost, o: Partial<NetDbOptions> = {}): NetDb {
  return new NetDb(host, { floodfill: true, ...QUIET, ...o });
}

function riStore(r: Router, o: { token?: number; tunnel?: number; gateway?: Uint8Array; key?: Uint8Array } = {}) {
  return encodeDatabaseStore({
    key: o.key ?? r.hash,
    type: 0,
    replyToken: o.token ?? 0,
    replyTunnelId: o.tunnel ?? 0,
    ...(o.token ? { replyGateway: o.gateway ?? r.hash } : {}),
    data: gzipRouterInfo(r.ri),
  });
}

function leaseSet(keys: PrivateKeys, nowMs: number, o: { published?: number; flags?: number; end?: number } = {}) {
  const now = Math.floor(nowMs / 1000);
  return buildLeaseSet2({
    keys,
    published: o.published ?? now,
    leases: [{ gateway: new Uint8Array(32).fill(1), tunnelId: 5, end: o.end ?? now + 600 }],
    encryptionKeys: [{ type: 4, key: leaseSetEncryptionKey(keys).publicKey }],
    ...(o.flags !== undefined ? { flags: o.flags } : {}),
  });
}
const destHash = (k: PrivateKeys) => new Uint8Array(createHash('sha256').update(k.destination.bytes).digest());

function lookup(l: Partial<DatabaseLookupInput> & { key: Uint8Array; from: Uint8Array }): Uint8Array {
  return encodeDatabaseLookup({ lookupType: 'routerinfo', ...l });
}

describe('routing keys (netdb-floodfill.md §1)', () => {
  it('SHA-256(key ‖ yyyyMMdd UTC), rotating at 00:00 UTC; closest() matches a BigInt XOR reference', () => {
    const rng = new Rng(testSeed('netdb routing keys'));
    const key = rng.bytes(32);
    const t = Date.UTC(2026, 0, 9, 23, 59, 59);
    expect(utcDateString(t)).toBe('20260109');
    expect(utcDateString(t + 1000)).toBe('20260110');
    const ref = createHash('sha256')
      .update(Buffer.concat([key, Buffer.from('20260109', 'ascii')]))
      .digest();
    expect(hex(routingKey(key, t))).toBe(ref.toString('hex'));
    expect(hex(routingKey(key, t + 1000))).not.toBe(ref.toString('hex'));
    const big = (b: Uint8Array) => BigInt(`0x${hex(b)}`);
    for (let round = 0; round < 20; round++) {
      const rk = rng.bytes(32);
      const cands = Array.from({ length: 40 }, () => rng.bytes(32));
      const excluded = new Set([hex(cands[3]!), hex(cands[17]!)]);
      const want = cands
        .filter((c) => !excluded.has(hex(c)))
        .sort((a, b) => {
          const d = (big(a) ^ big(rk)) - (big(b) ^ big(rk));
          return d < 0n ? -1 : d > 0n ? 1 : 0;
        })
        .slice(0, 5)
        .map(hex);
      expect(closest(rk, cands, 5, excluded).map(hex)).toEqual(want);
    }
  });
});

describe('DatabaseStore (§2)', () => {
  it('a RouterInfo with a reply token: DeliveryStatus(token) to the gateway, stored verified, exact bytes', () => {
    const host = new FakeHost();
    const db = netdb(host, { floodfill: false });
    const a = router();
    db.handleStore(riStore(a, { token: 4242 }), a.hash);
    const out = host.take();
    expect(out).toHaveLength(1);
    expect(out[0]!.to).toBe(hex(a.hash));
    expect(out[0]!.type).toBe(10);
    const ds = decodeDeliveryStatus(out[0]!.body);
    expect(ds.ok && ds.value.msgId).toBe(4242);
    expect(Buffer.from(db.routerInfo(a.hash)!.bytes).equals(Buffer.from(a.ri))).toBe(true);
    expect(host.learnt.map((p) => hex(p.identHash))).toEqual([hex(a.hash)]);
    expect(db.stats().stores).toBe(1);
  });

  it('hostile RouterInfo stores are counted by reason, acknowledged when they carry a token, never stored', () => {
    const rng = new Rng(testSeed('netdb hostile ri'));
    const host = new FakeHost();
    const db = netdb(host, { floodfill: false });
    const a = router({ published: host.clock - 60_000 });
    db.handleStore(riStore(a), a.hash);
    expect(db.stats().stores).toBe(1);
    // the same and an older one
    db.handleStore(riStore(a), a.hash);
    db.handleStore(riStore({ ...a, ri: riOf(a.keys, { published: host.clock - 120_000 }) }), a.hash);
    // bad signature
    const b = router();
    const badSig = Uint8Array.from(b.ri);
    badSig[badSig.length - 3]! ^= 0x40;
    db.handleStore(riStore({ ...b, ri: badSig }, { token: 7 }), b.hash);
    // key that is not its ident hash
    db.handleStore(riStore(b, { key: rng.bytes(32) }), b.hash);
    // published 10 min in the future; 3 h old
    db.handleStore(riStore({ ...b, ri: riOf(b.keys, { published: host.clock + 600_000 }) }), b.hash);
    db.handleStore(riStore({ ...b, ri: riOf(b.keys, { published: host.clock - 3 * 3_600_000 }) }), b.hash);
    // oversized gzip, a gzip bomb, not gzip, truncated, zero key, unknown type
    const big = new Uint8Array(37 + 2 + 4000);
    big.set(b.hash, 0);
    new DataView(big.buffer).setUint16(37, 4000);
    db.handleStore(big, b.hash);
    const bomb = gzipSync(new Uint8Array(1 << 20));
    db.handleStore(encodeDatabaseStore({ key: b.hash, type: 0, data: bomb }), b.hash);
    db.handleStore(encodeDatabaseStore({ key: b.hash, type: 0, data: rng.bytes(100) }), b.hash);
    db.handleStore(riStore(b).subarray(0, 50), b.hash);
    db.handleStore(riStore(b, { key: new Uint8Array(32) }), b.hash);
    const t9 = riStore(b);
    t9[32] = 9;
    db.handleStore(t9, b.hash);
    for (let i = 0; i < 200; i++) db.handleStore(rng.bytes(rng.int(200)), b.hash);
    const d = db.stats().dropped;
    expect(d['routerinfo-not-newer']).toBe(2);
    expect(d['routerinfo-signature']).toBe(1);
    expect(d['routerinfo-key-mismatch']).toBe(1);
    expect(d['routerinfo-invalid']).toBe(1);
    expect(d['routerinfo-expired']).toBe(1);
    expect(d['routerinfo-oversized']).toBe(1);
    expect(d['routerinfo-gzip']).toBe(2);
    expect(d['store-zero-key']).toBe(1);
    // every one of the 212 refused stores is counted exactly once (garbage under whatever reason it decodes to)
    expect(Object.values(d).reduce((a, b) => a + b, 0)).toBe(212);
    expect(d['store-malformed']! + (d['store-rate'] ?? 0)).toBeGreaterThanOrEqual(190);
    expect(db.routerInfo(b.hash)).toBeUndefined();
    expect(db.stats().stores).toBe(1);
    // the bad-signature store had a token: acknowledged before validation (§2.3 item 2)
    const acks = host.take().filter((s) => s.type === 10);
    expect(acks).toHaveLength(1);
  });

  it('a LeaseSet2 is kept byte for byte; hostile ones are counted', () => {
    const rng = new Rng(testSeed('netdb leaseset'));
    const host = new FakeHost();
    const db = netdb(host, { floodfill: false });
    const k = generatePrivateKeys();
    const key = destHash(k);
    const nowSec = Math.floor(host.clock / 1000);
    const ls = leaseSet(k, host.clock, { published: nowSec - 10 });
    db.handleStore(encodeDatabaseStore({ key, type: 3, data: ls }));
    expect(Buffer.from(db.leaseSet(key)!.bytes).equals(Buffer.from(ls))).toBe(true);
    // not newer (same published), bad signature, wrong key, unpublished flag, expired, too far ahead, oversized
    db.handleStore(encodeDatabaseStore({ key, type: 3, data: leaseSet(k, host.clock, { published: nowSec - 10 }) }));
    const bad = Uint8Array.from(ls);
    bad[bad.length - 1]! ^= 1;
    const k2 = generatePrivateKeys();
    const key2 = destHash(k2);
    db.handleStore(
      encodeDatabaseStore({ key: key2, type: 3, data: Uint8Array.from(leaseSet(k2, host.clock)).fill(0, -64) }),
    );
    db.handleStore(encodeDatabaseStore({ key: rng.bytes(32), type: 3, data: leaseSet(k2, host.clock) }));
    db.handleStore(
      encodeDatabaseStore({ key: key2, type: 3, data: leaseSet(k2, host.clock, { flags: FLAG_UNPUBLISHED }) }),
    );
    db.handleStore(
      encodeDatabaseStore({
        key: key2,
        type: 3,
        data: leaseSet(k2, host.clock, { published: nowSec - 700, end: nowSec - 100 }),
      }),
    );
    db.handleStore(encodeDatabaseStore({ key: key2, type: 3, data: leaseSet(k2, host.clock, { end: nowSec + 3600 }) }));
    db.handleStore(encodeDatabaseStore({ key: key2, type: 3, data: rng.bytes(3100) }));
    db.handleStore(encodeDatabaseStore({ key: key2, type: 3, data: rng.bytes(300) }));
    db.handleStore(encodeDatabaseStore({ key: key2, type: 1, data: rng.bytes(300) }));
    const d = db.stats().dropped;
    expect(d['leaseset-not-newer']).toBe(1);
    expect(d['leaseset-signature']).toBe(1);
    expect(d['leaseset-key-mismatch']).toBe(1);
    expect(d['leaseset-unpublished']).toBe(1);
    expect(d['leaseset-times']).toBe(1);
    expect(d['leaseset-expired']).toBe(1);
    expect(d['leaseset-oversized']).toBe(1);
    expect(d['leaseset-malformed']).toBe(1);
    expect(d['store-type-1-unsupported']).toBe(1);
    expect(db.leaseSet(key2)).toBeUndefined();
    expect(db.stats().leaseSets).toBe(1);
    // a newer one replaces it; expiry drops it when its time has come
    const newer = leaseSet(k, host.clock, { published: nowSec });
    db.handleStore(encodeDatabaseStore({ key, type: 3, data: newer }));
    expect(Buffer.from(db.leaseSet(key)!.bytes).equals(Buffer.from(newer))).toBe(true);
    host.clock += 601_000;
    expect(db.leaseSet(key)).toBeUndefined();
    db.expire();
    expect(db.stats().leaseSets).toBe(0);
  });

  it('the reply tunnel: DeliveryStatus as TunnelGateway to the gateway, or injected when the gateway is us', () => {
    const host = new FakeHost();
    const db = netdb(host, { floodfill: false });
    const gw = router();
    const k = generatePrivateKeys();
    const ls = leaseSet(k, host.clock);
    db.handleStore(
      encodeDatabaseStore({
        key: destHash(k),
        type: 3,
        replyToken: 99,
        replyTunnelId: 1234,
        replyGateway: gw.hash,
        data: ls,
      }),
    );
    const [tg] = host.take();
    expect(tg!.to).toBe(hex(gw.hash));
    expect(tg!.type).toBe(19);
    const d = decodeTunnelGateway(tg!.body);
    expect(d.ok && d.value.tunnelId).toBe(1234);
    if (!d.ok) return;
    const inner = decodeI2np(d.value.message);
    expect(inner.ok && inner.value.header.type).toBe(10);
    if (!inner.ok) return;
    const ds = decodeDeliveryStatus(inner.value.payload);
    expect(ds.ok && ds.value.msgId).toBe(99);
    // gateway = us: into our own gateway tunnel
    const k2 = generatePrivateKeys();
    db.handleStore(
      encodeDatabaseStore({
        key: destHash(k2),
        type: 3,
        replyToken: 100,
        replyTunnelId: 77,
        replyGateway: host.identHash,
        data: leaseSet(k2, host.clock),
      }),
    );
    expect(host.take()).toHaveLength(0);
    expect(host.injected).toHaveLength(1);
    expect(host.injected[0]!.tunnelId).toBe(77);
    // unreachable gateway: counted
    host.reachable = () => false;
    db.handleStore(riStore(gw, { token: 5 }));
    expect(db.stats().dropped['reply-no-route']).toBe(1);
  });

  it('a floodfill floods a new entry (token != 0) to the three closest other floodfills, token 0; not a refresh', () => {
    const host = new FakeHost();
    const db = netdb(host);
    const ffs = Array.from({ length: 6 }, () => router({ floodfill: true }));
    for (const f of ffs) db.handleStore(riStore(f));
    host.take();
    const a = router();
    const sender = ffs[0]!;
    db.handleStore(riStore(a, { token: 1, gateway: a.hash }), sender.hash);
    const out = host.take();
    const floods = out.filter((s) => s.type === 1);
    const rk = routingKey(a.hash, host.clock);
    const want = closest(
      rk,
      ffs.map((f) => f.hash),
      3,
      new Set([hex(sender.hash)]),
    ).map(hex);
    expect(floods.map((f) => f.to).sort()).toEqual([...want].sort());
    for (const f of floods) {
      const s = decodeDatabaseStore(f.body);
      expect(s.ok && s.value.replyToken).toBe(0);
      if (!s.ok) continue;
      const ri = gunzipRouterInfo(s.value.data);
      expect(ri.ok && Buffer.from(ri.value).equals(Buffer.from(a.ri))).toBe(true);
    }
    expect(db.stats().floods).toBe(3);
    // the same again (not newer), or a new one without a token: no flood
    db.handleStore(riStore(a, { token: 2 }), sender.hash);
    db.handleStore(riStore(router()), sender.hash);
    expect(host.take().filter((s) => s.type === 1)).toHaveLength(0);
  });

  it('caps: a full LeaseSet table refuses new keys (counted) and keeps answering for those it holds', () => {
    const host = new FakeHost();
    const db = netdb(host, { maxLeaseSets: 2, maxRouterInfos: 2 });
    const ks = [generatePrivateKeys(), generatePrivateKeys(), generatePrivateKeys()];
    for (const k of ks)
      db.handleStore(encodeDatabaseStore({ key: destHash(k), type: 3, data: leaseSet(k, host.clock) }));
    for (let i = 0; i < 3; i++) db.handleStore(riStore(router()));
    expect(db.stats().leaseSets).toBe(2);
    expect(db.stats().routerInfos).toBe(2);
    expect(db.stats().dropped['leaseset-table-full']).toBe(1);
    expect(db.stats().dropped['routerinfo-table-full']).toBe(1);
  });
});

describe('DatabaseLookup (§3)', () => {
  it('held RouterInfo: a DatabaseStore straight back; a miss: the closest floodfills, minus the excluded', () => {
    const host = new FakeHost();
    const db = netdb(host);
    const ffs = Array.from({ length: 5 }, () => router({ floodfill: true }));
    for (const f of ffs) db.handleStore(riStore(f));
    const a = router();
    db.handleStore(riStore(a));
    const asker = router();
    host.take();
    db.handleLookup(lookup({ key: a.hash, from: asker.hash }), asker.hash);
    const [hit] = host.take();
    expect(hit!.to).toBe(hex(asker.hash));
    expect(hit!.type).toBe(1);
    const s = decodeDatabaseStore(hit!.body);
    expect(s.ok && s.value.replyToken).toBe(0);
    if (s.ok) expect(Buffer.from(gunzipRouterInfo(s.value.data).ok ? a.ri : []).length).toBeGreaterThan(0);
    // a miss, with one floodfill excluded
    const missing = router().hash;
    db.handleLookup(lookup({ key: missing, from: asker.hash, excluded: [ffs[1]!.hash] }), asker.hash);
    const [miss] = host.take();
    expect(miss!.type).toBe(3);
    const r = decodeDatabaseSearchReply(miss!.body);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const want = closest(
      routingKey(missing, host.clock),
      ffs.map((f) => f.hash),
      3,
      new Set([hex(ffs[1]!.hash)]),
    ).map(hex);
    expect(r.value.peers.map(hex)).toEqual(want);
    expect(hex(r.value.from)).toBe(hex(host.identHash));
    // exploration: non-floodfills only, the asker and excluded left out
    const nf = Array.from({ length: 4 }, () => router());
    for (const n of nf) db.handleStore(riStore(n));
    host.take();
    db.handleLookup(
      lookup({ key: missing, from: asker.hash, lookupType: 'exploration', excluded: [nf[0]!.hash] }),
      asker.hash,
    );
    const ex = decodeDatabaseSearchReply(host.take()[0]!.body);
    expect(ex.ok).toBe(true);
    if (!ex.ok) return;
    const ffSet = new Set(ffs.map((f) => hex(f.hash)));
    expect(ex.value.peers).toHaveLength(3);
    for (const p of ex.value.peers) {
      expect(ffSet.has(hex(p))).toBe(false);
      expect(hex(p)).not.toBe(hex(nf[0]!.hash));
    }
  });

  it('an ECIES lookup through a reply tunnel: a single-tag garlic, clove first, in a TunnelGateway', () => {
    const rng = new Rng(testSeed('netdb ecies reply'));
    const host = new FakeHost();
    const db = netdb(host);
    const k = generatePrivateKeys();
    const key = destHash(k);
    const ls = leaseSet(k, host.clock);
    db.handleStore(encodeDatabaseStore({ key, type: 3, data: ls }));
    const gw = router();
    const replyKey = rng.bytes(32);
    const tag = rng.bytes(8);
    // as i2pd sends it (flags 0x15 and the recipient itself in the excluded list)
    db.handleLookup(
      encodeDatabaseLookup({
        key,
        from: gw.hash,
        lookupType: 'leaseset',
        replyTunnelId: 4321,
        excluded: [host.identHash],
        replyKey,
        replyTags: [tag],
      }),
    );
    const [out] = host.take();
    expect(out!.to).toBe(hex(gw.hash));
    expect(out!.type).toBe(19);
    const tg = decodeTunnelGateway(out!.body);
    expect(tg.ok && tg.value.tunnelId).toBe(4321);
    if (!tg.ok) return;
    const garlic = decodeI2np(tg.value.message);
    expect(garlic.ok && garlic.value.header.type).toBe(11);
    if (!garlic.ok) return;
    const opened = openTagReply(replyKey, tag, garlic.value.payload);
    expect(opened.ok).toBe(true);
    if (!opened.ok) return;
    const clove = opened.value.cloves[0]!;
    expect(clove.delivery).toBe('local');
    expect(clove.type).toBe(1);
    const s = decodeDatabaseStore(clove.body);
    expect(s.ok && s.value.type).toBe(3);
    if (s.ok) expect(Buffer.from(s.value.data).equals(Buffer.from(ls))).toBe(true);
    // a miss is encrypted the same way (§3.2 hard requirement); a wrong key does not open it
    db.handleLookup(
      encodeDatabaseLookup({
        key: rng.bytes(32),
        from: gw.hash,
        lookupType: 'leaseset',
        replyTunnelId: 1,
        replyKey,
        replyTags: [tag],
      }),
    );
    const miss = decodeTunnelGateway(host.take()[0]!.body);
    if (!miss.ok) throw new Error(miss.error);
    const mg = decodeI2np(miss.value.message);
    if (!mg.ok) throw new Error(mg.error);
    expect(mg.value.header.type).toBe(11);
    const mo = openTagReply(replyKey, tag, mg.value.payload);
    expect(mo.ok && mo.value.cloves[0]!.type).toBe(3);
    expect(openTagReply(rng.bytes(32), tag, mg.value.payload).ok).toBe(false);
  });

  it('a flood of lookups from one router: answered up to its bucket, the rest counted and dropped, no throw', () => {
    const rng = new Rng(testSeed('netdb lookup flood'));
    const host = new FakeHost();
    const db = netdb(host, { requestBurst: 20, requestsPerSecond: 5 });
    const asker = router();
    for (let i = 0; i < 1000; i++) db.handleLookup(lookup({ key: rng.bytes(32), from: asker.hash }), asker.hash);
    expect(host.take()).toHaveLength(20);
    expect(db.stats().dropped['lookup-rate']).toBe(980);
    host.clock += 1000; // 5 more tokens
    for (let i = 0; i < 10; i++) db.handleLookup(lookup({ key: rng.bytes(32), from: asker.hash }), asker.hash);
    expect(host.take()).toHaveLength(5);
    // another router is not affected; garbage is counted
    const other = router();
    for (let i = 0; i < 10; i++) db.handleLookup(rng.bytes(rng.int(300)), other.hash);
    db.handleLookup(lookup({ key: rng.bytes(32), from: other.hash }), other.hash);
    expect(db.stats().dropped['lookup-malformed']).toBe(10);
    expect(host.take()).toHaveLength(1);
  });
});

describe('our side: publish, explore, lookups', () => {
  it('publishes our RouterInfo to the closest floodfills with a token; their DeliveryStatus confirms it', () => {
    const host = new FakeHost();
    const db = new NetDb(host, { floodfill: false, persist: false, exploreIntervalMs: 0 });
    const ffs = Array.from({ length: 4 }, () => router({ floodfill: true }));
    for (const f of ffs) db.handleStore(riStore(f));
    host.take();
    db.tick(host.clock);
    const stores = host.take().filter((s) => s.type === 1);
    const want = closest(
      routingKey(host.identHash, host.clock),
      ffs.map((f) => f.hash),
      2,
    ).map(hex);
    expect(stores.map((s) => s.to).sort()).toEqual([...want].sort());
    const s = decodeDatabaseStore(stores[0]!.body);
    if (!s.ok) throw new Error(s.error);
    expect(hex(s.value.replyGateway!)).toBe(hex(host.identHash));
    const ri = gunzipRouterInfo(s.value.data);
    expect(ri.ok && Buffer.from(ri.value).equals(Buffer.from(host.ri))).toBe(true);
    const status = new Uint8Array(12);
    new DataView(status.buffer).setUint32(0, s.value.replyToken);
    expect(db.handleDeliveryStatus(status)).toBe(true);
    expect(db.handleDeliveryStatus(status)).toBe(false); // a token confirms once
    expect(db.stats().publishConfirmed).toBe(1);
  });

  it('exploration: the hashes a solicited reply lists are fetched; an unsolicited reply is dropped', async () => {
    const host = new FakeHost();
    const db = netdb(host, { floodfill: false });
    const ff = router({ floodfill: true });
    db.handleStore(riStore(ff));
    host.take();
    expect(db.explore()).toBe(2);
    const lookups = host.take();
    expect(lookups.map((l) => l.type)).toEqual([2, 2]);
    const strangers = [router(), router()];
    // a reply to the exploration from ff: both hashes fetched from ff
    const exKey = lookups[0]!.body.subarray(0, 32);
    db.handleSearchReply(
      encodeDatabaseSearchReply(
        exKey,
        strangers.map((s) => s.hash),
        ff.hash,
      ),
      ff.hash,
    );
    const fetches = host.take();
    expect(fetches.map((f) => [f.to, f.type, hex(f.body.subarray(0, 32))])).toEqual(
      strangers.map((s) => [hex(ff.hash), 2, hex(s.hash)]),
    );
    // ff answers one fetch with the RouterInfo: stored
    db.handleStore(riStore(strangers[0]!), ff.hash);
    expect(db.routerInfo(strangers[0]!.hash)).toBeDefined();
    // a reply nobody asked for (or from someone not asked): dropped, nothing sent
    const other = router();
    db.handleSearchReply(encodeDatabaseSearchReply(other.hash, [router().hash], ff.hash), ff.hash);
    db.handleSearchReply(encodeDatabaseSearchReply(strangers[1]!.hash, [router().hash], other.hash), other.hash);
    expect(db.stats().dropped['searchreply-unsolicited']).toBe(2);
    expect(host.take()).toHaveLength(0);
    // lookup(): resolves false on a miss with no floodfill left to ask
    const p = db.lookup(other.hash, 'routerinfo', 5000);
    const [q] = host.take();
    db.handleSearchReply(encodeDatabaseSearchReply(other.hash, [], ff.hash), ff.hash);
    expect(q!.type).toBe(2);
    expect(await p).toBe(false);
  });
});
