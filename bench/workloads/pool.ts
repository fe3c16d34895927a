// Worker-pool data plane workloads (issue 6): the participant hop run by `createDataPlane` on N worker threads.
//   pool-aes-hop     AES participant hop through the data plane, 64 tunnels spread over the shards
//   pool-chacha-hop  ChaCha participant hop of our profile (AEAD open, layer, AEAD seal) through the data plane
// One run() pushes `batch x threads x 128` messages (the data plane cuts them into batches of `batch`) and waits
// until all are handed out: 128 batches per worker, so the fill at the start and the drain at the end of each run
// (which a continuous producer does not pay) weigh little. With 32 batches they cost two workers about 7 %: at the
// end of a run one worker finishes a millisecond or two before the other and both wait for the next run's first
// batches (measured with per-task gaps in the worker). Rows:
//   tunnelplane   the data plane with `threads` workers (default memory: 'shared', sharded tunnels)
//   tunnelplane-transfer  the same with memory: 'transfer' (kept to compare the two ways of moving batches)
//   engine-loop   the same messages through one LayerEngine on the calling thread, `batch` at a time: the
//                 single-thread batch loop the pool is measured against (pool at threads 1 / engine-loop = dispatch
//                 efficiency; at threads N = speedup over one core)
// Output order differs between the two (the pool groups by tunnel and shard), so output() is the multiset of
// output bodies: all bodies sorted bytewise. Each run's output is the next run's input (next tunnel id = receive
// id), so timed runs are never replays.
import { STATUS_OK, STATUS_REPLAY } from '../../src/constants.js';
import { LayerEngine } from '../../src/tunnel/engine.js';
import { chachaAeadSeal } from '../../src/tunnel/chacha-layer.js';
import { createReplayFilterBuffer } from '../../src/tunnel/replay-filter.js';
import type { TunnelConfig } from '../../src/tunnel/types.js';
import { createDataPlane } from '../../src/dataplane/index.js';
import { defineWorkload, type Implementation, type Rng } from '../types.js';

const BODY = 1028;
const TUNNELS = 64;
const BATCHES_PER_WORKER = 128;

interface PoolInput {
  count: number;
  chacha: boolean;
  tunnels: TunnelConfig[];
  bodies: Uint8Array;
  prevHops: Uint32Array;
}

function messagesPerRun(batch: number, threads: number): number {
  return batch * Math.max(1, threads) * BATCHES_PER_WORKER;
}

function poolInput(batch: number, threads: number, rng: Rng, chacha: boolean): PoolInput {
  const count = messagesPerRun(batch, threads);
  const tunnels: TunnelConfig[] = [];
  const aead: Uint8Array[] = [];
  for (let t = 0; t < TUNNELS; t++) {
    const id = 0x10000 + t * 104729;
    const k = rng.bytes(32);
    aead.push(k);
    tunnels.push({
      role: 'participant', layer: chacha ? 'chacha' : 'aes', receiveTunnelId: id, nextTunnelId: id, nextHop: 7,
      previousHop: 5, layerKey: rng.bytes(32), ivKey: rng.bytes(32),
      ...(chacha ? { inAeadKey: k, outAeadKey: k } : {}),
    });
  }
  const bodies = rng.bytes(count * BODY);
  for (let i = 0; i < count; i++) {
    const t = i % TUNNELS;
    new DataView(bodies.buffer, bodies.byteOffset + i * BODY, 4).setUint32(0, (tunnels[t] as { receiveTunnelId: number }).receiveTunnelId);
    if (chacha) chachaAeadSeal(bodies.subarray(i * BODY, (i + 1) * BODY), aead[t]!);
  }
  return { count, chacha, tunnels, bodies, prevHops: new Uint32Array(count).fill(5) };
}

/** All bodies sorted bytewise and concatenated: equal for any output order. */
function sortedBodies(buf: Uint8Array, count: number): Uint8Array {
  const idx = Array.from({ length: count }, (_, i) => i);
  idx.sort((a, b) => Buffer.compare(buf.subarray(a * BODY, (a + 1) * BODY), buf.subarray(b * BODY, (b + 1) * BODY)));
  const out = new Uint8Array(count * BODY);
  idx.forEach((src, dst) => out.set(buf.subarray(src * BODY, (src + 1) * BODY), dst * BODY));
  return out;
}

/** Big enough that a benchmark does not fill it much (entries live one to two minutes here). */
function filter(): SharedArrayBuffer {
  return createReplayFilterBuffer({ messagesPerSecond: 50_000, halfLifeMs: 60_000 });
}

