// Previous-hop pinning through the worker pool (tunnel-crypto-aes.md §4 step 2): a replayed first message pins
// nothing, and after a worker crash the replacement and the main thread agree on the pin the first OK message made.
// Pools use the compiled worker in dist/ (`npm test` builds first).
import { describe, expect, it } from 'vitest';
import { createDataPlane, type OutputBatch } from '../src/dataplane/index.js';
import { STATUS_OK, STATUS_REPLAY, STATUS_WRONG_PREV_HOP, TUNNEL_DATA_SIZE } from '../src/constants.js';
import { refParticipant } from './reference/layer-reference.js';
import { randomHop, seededRandom, testSeed } from './helpers/seed.js';
import { hex, withId } from './helpers/batch.js';
import { crashNextBatch } from '../src/testing/index.js';

interface Out {
  status: number;
  body: string;
}

function concat(bodies: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(bodies.length * TUNNEL_DATA_SIZE);
  bodies.forEach((b, i) => out.set(b, i * TUNNEL_DATA_SIZE));
  return out;
}

describe('data plane: pinning survives a worker crash', () => {
  it('a replayed first message does not pin; the worker and the main thread agree on the real previous hop', async () => {
    const rnd = seededRandom(testSeed('dataplane pin crash shared'));
    const got: Out[] = [];
    const onOutput = (b: OutputBatch): void => {
      for (let i = 0; i < b.count; i++)
        got.push({
          status: b.status[i]!,
          body: hex(b.bodies.subarray(i * TUNNEL_DATA_SIZE, (i + 1) * TUNNEL_DATA_SIZE)),
        });
    };
    const plane = createDataPlane({ threads: 1, maxBatch: 16, onOutput });
    const crashes: number[] = [];
    plane.on('workerCrash', (s: number) => crashes.push(s));
    const a = randomHop(rnd),
      b = randomHop(rnd);
    try {
      plane.join({ role: 'participant', layer: 'aes', receiveTunnelId: 1, nextTunnelId: 11, nextHop: 50, ...a });
      plane.join({ role: 'participant', layer: 'aes', receiveTunnelId: 2, nextTunnelId: 12, nextHop: 50, ...b });
      // Tunnel A accepts M from router 7.
      const m = withId(rnd(1028), 1);
      await plane.pushBatch(m, Uint32Array.of(7));
      await plane.idle();
      expect(got.map((o) => o.status)).toEqual([STATUS_OK]);
      got.length = 0;

      // Router 99 replays M as tunnel B's first message, then B's real previous hop 7 sends; the worker dies half
      // way through the batch and its replacement runs it again.
      const n1 = withId(rnd(1028), 2),
        n2 = withId(rnd(1028), 2),
        n3 = withId(rnd(1028), 2);
      crashNextBatch(plane, 0);
      await plane.pushBatch(concat([withId(m, 2), n1, n2, n3]), Uint32Array.of(99, 7, 99, 7));
      await plane.idle();
      expect(crashes).toEqual([0]);
      expect(got.map((o) => o.status)).toEqual([STATUS_REPLAY, STATUS_OK, STATUS_WRONG_PREV_HOP, STATUS_OK]);
      expect(got[1]!.body).toBe(hex(refParticipant(n1, b, 12)));
      expect(got[3]!.body).toBe(hex(refParticipant(n3, b, 12)));
      got.length = 0;

      // Another crash: the replacement gets the tunnels from the main thread. Had the main thread missed the pin
      // (or recorded 99), the stranger's message would now be taken first.
      const p1 = withId(rnd(1028), 2),
        p2 = withId(rnd(1028), 2);
      crashNextBatch(plane, 0);
      await plane.pushBatch(concat([p1, p2]), Uint32Array.of(99, 7));
      await plane.idle();
      expect(crashes).toEqual([0, 0]);
      expect(got.map((o) => o.status)).toEqual([STATUS_WRONG_PREV_HOP, STATUS_OK]);
      expect(got[0]!.body).toBe(hex(p1));
      expect(got[1]!.body).toBe(hex(refParticipant(p2, b, 12)));
      expect(plane.stats().dropped.workerCrash).toBe(0);
    } finally {
      await plane.close();
    }
  });
});
