// TransitTunnels against hostile input, with a recording stand-in for the data plane and the network: malformed,
// truncated and oversized build messages, records for other keys, junk garlic and gateway messages, floods from one
// router and from many: all refused and counted, nothing thrown, every table within its cap, keys wiped after join,
// tunnels ended after 660 s.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { x25519Generate } from '../src/keys/ed25519.js';
import { I2NP_SHORT_TUNNEL_BUILD, I2NP_VARIABLE_TUNNEL_BUILD } from '../src/i2np/message-types.js';
import { sealRouterGarlic } from '../src/router/garlic/router-garlic.js';
import { createShortTunnelBuild } from '../src/router/tunnel-build/creator.js';
import type { OutgoingI2np } from '../src/router/tunnel-build/hop.js';
import { TransitTunnels, type TransitTunnelsOptions } from '../src/router/tunnels/transit.js';
import type { TunnelConfig, TransitTunnelConfig } from '../src/tunnel/types.js';
import { Rng, testSeed } from './helpers/chacha-rng.js';
import { refLongCleartext, refLongRecord, refOpenLongReply } from './reference/build-reference.js';
import { decodeTunnelGateway, encodeData } from '../src/i2np/bodies.js';
import { decodeI2np, encodeI2np } from '../src/i2np/header.js';
import { I2NP_DATA } from '../src/constants.js';
import { GatewayPacker } from '../src/frame/gateway.js';

function setup(limits: TransitTunnelsOptions['limits'] = {}, otherIdInUse?: (id: number, gateway: boolean) => boolean) {
  const keys = x25519Generate();
  const identHash = new Uint8Array(randomBytes(32));
  let t = Date.now();
  const joined: TunnelConfig[] = [];
  const shared: TunnelConfig[] = [];
  const ended: { id: number; gateway: boolean }[] = [];
  const sent: { to: Uint8Array; msg: OutgoingI2np }[] = [];
  const local: unknown[] = [];
  const transit = new TransitTunnels({
    identHash,
    staticPrivateKey: keys.privateKey,
    now: () => t,
    limits,
    ...(otherIdInUse ? { otherIdInUse } : {}),
    net: { send: (to, msg) => (sent.push({ to, msg }), true), peerIdOf: (h) => h[0]! + 1 },
    plane: {
      join: (c) => {
        shared.push(c);
        joined.push(structuredClone(c)); // the real plane clones too
      },
      end: (id, o) => void ended.push({ id, gateway: o?.gateway === true }),
      pushGateway: () => true,
    },
    deliverLocal: (m) => void local.push(m),
  });
  const request = (opts: { role?: 'obep' | 'ibgw' | 'participant' } = {}) => {
    const next = new Uint8Array(randomBytes(32));
    const hop = { identHash, encryptionKey: keys.publicKey };
    // One-hop outbound = OBEP, one-hop inbound = IBGW, two-hop outbound: we are the first = participant.
    if (opts.role === 'participant')
      return createShortTunnelBuild({
        direction: 'outbound',
        hops: [hop, { identHash: next, encryptionKey: x25519Generate().publicKey }],
        replyIdent: next,
        now: t,
      }).message.body;
    return createShortTunnelBuild({
      direction: opts.role === 'ibgw' ? 'inbound' : 'outbound',
      hops: [hop],
      replyIdent: next,
      now: t,
    }).message.body;
  };
  return {
    transit,
    identHash,
    keys,
    joined,
    shared,
    ended,
    sent,
    local,
    request,
    advance: (ms: number) => (t += ms),
    now: () => t,
  };
}

