// createRouter on 127.0.0.1 (docs/router.md, docs/router-data-path.md): three of our routers A -> B -> C with a
// participant tunnel joined on B forward TunnelData whose bytes at C match the reference transform
// (reference/layer-reference.ts) byte for byte; DatabaseStore with a reply token is answered with DeliveryStatus(token)
// over the same session and its RouterInfo stored once verified; hostile DatabaseStores are counted and dropped
// without touching the session; output without a route is counted by reason; stop() sends Termination 3.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createRouter, type Router } from '../src/router/router.js';
import { buildLocalRouterInfo, identHash, identHashBase64, loadOrCreateRouterSecrets } from '../src/router/index.js';
import { refParticipant } from './reference/layer-reference.js';
import { Rng, testSeed } from './helpers/chacha-rng.js';
import { until } from './helpers/ntcp2-peer.js';

const dirs: string[] = [];
const routers: Router[] = [];
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.stop(500)));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function started(
  opts: {
    threads?: number | 'inline';
    floodfill?: boolean;
    maxBatch?: number;
    maxQueued?: number;
    tunnels?: false;
    /** A router that neither publishes nor explores by itself (its netDb still answers). */
    quiet?: boolean;
  } = {},
): Promise<Router> {
  const dir = mkdtempSync(join(tmpdir(), 'tp-router-'));
  dirs.push(dir);
  const plane = {
    threads: opts.threads ?? 1,
    ...(opts.maxBatch ? { maxBatch: opts.maxBatch } : {}),
    ...(opts.maxQueued ? { maxQueued: opts.maxQueued } : {}),
  };
  const r = createRouter({
    dataDir: dir,
    port: 0,
    floodfill: opts.floodfill,
    dataPlane: plane,
    ...(opts.tunnels === false ? { tunnels: false as const } : {}),
    ...(opts.quiet ? { netDb: { publishCount: 0, exploreIntervalMs: 0 } } : {}),
  });
  routers.push(r);
  await r.start();
  return r;
}

function tunnelData(rng: Rng, tunnelId: number): Uint8Array {
  const b = rng.bytes(1028);
  new DataView(b.buffer).setUint32(0, tunnelId);
  return b;
}

/** DatabaseStore body of a RouterInfo (i2np.md §4.6): key | type 0 | token | [tunnel 0 | gateway] | size | gzip. */
function dbStore(
  key: Uint8Array,
  ri: Uint8Array,
  token: number,
  gateway?: Uint8Array,
  gz: Uint8Array = gzipSync(ri),
): Uint8Array {
  const head = token !== 0 ? 73 : 37;
  const b = new Uint8Array(head + 2 + gz.length);
  const dv = new DataView(b.buffer);
  b.set(key, 0);
  b[32] = 0;
  dv.setUint32(33, token);
  if (token !== 0) {
    dv.setUint32(37, 0);
    b.set(gateway!, 41);
  }
  dv.setUint16(head, gz.length);
  b.set(gz, head + 2);
  return b;
}

