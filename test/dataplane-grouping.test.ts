// Grouping a batch by tunnel on the main thread (src/dataplane/grouping.ts): seal() (a grouped copy in ordinary
// memory) and sealInto() (straight into a shared slot with the native block copy) against a plain reference --
// groups in order of first appearance, arrival order inside each group -- for batches mixing messages copied in
// (push) and referenced in callers' buffers (pushBatch), on seeded random input.
import { describe, expect, it } from 'vitest';
import { Grouper, Stage } from '../src/dataplane/grouping.js';
import { nativeAes, nativeAesProblem } from '../src/tunnel/aes-native.js';
import { seededRandom, testSeed } from './helpers/seed.js';

const BODY = 1028;

interface Pushed {
  body: Uint8Array;
  tid: number;
  prev: number;
}

/** Stable grouping by first appearance, written the obvious way. */
function reference(msgs: Pushed[]): Pushed[] {
  const order: number[] = [];
  const groups = new Map<number, Pushed[]>();
  for (const m of msgs) {
    if (!groups.has(m.tid)) {
      groups.set(m.tid, []);
      order.push(m.tid);
    }
    groups.get(m.tid)!.push(m);
  }
  return order.flatMap((t) => groups.get(t)!);
}

/** A random batch staged like the data plane does: some copied in, some referenced in one of two caller buffers. */
function stageRandom(rnd: (n: number) => Uint8Array, maxBatch: number): { stage: Stage; msgs: Pushed[] } {
  const stage = new Stage(maxBatch);
  const n = 1 + ((rnd(2)[0]! | (rnd(1)[0]! << 8)) % maxBatch);
  const callers = [new Uint8Array(n * BODY + 4), new Uint8Array(n * BODY)];
  const tunnels = 1 + (rnd(1)[0]! % 12);
  const msgs: Pushed[] = [];
  for (let i = 0; i < n; i++) {
    const body = rnd(BODY);
    const tid = 1000 + (rnd(1)[0]! % tunnels);
    const prev = rnd(1)[0]!;
    msgs.push({ body, tid, prev });
    const how = rnd(1)[0]! % 3;
    if (how === 0) {
      stage.copy(body, 0, tid, prev);
    } else {
      const buf = callers[how - 1]!;
      const at = i * BODY + (how === 1 ? 4 : 0); // one caller buffer 4 bytes off 8-byte alignment
      buf.set(body, at);
      stage.refer(buf, at, tid, prev);
    }
  }
  return { stage, msgs };
}

describe('grouping a sealed batch by tunnel', () => {
  it('seal() groups like the reference (copies and references mixed)', () => {
    const seed = testSeed('grouping seal');
    const rnd = seededRandom(seed);
    const grouper = new Grouper(256);
    for (let round = 0; round < 30; round++) {
      const { stage, msgs } = stageRandom(rnd, 256);
      const size = grouper.seal(stage);
      const want = reference(msgs);
      expect(size).toBe(want.length * BODY);
      want.forEach((m, k) => {
        expect(
          Buffer.from(stage.grouped.subarray(k * BODY, (k + 1) * BODY)).equals(Buffer.from(m.body)),
          `seed ${seed} round ${round} message ${k}`,
        ).toBe(true);
        expect(stage.groupedPrev[k]).toBe(m.prev);
      });
    }
  });

  it.skipIf(!nativeAes)(
    `sealInto() writes the same grouping straight into shared memory${nativeAes ? '' : ` (skipped: ${nativeAesProblem})`}`,
    () => {
      const seed = testSeed('grouping sealInto');
      const rnd = seededRandom(seed);
      const grouper = new Grouper(256);
      const slot = new Uint8Array(new SharedArrayBuffer(256 * BODY));
      const prev = new Uint32Array(new SharedArrayBuffer(256 * 4));
      for (let round = 0; round < 30; round++) {
        const { stage, msgs } = stageRandom(rnd, 256);
        slot.fill(0xee);
        expect(grouper.sealInto(stage, slot, prev)).toBe(true);
        const want = reference(msgs);
        want.forEach((m, k) => {
          expect(
            Buffer.from(slot.subarray(k * BODY, (k + 1) * BODY)).equals(Buffer.from(m.body)),
            `seed ${seed} round ${round} message ${k}`,
          ).toBe(true);
          expect(prev[k]).toBe(m.prev);
        });
        expect(slot.subarray(want.length * BODY).every((b) => b === 0xee)).toBe(true);
      }
    },
  );
});
