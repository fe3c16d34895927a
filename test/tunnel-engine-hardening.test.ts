// The engine under attack and under failure: a first sender is pinned as previous hop only by a message that
// passed every check (tunnel-crypto-aes.md §4 step 2, §5; docs/chacha-layer.md); a batch that throws part way
// (a failing backend) leaves the engine exact for the next batch, checked against the readable reference; the replay
// filter fails closed and remembers for as long as a tunnel accepts traffic (docs/replay-filter.md).
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  STATUS_BAD_MAC,
  STATUS_OK,
  STATUS_REPLAY,
  STATUS_REPLAY_FULL,
  STATUS_WRONG_PREV_HOP,
} from '../src/constants.js';
import { LayerEngine, TUNNEL_GRACE_MS, TUNNEL_LIFETIME_MS } from '../src/tunnel/engine.js';
import { createReplayFilterBuffer, REPLAY_FULL } from '../src/tunnel/replay-filter.js';
import { multiKeyKernel, NativeAesHop, nativeAes } from '../src/tunnel/aes-native.js';
import { NodeAesHop } from '../src/tunnel/aes-node.js';
import { WasmLayer } from '../src/tunnel/backends/wasm-layer.js';
import { refChachaHop, refChachaStrip, refParticipant } from './reference/layer-reference.js';
import { randomHop, seededRandom, testSeed } from './helpers/seed.js';
import { bodyOf, hex, makeBatch, withId } from './helpers/batch.js';
import { engineWasmMemory, findBytes } from '../src/testing/index.js';
import { CHACHA_KEY_SLOTS } from '../src/constants.js';

const BACKENDS = ['node', 'wasm', 'hybrid', ...(nativeAes ? (['native'] as const) : []), 'auto'] as const;

/** A ChaCha body for a tunnel whose inAeadKey is `k`: random frame, sealed as its previous hop would. */
function sealedFor(rnd: (n: number) => Uint8Array, id: number, k: Uint8Array): Uint8Array {
  return refChachaStrip(withId(rnd(1028), id), [], { outAeadKey: k })!;
}