describe('router', () => {
  it('A -> B -> C: TunnelData through a participant tunnel on B arrives at C transformed exactly as the reference', async () => {
    const rng = new Rng(testSeed('router A->B->C'));
    const [a, b, c] = [await started(), await started(), await started()];
    a.addPeer(b.routerInfo);
    b.addPeer(c.routerInfo); // B knows C only from its RouterInfo: the first forward dials it
    const hop = { layerKey: rng.bytes(32), ivKey: rng.bytes(32) };
    const RECEIVE = 0x1000 + rng.int(1000),
      NEXT = 0x9000 + rng.int(1000);
    b.dataPlane.join({
      role: 'participant',
      layer: 'aes',
      receiveTunnelId: RECEIVE,
      nextTunnelId: NEXT,
      nextHop: b.peerId(c.identHash),
      layerKey: hop.layerKey,
      ivKey: hop.ivKey,
    });
    const got: Uint8Array[] = [];
    const fromPeer: string[] = [];
    c.handle(18, (m) => {
      got.push(m.body.slice());
      fromPeer.push(m.peer.ident);
    });
    const N = 600;
    const sent: Uint8Array[] = [];
    await a.connect(b.identHash);
    for (let i = 0; i < N; i++) {
      const body = tunnelData(rng, RECEIVE);
      sent.push(body.slice());
      expect(a.send(b.identHash, 18, body)).toBe(true);
      if (i % 100 === 99) await new Promise((r) => setImmediate(r)); // several frames, several batches
    }
    expect(
      await until(() => got.length >= N, 20_000),
      `C got ${got.length} of ${N}; B ${JSON.stringify(b.stats())}`,
    ).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(got.length).toBe(N);
    for (let i = 0; i < N; i++)
      expect(Buffer.from(got[i]!).equals(Buffer.from(refParticipant(sent[i]!, hop, NEXT))), `message ${i}`).toBe(true);
    expect(new Set(fromPeer)).toEqual(new Set([b.ready!.ident]));
    const sb = b.stats();
    expect(sb.i2npIn['18']).toBe(N);
    expect(sb.i2npOut['18']).toBe(N);
    expect(sb.tunnelDataOut).toBe(N);
    expect(sb.sessions).toBe(2);
  }, 60_000);

  it('a full data plane pauses the session (refused messages counted), which resumes when it drains', async () => {
    const rng = new Rng(testSeed('router backpressure'));
    const [a, b, c] = [
      await started({ threads: 'inline' }),
      await started({ maxBatch: 8, maxQueued: 16 }),
      await started({ threads: 'inline' }),
    ];
    a.addPeer(b.routerInfo);
    b.addPeer(c.routerInfo);
    b.dataPlane.join({
      role: 'participant',
      layer: 'aes',
      receiveTunnelId: 900,
      nextTunnelId: 901,
      nextHop: b.peerId(c.identHash),
      layerKey: rng.bytes(32),
      ivKey: rng.bytes(32),
    });
    let got = 0;
    c.handle(18, () => {
      got++;
    });
    await a.connect(b.identHash);
    const N = 3000;
    for (let i = 0; i < N; i++) a.send(b.identHash, 18, tunnelData(rng, 900)); // one tick: large frames, far beyond 16 queued
    const settled = () => got + (b.stats().dropped['dataplane.queueFull'] ?? 0) === N;
    expect(await until(settled, 30_000), `got ${got}; ${JSON.stringify(b.stats())}`).toBe(true);
    expect(b.stats().dropped['dataplane.queueFull']).toBeGreaterThan(0);
    expect(got).toBeGreaterThan(0);
    // After the burst the session reads again: a later, small send arrives whole.
    const before = got;
    for (let i = 0; i < 10; i++) {
      a.send(b.identHash, 18, tunnelData(rng, 900));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(
      await until(() => got === before + 10, 10_000),
      `got ${got - before} of 10; a ${JSON.stringify(a.stats().dropped)}; b ${JSON.stringify(b.stats())}`,
    ).toBe(true);
    expect(b.stats().sessions).toBe(2);
  }, 60_000);

  it('counts output it cannot route and TunnelData for unknown tunnels, and keeps the session', async () => {
    const rng = new Rng(testSeed('router no-route'));
    const [a, b] = [await started(), await started({ threads: 'inline' })];
    a.addPeer(b.routerInfo);
    const nowhere = b.peerId(rng.bytes(32)); // a peer with no RouterInfo and no session
    b.dataPlane.join({
      role: 'participant',
      layer: 'aes',
      receiveTunnelId: 77,
      nextTunnelId: 78,
      nextHop: nowhere,
      layerKey: rng.bytes(32),
      ivKey: rng.bytes(32),
    });
    await a.connect(b.identHash);
    for (let i = 0; i < 5; i++) a.send(b.identHash, 18, tunnelData(rng, 77));
    for (let i = 0; i < 3; i++) a.send(b.identHash, 18, tunnelData(rng, 12345));
    a.send(b.identHash, 18, rng.bytes(100)); // not a TunnelData body
    expect(
      await until(
        () => (b.stats().dropped['no-route'] ?? 0) === 5 && (b.stats().dropped['dataplane.unknownTunnel'] ?? 0) === 3,
        10_000,
      ),
      JSON.stringify(b.stats()),
    ).toBe(true);
    expect(b.stats().dropped['bad-tunneldata']).toBe(1);
    expect(b.stats().sessions).toBe(1);
  }, 30_000);

  it('a peer that cannot be dialled: its queued messages count as dial-failed, later ones as dial-backoff (no re-dial storm)', async () => {
    const rng = new Rng(testSeed('router dial-failed'));
    const [a, gone] = [await started({ threads: 'inline' }), await started({ threads: 'inline' })];
    const ri = gone.routerInfo;
    const goneHash = gone.identHash;
    await gone.stop(100); // its RouterInfo stays valid, its port is closed
    routers.splice(routers.indexOf(gone), 1);
    a.addPeer(ri);
    const warnings: string[] = [];
    a.on('warning', (e: Error) => warnings.push(e.message));
    for (let i = 0; i < 5; i++) expect(a.send(goneHash, 18, tunnelData(rng, 5))).toBe(true); // held for the dial
    expect(await until(() => a.stats().dropped['dial-failed'] === 5, 10_000), JSON.stringify(a.stats().dropped)).toBe(
      true,
    );
    for (let i = 0; i < 5; i++) expect(a.send(goneHash, 18, tunnelData(rng, 5))).toBe(false);
    expect(a.stats().dropped['dial-backoff']).toBe(5);
    expect(warnings).toHaveLength(1);
    expect(a.ntcp2.stats.connections).toBe(0);
  }, 30_000);

  it('DatabaseStore with a reply token: DeliveryStatus(token) back over the same session, the RouterInfo stored once verified', async () => {
    const rng = new Rng(testSeed('router dbstore'));
    const [a, b] = [await started({ quiet: true }), await started({ floodfill: true, threads: 'inline' })];
    a.addPeer(b.routerInfo);
    const statuses: { token: number; ts: number }[] = [];
    a.handle(10, (m) => {
      const dv = new DataView(m.body.buffer, m.body.byteOffset);
      statuses.push({ token: dv.getUint32(0), ts: Number(dv.getBigUint64(4)) });
    });
    // A third router's RouterInfo, never seen by B.
    const dDir = mkdtempSync(join(tmpdir(), 'tp-router-d-'));
    dirs.push(dDir);
    const d = loadOrCreateRouterSecrets(dDir);
    if (!d.ok) throw new Error(d.error);
    const dRi = buildLocalRouterInfo(d.value.keys, d.value.ntcp2, { host: '127.0.0.1', port: 9 });
    const dHash = identHash(d.value.keys.identity);
    const token = 1 + rng.int(0xfffffff0);
    await a.connect(b.identHash);
    const seen: string[] = [];
    const dIdent = identHashBase64(dHash);
    b.on('routerInfo', (e: { ident: string }) => {
      if (e.ident === dIdent) seen.push(e.ident);
    }); // A's own (msg3) may land now too
    a.send(b.identHash, 1, dbStore(dHash, dRi, token, a.identHash));
    expect(await until(() => statuses.length === 1, 10_000), JSON.stringify(b.stats().netdb)).toBe(true);
    expect(statuses[0]!.token).toBe(token);
    expect(Math.abs(statuses[0]!.ts - Date.now())).toBeLessThan(10_000);
    expect(
      [...b.peers()].find((p) => Buffer.from(p.identHash).equals(Buffer.from(dHash)))?.info?.routerInfo.published,
    ).toBeGreaterThan(0);
    expect(seen).toHaveLength(1);

    // Hostile stores: each counted, none answered or stored, the session stays up.
    const badSig = Uint8Array.from(dRi);
    badSig[badSig.length - 1]! ^= 1;
    const other = rng.bytes(32);
    const bomb = gzipSync(new Uint8Array(1 << 20));
    a.send(b.identHash, 1, rng.bytes(20)); // shorter than the header
    a.send(b.identHash, 1, dbStore(dHash, dRi, 0).subarray(0, 60)); // size runs past the end
    a.send(b.identHash, 1, dbStore(dHash, dRi, 0, undefined, rng.bytes(50))); // not gzip
    a.send(b.identHash, 1, dbStore(dHash, dRi, 0, undefined, bomb)); // inflates past 3072 bytes
    a.send(b.identHash, 1, dbStore(dHash, badSig, 0)); // bad signature
    a.send(b.identHash, 1, dbStore(other, dRi, 0)); // key is not its ident hash
    const want = {
      'store-malformed': 2,
      'routerinfo-gzip': 2,
      'routerinfo-signature': 1,
      'routerinfo-key-mismatch': 1,
    };
    expect(
      await until(() => Object.entries(want).every(([k, v]) => b.stats().netdb!.dropped[k] === v), 10_000),
      JSON.stringify(b.stats().netdb),
    ).toBe(true);
    expect(statuses).toHaveLength(1);
    expect(seen).toHaveLength(1);
    expect(b.stats().sessions).toBe(1);
    expect(b.stats().i2npIn['1']).toBe(7);
  }, 30_000);

  it('without the tunnel side, build and garlic types are counted as unhandled until a handler is installed', async () => {
    const rng = new Rng(testSeed('router unhandled'));
    const [a, b] = [await started({ threads: 'inline' }), await started({ threads: 'inline', tunnels: false })];
    a.addPeer(b.routerInfo);
    await a.connect(b.identHash);
    for (const t of [11, 21, 23, 24, 25, 26]) a.send(b.identHash, t, rng.bytes(40));
    expect(await until(() => b.stats().dropped['unhandled'] === 6, 10_000)).toBe(true);
    const taken: number[] = [];
    b.handle(25, (m) => taken.push(m.type));
    a.send(b.identHash, 25, rng.bytes(40));
    expect(await until(() => taken.length === 1, 10_000)).toBe(true);
    expect(b.stats().dropped['unhandled']).toBe(6);
    // A handler that throws loses its message, not the session.
    const warnings: string[] = [];
    b.on('warning', (e: Error) => warnings.push(e.message));
    b.handle(24, () => {
      throw new Error('handler bug');
    });
    a.send(b.identHash, 24, rng.bytes(40));
    a.send(b.identHash, 25, rng.bytes(40));
    expect(await until(() => taken.length === 2, 10_000)).toBe(true);
    expect(b.stats().dropped['handler-error']).toBe(1);
    expect(warnings).toEqual(['handler bug']);
    expect(b.stats().sessions).toBe(1);
  }, 30_000);

  it('publishRouterInfo sends a strictly newer, valid RouterInfo that the peer stores; stop() ends sessions with Termination 3', async () => {
    const [a, b] = [await started({ threads: 'inline' }), await started({ threads: 'inline' })];
    a.addPeer(b.routerInfo);
    await a.connect(b.identHash);
    expect(await until(() => b.stats().sessions === 1, 5_000)).toBe(true); // B has read A's msg3
    const before = [...b.peers()].find((p) => p.ident === a.ready!.ident)!.info!.routerInfo.published;
    expect(a.publishRouterInfo({ to: b.identHash })).toBe(1);
    expect(
      await until(
        () => [...b.peers()].find((p) => p.ident === a.ready!.ident)!.info!.routerInfo.published > before,
        5_000,
      ),
    ).toBe(true);
    const closes: { state: string; reason?: string; code?: number }[] = [];
    b.on('session', (e) => closes.push(e));
    await a.stop();
    expect(await until(() => closes.some((e) => e.state === 'closed'), 5_000)).toBe(true);
    expect(closes.find((e) => e.state === 'closed')).toMatchObject({ reason: 'termination-received', code: 3 });
  }, 30_000);
});
