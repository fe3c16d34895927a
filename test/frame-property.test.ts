// Property tests of gateway packing and endpoint reassembly (fast-check; logged seed, TUNNELPLANE_SEED replays it).
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { I2NP_TUNNEL_MAX } from '../src/constants.js';
import { MessageTooLargeError } from '../src/errors.js';
import { InboundEndpointReassembler, OutboundEndpointReassembler } from '../src/frame/endpoint.js';
import { GatewayPacker, type GatewayItem, packMessages } from '../src/frame/gateway.js';
import { checksum32, sha256 } from '../src/crypto/hash.js';
import { judgeGateway, reassembleAll } from '../src/frame/judge.js';
import { decodeI2np } from '../src/i2np/header.js';
import { decodeTunnelGateway } from '../src/i2np/bodies.js';
import { deliveryArb, hex, i2npMessage, item, seededRandom } from './helpers/frame-helpers.js';
import { testSeed } from './helpers/seed.js';
import { refFragmentSizes, refReassemble } from './reference/frame-reference.js';

const seed = testSeed('frame-property');
const runs = (n: number) => ({ seed, numRuns: Number(process.env.FC_RUNS ?? n) });
const TID = 0x0badcafe;

function plainBodies(items: GatewayItem[], rnd = 1): Uint8Array[] {
  return packMessages(items, { tunnelId: TID, random: seededRandom(rnd) });
}

function asRef(items: GatewayItem[]) {
  return items.map((it) => {
    const o: Record<string, unknown> = { delivery: it.delivery };
    if (it.delivery === 'TUNNEL') o.tunnelId = it.tunnelId;
    if (it.delivery !== 'LOCAL') o.toHash = hex(it.toHash);
    o.message = hex(it.message);
    return o;
  });
}

function fastJson(bodies: Uint8Array[]) {
  const r = reassembleAll(bodies);
  return { delivered: asRef(r.delivered as GatewayItem[]), dropped: r.dropped };
}

/** Collects what an OBEP hands on, as comparable strings. */
function obepCollector() {
  const got: string[] = [];
  // The duplicate-body window stands in for the router's replay filter, which sits in front of an endpoint.
  const ep = new OutboundEndpointReassembler({
    duplicateWindow: 8192,
    handlers: {
      local: (m) => got.push(`L:${hex(m)}`),
      router: (h, m) => got.push(`R:${hex(h)}:${hex(m)}`),
      tunnel: (h, tg, tid, m) => {
        const outer = decodeI2np(tg, { verifyChecksum: true });
        expect(outer.ok).toBe(true);
        const inner = decodeTunnelGateway((outer as { value: { payload: Uint8Array } }).value.payload);
        expect(inner.ok && inner.value.tunnelId === tid && hex(inner.value.message) === hex(m)).toBe(true);
        got.push(`T:${tid}:${hex(h)}:${hex(m)}`);
      },
    },
  });
  return { ep, got };
}
function expected(it: GatewayItem): string {
  if (it.delivery === 'LOCAL') return `L:${hex(it.message)}`;
  if (it.delivery === 'ROUTER') return `R:${hex(it.toHash)}:${hex(it.message)}`;
  return `T:${it.tunnelId}:${hex(it.toHash)}:${hex(it.message)}`;
}

