// LayerEngine: every fast path against the readable reference on seeded random input, N-hop round trips for
// N = 1..8 (outbound and inbound, AES and ChaCha), replay / wrong previous hop / expiry / unknown tunnels dropped
// with statuses, keys zeroed on expiry, both backends byte for byte.
import { describe, expect, it } from 'vitest';
import {
  STATUS_BAD_MAC,
  STATUS_EXPIRED_TUNNEL,
  STATUS_OK,
  STATUS_REPLAY,
  STATUS_UNKNOWN_TUNNEL,
  STATUS_WRONG_PREV_HOP,
} from '../src/constants.js';
import {
  LayerEngine,
  LOCAL_HOP,
  ROLE_IBEP,
  ROLE_OBEP,
  ROLE_PARTICIPANT,
  type LayerType,
} from '../src/tunnel/engine.js';
import { createReplayFilterBuffer } from '../src/tunnel/replay-filter.js';
import { nativeAes } from '../src/tunnel/aes-native.js';
import { refChachaHop, refChachaStrip, refParticipant, refStrip, type RefHop } from './reference/layer-reference.js';
import { randomHop, seededRandom, testSeed } from './helpers/seed.js';
import { bodyOf, hex, makeBatch, withId } from './helpers/batch.js';
import { engineKeyMaterial, engineWasmMemory, findBytes } from '../src/testing/index.js';
import { EngineClosedError } from '../src/errors.js';

// 'native' only where the addon is built (always in CI: test/aes-native.test.ts fails there without it).
const BACKENDS = ['node', 'wasm', 'hybrid', ...(nativeAes ? (['native'] as const) : []), 'auto'] as const;

function clock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