for (const backend of BACKENDS) {
  describe(`previous-hop pinning (${backend})`, () => {
    it('AES: a replayed first message does not pin its sender; the real previous hop is then accepted', () => {
      const rnd = seededRandom(testSeed(`${backend} pin replay`));
      const engine = new LayerEngine({ backend });
      const a = randomHop(rnd),
        b = randomHop(rnd);
      engine.join({ role: 'participant', layer: 'aes', receiveTunnelId: 1, nextTunnelId: 11, nextHop: 50, ...a });
      engine.join({ role: 'participant', layer: 'aes', receiveTunnelId: 2, nextTunnelId: 12, nextHop: 50, ...b });
      // Tunnel A accepts M from router 7.
      const m = withId(rnd(1028), 1);
      const first = makeBatch([m], 7);
      expect(engine.processReceived(first)).toBe(1);
      // Router 99 sends the same bytes as the first message of tunnel B: a replay (router-wide filter), dropped.
      const replayed = makeBatch([withId(m, 2)], 99);
      expect(engine.processReceived(replayed)).toBe(0);
      expect(replayed.status[0]).toBe(STATUS_REPLAY);
      // B's real previous hop, 7, is accepted and pinned; 99 is the stranger now.
      const n1 = withId(rnd(1028), 2),
        n2 = withId(rnd(1028), 2);
      const later = makeBatch([n1, n2], [7, 99]);
      engine.processReceived(later);
      expect([...later.status]).toEqual([STATUS_OK, STATUS_WRONG_PREV_HOP]);
      expect(hex(bodyOf(later, 0))).toBe(hex(refParticipant(n1, b, 12)));
      expect(hex(bodyOf(later, 1))).toBe(hex(n2)); // dropped: untouched
      expect(engine.stats().wrongPrevHop).toBe(1);
    });

    it('AES: inside one batch, a replay first then the real sender, then the replayer again', () => {
      const rnd = seededRandom(testSeed(`${backend} pin replay in batch`));
      const engine = new LayerEngine({ backend });
      const a = randomHop(rnd),
        b = randomHop(rnd);
      engine.join({
        role: 'participant',
        layer: 'aes',
        receiveTunnelId: 1,
        nextTunnelId: 11,
        nextHop: 50,
        ...a,
        previousHop: 7,
      });
      engine.join({ role: 'participant', layer: 'aes', receiveTunnelId: 2, nextTunnelId: 12, nextHop: 50, ...b });
      const m = withId(rnd(1028), 1);
      const n = withId(rnd(1028), 2),
        p = withId(rnd(1028), 2);
      const batch = makeBatch([m, withId(m, 2), n, p], [7, 99, 7, 99]);
      engine.processReceived(batch);
      expect([...batch.status]).toEqual([STATUS_OK, STATUS_REPLAY, STATUS_OK, STATUS_WRONG_PREV_HOP]);
      expect(hex(bodyOf(batch, 2))).toBe(hex(refParticipant(n, b, 12)));
    });

    it('ChaCha: a first message with a bad MAC does not pin its sender', () => {
      const rnd = seededRandom(testSeed(`${backend} pin bad mac`));
      const engine = new LayerEngine({ backend });
      const hop = { ...randomHop(rnd), inAeadKey: rnd(32), outAeadKey: rnd(32) };
      engine.join({ role: 'participant', layer: 'chacha', receiveTunnelId: 5, nextTunnelId: 6, nextHop: 50, ...hop });
      const forged = sealedFor(rnd, 5, hop.inAeadKey);
      forged[600]! ^= 1;
      const good = [
        sealedFor(rnd, 5, hop.inAeadKey),
        sealedFor(rnd, 5, hop.inAeadKey),
        sealedFor(rnd, 5, hop.inAeadKey),
      ];
      // Forged from 99, then the real previous hop 7, then 99 again with a valid-looking body, then 7 again.
      const batch = makeBatch([forged, good[0]!, good[1]!, good[2]!], [99, 7, 99, 7]);
      expect(engine.processReceived(batch)).toBe(2);
      expect([...batch.status]).toEqual([STATUS_BAD_MAC, STATUS_OK, STATUS_WRONG_PREV_HOP, STATUS_OK]);
      expect(hex(bodyOf(batch, 0))).toBe(hex(forged));
      expect(hex(bodyOf(batch, 1))).toBe(hex(refChachaHop(good[0]!, hop, 6)!));
      expect(hex(bodyOf(batch, 2))).toBe(hex(good[1]!));
      expect(hex(bodyOf(batch, 3))).toBe(hex(refChachaHop(good[2]!, hop, 6)!));
      // The pin holds in later batches.
      const next = makeBatch([sealedFor(rnd, 5, hop.inAeadKey)], 99);
      engine.processReceived(next);
      expect(next.status[0]).toBe(STATUS_WRONG_PREV_HOP);
    });

    it('ChaCha: a replayed first message (an engine restarted over the same filter) does not pin its sender', () => {
      const rnd = seededRandom(testSeed(`${backend} pin chacha replay`));
      const sab = createReplayFilterBuffer({ messagesPerSecond: 100 });
      const hop = { ...randomHop(rnd), inAeadKey: rnd(32), outAeadKey: rnd(32) };
      const config = {
        role: 'participant' as const,
        layer: 'chacha' as const,
        receiveTunnelId: 5,
        nextTunnelId: 6,
        nextHop: 50,
        ...hop,
      };
      const before = new LayerEngine({ backend, replayFilter: sab });
      before.join(structuredClone(config));
      const m = sealedFor(rnd, 5, hop.inAeadKey);
      expect(before.processReceived(makeBatch([m], 7))).toBe(1);
      // A replacement engine (a restarted worker) knows the tunnel but not its pin; the filter remembers m.
      const after = new LayerEngine({ backend, replayFilter: sab });
      after.join(structuredClone(config));
      const n = sealedFor(rnd, 5, hop.inAeadKey);
      const batch = makeBatch([m, n], [99, 7]);
      after.processReceived(batch);
      expect([...batch.status]).toEqual([STATUS_REPLAY, STATUS_OK]);
      expect(hex(bodyOf(batch, 0))).toBe(hex(m));
      expect(hex(bodyOf(batch, 1))).toBe(hex(refChachaHop(n, hop, 6)!));
      const again = makeBatch([sealedFor(rnd, 5, hop.inAeadKey)], 99);
      after.processReceived(again);
      expect(again.status[0]).toBe(STATUS_WRONG_PREV_HOP);
    });
  });
}

