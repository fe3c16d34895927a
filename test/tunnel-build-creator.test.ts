// The creator side (src/router/tunnel-build/creator.ts): its records read by the independent reference hop
// (@noble, test/reference/build-reference.ts), and full round trips creator -> N hops -> reply -> creator for 1..8 hops,
// both directions, with hops that are ours or the reference's; refusals and tampering reported by hop index; the
// derived keys then carry traffic through the data plane (LayerEngine) with the join() configs built from them.
import { describe, expect, it } from 'vitest';
import { x25519 as nobleX25519 } from '@noble/curves/ed25519.js';
import {
  createShortTunnelBuild,
  inboundTunnelConfig,
  outboundTunnelConfig,
  processGarlicBuildReply,
  processShortBuildReply,
  type PendingTunnelBuild,
} from '../src/router/tunnel-build/creator.js';
import {
  TunnelBuildHop,
  transitTunnelConfig,
  type HopForward,
  type TransitTunnelKeys,
} from '../src/router/tunnel-build/hop.js';
import { decodeI2np } from '../src/i2np/header.js';
import { decodeTunnelGateway } from '../src/i2np/bodies.js';
import { decodeBuildRecords, encodeBuildRecords } from '../src/i2np/tunnel-build.js';
import { LayerEngine, LOCAL_HOP } from '../src/tunnel/engine.js';
import { bodyOf, makeBatch, withId } from './helpers/batch.js';
import { Rng, hex, testSeed } from './helpers/chacha-rng.js';
import {
  refChaChaSlot,
  refKeys,
  refNoiseOpen,
  refParseShortCleartext,
  refSealShortReply,
} from './reference/build-reference.js';

const seed = testSeed('tunnel-build-creator');
// The data plane checks expiry against the real clock, so the builds are made now.
const NOW = Date.now();

interface Router {
  priv: Uint8Array;
  pub: Uint8Array;
  hash: Uint8Array;
}
function router(rng: Rng): Router {
  const priv = rng.bytes(32);
  return { priv, pub: nobleX25519.getPublicKey(priv), hash: rng.bytes(32) };
}

/** The reference hop: §5 decrypt, §6 keys, §7.2 reply and layers, with @noble only. Returns the new body. */
function refHop(
  r: Router,
  body: Uint8Array,
  code: number,
  rng: Rng,
): {
  body: Uint8Array;
  flags: number;
  next: Uint8Array;
  nextTunnelId: number;
  nextMsgId: number;
  keys: ReturnType<typeof refKeys>;
  receiveTunnelId: number;
} {
  const d = decodeBuildRecords(body, 218);
  if (!d.ok) throw new Error(d.error);
  const slots = d.value.records.map((s): Uint8Array => s.slice());
  const i = slots.findIndex((s) => hex(s.subarray(0, 16)) === hex(r.hash.subarray(0, 16)));
  if (i < 0) throw new Error('reference hop: no record');
  const o = refNoiseOpen(r.priv, slots[i]!.subarray(16, 48), slots[i]!.subarray(48));
  const f = refParseShortCleartext(o.payload);
  expect(f.layerType).toBe(0);
  expect(f.expiration).toBe(600);
  expect(f.moreFlags).toBe(0);
  expect(f.requestTimeMinutes).toBe(Math.floor(NOW / 60_000));
  expect(hex(f.options)).toBe(hex(new Uint8Array(98))); // i2pd: empty options, zero padding (§4.1, Live check)
  const keys = refKeys(o.ck, f.flags === 0x40);
  const clear = rng.bytes(202);
  clear[0] = 0;
  clear[1] = 0;
  clear[201] = code;
  slots[i] = refSealShortReply(keys.replyKey, i, o.h, clear);
  for (let j = 0; j < slots.length; j++) if (j !== i) slots[j] = refChaChaSlot(keys.replyKey, j, slots[j]!);
  return {
    body: encodeBuildRecords(slots),
    flags: f.flags,
    next: f.nextIdent,
    nextTunnelId: f.nextTunnelId,
    nextMsgId: f.nextMsgId,
    keys,
    receiveTunnelId: f.receiveTunnelId,
  };
}