for (const backend of BACKENDS) {
  describe(`LayerEngine (${backend}) AES`, () => {
    it('participant batches over many tunnels and within one tunnel match the reference', () => {
      const rnd = seededRandom(testSeed(`${backend} aes participant`));
      const engine = new LayerEngine({ backend });
      const tunnels = Array.from({ length: 7 }, (_, t) => ({
        hop: randomHop(rnd),
        rx: 1000 + t,
        next: 5000 + t,
        nextHop: 40 + t,
      }));
      for (const t of tunnels) {
        engine.join({
          role: 'participant',
          layer: 'aes',
          receiveTunnelId: t.rx,
          nextTunnelId: t.next,
          nextHop: t.nextHop,
          ...t.hop,
        });
      }
      // 64 and 130: one tunnel (per-tunnel fast paths, interleaved CBC from 48 messages); 150: one tunnel with 60+
      // messages (interleaved) mixed with small groups of the others (hybrid: WASM IV steps); others spread.
      for (const size of [1, 2, 5, 64, 130, 150, 200]) {
        const which = Array.from({ length: size }, (_, i) =>
          size === 64 || size === 130 || (size === 150 && i % 5 < 2) ? 3 : (i * 5 + size) % tunnels.length,
        );
        const inputs = which.map((w) => withId(rnd(1028), tunnels[w]!.rx));
        const batch = makeBatch(
          inputs,
          which.map((w) => 900 + w),
        );
        expect(engine.processReceived(batch)).toBe(size);
        for (let i = 0; i < size; i++) {
          const t = tunnels[which[i]!]!;
          expect(batch.status[i]).toBe(STATUS_OK);
          expect(batch.nextHops[i]).toBe(t.nextHop);
          expect(batch.nextTunnelIds[i]).toBe(t.next);
          expect(batch.roles![i]).toBe(ROLE_PARTICIPANT);
          expect(hex(bodyOf(batch, i)), `size ${size} msg ${i}`).toBe(hex(refParticipant(inputs[i]!, t.hop, t.next)));
        }
      }
    });

    for (let n = 1; n <= 8; n++) {
      it(`outbound and inbound round trips through ${n} hop(s)`, () => {
        const rnd = seededRandom(testSeed(`${backend} aes ${n}-hop`) + n);
        const hops = Array.from({ length: n }, () => randomHop(rnd));
        const routers = hops.map(() => new LayerEngine({ backend }));
        const ids = hops.map((_, i) => 10 + i);
        // Outbound: we are the OBGW; hops[0..n-2] participants, hops[n-1] the OBEP.
        const gw = new LayerEngine({ backend });
        gw.join({ role: 'obgw', layer: 'aes', gatewayTunnelId: 77, firstHopTunnelId: ids[0]!, firstHop: 1, hops });
        hops.forEach((h, i) =>
          routers[i]!.join(
            i === n - 1
              ? { role: 'obep', layer: 'aes', receiveTunnelId: ids[i]!, nextTunnelId: 0, nextHop: 0, ...h }
              : {
                  role: 'participant',
                  layer: 'aes',
                  receiveTunnelId: ids[i]!,
                  nextTunnelId: ids[i + 1]!,
                  nextHop: i + 2,
                  ...h,
                },
          ),
        );
        const plains = Array.from({ length: 5 }, () => withId(rnd(1028), 77));
        const batch = makeBatch(plains);
        expect(gw.processGateway(batch)).toBe(5);
        for (let i = 0; i < 5; i++) {
          const pre = bodyOf(batch, i);
          expect(hex(pre)).toBe(hex(withId(refStrip(plains[i]!, hops), ids[0]!)));
        }
        let cur = batch;
        for (let r = 0; r < n; r++) {
          const next = makeBatch(
            Array.from({ length: 5 }, (_, i) => bodyOf(cur, i)),
            r === 0 ? 0 : r,
          );
          expect(routers[r]!.processReceived(next)).toBe(5);
          cur = next;
        }
        for (let i = 0; i < 5; i++) {
          expect(cur.nextHops[i]).toBe(LOCAL_HOP);
          expect(cur.roles![i]).toBe(ROLE_OBEP);
          expect(hex(bodyOf(cur, i).subarray(4))).toBe(hex(plains[i]!.subarray(4)));
        }
        // Inbound: hops[0] is the IBGW, the rest participants, we are the IBEP.
        const ib = hops.map(() => new LayerEngine({ backend }));
        hops.forEach((h, i) =>
          ib[i]!.join(
            i === 0
              ? {
                  role: 'ibgw',
                  layer: 'aes',
                  receiveTunnelId: 300,
                  nextTunnelId: i + 1 < n ? 301 : 399,
                  nextHop: 1,
                  ...h,
                }
              : {
                  role: 'participant',
                  layer: 'aes',
                  receiveTunnelId: 300 + i,
                  nextTunnelId: i + 1 < n ? 301 + i : 399,
                  nextHop: 1,
                  ...h,
                },
          ),
        );
        const ibep = new LayerEngine({ backend });
        ibep.join({ role: 'ibep', layer: 'aes', receiveTunnelId: 399, previousHop: 1, hops });
        const inPlains = Array.from({ length: 3 }, () => withId(rnd(1028), 300));
        let b = makeBatch(inPlains);
        expect(ib[0]!.processGateway(b)).toBe(3);
        for (let r = 1; r < n; r++) {
          b = makeBatch(
            Array.from({ length: 3 }, (_, i) => bodyOf(b, i)),
            1,
          );
          expect(ib[r]!.processReceived(b)).toBe(3);
        }
        b = makeBatch(
          Array.from({ length: 3 }, (_, i) => bodyOf(b, i)),
          1,
        );
        expect(ibep.processReceived(b)).toBe(3);
        for (let i = 0; i < 3; i++) {
          expect(b.roles![i]).toBe(ROLE_IBEP);
          expect(hex(bodyOf(b, i).subarray(4))).toBe(hex(inPlains[i]!.subarray(4)));
        }
      });
    }

    it('drops replays (also within one batch), wrong previous hops, unknown and expired tunnels', () => {
      const rnd = seededRandom(testSeed(`${backend} drops`));
      const c = clock();
      const engine = new LayerEngine({ backend }, { now: c.now });
      const hop = randomHop(rnd);
      engine.join({
        role: 'participant',
        layer: 'aes',
        receiveTunnelId: 1,
        nextTunnelId: 2,
        nextHop: 3,
        ...hop,
        expiresAt: c.now() + 600_000,
      });
      const m = withId(rnd(1028), 1);
      const other = withId(rnd(1028), 1);
      const batch = makeBatch([m, m, other, withId(rnd(1028), 99)], [5, 5, 6, 5]);
      engine.processReceived(batch);
      expect([...batch.status]).toEqual([STATUS_OK, STATUS_REPLAY, STATUS_WRONG_PREV_HOP, STATUS_UNKNOWN_TUNNEL]);
      // The first sender (5) is pinned; a later replay from it is still a replay.
      const again = makeBatch([m, other], 5);
      engine.processReceived(again);
      expect([...again.status]).toEqual([STATUS_REPLAY, STATUS_OK]);
      // Inside the grace period the tunnel still works; after it, expired.
      c.advance(600_000 + 30_000);
      const late = makeBatch([withId(rnd(1028), 1)], 5);
      engine.processReceived(late);
      expect(late.status[0]).toBe(STATUS_OK);
      c.advance(31_000);
      const dead = makeBatch([withId(rnd(1028), 1)], 5);
      const before = hex(dead.bodies);
      engine.processReceived(dead);
      expect(dead.status[0]).toBe(STATUS_EXPIRED_TUNNEL);
      expect(hex(dead.bodies)).toBe(before);
      expect(engine.activeTunnels).toBe(0);
      // Long after, the tunnel is forgotten.
      c.advance(11 * 60_000);
      engine.processReceived(dead);
      expect(dead.status[0]).toBe(STATUS_UNKNOWN_TUNNEL);
      const s = engine.stats();
      expect(s.replayed).toBe(2);
      expect(s.wrongPrevHop).toBe(1);
      expect(s.expiredTunnel).toBe(1);
    });

    it('zeroes the keys it holds when a tunnel ends, and ended tunnels answer STATUS_EXPIRED_TUNNEL', () => {
      const rnd = seededRandom(11);
      const engine = new LayerEngine({ backend });
      const hop = randomHop(rnd);
      const aead = [rnd(32), rnd(32)];
      engine.join({
        role: 'participant',
        layer: 'chacha',
        receiveTunnelId: 1,
        nextTunnelId: 2,
        nextHop: 3,
        ...hop,
        inAeadKey: aead[0],
        outAeadKey: aead[1],
      });
      engine.join({ role: 'participant', layer: 'aes', receiveTunnelId: 2, nextTunnelId: 2, nextHop: 3, ...hop });
      const live = (ks: Uint8Array[]): boolean => ks.some((k) => k.some((b) => b !== 0));
      const mem = engineWasmMemory(engine); // null on the node backend (no WASM instance)
      const inMemory = (keys: Uint8Array[]): number =>
        mem ? keys.filter((k) => findBytes(mem, k).length > 0).length : 0;
      expect(live(engineKeyMaterial(engine, 1))).toBe(true);
      if (backend !== 'node') expect(inMemory(aead)).toBe(2); // ChaCha runs on WASM on every other backend
      expect(engine.end(1)).toBe(true);
      expect(engine.end(1)).toBe(false);
      expect(live(engineKeyMaterial(engine, 1))).toBe(false);
      expect(inMemory(aead)).toBe(0); // tunnel 1's own keys; its hop keys are tunnel 2's too
      expect(live(engineKeyMaterial(engine, 2))).toBe(true);
      // The material handed out is a copy: zeroing it leaves the engine's keys alone.
      for (const k of engineKeyMaterial(engine, 2)) k.fill(0);
      expect(live(engineKeyMaterial(engine, 2))).toBe(true);
      engine.end(2);
      expect(live(engineKeyMaterial(engine, 2))).toBe(false);
      expect(inMemory([hop.layerKey, hop.ivKey, ...aead])).toBe(0);
      const b = makeBatch([withId(rnd(1028), 1), withId(rnd(1028), 2)]);
      engine.processReceived(b);
      expect([...b.status]).toEqual([STATUS_EXPIRED_TUNNEL, STATUS_EXPIRED_TUNNEL]);
      // The caller's key arrays are its own: not touched.
      expect(hop.layerKey.some((x) => x !== 0)).toBe(true);
    });

    it('close() wipes every key copy: none left in its WASM memory, contexts freed; then it refuses work', () => {
      const rnd = seededRandom(testSeed(`${backend} close`));
      let now = 1_700_000_000_000;
      const engine = new LayerEngine({ backend }, { now: () => now });
      const keys: Uint8Array[] = [];
      const k = (): Uint8Array => {
        const x = rnd(32);
        keys.push(x);
        return x;
      };
      const hopK = (): { layerKey: Uint8Array; ivKey: Uint8Array } => ({ layerKey: k(), ivKey: k() });
      engine.join({ role: 'participant', layer: 'aes', receiveTunnelId: 1, nextTunnelId: 2, nextHop: 3, ...hopK() });
      engine.join({ role: 'ibep', layer: 'aes', receiveTunnelId: 4, hops: [hopK(), hopK()] });
      engine.join({
        role: 'obgw',
        layer: 'aes',
        gatewayTunnelId: 5,
        firstHopTunnelId: 6,
        firstHop: 7,
        hops: [hopK(), hopK(), hopK()],
      });
      engine.join({
        role: 'participant',
        layer: 'chacha',
        receiveTunnelId: 8,
        nextTunnelId: 9,
        nextHop: 3,
        ...hopK(),
        inAeadKey: k(),
        outAeadKey: k(),
      });
      engine.join({
        role: 'obgw',
        layer: 'chacha',
        gatewayTunnelId: 10,
        firstHopTunnelId: 11,
        firstHop: 7,
        hops: [hopK(), hopK()],
        outAeadKey: k(),
      });
      // Work through every tunnel first, so the kernels' scratch areas and staging have seen the keys.
      const received = [1, 1, 4, 8].map((id) => withId(rnd(1028), id));
      engine.processReceived(
        makeBatch(
          received,
          received.map(() => 900),
        ),
      );
      const local = [5, 5, 10].map((id) => withId(rnd(1028), id));
      engine.processGateway(makeBatch(local));
      const tunnels: [number, boolean][] = [
        [1, false],
        [4, false],
        [5, true],
        [8, false],
        [10, true],
      ];
      const live = (): boolean =>
        tunnels.some(([id, g]) => engineKeyMaterial(engine, id, g).some((x) => x.some((b) => b !== 0)));
      expect(live()).toBe(true);
      const mem = engineWasmMemory(engine);
      const found = (): Uint8Array[] => (mem ? keys.filter((x) => findBytes(mem, x).length > 0) : []);
      // Positive control: the keys this backend keeps in WASM slots are there (all of them on 'wasm'; ChaCha keys
      // and AES IV keys on 'hybrid'; ChaCha keys on 'native' / 'auto'; none on 'node').
      const chachaKeys = keys.slice(12); // 2 + 4 + 6 AES keys joined first
      if (backend === 'wasm') expect(found().length).toBe(keys.length);
      else if (backend !== 'node') expect(found().filter((x) => chachaKeys.includes(x)).length).toBe(chachaKeys.length);
      now += 1;
      engine.close();
      expect(found()).toEqual([]);
      if (mem) expect(mem.every((b) => b === 0)).toBe(true); // the whole private instance, scratch areas included
      expect(live()).toBe(false);
      expect(engine.activeTunnels).toBe(0);
      expect(engine.freeKeySlots).toEqual({ aes: 0, chacha: 0 });
      // Refuses work with a clear error; end and sweep are no-ops; close again is harmless.
      expect(() => engine.processReceived(makeBatch([withId(rnd(1028), 1)], [900]))).toThrow(EngineClosedError);
      expect(() => engine.processGateway(makeBatch([withId(rnd(1028), 5)]))).toThrow(EngineClosedError);
      expect(() =>
        engine.join({
          role: 'participant',
          layer: 'aes',
          receiveTunnelId: 20,
          nextTunnelId: 2,
          nextHop: 3,
          ...randomHop(rnd),
        }),
      ).toThrow(EngineClosedError);
      expect(engine.end(1)).toBe(false);
      engine.sweep();
      engine.close();
      // The caller's key arrays are its own: not touched.
      expect(keys.every((x) => x.some((b) => b !== 0))).toBe(true);
    });

    it('shares one replay filter between engines (threads) through the SharedArrayBuffer', () => {
      const rnd = seededRandom(12);
      const sab = createReplayFilterBuffer({ messagesPerSecond: 100 });
      const a = new LayerEngine({ backend, replayFilter: sab });
      const b = new LayerEngine({ backend, replayFilter: sab });
      const hop = randomHop(rnd);
      a.join({ role: 'participant', layer: 'aes', receiveTunnelId: 1, nextTunnelId: 2, nextHop: 3, ...hop });
      b.join({ role: 'obep', layer: 'aes', receiveTunnelId: 1, nextTunnelId: 0, nextHop: 0, ...hop });
      const m = withId(rnd(1028), 1);
      const x = makeBatch([m]);
      a.processReceived(x);
      const y = makeBatch([m]);
      b.processReceived(y);
      expect(x.status[0]).toBe(STATUS_OK);
      expect(y.status[0]).toBe(STATUS_REPLAY);
    });

    it('does not run the replay filter at an IBGW', () => {
      const rnd = seededRandom(13);
      const engine = new LayerEngine({ backend });
      engine.join({ role: 'ibgw', layer: 'aes', receiveTunnelId: 1, nextTunnelId: 2, nextHop: 3, ...randomHop(rnd) });
      const m = withId(rnd(1028), 1);
      const b = makeBatch([m, m]);
      expect(engine.processGateway(b)).toBe(2);
      // ...and an IBGW id is not reachable from the network path.
      const r = makeBatch([m]);
      engine.processReceived(r);
      expect(r.status[0]).toBe(STATUS_UNKNOWN_TUNNEL);
    });

    it('rejects bad configs and batches with exceptions, never bad messages', () => {
      const engine = new LayerEngine({ backend });
      const k = new Uint8Array(32);
      expect(() =>
        engine.join({
          role: 'participant',
          layer: 'aes',
          receiveTunnelId: 1,
          nextTunnelId: 2,
          nextHop: 3,
          layerKey: new Uint8Array(16),
          ivKey: k,
        }),
      ).toThrow(RangeError);
      expect(() => engine.join({ role: 'nope' as never, layer: 'aes' } as never)).toThrow(TypeError);
      expect(() =>
        engine.join({ role: 'obgw', layer: 'aes', gatewayTunnelId: 1, firstHopTunnelId: 2, firstHop: 3, hops: [] }),
      ).toThrow(RangeError);
      expect(() =>
        engine.join({
          role: 'participant',
          layer: 'chacha',
          receiveTunnelId: 1,
          nextTunnelId: 2,
          nextHop: 3,
          layerKey: k,
          ivKey: k,
        }),
      ).toThrow(TypeError);
      engine.join({
        role: 'participant',
        layer: 'aes',
        receiveTunnelId: 1,
        nextTunnelId: 2,
        nextHop: 3,
        layerKey: k,
        ivKey: k,
      });
      expect(() =>
        engine.join({
          role: 'obep',
          layer: 'aes',
          receiveTunnelId: 1,
          nextTunnelId: 2,
          nextHop: 3,
          layerKey: k,
          ivKey: k,
        }),
      ).toThrow(/in use/);
      const b = makeBatch([new Uint8Array(1028)]);
      expect(() => engine.processReceived({ ...b, count: 2 })).toThrow(RangeError);
    });
  });

  describe(`LayerEngine (${backend}) ChaCha`, () => {
    it('participant, OBEP and IBGW match the reference; a bad MAC is a status', () => {
      const rnd = seededRandom(testSeed(`${backend} chacha participant`));
      const engine = new LayerEngine({ backend });
      const roles = ['participant', 'obep', 'ibgw'] as const;
      const tunnels = roles.map((role, t) => ({
        role,
        hop: {
          ...randomHop(rnd),
          inAeadKey: role === 'ibgw' ? undefined : rnd(32),
          outAeadKey: role === 'obep' ? undefined : rnd(32),
        },
        rx: 20 + t,
        next: 30 + t,
      }));
      for (const t of tunnels)
        engine.join({
          role: t.role,
          layer: 'chacha',
          receiveTunnelId: t.rx,
          nextTunnelId: t.next,
          nextHop: 9,
          ...t.hop,
        });
      for (const t of tunnels) {
        const inputs = Array.from({ length: 4 }, () => {
          const raw = withId(rnd(1028), t.rx);
          return t.hop.inAeadKey ? refChachaStrip(raw, [], { outAeadKey: t.hop.inAeadKey })! : raw;
        });
        inputs[3]![100]! ^= t.hop.inAeadKey ? 1 : 0;
        const b = makeBatch(inputs, 4);
        if (t.role === 'ibgw') engine.processGateway(b);
        else engine.processReceived(b);
        for (let i = 0; i < 4; i++) {
          const ref = refChachaHop(inputs[i]!, t.hop, t.role === 'obep' ? t.rx : t.next);
          if (ref === null) {
            expect(b.status[i]).toBe(STATUS_BAD_MAC);
            expect(hex(bodyOf(b, i))).toBe(hex(inputs[i]!));
          } else {
            expect(b.status[i]).toBe(STATUS_OK);
            expect(hex(bodyOf(b, i))).toBe(hex(ref));
          }
        }
      }
    });

    it('one batch mixing AES participants, ChaCha participants and ChaCha OBEPs, with drops, matches the references', () => {
      const rnd = seededRandom(testSeed(`${backend} chacha mixed roles`));
      const engine = new LayerEngine({ backend });
      type T = {
        layer: 'aes' | 'chacha';
        role: 'participant' | 'obep';
        rx: number;
        next: number;
        hop: ReturnType<typeof randomHop> & { inAeadKey?: Uint8Array; outAeadKey?: Uint8Array };
      };
      const tunnels: T[] = [];
      for (let t = 0; t < 9; t++) {
        const layer = t % 3 === 0 ? 'aes' : 'chacha';
        const role = t % 3 === 2 ? 'obep' : 'participant';
        const hop = {
          ...randomHop(rnd),
          ...(layer === 'chacha' ? { inAeadKey: rnd(32), ...(role === 'obep' ? {} : { outAeadKey: rnd(32) }) } : {}),
        };
        tunnels.push({ layer, role, rx: 300 + t, next: 400 + t, hop });
        engine.join({ role, layer, receiveTunnelId: 300 + t, nextTunnelId: 400 + t, nextHop: 5, ...hop } as never);
      }
      const which = Array.from({ length: 40 }, (_, i) => (i * 4 + (i >> 3)) % 9);
      const inputs = which.map((t) => {
        const tn = tunnels[t]!;
        const raw = withId(rnd(1028), tn.rx);
        return tn.layer === 'chacha' ? refChachaStrip(raw, [], { outAeadKey: tn.hop.inAeadKey! })! : raw;
      });
      const chachaAt = which
        .map((t, i) => [t, i] as const)
        .filter(([t]) => tunnels[t]!.layer === 'chacha')
        .map(([, i]) => i);
      inputs[chachaAt[3]!]![700]! ^= 1; // bad tag
      inputs[chachaAt[9]!] = Uint8Array.from(inputs[chachaAt[2]!]!); // replay (same tunnel id, same nonces)
      which[chachaAt[9]!] = which[chachaAt[2]!]!;
      const b = makeBatch(inputs, 1);
      engine.processReceived(b);
      for (let i = 0; i < inputs.length; i++) {
        const tn = tunnels[which[i]!]!;
        if (i === chachaAt[3] || i === chachaAt[9]) {
          expect(b.status[i], `message ${i}`).toBe(i === chachaAt[3] ? STATUS_BAD_MAC : STATUS_REPLAY);
          expect(hex(bodyOf(b, i))).toBe(hex(inputs[i]!));
          continue;
        }
        expect(b.status[i], `message ${i}`).toBe(STATUS_OK);
        const ref =
          tn.layer === 'aes'
            ? refParticipant(inputs[i]!, tn.hop, tn.next)
            : refChachaHop(inputs[i]!, tn.hop, tn.role === 'obep' ? tn.rx : tn.next)!;
        expect(hex(bodyOf(b, i)), `message ${i} (${tn.layer} ${tn.role})`).toBe(hex(ref));
      }
    });

    it('adjacent messages of one tunnel with a bad tag and a replay among them: only the good ones change', () => {
      const rnd = seededRandom(testSeed(`${backend} chacha run`));
      const engine = new LayerEngine({ backend });
      const hop = { ...randomHop(rnd), inAeadKey: rnd(32), outAeadKey: rnd(32) };
      engine.join({ role: 'participant', layer: 'chacha', receiveTunnelId: 61, nextTunnelId: 62, nextHop: 9, ...hop });
      const inputs = Array.from({ length: 7 }, () =>
        refChachaStrip(withId(rnd(1028), 61), [], { outAeadKey: hop.inAeadKey })!,
      );
      inputs[2]![500]! ^= 0x40; // bad tag
      inputs[5] = Uint8Array.from(inputs[1]!); // replay of message 1 in the same batch
      const b = makeBatch(inputs, 3);
      expect(engine.processReceived(b)).toBe(5);
      for (let i = 0; i < 7; i++) {
        if (i === 2 || i === 5) {
          expect(b.status[i]).toBe(i === 2 ? STATUS_BAD_MAC : STATUS_REPLAY);
          expect(hex(bodyOf(b, i)), `message ${i}`).toBe(hex(inputs[i]!));
        } else {
          expect(b.status[i]).toBe(STATUS_OK);
          expect(hex(bodyOf(b, i)), `message ${i}`).toBe(hex(refChachaHop(inputs[i]!, hop, 62)!));
        }
      }
    });

    for (const n of [1, 2, 3, 8]) {
      it(`outbound and inbound round trips through ${n} hop(s)`, () => {
        const rnd = seededRandom(testSeed(`${backend} chacha ${n}-hop`) + n);
        const hops: RefHop[] = Array.from({ length: n }, () => randomHop(rnd));
        // AEAD keys between adjacent routers: aead[0] gateway->hop1, ..., aead[n-1] hop n-1 -> hop n.
        const aead = Array.from({ length: n + 1 }, () => rnd(32));
        const gw = new LayerEngine({ backend });
        gw.join({
          role: 'obgw',
          layer: 'chacha',
          gatewayTunnelId: 5,
          firstHopTunnelId: 100,
          firstHop: 1,
          hops,
          outAeadKey: aead[0]!,
        });
        const routers = hops.map((h, i) => {
          const e = new LayerEngine({ backend });
          e.join({
            role: i === n - 1 ? 'obep' : 'participant',
            layer: 'chacha',
            receiveTunnelId: 100 + i,
            nextTunnelId: 101 + i,
            nextHop: 1,
            ...h,
            inAeadKey: aead[i]!,
            outAeadKey: i === n - 1 ? undefined : aead[i + 1]!,
          });
          return e;
        });
        const plains = Array.from({ length: 3 }, () => withId(rnd(1028), 5));
        let b = makeBatch(plains);
        expect(gw.processGateway(b)).toBe(3);
        for (let r = 0; r < n; r++) {
          b = makeBatch(
            Array.from({ length: 3 }, (_, i) => bodyOf(b, i)),
            1,
          );
          expect(routers[r]!.processReceived(b)).toBe(3);
        }
        for (let i = 0; i < 3; i++) expect(hex(bodyOf(b, i).subarray(4, 1012))).toBe(hex(plains[i]!.subarray(4, 1012)));

        const ib = hops.map((h, i) => {
          const e = new LayerEngine({ backend });
          e.join({
            role: i === 0 ? 'ibgw' : 'participant',
            layer: 'chacha',
            receiveTunnelId: 200 + i,
            nextTunnelId: 201 + i,
            nextHop: 1,
            ...h,
            inAeadKey: i === 0 ? undefined : aead[i]!,
            outAeadKey: aead[i + 1]!,
          });
          return e;
        });
        const ibep = new LayerEngine({ backend });
        ibep.join({ role: 'ibep', layer: 'chacha', receiveTunnelId: 200 + n, hops, inAeadKey: aead[n]! });
        const inPlains = Array.from({ length: 3 }, () => withId(rnd(1028), 200));
        b = makeBatch(inPlains);
        expect(ib[0]!.processGateway(b)).toBe(3);
        for (let r = 1; r < n; r++) {
          b = makeBatch(
            Array.from({ length: 3 }, (_, i) => bodyOf(b, i)),
            1,
          );
          expect(ib[r]!.processReceived(b)).toBe(3);
        }
        b = makeBatch(
          Array.from({ length: 3 }, (_, i) => bodyOf(b, i)),
          1,
        );
        expect(ibep.processReceived(b)).toBe(3);
        for (let i = 0; i < 3; i++)
          expect(hex(bodyOf(b, i).subarray(4, 1012))).toBe(hex(inPlains[i]!.subarray(4, 1012)));
      });
    }
  });
}