/**
 * Makes `method` of `proto` throw on its `nth` call (counting from 1) from now on, once; restored after each test.
 * The backends are reached through their classes' prototypes, so the production API needs no hook.
 */
function failOnCall(proto: object, method: string, nth: number): { calls: () => number } {
  const target = proto as Record<string, (...a: unknown[]) => unknown>;
  const orig = target[method]!;
  let calls = 0;
  vi.spyOn(target, method).mockImplementation(function (this: unknown, ...args: unknown[]) {
    if (++calls === nth) throw new Error(`injected failure in ${method}`);
    return orig.apply(this, args);
  });
  return { calls: () => calls };
}

describe('a batch that throws part way leaves the engine exact', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  // Where each backend's AES participant work goes: per tunnel (node, native), per batch (wasm), per tunnel with
  // many messages (hybrid's sideways CBC). The n-th call throws, after some tunnels of the batch were done.
  const where: Record<string, [object, string, number]> = {
    node: [NodeAesHop.prototype, 'encrypt', 2],
    wasm: [WasmLayer.prototype, 'aesBatch', 1],
    hybrid: [NodeAesHop.prototype, 'encryptSideways', 1],
    // native with the multi-key kernel: the three-message tunnels wait for the batch's one kernel call, so the
    // fifty-message tunnel's OpenSSL call is the first.
    ...(nativeAes ? { native: [NativeAesHop.prototype, 'encrypt', multiKeyKernel ? 1 : 2] } : {}),
  };
  for (const [backend, [proto, method, nth]] of Object.entries(where)) {
    it(`AES, ${backend} backend: ${method} throws in one batch; the next batch matches the reference byte for byte`, () => {
      const rnd = seededRandom(testSeed(`${backend} throw mid-batch`));
      const engine = new LayerEngine({ backend: backend as 'node' });
      const tunnels = Array.from({ length: 5 }, (_, t) => ({ hop: randomHop(rnd), rx: 100 + t, next: 200 + t }));
      for (const t of tunnels)
        engine.join({
          role: 'participant',
          layer: 'aes',
          receiveTunnelId: t.rx,
          nextTunnelId: t.next,
          nextHop: 9,
          ...t.hop,
        });
      // Tunnel after tunnel: three messages each, fifty for the second (a backend's many-messages path).
      const per = [3, 50, 3, 3, 3];
      const bad = per.flatMap((n, t) => Array.from({ length: n }, () => withId(rnd(1028), tunnels[t]!.rx)));
      const spy = failOnCall(proto, method, nth);
      expect(() => engine.processReceived(makeBatch(bad, 4))).toThrow(/injected failure/);
      expect(spy.calls()).toBe(nth);
      vi.restoreAllMocks();
      // The next batch: other tunnels at other positions, and more messages than before (stale indices from the
      // failed batch would land on other tunnels' messages here).
      for (let round = 0; round < 2; round++) {
        const which = Array.from({ length: 23 }, (_, i) => (i * 3 + round) % tunnels.length);
        const inputs = which.map((w) => withId(rnd(1028), tunnels[w]!.rx));
        const batch = makeBatch(inputs, 4);
        expect(engine.processReceived(batch)).toBe(inputs.length);
        for (let i = 0; i < inputs.length; i++) {
          const t = tunnels[which[i]!]!;
          expect(batch.status[i]).toBe(STATUS_OK);
          expect(batch.nextTunnelIds[i]).toBe(t.next);
          expect(hex(bodyOf(batch, i)), `round ${round} message ${i}`).toBe(
            hex(refParticipant(inputs[i]!, t.hop, t.next)),
          );
        }
      }
    });
  }

  it('ChaCha, wasm backend: the kernel throws for the second tunnel; the next batch matches the reference', () => {
    const rnd = seededRandom(testSeed('chacha throw mid-batch'));
    const engine = new LayerEngine({ backend: 'wasm' });
    const tunnels = Array.from({ length: 4 }, (_, t) => ({
      hop: { ...randomHop(rnd), inAeadKey: rnd(32), outAeadKey: rnd(32) },
      rx: 300 + t,
      next: 400 + t,
    }));
    for (const t of tunnels)
      engine.join({
        role: 'participant',
        layer: 'chacha',
        receiveTunnelId: t.rx,
        nextTunnelId: t.next,
        nextHop: 9,
        previousHop: 4,
        ...t.hop,
      });
    const bad = Array.from({ length: 12 }, (_, i) => sealedFor(rnd, tunnels[i % 4]!.rx, tunnels[i % 4]!.hop.inAeadKey));
    failOnCall(WasmLayer.prototype, 'chachaBatch', 2);
    expect(() => engine.processReceived(makeBatch(bad, 4))).toThrow(/injected failure/);
    vi.restoreAllMocks();
    const which = Array.from({ length: 17 }, (_, i) => (i * 5 + 1) % 4);
    const inputs = which.map((w) => sealedFor(rnd, tunnels[w]!.rx, tunnels[w]!.hop.inAeadKey));
    const batch = makeBatch(inputs, 4);
    expect(engine.processReceived(batch)).toBe(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const t = tunnels[which[i]!]!;
      expect(hex(bodyOf(batch, i)), `message ${i}`).toBe(hex(refChachaHop(inputs[i]!, t.hop, t.next)!));
    }
  });
});

