// Backpressure: a producer that never waits cannot make the data plane grow. Pushes beyond the bounded queue are
// refused (counted as queueFull), the queue depth never passes its limit, and memory stays flat.
import { describe, expect, it } from 'vitest';
import { createDataPlane } from '../src/dataplane/index.js';
import { TUNNEL_DATA_SIZE } from '../src/constants.js';
import { makeWorkload } from './helpers/dataplane-workload.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('data plane: backpressure', () => {
  it('a producer that never waits: bounded queue, refusals counted, memory flat', async () => {
    const w = makeWorkload('dataplane/backpressure', 4096, 32);
    let out = 0;
    // A small replay filter: its pages are touched as it fills, which would otherwise show up as rss growth.
    const plane = createDataPlane({
      threads: 2,
      maxBatch: 256,
      maxQueued: 4096,
      messagesPerSecond: 200,
      onOutput: (b) => {
        out += b.count;
      },
    });
    for (const t of w.tunnels) plane.join(t);
    let pushed = 0;
    let accepted = 0;
    let maxDepth = 0;
    let base = { rss: 0, heap: 0 };
    // A fixed number of rounds, not a time budget: the outcome must not depend on how loaded the machine is.
    const ROUNDS = 80;
    const WARM_UP_ROUNDS = 30;
    const samples: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // 4 x the queue per round: at least 12 288 refusals a round, since slots only free when the loop yields.
      for (let k = 0; k < 16384; k++) {
        const i = pushed++ % w.count;
        if (plane.push(w.bodies.subarray(i * TUNNEL_DATA_SIZE, (i + 1) * TUNNEL_DATA_SIZE), w.prevHops[i]!)) accepted++;
      }
      const s = plane.stats();
      maxDepth = Math.max(maxDepth, s.queueDepth);
      expect(s.queueDepth).toBeLessThanOrEqual(s.queueLimit);
      await tick();
      if (round % 10 === 0) samples.push(Math.round(process.memoryUsage().rss / 2 ** 20));
      if (round === WARM_UP_ROUNDS) {
        // After warm-up: worker heaps, slot pages and JIT reach their steady size in the first rounds.
        global.gc?.();
        const m = process.memoryUsage();
        base = { rss: m.rss, heap: m.heapUsed };
      }
    }
    global.gc?.();
    const m = process.memoryUsage();
    const s = plane.stats();
    await plane.close();
    expect(s.dropped.queueFull).toBeGreaterThan(0);
    expect(s.dropped.queueFull).toBe(pushed - accepted);
    expect(s.messagesIn).toBe(accepted);
    expect(out).toBe(accepted); // close() drained everything accepted
    expect(maxDepth).toBeLessThanOrEqual(s.queueLimit);
    // Loose: slots are preallocated, so what remains is V8 heap noise. An unbounded queue would have grown by the
    // refused bytes, which are checked to be far above the bound.
    const rssGrowth = (m.rss - base.rss) / 2 ** 20;
    const heapGrowth = (m.heapUsed - base.heap) / 2 ** 20;
    console.log(
      `backpressure: ${pushed} pushes, ${accepted} accepted, max depth ${maxDepth}/${s.queueLimit}, rss +${rssGrowth.toFixed(1)} MiB, heap +${heapGrowth.toFixed(1)} MiB; rss MiB over time ${samples.join(' ')}`,
    );
    expect(rssGrowth).toBeLessThan(48);
    expect(((pushed - accepted) * TUNNEL_DATA_SIZE) / 2 ** 20).toBeGreaterThan(480);
    expect(heapGrowth).toBeLessThan(16);
  });

  it('pushBatch waits for room instead of refusing', async () => {
    const w = makeWorkload('dataplane/pushbatch', 6000, 8);
    let out = 0;
    const plane = createDataPlane({
      threads: 2,
      maxBatch: 128,
      maxQueued: 512,
      onOutput: (b) => {
        out += b.count;
      },
    });
    for (const t of w.tunnels) plane.join(t);
    let maxDepth = 0;
    const probe = setInterval(() => {
      maxDepth = Math.max(maxDepth, plane.stats().queueDepth);
    }, 1);
    await plane.pushBatch(w.bodies, w.prevHops);
    await plane.idle();
    clearInterval(probe);
    const s = plane.stats();
    await plane.close();
    expect(s.dropped.queueFull).toBe(0);
    expect(out).toBe(6000);
    expect(maxDepth).toBeLessThanOrEqual(s.queueLimit);
  });
});
