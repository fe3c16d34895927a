// Worker-pool data plane workloads (issue 6): the participant hop run by `createDataPlane` on N worker threads.
//   pool-aes-hop     AES participant hop through the data plane, 64 tunnels spread over the shards
//   pool-chacha-hop  ChaCha participant hop of our profile (AEAD open, layer, AEAD seal) through the data plane
// One run() pushes `batch x threads x 32` messages (the data plane cuts them into batches of `batch`). The pool is
// measured as a router uses it, as a continuous producer: run() i pushes its messages and then waits until those of
// run() i - 1 are all handed out, so the workers never run dry between runs, and the harness's finish() collects the
// last one after each timing period (untimed; tinybench's warm-up runs leave one in flight at the start, so a timed
// period covers exactly as many runs' work as it has runs). Waiting for every run to drain instead (this workload
// until session 5) charged each run the tail in which one worker has finished its shard and waits for the other:
// 5-22 ms of a 60 ms run on this 2-core machine, where the main thread's share of a core is taken from one worker
// (measured with per-task gaps in the worker). The first run() after setup does drain (its output is validated).
// Rows:
//   tunnelplane   the data plane with `threads` workers (shared-memory batch slots, sharded tunnels)
//   engine-loop   the same messages through one LayerEngine on the calling thread, `batch` at a time: the
//                 single-thread batch loop the pool is measured against (pool at threads 1 / engine-loop = dispatch
//                 efficiency; at threads N = speedup over one core)
// Output order differs between the two (the pool groups by tunnel and shard), so output() is the multiset of
// output bodies: all bodies sorted bytewise. Outputs are the inputs of later runs (next tunnel id = receive id), so
// timed runs are never replays: the pool's outputs go, in the order they come, into a ring of four runs' worth of
// messages, and run() i pushes quarter i mod 4 of it -- the input for runs 0 and 1, then the output of run() i - 2,
// complete once run() i - 1 has returned.
import { STATUS_OK, STATUS_REPLAY } from '../../constants.js';
import { LayerEngine } from '../../tunnel/engine.js';
import { chachaAeadSeal } from '../../tunnel/chacha-layer.js';
import { createReplayFilterBuffer } from '../../tunnel/replay-filter.js';
import type { TunnelConfig } from '../../tunnel/types.js';
import { createDataPlane } from '../../dataplane/index.js';
import { defineWorkload, type Implementation, type Rng } from '../types.js';

const BODY = 1028;
const TUNNELS = 64;
const BATCHES_PER_WORKER = 32;

interface PoolInput {
  /** Messages per run. `bodies` and `prevHops` hold twice as many: the inputs of the pool's first two runs. */
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
      role: 'participant',
      layer: chacha ? 'chacha' : 'aes',
      receiveTunnelId: id,
      nextTunnelId: id,
      nextHop: 7,
      previousHop: 5,
      layerKey: rng.bytes(32),
      ivKey: rng.bytes(32),
      ...(chacha ? { inAeadKey: k, outAeadKey: k } : {}),
    });
  }
  const bodies = rng.bytes(2 * count * BODY);
  for (let i = 0; i < 2 * count; i++) {
    const t = i % TUNNELS;
    new DataView(bodies.buffer, bodies.byteOffset + i * BODY, 4).setUint32(
      0,
      (tunnels[t] as { receiveTunnelId: number }).receiveTunnelId,
    );
    if (chacha) chachaAeadSeal(bodies.subarray(i * BODY, (i + 1) * BODY), aead[t]!);
  }
  return { count, chacha, tunnels, bodies, prevHops: new Uint32Array(2 * count).fill(5) };
}

/** All bodies sorted bytewise and concatenated: equal for any output order. */
function sortedBodies(buf: Uint8Array, count: number): Uint8Array {
  const idx = Array.from({ length: count }, (_, i) => i);
  idx.sort((a, b) => Buffer.compare(buf.subarray(a * BODY, (a + 1) * BODY), buf.subarray(b * BODY, (b + 1) * BODY)));
  const out = new Uint8Array(count * BODY);
  idx.forEach((src, dst) => out.set(buf.subarray(src * BODY, (src + 1) * BODY), dst * BODY));
  return out;
}

/**
 * Big enough that a benchmark does not fill it much: every entry stays live while the tunnels accept traffic
 * (11 minutes, longer than a timing), and the filter takes 7000 x 660 = 4.6 million of them at its design load
 * (104 MB); a refused entry would drop a message and fail the run.
 */
function filter(): SharedArrayBuffer {
  return createReplayFilterBuffer({ messagesPerSecond: 7000 });
}

/**
 * A message the filter flagged as a replay, made fresh before it goes back into the ring: new random bytes after
 * the tunnel id, sealed again for ChaCha (its tunnel's AEAD key). Otherwise it would be a genuine replay in every
 * later run of a pipelined runner.
 */