describe("the replay filter in the engine fails closed and covers a tunnel's whole life", () => {
  it('a replay during the grace period after 10 minutes is still dropped (entries live until expiresAt + grace)', () => {
    const rnd = seededRandom(testSeed('replay in grace'));
    // Joined just before the turn of a 10-minute period: a filter that forgets after ten minutes forgets here.
    let t = 1_700_000_400_000 - 1;
    const engine = new LayerEngine({ backend: 'node' }, { now: () => t });
    const hop = randomHop(rnd);
    engine.join({
      role: 'participant',
      layer: 'aes',
      receiveTunnelId: 1,
      nextTunnelId: 2,
      nextHop: 3,
      previousHop: 7,
      ...hop,
    });
    const m = withId(rnd(1028), 1);
    expect(engine.processReceived(makeBatch([m], 7))).toBe(1);
    t += 10 * 60_000 + 30_000; // past expiresAt, inside the 1-minute grace: the tunnel still accepts traffic
    const fresh = withId(rnd(1028), 1);
    const b = makeBatch([m, fresh], 7);
    engine.processReceived(b);
    expect([...b.status]).toEqual([STATUS_REPLAY, STATUS_OK]);
  });

  for (const backend of ['node', 'wasm', ...(nativeAes ? (['native'] as const) : [])] as const) {
    it(`a message whose entry cannot be recorded is dropped as STATUS_REPLAY_FULL, never passed (${backend})`, () => {
      const rnd = seededRandom(testSeed(`${backend} replay full`));
      // One 16-cell bucket.
      const sab = createReplayFilterBuffer({ messagesPerSecond: 0.001 });
      const engine = new LayerEngine({ backend, replayFilter: sab });
      expect(engine.replay.buckets).toBe(1);
      const hop = randomHop(rnd);
      const chacha = { ...randomHop(rnd), inAeadKey: rnd(32), outAeadKey: rnd(32) };
      engine.join({
        role: 'participant',
        layer: 'aes',
        receiveTunnelId: 1,
        nextTunnelId: 2,
        nextHop: 3,
        previousHop: 7,
        ...hop,
      });
      engine.join({
        role: 'participant',
        layer: 'chacha',
        receiveTunnelId: 5,
        nextTunnelId: 6,
        nextHop: 3,
        previousHop: 7,
        ...chacha,
      });
      const aes = Array.from({ length: 12 }, () => withId(rnd(1028), 1));
      const cha = Array.from({ length: 8 }, () => sealedFor(rnd, 5, chacha.inAeadKey));
      const inputs = [...aes, ...cha];
      const b = makeBatch(inputs, 7);
      expect(engine.processReceived(b)).toBe(16);
      for (let i = 0; i < inputs.length; i++) {
        if (i < 16) {
          expect(b.status[i], `message ${i}`).toBe(STATUS_OK);
          const ref = i < 12 ? refParticipant(inputs[i]!, hop, 2) : refChachaHop(inputs[i]!, chacha, 6)!;
          expect(hex(bodyOf(b, i))).toBe(hex(ref));
        } else {
          expect(b.status[i], `message ${i}`).toBe(STATUS_REPLAY_FULL);
          expect(hex(bodyOf(b, i))).toBe(hex(inputs[i]!));
        }
      }
      expect(engine.stats().replayFull).toBe(4);
      expect(engine.replay.stats().overflows).toBe(4);
    });
  }

  it('refuses to join a receiving tunnel that would accept traffic longer than the filter remembers', () => {
    const rnd = seededRandom(5);
    const t = 1_700_000_000_000;
    const engine = new LayerEngine({ backend: 'node' }, { now: () => t });
    const long = t + engine.replay.windowMs; // + grace: beyond the window
    expect(() =>
      engine.join({
        role: 'participant',
        layer: 'aes',
        receiveTunnelId: 1,
        nextTunnelId: 2,
        nextHop: 3,
        ...randomHop(rnd),
        expiresAt: long,
      }),
    ).toThrow(RangeError);
    expect(() =>
      engine.join({ role: 'ibep', layer: 'aes', receiveTunnelId: 1, hops: [randomHop(rnd)], expiresAt: long }),
    ).toThrow(RangeError);
    // Exactly the window is fine, and gateways use no replay filter.
    engine.join({
      role: 'obep',
      layer: 'aes',
      receiveTunnelId: 1,
      nextTunnelId: 0,
      nextHop: 0,
      ...randomHop(rnd),
      expiresAt: t + engine.replay.windowMs - 60_000,
    });
    engine.join({
      role: 'ibgw',
      layer: 'aes',
      receiveTunnelId: 2,
      nextTunnelId: 2,
      nextHop: 3,
      ...randomHop(rnd),
      expiresAt: long,
    });
    engine.join({
      role: 'obgw',
      layer: 'aes',
      gatewayTunnelId: 3,
      firstHopTunnelId: 4,
      firstHop: 5,
      hops: [randomHop(rnd)],
      expiresAt: long,
    });
    expect(engine.activeTunnels).toBe(3);
  });

  it('its own filter is sized from its options: the window follows graceMs, the rate messagesPerSecond', () => {
    const graced = new LayerEngine({ backend: 'node', graceMs: 5 * 60_000, messagesPerSecond: 10 });
    expect(graced.replay.windowMs).toBe(TUNNEL_LIFETIME_MS + 5 * 60_000);
    // A default tunnel with that grace joins (it accepts traffic for 15 minutes).
    graced.join({
      role: 'participant',
      layer: 'aes',
      receiveTunnelId: 1,
      nextTunnelId: 2,
      nextHop: 3,
      ...randomHop(seededRandom(6)),
    });
    // The default engine's filter takes a whole window of traffic at its documented 1000 msg/s without refusing.
    const engine = new LayerEngine({ backend: 'node' });
    expect(engine.replay.windowMs).toBe(TUNNEL_LIFETIME_MS + TUNNEL_GRACE_MS);
    const rnd = seededRandom(testSeed('default filter load'));
    const n = 1000 * (engine.replay.windowMs / 1000);
    const e = new Int32Array(rnd(16 * 4096).buffer);
    const t = Date.now();
    let refused = 0;
    for (let i = 0; i < n; i++) {
      const o = 4 * (i & 4095);
      if (
        engine.replay.seenWords(e[o]! ^ (i >> 12), e[o + 1]!, e[o + 2]!, e[o + 3]!, t, t + engine.replay.windowMs) ===
        REPLAY_FULL
      )
        refused++;
    }
    expect(refused).toBe(0);
  });
});

