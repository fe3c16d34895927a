// The router-wide replay filter: duplicates found, the 10-20 minute window, false-positive rate measured against
// the documented formula, sharing across worker threads through the SharedArrayBuffer.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createReplayFilterBuffer, ReplayFilter, replayFilterBytes } from '../src/tunnel/replay-filter.js';
import { seededRandom, testSeed } from './helpers/layer-reference.js';

const MIN = 60_000;

describe('replay filter', () => {
  it('finds duplicates of a ^ b, and a alone', () => {
    const f = new ReplayFilter(createReplayFilterBuffer({ messagesPerSecond: 10 }));
    const rnd = seededRandom(1);
    const a = rnd(16), b = rnd(16);
    expect(f.seen(a, 0, b, 0, 0)).toBe(false);
    expect(f.seen(a, 0, b, 0, 1)).toBe(true);
    // Swapping IV and first block gives the same XOR: still a replay (the reason for XOR, spec §5).
    expect(f.seen(b, 0, a, 0, 2)).toBe(true);
    expect(f.seen(a, 0, null, 0, 3)).toBe(false);
    expect(f.seen(a, 0, null, 0, 4)).toBe(true);
    expect(f.stats().duplicates).toBe(3);
  });

  it('remembers entries between 10 and 20 minutes', () => {
    const f = new ReplayFilter(createReplayFilterBuffer({ messagesPerSecond: 10 }));
    const rnd = seededRandom(2);
    const t0 = 1_700_000_000_000 - (1_700_000_000_000 % (10 * MIN)); // start of a half-life
    const early = rnd(16), late = rnd(16);
    expect(f.seen(early, 0, null, 0, t0)).toBe(false);
    expect(f.seen(late, 0, null, 0, t0 + 10 * MIN - 1)).toBe(false);
    // Both still there 10 minutes (minus 1 ms) after insertion.
    expect(f.seen(early, 0, null, 0, t0 + 10 * MIN - 1)).toBe(true);
    expect(f.seen(late, 0, null, 0, t0 + 20 * MIN - 2)).toBe(true);
    // Inserted at the start of a half-life: gone after 20 minutes.
    expect(f.seen(early, 0, null, 0, t0 + 20 * MIN)).toBe(false);
  });

  it('false-positive rate matches (live cells per bucket) / 2^fpBits; at most two strays at 28 bits', () => {
    const seed = testSeed('replay false positives');
    const rnd = seededRandom(seed);
    const rate = 100; // messages per second, 10-minute half-life -> 60 000 entries per half-life
    const entries = rate * 600;
    for (const bits of [12, 28]) {
      const f = new ReplayFilter(createReplayFilterBuffer({ messagesPerSecond: rate, fingerprintBits: bits }));
      // Fill two half-lives' worth (the most live entries the filter ever holds at its design rate).
      const t = 1_700_000_400_000;
      const block = rnd(16 * 2 * entries);
      let fpInsert = 0;
      for (let i = 0; i < 2 * entries; i++) if (f.seen(block, i * 16, null, 0, i < entries ? t - 10 * MIN : t)) fpInsert++;
      const queries = bits === 28 ? 1_000_000 : 200_000;
      const q = rnd(16 * queries);
      let fp = 0;
      for (let i = 0; i < queries; i++) if (f.has(q, i * 16, null, 0, t)) fp++;
      const live = 2 * entries / f.buckets; // mean live cells per bucket
      const predicted = live / 2 ** bits;
      const measured = fp / queries;
      console.log(`[replay FP] fpBits=${bits} buckets=${f.buckets} live/bucket=${live.toFixed(2)} predicted=${predicted.toExponential(2)} measured=${measured.toExponential(2)} (${fp}/${queries}; ${fpInsert} during fill) overflows=${f.stats().overflows} evictions=${f.stats().evictions}`);
      expect(f.stats().overflows).toBe(0);
      expect(f.stats().evictions).toBeLessThan(5);
      if (bits === 12) {
        expect(measured).toBeGreaterThan(predicted * 0.5);
        expect(measured).toBeLessThan(predicted * 1.5);
      } else {
        // Expected 1e6 x 1.49e-8 = 0.015 false positives: one shows up in about 1.5 % of seeds (seen in CI), two in
        // about 1e-4, three in 6e-7. Allowing two keeps the test from flaking and still fails a fingerprint of 18
        // bits (tried: 7 false positives).
        expect(fp).toBeLessThanOrEqual(2);
      }
    }
  });

  it('sizes from the message rate', () => {
    expect(replayFilterBytes({ messagesPerSecond: 1000 })).toBe(128 + Math.ceil(8 * 1000 * 600 / 16) * 64);
    expect(() => createReplayFilterBuffer({ messagesPerSecond: 0 })).toThrow(RangeError);
    expect(() => new ReplayFilter(new SharedArrayBuffer(1024))).toThrow(TypeError);
  });

  it('is one filter for all threads: concurrent inserts of the same entries are accepted exactly once', async () => {
    const sab = createReplayFilterBuffer({ messagesPerSecond: 1000 });
    const n = 100_000;
    const entries = new SharedArrayBuffer(n * 16);
    // A start barrier, so the threads walk the same entries in lockstep: that is when a look-then-claim race shows.
    const barrier = new SharedArrayBuffer(4);
    new Uint8Array(entries).set(seededRandom(99)(n * 16));
    const src = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.mod).then(({ ReplayFilter }) => {
        const f = new ReplayFilter(workerData.sab);
        const e = new Uint8Array(workerData.entries);
        const b = new Int32Array(workerData.barrier);
        Atomics.add(b, 0, 1);
        while (Atomics.load(b, 0) < 3) {}
        let fresh = 0;
        for (let i = 0; i < e.length / 16; i++) if (!f.seen(e, i * 16, null, 0, 1_700_000_000_000)) fresh++;
        parentPort.postMessage(fresh);
      });`;
    const mod = new URL('../dist/src/tunnel/replay-filter.js', import.meta.url).href;
    const run = (): Promise<number> => new Promise((resolve, reject) => {
      const w = new Worker(src, { eval: true, workerData: { sab, entries, mod, barrier } });
      w.once('message', (m) => { resolve(m as number); void w.terminate(); });
      w.once('error', reject);
    });
    const counts = await Promise.all([run(), run(), run()]);
    // Every entry accepted by exactly one thread. With one fixed time and a lightly loaded table no cell turns free
    // while the threads race, so not even the documented rare miss (a lower cell freed between two scans) can occur.
    const total = counts.reduce((a, b) => a + b, 0);
    expect(total).toBe(n);
  });
});