describe('TransitTunnels under hostile input', () => {
  it('malformed, truncated, oversized and foreign build messages are dropped and counted, never thrown', () => {
    const rng = new Rng(testSeed('transit-hostile'));
    const s = setup();
    const peer = new Uint8Array(32).fill(1);
    const good = s.request();
    const cases: [number, Uint8Array][] = [
      [I2NP_SHORT_TUNNEL_BUILD, new Uint8Array(0)],
      [I2NP_SHORT_TUNNEL_BUILD, Uint8Array.of(0)],
      [I2NP_SHORT_TUNNEL_BUILD, Uint8Array.of(9, ...new Uint8Array(9 * 218))],
      [I2NP_SHORT_TUNNEL_BUILD, good.subarray(0, good.length - 1)], // truncated
      [I2NP_SHORT_TUNNEL_BUILD, Uint8Array.of(...good, 0)], // one byte too many
      [I2NP_SHORT_TUNNEL_BUILD, new Uint8Array(65535)], // oversized
      [I2NP_VARIABLE_TUNNEL_BUILD, good], // short records as long
      [I2NP_VARIABLE_TUNNEL_BUILD, Uint8Array.of(4, ...rng.bytes(4 * 528 - 5))],
      [99, good], // not a build type
    ];
    for (const [type, body] of cases) expect(s.transit.handleBuild(type, body, peer)).toBe('dropped');
    expect(s.transit.stats().dropped.malformed).toBe(cases.length);
    // Random records: none for us.
    for (let i = 0; i < 50; i++)
      expect(s.transit.handleBuild(I2NP_SHORT_TUNNEL_BUILD, Uint8Array.of(4, ...rng.bytes(4 * 218)), peer)).toBe(
        'dropped',
      );
    expect(s.transit.stats().dropped['no-record']).toBe(50);
    // Our prefix on random bytes, and a real record sealed to another key under our prefix: no decrypt.
    for (let i = 0; i < 20; i++) {
      const b = Uint8Array.of(4, ...rng.bytes(4 * 218));
      b.set(s.identHash.subarray(0, 16), 1 + (i % 4) * 218);
      expect(s.transit.handleBuild(I2NP_SHORT_TUNNEL_BUILD, b, peer)).toBe('dropped');
    }
    const other = createShortTunnelBuild({
      direction: 'outbound',
      hops: [{ identHash: s.identHash, encryptionKey: x25519Generate().publicKey }],
      replyIdent: peer,
    }).message.body;
    expect(s.transit.handleBuild(I2NP_SHORT_TUNNEL_BUILD, other, peer)).toBe('dropped');
    expect(s.transit.stats().dropped['decrypt-failed']).toBe(21);
    // Junk garlic, gateway messages, endpoint output for unknown ids.
    for (let i = 0; i < 50; i++) {
      expect(s.transit.handleGarlic(rng.bytes(rng.int(200)), peer)).toBe(false);
      expect(s.transit.handleTunnelGateway(rng.bytes(rng.int(100)))).toBe(false);
      expect(s.transit.handleEndpointOutput(rng.u32(), rng.bytes(1028))).toBe(false);
    }
    expect(s.joined.length).toBe(0);
    expect(s.sent.length).toBe(0);
    // The good request still works afterwards.
    expect(s.transit.handleBuild(I2NP_SHORT_TUNNEL_BUILD, good, peer)).toBe('accepted');
    expect(s.sent.length).toBe(1);
  });

  it('accepted tunnels join with their roles and the previous hop of the session, our key copies are wiped, they end after 660 s', () => {
    const s = setup();
    const peer = new Uint8Array(32).fill(7);
    expect(s.transit.handleBuild(I2NP_SHORT_TUNNEL_BUILD, s.request({ role: 'obep' }), peer)).toBe('accepted');
    expect(s.transit.handleBuild(I2NP_SHORT_TUNNEL_BUILD, s.request({ role: 'ibgw' }), peer)).toBe('accepted');
    expect(s.transit.handleBuild(I2NP_SHORT_TUNNEL_BUILD, s.request({ role: 'participant' }), peer)).toBe('accepted');
    expect(s.joined.map((c) => c.role)).toEqual(['obep', 'ibgw', 'participant']);
    const cfg = s.joined as TransitTunnelConfig[];
    expect(cfg[0]!.previousHop).toBe(8);
    expect(cfg[1]!.previousHop).toBeUndefined(); // an IBGW takes input from anyone
    expect(cfg[2]!.previousHop).toBe(8);
    for (const c of cfg) expect(c.layerKey.some((x) => x !== 0)).toBe(true);
    for (const c of s.shared as TransitTunnelConfig[]) {
      expect(c.layerKey.every((x) => x === 0)).toBe(true);
      expect(c.ivKey.every((x) => x === 0)).toBe(true);
    }
    expect(s.transit.stats()).toMatchObject({ participant: 1, obep: 1, ibgw: 1, accepted: 3 });
    s.advance(659_000);
    s.transit.tick();
    expect(s.ended.length).toBe(0);
    s.advance(1_000);
    s.transit.tick();
    expect(s.ended.map((e) => e.gateway).sort()).toEqual([false, false, true]);
    expect(s.transit.stats()).toMatchObject({ participant: 0, obep: 0, ibgw: 0, expired: 3 });
    expect(s.transit.tableSizes().perPrevious).toBe(0);
  });

  it('OBEPs share one reassembler until one holds a partial message: fragments of two tunnels never meet', () => {
    const rng = new Rng(testSeed('transit-obep-shared'));
    const s = setup();
    const peer = new Uint8Array(32).fill(9);
    for (let i = 0; i < 2; i++)
      expect(s.transit.handleBuild(I2NP_SHORT_TUNNEL_BUILD, s.request({ role: 'obep' }), peer)).toBe('accepted');
    const [a, b] = (s.joined as TransitTunnelConfig[]).map((c) => c.receiveTunnelId) as [number, number];
    // Plaintext OBEP bodies as a gateway frames them (LOCAL delivery): what the data plane hands out after the layers.
    const frame = (msg: Uint8Array): Uint8Array[] => {
      const out: Uint8Array[] = [];
      const p = new GatewayPacker({ tunnelId: 1, flushDelayMs: null, onBody: (x) => out.push(x.slice()) });
      p.send(msg);
      p.flush();
      return out;
    };
    const payload = (n: number) => encodeData(rng.bytes(n));
    const bigBody = payload(1500);
    const smallBody = payload(100);
    const big = frame(encodeI2np(I2NP_DATA, 11, s.now() + 60_000, bigBody));
    const small = frame(encodeI2np(I2NP_DATA, 12, s.now() + 60_000, smallBody));
    expect(big.length).toBe(2);
    expect(small.length).toBe(1);
    expect(s.transit.handleEndpointOutput(a, big[0]!)).toBe(true);
    expect(s.transit.tableSizes().reassemblers).toBe(1); // a keeps its partial message
    expect(s.transit.handleEndpointOutput(b, small[0]!)).toBe(true);
    expect(s.local.length).toBe(1);
    // a's second fragment arriving on b must not complete a's message.
    expect(s.transit.handleEndpointOutput(b, big[1]!)).toBe(true);
    expect(s.local.length).toBe(1);
    expect(s.transit.handleEndpointOutput(a, big[1]!)).toBe(true);
    expect(s.local.length).toBe(2);
    const got = s.local as { msgId: number; body: Uint8Array }[];
    expect(got.map((m) => m.msgId)).toEqual([12, 11]);
    expect(Buffer.from(got[0]!.body).equals(Buffer.from(smallBody))).toBe(true);
    expect(Buffer.from(got[1]!.body).equals(Buffer.from(bigBody))).toBe(true);
    // Whatever b kept of the stray fragment expires; then no OBEP holds a reassembler.
    s.advance(120_000);
    s.transit.tick();
    expect(s.transit.tableSizes().reassemblers).toBe(0);
    expect(s.transit.tableSizes().nextIdents).toBe(2);
    s.advance(600_000);
    s.transit.tick();
    expect(s.transit.tableSizes()).toMatchObject({ tunnels: 0, perPrevious: 0, nextIdents: 0, reassemblers: 0 });
  });

  it('a flood from one router: over its rate dropped before any X25519, over its cap refused with code 30', () => {
    const s = setup({ requestBurst: 100, requestsPerSecond: 1, maxPerPreviousHop: 30 });
    const peer = new Uint8Array(32).fill(3);
    const reqs = Array.from({ length: 150 }, () => s.request());
    const out = reqs.map((r) => s.transit.handleBuild(I2NP_SHORT_TUNNEL_BUILD, r, peer));
    expect(out.filter((o) => o === 'accepted').length).toBe(30);
    expect(out.filter((o) => o === 'rejected').length).toBe(70);
    expect(out.filter((o) => o === 'dropped').length).toBe(50);
    expect(s.transit.stats().rejected).toEqual({ 'limit-previous-hop': 70 });
    expect(s.transit.stats().dropped).toEqual({ rate: 50 });
    // Refusals are still answered (the creator learns at once): 100 replies forwarded.
    expect(s.sent.length).toBe(100);
    expect(s.transit.size).toBe(30);
    // Another router is not affected by the first one's flood.
    expect(s.transit.handleBuild(I2NP_SHORT_TUNNEL_BUILD, s.request(), new Uint8Array(32).fill(4))).toBe('accepted');
    // Time refills the bucket.
    s.advance(10_000);
    expect(s.transit.handleBuild(I2NP_SHORT_TUNNEL_BUILD, s.request(), peer)).toBe('rejected');
  });

  it('many routers: the total cap holds and the rate table stays within its size', () => {
    const s = setup({ maxTunnels: 40, maxTrackedPeers: 64 });
    for (let i = 0; i < 60; i++)
      s.transit.handleBuild(I2NP_SHORT_TUNNEL_BUILD, s.request(), new Uint8Array(randomBytes(32)));
    expect(s.transit.size).toBe(40);
    expect(s.transit.stats().rejected).toEqual({ 'limit-total': 20 });
    const junk = Uint8Array.of(4, ...new Uint8Array(4 * 218));
    for (let i = 0; i < 2000; i++)
      s.transit.handleBuild(I2NP_SHORT_TUNNEL_BUILD, junk, new Uint8Array(randomBytes(32)));
    expect(s.transit.tableSizes().buckets).toBe(64);
    expect(s.transit.tableSizes().tunnels).toBe(40);
  });

  it('a duplicate receive id (ours or one of our own tunnels) and a next hop that is ourselves: refused with code 30', () => {
    const s = setup({}, (id, gateway) => id === 80 && gateway);
    const peer = new Uint8Array(32).fill(9);
    const hop = { identHash: s.identHash, encryptionKey: s.keys.publicKey };
    const mk = (receiveTunnelId: number, replyIdent: Uint8Array, direction: 'inbound' | 'outbound' = 'inbound') =>
      createShortTunnelBuild({ direction, hops: [{ ...hop, receiveTunnelId }], replyIdent, now: s.now() }).message.body;
    expect(s.transit.handleBuild(I2NP_SHORT_TUNNEL_BUILD, mk(77, peer), peer)).toBe('accepted');
    expect(s.transit.handleBuild(I2NP_SHORT_TUNNEL_BUILD, mk(77, peer), peer)).toBe('rejected');
    expect(s.transit.handleBuild(I2NP_SHORT_TUNNEL_BUILD, mk(78, s.identHash), peer)).toBe('rejected');
    // An OBEP whose reply gateway is us is fine (its reply goes to our own gateway).
    expect(s.transit.handleBuild(I2NP_SHORT_TUNNEL_BUILD, mk(79, s.identHash, 'outbound'), peer)).toBe('accepted');
    expect(s.transit.handleBuild(I2NP_SHORT_TUNNEL_BUILD, mk(80, peer), peer)).toBe('rejected'); // IBGW id = one of our gateway ids
    expect(s.transit.stats().rejected).toEqual({ 'duplicate-id': 2, 'next-hop-self': 1 });
    expect(s.transit.stats().dropped['reply-no-local-gateway']).toBe(1);
  });

  it('Noise-N garlic to our router: build cloves are processed with the sender, other cloves delivered locally; stale or replayed garlic refused', () => {
    const s = setup();
    const peer = new Uint8Array(32).fill(5);
    const build = s.request({ role: 'ibgw' });
    const store = new Uint8Array([1, 2, 3]);
    const g = sealRouterGarlic(
      s.keys.publicKey,
      [
        { type: I2NP_SHORT_TUNNEL_BUILD, msgId: 11, expiration: s.now() + 8000, body: build },
        { type: 1, msgId: 12, expiration: s.now() + 8000, body: store },
      ],
      { now: s.now(), paddingBytes: 3 },
    );
    expect(s.transit.handleGarlic(g, peer)).toBe(true);
    expect(s.transit.stats()).toMatchObject({ ibgw: 1, accepted: 1 });
    expect(s.local).toEqual([
      { type: 1, msgId: 12, expiration: Math.floor((s.now() + 8000) / 1000) * 1000, body: store },
    ]);
    expect(s.transit.handleGarlic(g, peer)).toBe(false);
    expect(s.transit.stats().dropped['garlic-replay']).toBe(1);
    const stale = sealRouterGarlic(s.keys.publicKey, [{ type: 1, msgId: 13, expiration: s.now(), body: store }], {
      now: s.now() - 10 * 60_000,
    });
    expect(s.transit.handleGarlic(stale, peer)).toBe(false);
    expect(s.transit.stats().dropped['garlic-stale']).toBe(1);
    // Sealed to another router's key: not ours.
    expect(
      s.transit.handleGarlic(
        sealRouterGarlic(x25519Generate().publicKey, [{ type: 1, msgId: 14, expiration: s.now(), body: store }], {
          now: s.now(),
        }),
        peer,
      ),
    ).toBe(false);
    expect(s.local.length).toBe(1);
  });

  it("i2pd's bootstrap builds (VariableTunnelBuild, 528-byte records, written by the reference encoder): OBEP reply 24 unwrapped in a TunnelGateway, IBGW forwards 23", () => {
    const rng = new Rng(testSeed('transit-long'));
    const s = setup();
    const peer = rng.bytes(32);
    for (const [flags, role] of [
      [0x40, 'obep'],
      [0x80, 'ibgw'],
    ] as const) {
      const f = {
        receiveTunnelId: 1000 + flags,
        nextTunnelId: 2000 + flags,
        nextIdent: peer,
        flags,
        requestTimeMinutes: Math.floor(s.now() / 60_000),
        nextMsgId: 3000 + flags,
        layerKey: rng.bytes(32),
        ivKey: rng.bytes(32),
        replyKey: rng.bytes(32),
        replyIv: rng.bytes(16),
      };
      const rec = refLongRecord(s.identHash, s.keys.publicKey, refLongCleartext(f), rng.bytes(32));
      const slot = rng.int(4);
      const body = new Uint8Array(1 + 4 * 528);
      body[0] = 4;
      for (let i = 0; i < 4; i++) body.set(i === slot ? rec.record : rng.bytes(528), 1 + i * 528);
      s.sent.length = 0;
      expect(s.transit.handleBuild(I2NP_VARIABLE_TUNNEL_BUILD, body, peer)).toBe('accepted');
      const cfg = s.joined.at(-1) as TransitTunnelConfig;
      expect(cfg.role).toBe(role);
      expect(cfg.layerKey).toEqual(f.layerKey);
      expect(cfg.ivKey).toEqual(f.ivKey);
      expect(s.sent.length).toBe(1);
      const out = s.sent[0]!;
      expect(out.to).toEqual(peer);
      let records: Uint8Array;
      if (role === 'obep') {
        expect(out.msg.type).toBe(19);
        const tg = decodeTunnelGateway(out.msg.body);
        if (!tg.ok) throw new Error(tg.error);
        expect(tg.value.tunnelId).toBe(f.nextTunnelId);
        const inner = decodeI2np(tg.value.message);
        if (!inner.ok) throw new Error(inner.error);
        expect(inner.value.header.type).toBe(24);
        expect(inner.value.header.msgId).toBe(f.nextMsgId);
        records = inner.value.payload;
      } else {
        expect(out.msg.type).toBe(I2NP_VARIABLE_TUNNEL_BUILD);
        expect(out.msg.msgId).toBe(f.nextMsgId);
        records = out.msg.body;
      }
      const reply = refOpenLongReply(rec.ck, rec.h, records.subarray(1 + slot * 528, 1 + (slot + 1) * 528));
      expect(reply[511]).toBe(0);
    }
  });
});