describe('gateway -> endpoint', () => {
  it("any permutation and duplication of a message's bodies delivers it exactly once (OBEP and IBEP)", () => {
    fc.assert(
      fc.property(
        deliveryArb,
        fc.integer({ min: 0, max: 8192 }),
        fc.integer(),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 40, maxLength: 40 }),
        (kind, size, id, dupPicks, keys) => {
          const it = item(kind, i2npMessage(size, id));
          const bodies = plainBodies([it], id);
          const order = bodies.map((_, i) => i).concat(dupPicks.map((d) => d % bodies.length));
          order.sort((a, b) => keys[a % 40]! - keys[b % 40]! || 0);
          const shuffled = order.map((i) => bodies[i]!);
          const { ep, got } = obepCollector();
          for (const b of shuffled) ep.receive(b);
          expect(got).toEqual([expected(it)]);
          expect(ep.pending).toBe(0);
          const ibGot: Uint8Array[] = [];
          const ibep = new InboundEndpointReassembler({ onMessage: (m) => ibGot.push(m), duplicateWindow: 8192 });
          for (const b of shuffled) ibep.receive(b);
          if (kind === 0) expect(ibGot.map(hex)).toEqual([hex(it.message)]);
          else {
            expect(ibGot).toEqual([]);
            expect(ibep.drops['not-local']).toBe(1);
          }
          // The bare reassembler (vectors semantics) agrees with the readable reference on the same order.
          expect(fastJson(shuffled)).toEqual(refReassemble(shuffled));
        },
      ),
      runs(300),
    );
  });

  it('sizes 0..4096 of payload across the three delivery types round-trip and pass the judge', () => {
    for (let size = 0; size <= 4096; size += Number(process.env.FRAME_SIZE_STEP ?? 1)) {
      for (const kind of [0, 1, 2] as const) {
        const it = item(kind, i2npMessage(size, size * 3 + kind));
        const bodies = plainBodies([it], size + 1);
        const v = judgeGateway(bodies, TID, [], [it]);
        expect(v.problems, `size ${size} kind ${kind}`).toEqual([]);
        for (const b of bodies) expect(Math.min(...(refFragmentSizes(b) as number[]))).toBeGreaterThan(0);
      }
    }
  });

  it('sweep up to 62 708 bytes across the three delivery types, never more than 64 fragments', () => {
    const sizes = [996, 997, 1000, 1001, 1003, 1004, 1992, 1993, 5000, 20_000, 40_000, 61_000, 62_000, 62_707, 62_708];
    for (let s = 1; s < I2NP_TUNNEL_MAX; s += 4093) sizes.push(s);
    for (const total of sizes.filter((s) => s >= 16)) {
      for (const kind of [0, 1, 2] as const) {
        // With a prefix message so the big one starts mid-body (the 63-usable-fragments case of §4).
        for (const prefix of [0, 500, 990]) {
          const items = prefix
            ? [item(0, i2npMessage(prefix - 16, 1)), item(kind, i2npMessage(total - 16, 2))]
            : [item(kind, i2npMessage(total - 16, 2))];
          const bodies = plainBodies(items, total);
          const v = judgeGateway(bodies, TID, [], items);
          expect(v.problems, `total ${total} kind ${kind} prefix ${prefix}`).toEqual([]);
          let frags = 0;
          for (const b of bodies) {
            const sz = refFragmentSizes(b);
            expect(Array.isArray(sz)).toBe(true);
            for (const n of sz as number[]) expect(n).toBeGreaterThan(0);
            frags += (sz as number[]).length;
          }
          expect(frags).toBeLessThanOrEqual(64 + (prefix ? 1 : 0));
        }
      }
    }
  });

  it('interleaved messages from several gateways all arrive exactly once, matching the reference', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(deliveryArb, fc.integer({ min: 0, max: 6000 })), { minLength: 2, maxLength: 6 }),
        fc.array(fc.nat(), { minLength: 64, maxLength: 64 }),
        (specs, picks) => {
          const streams = specs.map(([kind, size], g) => {
            const it = item(kind, i2npMessage(size, g * 1000 + size, g));
            return { it, bodies: plainBodies([it], g * 7919 + size + 1) };
          });
          // Interleave: repeatedly pick a stream and take its next body (each stream keeps its own order).
          const mixed: Uint8Array[] = [];
          const pos = streams.map(() => 0);
          let k = 0;
          while (mixed.length < streams.reduce((s, x) => s + x.bodies.length, 0)) {
            const live = streams.map((_, i) => i).filter((i) => pos[i]! < streams[i]!.bodies.length);
            const g = live[picks[k++ % picks.length]! % live.length]!;
            mixed.push(streams[g]!.bodies[pos[g]!++]!);
          }
          const { ep, got } = obepCollector();
          for (const b of mixed) ep.receive(b);
          expect([...got].sort()).toEqual(streams.map((s) => expected(s.it)).sort());
          expect(fastJson(mixed)).toEqual(refReassemble(mixed));
        },
      ),
      runs(100),
    );
  });

  it('many small messages of mixed types share bodies and pass the judge; no zero-length fragment', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(deliveryArb, fc.integer({ min: 0, max: 3000 })), { minLength: 1, maxLength: 40 }),
        fc.integer(),
        (specs, rnd) => {
          const items = specs.map(([kind, size], i) => item(kind, i2npMessage(size, i, rnd)));
          const bodies = plainBodies(items, rnd);
          const v = judgeGateway(bodies, TID, [], items);
          expect(v.problems).toEqual([]);
          for (const b of bodies) for (const n of refFragmentSizes(b) as number[]) expect(n).toBeGreaterThan(0);
          // Greedy bound: every body but the last is filled except where the next pair could not start usefully.
          const r = refReassemble(bodies);
          expect(r.delivered).toEqual(asRef(items));
        },
      ),
      runs(200),
    );
  });

  it('with hops: bodies are creator-stripped and the judge (P in forwarding order) accepts them', () => {
    const hops = [1, 2, 3].map((h) => ({
      layerKey: new Uint8Array(32).fill(h),
      ivKey: new Uint8Array(32).fill(h + 100),
    }));
    const items = [item(0, i2npMessage(100, 1)), item(1, i2npMessage(3000, 2)), item(2, i2npMessage(10, 3))];
    const bodies = packMessages(items, { tunnelId: TID, hops });
    expect(judgeGateway(bodies, TID, hops, items).problems).toEqual([]);
    // Without the hops' P the endpoint sees ciphertext: every body fails the checksum.
    expect(reassembleAll(bodies).dropped).toBe(bodies.length);
  });
});