describe('creator records read by the reference hop', () => {
  it('every hop finds its record in clear after the earlier hops, with the right roles, ids and chain', () => {
    const rng = new Rng(seed);
    for (let n = 1; n <= 8; n++) {
      for (const direction of ['outbound', 'inbound'] as const) {
        const hops = Array.from({ length: n }, () => router(rng));
        const me = router(rng);
        const replyIdent = direction === 'inbound' ? me.hash : rng.bytes(32);
        const req = createShortTunnelBuild({
          direction,
          hops: hops.map((h) => ({ identHash: h.hash, encryptionKey: h.pub })),
          replyIdent,
          now: NOW,
          random: (k) => rng.bytes(k),
        });
        expect(req.message.type).toBe(25);
        expect(req.message.body[0]).toBe(n <= 4 ? 4 : 8);
        expect(req.message.body.length).toBe(n <= 4 ? 873 : 1 + 8 * 218);
        expect(hex(req.firstHop)).toBe(hex(hops[0]!.hash));
        let body = req.message.body;
        let prevNextTunnel = -1;
        for (let i = 0; i < n; i++) {
          const step = refHop(hops[i]!, body, 0, rng);
          const expectFlags = direction === 'outbound' ? (i === n - 1 ? 0x40 : 0) : i === 0 ? 0x80 : 0;
          expect(step.flags).toBe(expectFlags);
          if (i > 0) expect(step.receiveTunnelId).toBe(prevNextTunnel);
          expect(hex(step.next)).toBe(hex(i === n - 1 ? replyIdent : hops[i + 1]!.hash));
          if (i === n - 1) expect(step.nextMsgId).toBe(req.pending.replyMsgId);
          prevNextTunnel = step.nextTunnelId;
          body = step.body;
        }
        if (direction === 'inbound') expect(prevNextTunnel).toBe(req.pending.replyTunnelId);
        const res = processShortBuildReply(req.pending, body);
        expect(res.ok, res.ok ? '' : res.error).toBe(true);
      }
    }
  });

  it('slots are shuffled: over many builds every hop lands in every slot', () => {
    const rng = new Rng(seed ^ 9);
    const seen = new Set<string>();
    const hops = Array.from({ length: 3 }, () => router(rng));
    for (let k = 0; k < 60; k++) {
      const req = createShortTunnelBuild({
        direction: 'outbound',
        hops: hops.map((h) => ({ identHash: h.hash, encryptionKey: h.pub })),
        replyIdent: rng.bytes(32),
        now: NOW,
        random: (m) => rng.bytes(m),
      });
      req.pending.slots.forEach((s, i) => seen.add(`${i}:${s}`));
      req.pending.discard();
    }
    expect(seen.size).toBe(12);
  });
});

/** Runs a build through hops that are ours (TunnelBuildHop) or the reference's, as `mix` says. */
function run(
  rng: Rng,
  n: number,
  direction: 'outbound' | 'inbound',
  opts: {
    mix?: (i: number) => 'ours' | 'ref';
    codes?: number[];
    tamper?: (i: number, body: Uint8Array, pending: PendingTunnelBuild) => void;
  } = {},
) {
  const routers = Array.from({ length: n }, () => router(rng));
  const me = router(rng);
  const replyIdent = direction === 'inbound' ? me.hash : rng.bytes(32);
  const req = createShortTunnelBuild({
    direction,
    hops: routers.map((h) => ({ identHash: h.hash, encryptionKey: h.pub })),
    replyIdent,
    now: NOW,
  });
  let body = req.message.body;
  const transit: (TransitTunnelKeys | undefined)[] = [];
  let last: HopForward | undefined;
  for (let i = 0; i < n; i++) {
    const code = opts.codes?.[i] ?? 0;
    if ((opts.mix?.(i) ?? 'ours') === 'ref') {
      const step = refHop(routers[i]!, body, code, rng);
      body = step.body;
      transit.push(undefined);
      last = undefined;
    } else {
      const hop = new TunnelBuildHop({
        staticPrivateKey: routers[i]!.priv,
        identHash: routers[i]!.hash,
        now: () => NOW,
      });
      const opened = hop.open(25, body);
      if (!opened.ok) throw new Error(`hop ${i}: ${opened.error}`);
      const ans = hop.answer(opened.value, code);
      transit.push(ans.tunnel);
      last = ans.forward;
      if (ans.forward.kind === 'build') {
        expect(hex(ans.forward.to)).toBe(hex(i === n - 1 ? replyIdent : routers[i + 1]!.hash));
        body = ans.forward.message.body;
      } else if (ans.forward.kind === 'reply-gateway') {
        const tg = decodeTunnelGateway(ans.forward.message.body);
        if (!tg.ok) throw new Error(tg.error);
        const g = decodeI2np(tg.value.message);
        if (!g.ok) throw new Error(g.error);
        body = g.value.payload; // the garlic, opened below by processGarlicBuildReply
      }
    }
    opts.tamper?.(i, body, req.pending);
  }
  return { req, body, transit, last, routers };
}