/**
 * Replay drops a timed run may show. The filter reports a fresh message as seen with probability about
 * (live entries per bucket) / 2^28 -- around 1e-8 here, so a few per billion messages, once in a few hundred seconds at
 * this workload's rates -- and a message dropped that way is handed on unchanged, so it comes back in every later
 * run as a genuine replay. Any other drop, or more replays than this, fails the run.
 */
const REPLAY_SLACK = 16;

/** Counts the non-OK statuses of a batch: [replays, others]. */
function drops(status: Uint8Array, count: number, into: [number, number]): void {
  for (let i = 0; i < count; i++) {
    const s = status[i]!;
    if (s === STATUS_OK) continue;
    if (s === STATUS_REPLAY) into[0]++;
    else into[1]++;
  }
}

function checkDrops(what: string, d: [number, number], count: number): void {
  if (d[1] > 0 || d[0] > REPLAY_SLACK) throw new Error(`${what}: ${d[1]} of ${count} messages dropped, ${d[0]} as replays`);
}

function poolImpl(memory: 'shared' | 'transfer'): Implementation<PoolInput> {
  return {
  description: memory === 'shared'
    ? 'createDataPlane: `threads` workers, one LayerEngine each, SharedArrayBuffer batch slots'
    : 'createDataPlane with memory: transfer (batch buffers moved to the worker and back, input kept for retries)',
  async setup(inp, ctx) {
    let cur: Uint8Array = inp.bodies;
    let next: Uint8Array = new Uint8Array(cur.length);
    let fill = 0;
    const bad: [number, number] = [0, 0];
    const plane = createDataPlane({
      threads: ctx.threads, memory, maxBatch: ctx.batch, maxQueued: inp.count, replayFilter: filter(),
      onOutput: (b) => {
        drops(b.status, b.count, bad);
        next.set(b.bodies, fill * BODY);
        fill += b.count;
      },
    });
    for (const t of inp.tunnels) plane.join(t);
    let first: Uint8Array | undefined;
    return {
      async run() {
        fill = 0;
        bad[0] = bad[1] = 0;
        await plane.pushBatch(cur, inp.prevHops, inp.count);
        await plane.idle();
        if (fill !== inp.count) throw new Error(`data plane: ${fill} of ${inp.count} out`);
        checkDrops('data plane', bad, inp.count);
        [cur, next] = [next, cur];
        first ??= sortedBodies(cur, inp.count);
      },
      output: () => first!,
      close: () => plane.close(),
    };
  },
  };
}

const engineLoop: Implementation<PoolInput> = {
  description: 'one LayerEngine on the calling thread, `batch` messages per processReceived call',
  setup(inp, ctx) {
    const engine = new LayerEngine({ replayFilter: filter() });
    for (const t of inp.tunnels) engine.join(structuredClone(t));
    const n = ctx.batch;
    const status = new Uint8Array(n);
    const nextHops = new Uint32Array(n);
    const nextTunnelIds = new Uint32Array(n);
    let first: Uint8Array | undefined;
    return {
      run() {
        const bad: [number, number] = [0, 0];
        for (let s = 0; s < inp.count; s += n) {
          const c = Math.min(n, inp.count - s);
          const ok = engine.processReceived({
            count: c, bodies: inp.bodies.subarray(s * BODY, (s + c) * BODY), prevHops: inp.prevHops.subarray(s, s + c),
            status, nextHops, nextTunnelIds,
          });
          if (ok !== c) drops(status, c, bad);
        }
        checkDrops('engine loop', bad, inp.count);
        first ??= sortedBodies(inp.bodies, inp.count);
      },
      output: () => first!,
    };
  },
};

const common = {
  bytesPerMessage: BODY,
  batches: [64, 256] as const,
  quickBatches: [256] as const,
  threads: [1, 'max'] as const,
  messagesPerRun,
  baselines: ['engine-loop'] as const,
};

export const workloads = [
  defineWorkload<PoolInput>({
    ...common,
    id: 'pool-aes-hop',
    description: 'AES participant hop through the worker-pool data plane (64 tunnels, sharded by tunnel id)',
    ceiling: { algorithm: 'aes-256-cbc' },
    input: (batch, rng, ctx) => poolInput(batch, ctx.threads, rng, false),
    impls: { tunnelplane: poolImpl('shared'), 'tunnelplane-transfer': poolImpl('transfer'), 'engine-loop': engineLoop },
  }),
  defineWorkload<PoolInput>({
    ...common,
    id: 'pool-chacha-hop',
    description: 'ChaCha participant hop of our profile through the worker-pool data plane (64 tunnels)',
    ceiling: { algorithm: 'chacha20' },
    input: (batch, rng, ctx) => poolInput(batch, ctx.threads, rng, true),
    impls: { tunnelplane: poolImpl('shared'), 'tunnelplane-transfer': poolImpl('transfer'), 'engine-loop': engineLoop },
  }),
];