describe('gateway edges', () => {
  it('checksum32 is the first 4 bytes of SHA-256', () => {
    for (const n of [0, 1, 55, 56, 64, 1003, 1019, 4096]) {
      const d = Uint8Array.from({ length: n }, (_, i) => (i * 13 + n) & 0xff);
      expect(checksum32(d)).toBe(createHash('sha256').update(d).digest().readUInt32BE(0));
      expect([...sha256(d)]).toEqual([...createHash('sha256').update(d).digest()]);
    }
  });

  it('refuses more than 62 708 bytes with MessageTooLargeError, accepts exactly 62 708', () => {
    const gw = new GatewayPacker({ tunnelId: 1, onBody: () => {}, flushDelayMs: null });
    expect(() => gw.send(new Uint8Array(I2NP_TUNNEL_MAX + 1))).toThrow(MessageTooLargeError);
    expect(() => gw.send(new Uint8Array(I2NP_TUNNEL_MAX + 1))).toThrow(/62708/);
    expect(gw.openBytes).toBe(0);
    expect(() => gw.send(new Uint8Array(I2NP_TUNNEL_MAX))).not.toThrow();
  });

  it('validates its arguments with exact errors', () => {
    const gw = new GatewayPacker({ tunnelId: 1, onBody: () => {}, flushDelayMs: null });
    expect(() => gw.send(new Uint8Array(0))).toThrow(RangeError);
    expect(() => gw.send('x' as never)).toThrow(TypeError);
    expect(() => gw.send(new Uint8Array(20), { delivery: 'NOPE' as never })).toThrow(TypeError);
    expect(() => gw.send(new Uint8Array(20), { delivery: 'ROUTER' })).toThrow(TypeError);
    expect(() => gw.send(new Uint8Array(20), { delivery: 'ROUTER', toHash: new Uint8Array(31) })).toThrow(RangeError);
    expect(() => gw.send(new Uint8Array(20), { delivery: 'TUNNEL', toHash: new Uint8Array(32) })).toThrow(RangeError);
    expect(() => new GatewayPacker({ tunnelId: -1, onBody: () => {} })).toThrow(RangeError);
    expect(
      () =>
        new GatewayPacker({
          tunnelId: 1,
          onBody: () => {},
          hops: [{ layerKey: new Uint8Array(31), ivKey: new Uint8Array(32) }],
        }),
    ).toThrow(RangeError);
  });

  it('fresh IVs and fresh nonzero padding on every body', () => {
    const bodies = plainBodies(
      Array.from({ length: 50 }, (_, i) => item(0, i2npMessage(400 + i, i))),
      99,
    );
    const ivs = new Set(bodies.map((b) => hex(b.subarray(4, 20))));
    expect(ivs.size).toBe(bodies.length);
    const real = packMessages([item(0, i2npMessage(10, 1))], { tunnelId: 5 });
    const real2 = packMessages([item(0, i2npMessage(10, 1))], { tunnelId: 5 });
    const pad = (b: Uint8Array) => b.subarray(24, b.indexOf(0, 24));
    expect(pad(real[0]!).length).toBe(1003 - 29);
    expect(pad(real[0]!).includes(0)).toBe(false);
    expect(hex(pad(real[0]!))).not.toBe(hex(pad(real2[0]!)));
    expect(hex(real[0]!.subarray(4, 20))).not.toBe(hex(real2[0]!.subarray(4, 20)));
  });

  it('packs as tight as greedy: full bodies except the last', () => {
    // 30 LOCAL messages of 500 bytes: 30 * 503 bytes of pairs plus a few fragment headers.
    const items = Array.from({ length: 30 }, (_, i) => item(0, i2npMessage(484, i)));
    const bodies = plainBodies(items);
    expect(bodies.length).toBe(Math.ceil((30 * 503 + 14 * 11) / 1003));
  });
});