describe('backends agree byte for byte', () => {
  it('node, wasm (SIMD) and wasm (plain) produce identical bodies and statuses on mixed batches', () => {
    const seed = testSeed('backends agree');
    const run = (backend: 'node' | 'wasm', layer: LayerType, flavor?: 'plain' | 'simd'): string => {
      const rnd = seededRandom(seed);
      const c = clock();
      const e = new LayerEngine({ backend, flavor }, { now: c.now });
      expect(layer === 'aes' ? e.aesBackend : e.chachaBackend).toBe(
        (backend === ('hybrid' as string) || backend === ('native' as string)) && layer === 'chacha' ? 'wasm' : backend,
      );
      for (let t = 0; t < 20; t++) {
        const h = randomHop(rnd);
        e.join(
          layer === 'aes'
            ? {
                role: t % 5 === 4 ? 'obep' : 'participant',
                layer,
                receiveTunnelId: t,
                nextTunnelId: 100 + t,
                nextHop: t,
                ...h,
              }
            : {
                role: 'participant',
                layer,
                receiveTunnelId: t,
                nextTunnelId: 100 + t,
                nextHop: t,
                ...h,
                inAeadKey: new Uint8Array(32).fill(t),
                outAeadKey: rnd(32),
              },
        );
      }
      const bodies = Array.from({ length: 300 }, (_, i) => {
        const raw = withId(rnd(1028), (i * 7) % 23);
        return layer === 'chacha' && (i * 7) % 23 < 20 && i % 9 !== 0
          ? refChachaStrip(raw, [], { outAeadKey: new Uint8Array(32).fill((i * 7) % 23) })!
          : raw;
      });
      const b = makeBatch(bodies, 0);
      for (let i = 0; i < 300; i++) b.prevHops![i] = (i * 7) % 23;
      e.processReceived(b);
      return hex(b.bodies) + hex(b.status) + hex(new Uint8Array(b.nextTunnelIds.buffer));
    };
    for (const layer of ['aes', 'chacha'] as const) {
      const node = run('node', layer);
      expect(run('wasm', layer, 'simd')).toBe(node);
      expect(run('wasm', layer, 'plain')).toBe(node);
      expect(run('hybrid' as 'wasm', layer)).toBe(node);
      if (nativeAes) expect(run('native' as 'wasm', layer)).toBe(node);
    }
  });

  it('creator strips of different lengths in one wasm batch (packed by hop count) match node', () => {
    const seed = testSeed('mixed creator strips');
    const run = (backend: 'node' | 'wasm'): string => {
      const rnd = seededRandom(seed);
      const e = new LayerEngine({ backend });
      for (let t = 0; t < 8; t++) {
        const hops = Array.from({ length: t + 1 }, () => randomHop(rnd));
        e.join({ role: 'ibep', layer: 'aes', receiveTunnelId: t, hops });
        e.join({ role: 'obgw', layer: 'aes', gatewayTunnelId: t, firstHopTunnelId: 50 + t, firstHop: 1, hops });
      }
      const bodies = Array.from({ length: 100 }, (_, i) => withId(rnd(1028), (i * 3) % 8));
      const a = makeBatch(bodies, 0);
      e.processReceived(a);
      const b = makeBatch(bodies, 0);
      e.processGateway(b);
      return hex(a.bodies) + hex(b.bodies);
    };
    const node = run('node');
    expect(run('wasm')).toBe(node);
    if (nativeAes) expect(run('native' as 'wasm')).toBe(node);
  });
});