function refresh(body: Uint8Array, tunnels: TunnelConfig[]): void {
  const id = ((body[0]! << 24) | (body[1]! << 16) | (body[2]! << 8) | body[3]!) >>> 0;
  crypto.getRandomValues(body.subarray(4));
  const t = tunnels.find((c) => (c as { receiveTunnelId: number }).receiveTunnelId === id) as
    { inAeadKey?: Uint8Array } | undefined;
  if (t?.inAeadKey) chachaAeadSeal(body, t.inAeadKey);
}

/**
 * Replay drops a timed run may show. The filter reports a fresh message as seen with probability about
 * (live entries per bucket) / 2^28 -- around 1e-8 here, so a few per billion messages, once in a few hundred seconds at
 * this workload's rates -- and a message dropped that way is handed on unchanged, so in the engine loop it comes back
 * in every later run as a genuine replay (the pool runner makes it fresh instead: refresh()). Any other drop, or more
 * replays than this in a run (engine loop) or a timing period (pool), fails it.
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
  if (d[1] > 0 || d[0] > REPLAY_SLACK)
    throw new Error(`${what}: ${d[1]} of ${count} messages dropped, ${d[0]} as replays`);
}

const pool: Implementation<PoolInput> = {
  description: 'createDataPlane: `threads` workers, one LayerEngine each, SharedArrayBuffer batch slots',
  async setup(inp, ctx) {
    const count = inp.count;
    const ringMsgs = 4 * count;
    const ring = new Uint8Array(ringMsgs * BODY);
    ring.set(inp.bodies.subarray(0, 2 * count * BODY));
    const prevHops = inp.prevHops.subarray(0, count);
    let written = 0; // messages handed out since setup; the k-th went to ring message (2 count + k) mod 4 count
    let runs = 0;
    let waiting: { until: number; resolve: () => void } | undefined;
    const bad: [number, number] = [0, 0];
    const plane = createDataPlane({
      threads: ctx.threads,
      maxBatch: ctx.batch,
      maxQueued: 2 * count,
      replayFilter: filter(),
      onOutput: (b) => {
        drops(b.status, b.count, bad);
        const at = (2 * count + written) % ringMsgs;
        const head = Math.min(b.count, ringMsgs - at);
        ring.set(b.bodies.subarray(0, head * BODY), at * BODY);
        if (head < b.count) ring.set(b.bodies.subarray(head * BODY, b.count * BODY), 0);
        for (let i = 0; i < b.count; i++) {
          if (b.status[i] !== STATUS_REPLAY) continue;
          const m = (at + i) % ringMsgs;
          refresh(ring.subarray(m * BODY, (m + 1) * BODY), inp.tunnels);
        }
        written += b.count;
        if (waiting && written >= waiting.until) {
          waiting.resolve();
          waiting = undefined;
        }
      },
    });
    for (const t of inp.tunnels) plane.join(t);
    const outBy = (until: number): Promise<void> =>
      written >= until
        ? Promise.resolve()
        : new Promise((resolve) => {
            waiting = { until, resolve };
          });
    let first: Uint8Array | undefined;
    let checked = 0; // messages whose drops finish() has checked
    return {
      async run() {
        const i = runs++;
        const q = i % 4;
        await plane.pushBatch(ring.subarray(q * count * BODY, (q + 1) * count * BODY), prevHops, count);
        if (i === 0) {
          await plane.idle();
          if (written !== count) throw new Error(`data plane: ${written} of ${count} out`);
          checkDrops('data plane', bad, count);
          checked = count;
          bad[0] = bad[1] = 0;
          first = sortedBodies(ring.subarray(2 * count * BODY, 3 * count * BODY), count);
        } else {
          await outBy(i * count); // everything of the runs before this one
        }
      },
      async finish() {
        await plane.idle();
        if (written !== runs * count) throw new Error(`data plane: ${written} of ${runs * count} out`);
        checkDrops('data plane', bad, written - checked);
        checked = written;
        bad[0] = bad[1] = 0;
      },
      output: () => first!,
      close: () => plane.close(),
    };
  },
};

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
            count: c,
            bodies: inp.bodies.subarray(s * BODY, (s + c) * BODY),
            prevHops: inp.prevHops.subarray(s, s + c),
            status,
            nextHops,
            nextTunnelIds,
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
    impls: { tunnelplane: pool, 'engine-loop': engineLoop },
  }),
  defineWorkload<PoolInput>({
    ...common,
    id: 'pool-chacha-hop',
    description: 'ChaCha participant hop of our profile through the worker-pool data plane (64 tunnels)',
    ceiling: { algorithm: 'chacha20' },
    input: (batch, rng, ctx) => poolInput(batch, ctx.threads, rng, true),
    impls: { tunnelplane: pool, 'engine-loop': engineLoop },
  }),
];