function finish(pending: PendingTunnelBuild, direction: 'outbound' | 'inbound', body: Uint8Array, garlic: boolean) {
  return direction === 'outbound' && garlic
    ? processGarlicBuildReply(pending, body)
    : processShortBuildReply(pending, body);
}

describe('round trips creator -> hops -> reply -> creator', () => {
  for (let n = 1; n <= 8; n++) {
    it(`${n} hop(s), outbound and inbound, our hops and mixed with the reference hop`, () => {
      const rng = new Rng(seed + n);
      for (const direction of ['outbound', 'inbound'] as const) {
        for (const mixName of ['ours', 'mixed'] as const) {
          const mix =
            mixName === 'ours'
              ? () => 'ours' as const
              : (i: number) => (i % 2 === 0 ? ('ref' as const) : ('ours' as const));
          const r = run(rng, n, direction, { mix });
          const lastIsOurs = mix(n - 1) === 'ours';
          const res = finish(r.req.pending, direction, r.body, lastIsOurs);
          expect(res.ok, res.ok ? '' : res.error).toBe(true);
          if (!res.ok) continue;
          expect(res.value.replies.map((x) => x.status)).toEqual(Array(n).fill('accepted'));
          r.transit.forEach((t, i) => {
            if (!t) return;
            expect(hex(t.layerKey)).toBe(hex(res.value.hops[i]!.layerKey));
            expect(hex(t.ivKey)).toBe(hex(res.value.hops[i]!.ivKey));
          });
        }
      }
    });
  }

  it('the same router twice in one tunnel (X -> other -> X, as i2pd builds them, netdb-floodfill.md §6.6)', () => {
    const rng = new Rng(seed ^ 0x44);
    for (const direction of ['outbound', 'inbound'] as const) {
      const x = router(rng);
      const y = router(rng);
      const me = router(rng);
      const path = [x, y, x];
      const req = createShortTunnelBuild({
        direction,
        hops: path.map((h) => ({ identHash: h.hash, encryptionKey: h.pub })),
        replyIdent: direction === 'inbound' ? me.hash : rng.bytes(32),
        now: NOW,
      });
      const hx = new TunnelBuildHop({ staticPrivateKey: x.priv, identHash: x.hash, now: () => NOW });
      const hy = new TunnelBuildHop({ staticPrivateKey: y.priv, identHash: y.hash, now: () => NOW });
      let body = req.message.body;
      const roles: string[] = [];
      let fw: HopForward | undefined;
      for (const h of [hx, hy, hx]) {
        const o = h.open(25, body);
        if (!o.ok) throw new Error(o.error);
        roles.push(o.value.request.role);
        fw = h.answer(o.value, 0).forward;
        if (fw.kind === 'build') body = fw.message.body;
        else if (fw.kind === 'reply-gateway') {
          const tg = decodeTunnelGateway(fw.message.body);
          const g = tg.ok ? decodeI2np(tg.value.message) : undefined;
          body = g && g.ok ? g.value.payload : new Uint8Array(0);
        }
      }
      expect(roles).toEqual(
        direction === 'outbound' ? ['participant', 'participant', 'obep'] : ['ibgw', 'participant', 'participant'],
      );
      const res = finish(req.pending, direction, body, true);
      expect(res.ok, res.ok ? '' : res.error).toBe(true);
    }
  });

  it('inbound with the creator record (§3): it arrives in clear with our prefix; changed on the way, the build is refused', () => {
    const rng = new Rng(seed ^ 0x66);
    for (let n = 1; n <= 7; n++) {
      for (const tamper of [false, true]) {
        const routers = Array.from({ length: n }, () => router(rng));
        const me = router(rng);
        const req = createShortTunnelBuild({
          direction: 'inbound',
          hops: routers.map((h) => ({ identHash: h.hash, encryptionKey: h.pub })),
          replyIdent: me.hash,
          now: NOW,
          creatorRecord: true,
        });
        expect(req.message.body[0]).toBe(n + 1 <= 4 ? 4 : 8);
        let body = req.message.body;
        for (let i = 0; i < n; i++) {
          if (i % 2) body = refHop(routers[i]!, body, 0, rng).body;
          else {
            const hop = new TunnelBuildHop({
              staticPrivateKey: routers[i]!.priv,
              identHash: routers[i]!.hash,
              now: () => NOW,
            });
            const o = hop.open(25, body);
            if (!o.ok) throw new Error(o.error);
            const fw = hop.answer(o.value, 0).forward;
            if (fw.kind !== 'build') throw new Error(fw.kind);
            body = fw.message.body;
          }
        }
        const slots = decodeBuildRecords(body, 218);
        if (!slots.ok) throw new Error(slots.error);
        const mine = slots.value.records.filter((r) => hex(r.subarray(0, 16)) === hex(me.hash.subarray(0, 16)));
        expect(mine.length).toBe(1);
        if (tamper) mine[0]![16 + rng.int(202)]! ^= 1 << rng.int(8);
        const res = processShortBuildReply(req.pending, body);
        expect(res.ok ? 'ok' : res.reason).toBe(tamper ? 'creator-record-changed' : 'ok');
      }
    }
    const one = { identHash: rng.bytes(32), encryptionKey: router(rng).pub };
    expect(() =>
      createShortTunnelBuild({ direction: 'outbound', hops: [one], replyIdent: rng.bytes(32), creatorRecord: true }),
    ).toThrow(RangeError);
    expect(() =>
      createShortTunnelBuild({
        direction: 'inbound',
        hops: Array(8).fill(one),
        replyIdent: rng.bytes(32),
        creatorRecord: true,
      }),
    ).toThrow(RangeError);
  });

  it('a refusing hop is reported by index, the others as accepted, and no keys are returned', () => {
    const rng = new Rng(seed ^ 0x77);
    for (let k = 0; k < 10; k++) {
      const n = 1 + rng.int(8);
      const bad = rng.int(n);
      const direction = rng.int(2) ? ('outbound' as const) : ('inbound' as const);
      const r = run(rng, n, direction, { codes: Array.from({ length: n }, (_, i) => (i === bad ? 30 : 0)) });
      const res = finish(r.req.pending, direction, r.body, true);
      expect(res.ok).toBe(false);
      if (res.ok) continue;
      expect(res.reason).toBe('rejected');
      expect(res.replies.map((x) => x.status)).toEqual(
        Array.from({ length: n }, (_, i) => (i === bad ? 'rejected' : 'accepted')),
      );
      expect(res.replies[bad]!.code).toBe(30);
      // every key of the failed build is gone
      for (const h of (
        r.req.pending as unknown as { hops: { layerKey: Uint8Array; ivKey: Uint8Array; replyKey: Uint8Array }[] }
      ).hops) {
        expect([h.layerKey, h.ivKey, h.replyKey].every((b) => b.every((x) => x === 0))).toBe(true);
      }
    }
  });

  it("a reply slot changed on the way is reported as that hop's bad reply", () => {
    const rng = new Rng(seed ^ 0x99);
    for (let k = 0; k < 10; k++) {
      const n = 2 + rng.int(7);
      const victim = rng.int(n);
      // Inbound: the body comes back as a plain ShortTunnelBuild, so a flipped bit lands in the victim's slot.
      const r = run(rng, n, 'inbound', {
        tamper: (i, body, pending) => {
          if (i !== n - 1) return;
          body[1 + pending.slots[victim]! * 218 + rng.int(218)]! ^= 1 << rng.int(8);
        },
      });
      const res = processShortBuildReply(r.req.pending, r.body);
      expect(res.ok).toBe(false);
      if (res.ok) continue;
      expect(res.reason).toBe('bad-reply');
      expect(res.replies.map((x) => x.status)).toEqual(
        Array.from({ length: n }, (_, i) => (i === victim ? 'bad-reply' : 'accepted')),
      );
    }
  });

  it('the outbound reply garlic: a forged or wrong-tag garlic leaves the build pending; the real one completes it', () => {
    const rng = new Rng(seed ^ 0x33);
    const r = run(rng, 2, 'outbound');
    const forged = r.body.slice();
    forged[forged.length - 1]! ^= 1;
    const f = processGarlicBuildReply(r.req.pending, forged);
    expect(f.ok).toBe(false);
    expect(r.req.pending.isFinished).toBe(false);
    const res = processGarlicBuildReply(r.req.pending, r.body);
    expect(res.ok).toBe(true);
    expect(processGarlicBuildReply(r.req.pending, r.body).ok).toBe(false);
  });
});

