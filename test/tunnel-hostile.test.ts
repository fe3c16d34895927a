// Hostile and odd input: statuses, never exceptions, for any bytes; previous-hop rules for every receiving role.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  STATUS_BAD_MAC,
  STATUS_OK,
  STATUS_REPLAY,
  STATUS_UNKNOWN_TUNNEL,
  STATUS_WRONG_PREV_HOP,
} from '../src/constants.js';
import { LayerEngine } from '../src/tunnel/engine.js';
import { nativeAes } from '../src/tunnel/aes-native.js';
import { randomHop, seededRandom } from './helpers/seed.js';
import { makeBatch, withId } from './helpers/batch.js';
import { engineKeyMaterial, engineWasmMemory, findBytes } from '../src/testing/index.js';

const STATUSES = new Set([0, 1, 2, 3, 4, 5, 6, 7]);

describe('tunnel engine under hostile input', () => {
  for (const backend of ['node', 'wasm', 'hybrid', ...(nativeAes ? (['native'] as const) : [])] as const) {
    it(`${backend}: random batches over known and unknown ids never throw and only yield known statuses`, () => {
      const rnd = seededRandom(5);
      const engine = new LayerEngine({ backend });
      for (let t = 0; t < 4; t++) {
        engine.join({
          role: 'participant',
          layer: 'aes',
          receiveTunnelId: t,
          nextTunnelId: 10 + t,
          nextHop: 1,
          ...randomHop(rnd),
        });
        engine.join({
          role: 'participant',
          layer: 'chacha',
          receiveTunnelId: 4 + t,
          nextTunnelId: 10 + t,
          nextHop: 1,
          ...randomHop(rnd),
          inAeadKey: rnd(32),
          outAeadKey: rnd(32),
        });
        engine.join({
          role: 'ibep',
          layer: t % 2 ? 'aes' : 'chacha',
          receiveTunnelId: 8 + t,
          hops: [randomHop(rnd), randomHop(rnd)],
          inAeadKey: rnd(32),
        });
      }
      fc.assert(
        fc.property(
          fc.array(
            fc.tuple(
              fc.integer({ min: 0, max: 15 }),
              fc.uint8Array({ minLength: 1024, maxLength: 1024 }),
              fc.integer({ min: 0, max: 2 }),
            ),
            { minLength: 1, maxLength: 40 },
          ),
          (msgs) => {
            const bodies = msgs.map(([id, rest]) => {
              const b = new Uint8Array(1028);
              b.set(rest, 4);
              return withId(b, id);
            });
            const batch = makeBatch(
              bodies,
              msgs.map(([, , p]) => p),
            );
            const ok = engine.processReceived(batch);
            let count = 0;
            for (let i = 0; i < msgs.length; i++) {
              expect(STATUSES.has(batch.status[i]!)).toBe(true);
              const id = msgs[i]![0];
              if (id >= 12) expect(batch.status[i]).toBe(STATUS_UNKNOWN_TUNNEL);
              // Random bytes never carry a valid ChaCha tag.
              if ((id >= 4 && id < 8) || (id >= 8 && id < 12 && id % 2 === 0))
                expect(batch.status[i]).not.toBe(STATUS_OK);
              if (batch.status[i] === STATUS_OK) count++;
            }
            expect(ok).toBe(count);
          },
        ),
        { numRuns: 60, seed: 42 },
      );
      const s = engine.stats();
      expect(s.badMac).toBeGreaterThan(0);
      expect(s.wrongPrevHop).toBeGreaterThan(0);
    });
  }

  it('an IBEP with a configured previous hop accepts only it; a participant pins its first sender; an OBEP too', () => {
    const rnd = seededRandom(6);
    const engine = new LayerEngine({ backend: 'node' });
    engine.join({ role: 'ibep', layer: 'aes', receiveTunnelId: 1, previousHop: 9, hops: [randomHop(rnd)] });
    engine.join({
      role: 'participant',
      layer: 'aes',
      receiveTunnelId: 2,
      nextTunnelId: 3,
      nextHop: 4,
      ...randomHop(rnd),
    });
    engine.join({ role: 'obep', layer: 'aes', receiveTunnelId: 3, nextTunnelId: 0, nextHop: 0, ...randomHop(rnd) });
    const b = makeBatch(
      [
        withId(rnd(1028), 1),
        withId(rnd(1028), 1),
        withId(rnd(1028), 2),
        withId(rnd(1028), 2),
        withId(rnd(1028), 3),
        withId(rnd(1028), 3),
      ],
      [8, 9, 7, 9, 5, 7],
    );
    engine.processReceived(b);
    expect([...b.status]).toEqual([
      STATUS_WRONG_PREV_HOP,
      STATUS_OK,
      STATUS_OK,
      STATUS_WRONG_PREV_HOP,
      STATUS_OK,
      STATUS_WRONG_PREV_HOP,
    ]);
  });

  it('a replayed ChaCha message is dropped before its MAC is checked; a tampered one is a bad MAC', () => {
    const rnd = seededRandom(8);
    for (const backend of ['node', 'wasm'] as const) {
      const engine = new LayerEngine({ backend });
      const k = rnd(32);
      engine.join({
        role: 'obep',
        layer: 'chacha',
        receiveTunnelId: 1,
        nextTunnelId: 0,
        nextHop: 0,
        ...randomHop(rnd),
        inAeadKey: k,
      });
      const sender = new LayerEngine({ backend });
      sender.join({
        role: 'ibgw',
        layer: 'chacha',
        receiveTunnelId: 5,
        nextTunnelId: 1,
        nextHop: 2,
        ...randomHop(rnd),
        outAeadKey: k,
      });
      const s = makeBatch([withId(rnd(1028), 5)]);
      sender.processGateway(s);
      const body = s.bodies.slice(0, 1028);
      const tampered = Uint8Array.from(body);
      tampered[30]! ^= 4;
      const b = makeBatch([tampered, body, body]);
      engine.processReceived(b);
      expect([...b.status]).toEqual([STATUS_BAD_MAC, STATUS_OK, STATUS_REPLAY]);
    }
  });
});