describe('a join that runs out of WASM key slots part way takes nothing', () => {
  it('ChaCha, wasm backend: a hop whose second key finds no slot gives its first slot back, zeroed', () => {
    const rnd = seededRandom(testSeed('slots run out mid-hop'));
    const engine = new LayerEngine({ backend: 'wasm' });
    // An IBGW takes 3 ChaCha slots (two hop keys, outAeadKey), a participant 4: leave exactly one slot free.
    const ibgws = 1;
    const participants = (CHACHA_KEY_SLOTS - 1 - 3 * ibgws) / 4;
    expect(Number.isInteger(participants)).toBe(true);
    let id = 1;
    engine.join({
      role: 'ibgw',
      layer: 'chacha',
      receiveTunnelId: id++,
      nextTunnelId: 2,
      nextHop: 3,
      ...randomHop(rnd),
      outAeadKey: rnd(32),
    });
    for (let p = 0; p < participants; p++) {
      engine.join({
        role: 'participant',
        layer: 'chacha',
        receiveTunnelId: id++,
        nextTunnelId: 2,
        nextHop: 3,
        ...randomHop(rnd),
        inAeadKey: rnd(32),
        outAeadKey: rnd(32),
      });
    }
    expect(engine.freeKeySlots.chacha).toBe(1);
    const hop = randomHop(rnd);
    expect(() =>
      engine.join({
        role: 'participant',
        layer: 'chacha',
        receiveTunnelId: id,
        nextTunnelId: 2,
        nextHop: 3,
        ...hop,
        inAeadKey: rnd(32),
        outAeadKey: rnd(32),
      }),
    ).toThrow(RangeError);
    // The layer key took the last slot before the nonce key found none: that slot is free and clear again.
    expect(engine.freeKeySlots.chacha).toBe(1);
    expect(findBytes(engineWasmMemory(engine)!, hop.layerKey)).toEqual([]);
    expect(engine.activeTunnels).toBe(1 + participants);
  });
});