describe('the derived keys carry traffic through the data plane', () => {
  for (const n of [1, 2, 3, 5]) {
    it(`${n}-hop outbound and inbound tunnels built with our code, joined, and used end to end`, () => {
      const rng = new Rng(seed ^ (n * 131));
      // Outbound: we are the OBGW, the hops' transit configs come from their answers.
      const ob = run(rng, n, 'outbound');
      const obRes = processGarlicBuildReply(ob.req.pending, ob.body);
      if (!obRes.ok) throw new Error(obRes.error);
      const gw = new LayerEngine({ backend: 'node' });
      gw.join(outboundTunnelConfig(obRes.value, { gatewayTunnelId: 77, firstHop: 1 }));
      const engines = ob.transit.map((t, i) => {
        const e = new LayerEngine({ backend: 'node' });
        e.join(transitTunnelConfig(t!, { nextHop: i + 2 }));
        return e;
      });
      const plains = Array.from({ length: 3 }, () => withId(rng.bytes(1028), 77));
      let b = makeBatch(plains);
      expect(gw.processGateway(b)).toBe(3);
      expect(new DataView(b.bodies.buffer).getUint32(0)).toBe(obRes.value.firstHopTunnelId);
      for (let i = 0; i < n; i++) {
        b = makeBatch(
          Array.from({ length: 3 }, (_, k) => bodyOf(b, k)),
          i + 1,
        );
        expect(engines[i]!.processReceived(b)).toBe(3);
      }
      for (let k = 0; k < 3; k++) {
        expect(b.nextHops[k]).toBe(LOCAL_HOP);
        expect(hex(bodyOf(b, k).subarray(4))).toBe(hex(plains[k]!.subarray(4)));
      }
      // Inbound: the first hop is the IBGW, we are the IBEP.
      const ib = run(rng, n, 'inbound');
      const ibRes = processShortBuildReply(ib.req.pending, ib.body);
      if (!ibRes.ok) throw new Error(ibRes.error);
      const ibep = new LayerEngine({ backend: 'node' });
      ibep.join(inboundTunnelConfig(ibRes.value, { previousHop: n }));
      const hopEngines = ib.transit.map((t, i) => {
        const e = new LayerEngine({ backend: 'node' });
        e.join(transitTunnelConfig(t!, { nextHop: i + 1 }));
        return e;
      });
      const ibgwId = ib.transit[0]!.receiveTunnelId;
      const inPlains = Array.from({ length: 3 }, () => withId(rng.bytes(1028), ibgwId));
      let c = makeBatch(inPlains);
      expect(hopEngines[0]!.processGateway(c)).toBe(3);
      for (let i = 1; i < n; i++) {
        c = makeBatch(
          Array.from({ length: 3 }, (_, k) => bodyOf(c, k)),
          i,
        );
        expect(hopEngines[i]!.processReceived(c)).toBe(3);
      }
      c = makeBatch(
        Array.from({ length: 3 }, (_, k) => bodyOf(c, k)),
        n,
      );
      expect(new DataView(c.bodies.buffer).getUint32(0)).toBe(ibRes.value.receiveTunnelId);
      expect(ibep.processReceived(c)).toBe(3);
      for (let k = 0; k < 3; k++) expect(hex(bodyOf(c, k).subarray(4))).toBe(hex(inPlains[k]!.subarray(4)));
    });
  }
});