describe('key slots', () => {
  it('are returned when tunnels end, so joins and ends can go on forever', () => {
    const rnd = seededRandom(10);
    const engine = new LayerEngine({ backend: 'wasm' });
    const hop = randomHop(rnd);
    // 4 AES slots per 2-hop IBEP: 5000 rounds would need 20000 slots of the 8192 without reuse.
    for (let t = 0; t < 5000; t++) {
      engine.join({ role: 'ibep', layer: 'aes', receiveTunnelId: t, hops: [hop, hop] });
      engine.end(t);
    }
    expect(engine.activeTunnels).toBe(0);
  });
});

describe('gateway tunnels expire too', () => {
  for (const backend of ['node', 'wasm', 'hybrid'] as const) {
    it(`${backend}: an OBGW past expiry + grace answers STATUS_EXPIRED_TUNNEL and its keys are zero after a sweep`, () => {
      const rnd = seededRandom(30);
      let now = 1_000_000;
      const engine = new LayerEngine({ backend, graceMs: 1000 }, { now: () => now });
      const hops = [randomHop(rnd), randomHop(rnd)];
      engine.join({
        role: 'obgw',
        layer: 'aes',
        gatewayTunnelId: 3,
        firstHopTunnelId: 4,
        firstHop: 5,
        hops,
        expiresAt: now + 5000,
      });
      const live = (): boolean => engineKeyMaterial(engine, 3, true).some((k) => k.some((b) => b !== 0));
      const mem = engineWasmMemory(engine);
      const found = (): number =>
        mem ? hops.flatMap((h) => [h.layerKey, h.ivKey]).filter((k) => findBytes(mem, k).length > 0).length : 0;
      expect(live()).toBe(true);
      expect(found()).toBe(backend === 'wasm' ? 4 : backend === 'hybrid' ? 2 : 0); // hybrid: IV keys in WASM slots
      const b = makeBatch([withId(rnd(1028), 3)]);
      expect(engine.processGateway(b)).toBe(1);
      now += 5999;
      engine.sweep();
      expect(engine.activeTunnels).toBe(1);
      now += 1;
      engine.sweep();
      expect(engine.activeTunnels).toBe(0);
      expect(live()).toBe(false);
      expect(found()).toBe(0);
      const late = makeBatch([withId(rnd(1028), 3)]);
      expect(engine.processGateway(late)).toBe(0);
      expect(late.status[0]).toBe(2); // STATUS_EXPIRED_TUNNEL
    });
  }
});