describe('validate(): the checks of join() with nothing taken', () => {
  it('refuses exactly what join() refuses, and a valid config leaves no tunnel, slot or tombstone', () => {
    const rnd = seededRandom(testSeed('engine validate'));
    const h = randomHop(rnd);
    const good = { role: 'participant', layer: 'aes', receiveTunnelId: 5, nextTunnelId: 6, nextHop: 1, ...h } as const;
    const bad: unknown[] = [
      { ...good, role: 'nope' },
      { ...good, layer: 'rot13' },
      { ...good, layerKey: new Uint8Array(31) },
      { ...good, ivKey: 'x' },
      { ...good, receiveTunnelId: -1 },
      { ...good, nextHop: 2 ** 32 },
      { ...good, expiresAt: Date.now() + 2 * TUNNEL_LIFETIME_MS },
      { ...good, expiresAt: 'soon' },
      { role: 'obgw', layer: 'aes', gatewayTunnelId: 1, firstHopTunnelId: 2, firstHop: 3, hops: [] },
      { role: 'ibep', layer: 'chacha', receiveTunnelId: 1, hops: [h] },
      null,
    ];
    for (const backend of ['wasm', ...(nativeAes ? (['native'] as const) : [])] as const) {
      const engine = new LayerEngine({ backend });
      const slots = engine.freeKeySlots;
      for (const c of bad) {
        let joinErr: unknown, validateErr: unknown;
        try {
          engine.join(c as never);
        } catch (e) {
          joinErr = e;
        }
        try {
          engine.validate(c as never);
        } catch (e) {
          validateErr = e;
        }
        expect(joinErr, JSON.stringify(c)).toBeInstanceOf(Error);
        expect(validateErr).toBeInstanceOf((joinErr as Error).constructor);
        expect((validateErr as Error).message).toBe((joinErr as Error).message);
      }
      engine.validate(good);
      engine.validate({ role: 'obgw', layer: 'aes', gatewayTunnelId: 1, firstHopTunnelId: 2, firstHop: 3, hops: [h] });
      expect(engine.activeTunnels).toBe(0);
      expect(engine.freeKeySlots).toEqual(slots);
      // Nothing remembered: the id was never joined, so its messages are 'unknown', not 'expired'.
      engine.processReceived(makeBatch([withId(rnd(1028), 5)], [1]));
      expect(engine.stats().unknownTunnel).toBe(1);
      engine.join(good); // and the id is free
      expect(engine.activeTunnels).toBe(1);
      engine.close();
    }
  });
});
