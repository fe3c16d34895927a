// Our creator through our hops on an in-process network (test/helpers/tunnel-net.ts): tunnels of 0-3 hops both ways,
// routed as i2pd routes them, joined on inline data planes, carrying traffic whose bytes are checked at the far end;
// refusals, silence, tampering and replays give the right outcome.
import { afterEach, describe, expect, it } from 'vitest';
import { I2NP_DATA } from '../src/constants.js';
import { encodeData } from '../src/i2np/bodies.js';
import { encodeI2np } from '../src/i2np/header.js';
import { I2NP_GARLIC, I2NP_SHORT_TUNNEL_BUILD } from '../src/i2np/message-types.js';
import type { BuildResult, LocalTunnel, PeerCandidate } from '../src/router/tunnels/creator.js';
import { hexOf } from '../src/router/tunnels/types.js';
import { Rng, testSeed } from './helpers/chacha-rng.js';
import { SimNet, type SimRouter } from './helpers/tunnel-net.js';

const cand = (r: SimRouter): PeerCandidate => ({ identHash: r.identHash, encryptionKey: r.encryptionKey });

let net: SimNet;
afterEach(async () => {
  await net?.close();
});

async function build(
  a: SimRouter,
  direction: 'inbound' | 'outbound',
  hops: SimRouter[],
  via: { replyTunnel?: LocalTunnel; sendTunnel?: LocalTunnel } = {},
): Promise<BuildResult> {
  const p = a.service.creator.build({ direction, hops: hops.map(cand), ...via });
  await net.settle();
  return p;
}

function ok(r: BuildResult): LocalTunnel {
  if (!r.ok) throw new Error(`build failed: ${r.reason} ${r.error}`);
  return r.tunnel;
}

/** Sends a Data message out through `ob` to the gateway of `ib` and returns what arrived at `ib`'s owner. */
async function roundTrip(
  a: SimRouter,
  ob: LocalTunnel,
  ib: LocalTunnel,
  owner: SimRouter,
  payload: Uint8Array,
): Promise<Uint8Array[]> {
  owner.inbox.length = 0;
  const msg = encodeI2np(I2NP_DATA, 1234, net.t + 8000, encodeData(payload));
  expect(
    a.service.creator.sendThrough(ob, msg, { delivery: 'TUNNEL', toHash: ib.gateway, tunnelId: ib.gatewayTunnelId }),
  ).toBe(true);
  await net.settle();
  return owner.inbox.filter((m) => m.type === I2NP_DATA).map((m) => m.body);
}

describe('tunnels through our own hops', () => {
  it('builds 1-3 hop inbound and outbound tunnels every way i2pd routes builds, and carries traffic byte for byte', async () => {
    const rng = new Rng(testSeed('tunnels-traffic'));
    net = new SimNet();
    const [a, b, c, d] = ['A', 'B', 'C', 'D'].map((n) => net.add(n)) as [SimRouter, SimRouter, SimRouter, SimRouter];
    const peers = [b, c, d];
    for (let len = 1; len <= 3; len++) {
      const hopsOut = peers.slice(0, len);
      const hopsIn = peers.slice(3 - len).reverse();
      // Bootstrap: outbound reply through the zero-hop inbound tunnel; inbound request sent straight to the IBGW.
      const ob = ok(await build(a, 'outbound', hopsOut));
      const ib = ok(await build(a, 'inbound', hopsIn));
      expect(ob.hops.map(hexOf)).toEqual(hopsOut.map((h) => hexOf(h.identHash)));
      expect(ib.gateway).toEqual(hopsIn[0]!.identHash);
      // With tunnels: the outbound reply comes back through `ib`, the inbound request goes through `ob` (garlic-wrapped
      // unless its IBGW is `ob`'s first hop).
      const ob2 = ok(await build(a, 'outbound', hopsIn, { replyTunnel: ib }));
      const ib2 = ok(await build(a, 'inbound', hopsOut, { sendTunnel: ob }));
      for (const [o, i] of [
        [ob, ib],
        [ob2, ib2],
        [ob, ib2],
        [ob2, ib],
      ] as const) {
        for (const size of [1, 900, 3000 + rng.int(5000)]) {
          const payload = rng.bytes(size);
          const got = await roundTrip(a, o, i, a, payload);
          expect(got.length).toBe(1);
          expect(hexOf(got[0]!.subarray(4))).toBe(hexOf(payload));
        }
      }
      // ROUTER delivery at the OBEP: the message reaches router C's own handler.
      c.inbox.length = 0;
      const payload = rng.bytes(2000);
      a.service.creator.sendThrough(ob, encodeI2np(I2NP_DATA, 99, net.t + 8000, encodeData(payload)), {
        delivery: 'ROUTER',
        toHash: c.identHash,
      });
      await net.settle();
      expect(c.inbox.filter((m) => m.type === I2NP_DATA).map((m) => hexOf(m.body.subarray(4)))).toEqual([
        hexOf(payload),
      ]);
    }
    // Every hop joined what it accepted with the right roles (3 lengths x 4 builds, each hop once per build).
    const roles = { participant: 0, obep: 0, ibgw: 0 };
    for (const r of peers) {
      const s = r.service.transit.stats();
      roles.participant += s.participant;
      roles.obep += s.obep;
      roles.ibgw += s.ibgw;
      expect(s.rejected).toEqual({});
    }
    expect(roles).toEqual({ obep: 6, ibgw: 6, participant: 2 * (0 + 1 + 2) * 2 });
    for (const r of net.routers) expect(r.planeDrops).toEqual({});
  }, 60_000);

  it('zero-hop tunnels carry traffic too', async () => {
    net = new SimNet();
    const [a, b] = ['A', 'B'].map((n) => net.add(n)) as [SimRouter, SimRouter];
    const ob0 = ok(await build(a, 'outbound', []));
    const ib0 = ok(await build(a, 'inbound', []));
    const ib1 = ok(await build(a, 'inbound', [b]));
    const payload = new Uint8Array(5000).fill(7);
    expect((await roundTrip(a, ob0, ib0, a, payload)).map((x) => x.length)).toEqual([5004]);
    expect((await roundTrip(a, ob0, ib1, a, payload)).map((x) => x.length)).toEqual([5004]);
  });

  it('a hop that refuses is reported by index; nothing is joined at the creator', async () => {
    net = new SimNet();
    const a = net.add('A');
    const b = net.add('B');
    const c = net.add('C', { transitLimits: { maxTunnels: 0 } });
    for (const dir of ['outbound', 'inbound'] as const) {
      const r = await build(a, dir, [b, c]);
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.reason).toBe('rejected');
      expect(r.replies.map((x) => x.status)).toEqual(['accepted', 'rejected']);
      expect(r.replies[1]!.code).toBe(30);
    }
    expect(c.service.transit.stats().rejected).toEqual({ 'limit-total': 2 });
    expect(a.service.creator.tunnels('outbound').length).toBe(0);
    expect(a.service.creator.tunnels('inbound').filter((t) => t.hops.length > 0).length).toBe(0);
  });

  it('a hop that never answers: the build times out after 30 s, its keys discarded', async () => {
    net = new SimNet();
    const [a, b, c] = ['A', 'B', 'C'].map((n) => net.add(n)) as [SimRouter, SimRouter, SimRouter];
    net.intercept = (m) => (m.to === c ? 'drop' : undefined);
    const p = a.service.creator.build({ direction: 'outbound', hops: [b, c].map(cand) });
    await net.settle();
    expect(a.service.creator.building).toBe(1);
    await net.advance(29_000);
    expect(a.service.creator.building).toBe(1);
    await net.advance(2_000);
    const r = await p;
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toBe('timeout');
    expect(a.service.creator.building).toBe(0);
    expect(a.service.creator.stats().failed).toEqual({ timeout: 1 });
  });

  it('a tampered reply fails the build as bad-reply (the tampered hop named for inbound builds)', async () => {
    net = new SimNet();
    const [a, b, c] = ['A', 'B', 'C'].map((n) => net.add(n)) as [SimRouter, SimRouter, SimRouter];
    // Inbound: the last hop's STBM to the creator, one byte of every slot flipped: each hop's AEAD fails.
    net.intercept = (m) => {
      if (m.to !== a || m.msg.type !== I2NP_SHORT_TUNNEL_BUILD) return undefined;
      const body = m.msg.body.slice();
      for (let i = 0; i < body[0]!; i++) body[1 + i * 218 + 100]! ^= 1;
      return { ...m.msg, body };
    };
    const r = await build(a, 'inbound', [b, c]);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toBe('bad-reply');
    expect(!r.ok && r.replies.map((x) => x.status)).toEqual(['bad-reply', 'bad-reply']);
    // Outbound: the OBEP's garlic reply changed on the way to our zero-hop gateway.
    net.intercept = (m) => {
      if (m.to !== a || m.msg.type !== 19) return undefined;
      const body = m.msg.body.slice();
      body[body.length - 20]! ^= 0x80;
      return { ...m.msg, body };
    };
    const r2 = await build(a, 'outbound', [b, c]);
    expect(r2.ok).toBe(false);
    expect(!r2.ok && r2.reason).toBe('bad-reply');
    expect(a.service.creator.building).toBe(0);
  });

  it('a build request replayed to a hop is refused and not forwarded again', async () => {
    net = new SimNet();
    const [a, b, c] = ['A', 'B', 'C'].map((n) => net.add(n)) as [SimRouter, SimRouter, SimRouter];
    net.logEnabled = true;
    ok(await build(a, 'outbound', [b, c]));
    const req = net.log.find((m) => m.from === a && m.to === b && m.msg.type === I2NP_SHORT_TUNNEL_BUILD)!;
    expect(req).toBeDefined();
    const before = net.sent;
    const acceptedBefore = b.service.transit.stats().accepted;
    net.deliver(req);
    await net.settle();
    expect(b.service.transit.stats().dropped.replay).toBe(1);
    expect(b.service.transit.stats().accepted).toBe(acceptedBefore);
    expect(net.sent).toBe(before);
    // Garlic-wrapped inbound requests replayed: refused by the garlic replay filter.
    const ob = ok(await build(a, 'outbound', [b]));
    net.log.length = 0;
    ok(await build(a, 'inbound', [c], { sendTunnel: ob }));
    const wrapped = net.log.find((m) => m.to === c && m.msg.type === I2NP_GARLIC)!;
    expect(wrapped).toBeDefined();
    net.deliver(wrapped);
    await net.settle();
    expect(c.service.transit.stats().dropped['garlic-replay']).toBe(1);
  });
});
