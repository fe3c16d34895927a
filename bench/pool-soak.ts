// Soak and mechanism measurements for the worker-pool data plane (issue 6). Not part of `tunnelplane bench`.
//
//   node dist/bench/pool-soak.js [--messages N] [--threads T] [--batch B] [--pipeline P]
//                                [--batches-per-task K]
//                                [--backend auto|wasm|node] [--prefill on|off]
//       Pushes N AES participant messages (default 10 000 000) through createDataPlane one push() at a time, as
//       fast as backpressure allows (a refused push waits for ready() and is retried), and prints every 2 s:
//       messages out, rate, rss, V8 heap, and main-thread time per message (event-loop utilization of the main
//       thread / messages; wall time, so it reads high when the machine is oversubscribed). Ends with rss min /
//       max after warm-up: "flat" means max - min stays small and does not trend.
//
//   node dist/bench/pool-soak.js --engine-loop [--messages N] [--batch B]
//       The same message stream through one LayerEngine on the main thread, B per call: the single-thread batch
//       loop the pool's per-worker rate and CPU per message are compared with.
//
//   node dist/bench/pool-soak.js --memory [--batch B] [--tasks K]
//       How batches move between threads, without any crypto: (a) shared -- bodies copied into a SharedArrayBuffer
//       slot, the task names the slot, the worker copies IN -> OUT (what the data plane does); (b) transfer -- bodies
//       copied into an ArrayBuffer that is transferred to the worker and back; (c) transfer+keep -- as (b) plus the
//       copy the main thread must keep to re-run a batch after a worker crash. Prints wall time and main-thread CPU
//       per batch (medians).
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import { createDataPlane } from '../src/dataplane/index.js';
import { STATUS_REPLAY } from '../src/constants.js';
import { LayerEngine } from '../src/tunnel/engine.js';
import { createReplayFilterBuffer } from '../src/tunnel/replay-filter.js';
import type { TunnelConfig } from '../src/tunnel/types.js';
import { createRng } from '../src/bench/random.js';
import { arg } from './argv.js';

const BODY = 1028;

const MiB = (n: number): string => (n / 2 ** 20).toFixed(1);

/** CPU seconds of this process's main thread (Linux: /proc/self/task/<pid>/stat, utime + stime), else undefined. */
function mainThreadCpu(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // fields 14 and 15, in USER_HZ (100 on Linux)
  } catch {
    return undefined;
  }
}

async function soak(): Promise<void> {
  const total = Number(arg('messages', '10000000'));
  const threads = Number(arg('threads', String(availableParallelism())));
  const batch = Number(arg('batch', '256'));
  const engineLoop = process.argv.includes('--engine-loop');
  const rng = createRng('pool-soak');
  const tunnels: TunnelConfig[] = [];
  for (let t = 0; t < 64; t++) {
    const id = 0x20000 + t * 7919;
    tunnels.push({
      role: 'participant',
      layer: 'aes',
      receiveTunnelId: id,
      nextTunnelId: id,
      nextHop: 9,
      previousHop: 3,
      layerKey: rng.bytes(32),
      ivKey: rng.bytes(32),
    });
  }
  // Template bodies; each push stamps a counter into the IV, so no message is a replay of another.
  const templates = rng.bytes(64 * BODY);
  for (let t = 0; t < 64; t++)
    new DataView(templates.buffer, t * BODY, 4).setUint32(
      0,
      (tunnels[t] as { receiveTunnelId: number }).receiveTunnelId,
    );
  const stamp = new DataView(templates.buffer);
  let bad = 0;
  let out = 0;
  const notOk = new Map<number, number>();
  const plane = createDataPlane({
    // Every entry stays live while its tunnel accepts traffic (11 minutes, longer than a soak): the filter is sized
    // to hold all `total` of them at a quarter full (about 20 bytes a message; the pages are written at creation).
    threads,
    maxBatch: batch,
    pipeline: Number(arg('pipeline', '4')),
    backend: arg('backend', 'auto') as 'auto',
    ...(process.argv.includes('--batches-per-task') ? { batchesPerTask: Number(arg('batches-per-task', '4')) } : {}),
    ...(process.argv.includes('--prefill') ? { prefill: arg('prefill', 'on') === 'on' } : {}),
    replayFilter: createReplayFilterBuffer({ messagesPerSecond: Math.ceil(total / 600) }),
    onOutput: (b) => {
      for (let i = 0; i < b.count; i++) {
        const st = b.status[i]!;
        if (st !== 0) {
          bad++;
          notOk.set(st, (notOk.get(st) ?? 0) + 1);
        }
      }
      out += b.count;
    },
  });
  for (const t of tunnels) plane.join(t);
  if (engineLoop) console.log('engine loop: the same messages through one LayerEngine on this thread (no pool)');
  console.log(
    `soak: ${total} messages, ${threads} workers, prefill ${plane.prefill ? 'on' : 'off'}, batch ${batch}, aes, queue limit ${plane.stats().queueLimit}, replay filter ${MiB(plane.replayFilter.byteLength)} MiB`,
  );
  console.log('     s   messages    msg/s   rss MiB  heap MiB  main thread per msg');
  const t0 = performance.now();
  const cpu0 = mainThreadCpu();
  const proc0 = process.cpuUsage();
  let elu0 = performance.eventLoopUtilization();
  let lastT = t0;
  let lastN = 0;
  const rss: number[] = [];
  const report = (): void => {
    const now = performance.now();
    const elu = performance.eventLoopUtilization(elu0);
    const m = process.memoryUsage();
    rss.push(m.rss);
    const perMsg = (elu.active * 1000) / Math.max(1, out - lastN);
    console.log(
      `${((now - t0) / 1000).toFixed(0).padStart(6)} ${String(out).padStart(10)} ${Math.round(
        (out - lastN) / ((now - lastT) / 1000),
      )
        .toString()
        .padStart(8)} ${MiB(m.rss).padStart(9)} ${MiB(m.heapUsed).padStart(9)}  ${perMsg.toFixed(2)} us`,
    );
    lastT = now;
    lastN = out;
    elu0 = performance.eventLoopUtilization();
  };
  // Steady state: from the message `warm` on (workers started, code compiled, filter pages touched).
  const warm = Math.min(Math.floor(total / 5), 500_000);
  let steady = { t: 0, out: 0, proc: 0, main: 0, busyMs: 0 };
  const busyNow = (): number => plane.stats().workers.reduce((a, w) => a + w.busyMs, 0);
  const cpuNow = (): number => {
    const c = process.cpuUsage();
    return (c.user + c.system) / 1e6;
  };
  const loop = engineLoop ? new EngineLoop(tunnels, batch, total) : null;
  for (let i = 0; i < total; i++) {
    if (i === warm)
      steady = { t: performance.now(), out, proc: cpuNow(), main: mainThreadCpu() ?? 0, busyMs: loop ? 0 : busyNow() };
    const t = i & 63;
    stamp.setUint32(t * BODY + 4, i);
    stamp.setUint32(t * BODY + 8, (i / 0x1_0000_0000) >>> 0);
    const body = templates.subarray(t * BODY, (t + 1) * BODY);
    if (loop) out += loop.push(body, 3);
    else while (!plane.push(body, 3)) await plane.ready();
    if ((i & 0x3fff) === 0 && performance.now() - lastT >= 2000) report();
  }
  if (loop) out += loop.flush();
  await plane.idle();
  report();
  {
    const n = out - steady.out;
    const wall = (performance.now() - steady.t) / 1000;
    console.log(
      `steady state (messages ${warm}..${total}): ${Math.round(n / wall)} msg/s; CPU per message: process ${(((cpuNow() - steady.proc) * 1e6) / n).toFixed(2)} us, main thread ${((((mainThreadCpu() ?? 0) - steady.main) * 1e6) / n).toFixed(2)} us`,
    );
    if (!loop) {
      // Time inside the workers' batch handling (engine, copies, journal), as a share of the workers' wall time.
      const busy = busyNow() - steady.busyMs;
      console.log(
        `steady state, workers: ${((busy * 1000) / n).toFixed(3)} us a message in batches, ${((100 * busy) / (wall * 1000 * threads)).toFixed(1)} % of their wall time`,
      );
    }
  }
  const secs = (performance.now() - t0) / 1000;
  const cpu1 = mainThreadCpu();
  const proc1 = process.cpuUsage(proc0);
  const s = plane.stats();
  await plane.close();
  // Every message is fresh, so a non-ok status can only be a replay-filter false positive (its rate grows as the
  // filter fills: about live-cells-per-bucket / 2^28 per lookup); anything else is a failure.
  const statuses = [...notOk].map(([st, n]) => `status ${st}: ${n}`).join(', ');
  if (out !== total || [...notOk.keys()].some((st) => st !== STATUS_REPLAY)) {
    throw new Error(`soak: ${out} of ${total} out, not ok: ${statuses}`);
  }
  if (bad > 0) console.log(`replay-filter false positives: ${bad} of ${out} (${(bad / out).toExponential(1)})`);
  const rssWarm = rss.slice(Math.min(3, rss.length - 1));
  // CPU time rather than wall time: comparable between runs even when other work shares the cores.
  console.log(
    `process CPU (all threads): ${((proc1.user + proc1.system) / 1e6).toFixed(2)} s = ${((proc1.user + proc1.system) / out).toFixed(2)} us per message`,
  );
  if (cpu0 !== undefined && cpu1 !== undefined) {
    console.log(
      `main thread CPU: ${(cpu1 - cpu0).toFixed(2)} s for ${out} messages = ${(((cpu1 - cpu0) * 1e6) / out).toFixed(2)} us per message (/proc, 10 ms ticks)`,
    );
  }
  console.log(
    `done: ${out} messages in ${secs.toFixed(1)} s (${Math.round(out / secs)} msg/s); refused pushes (retried) ${s.dropped.queueFull}`,
  );
  console.log(
    `rss after warm-up (from sample 4): min ${MiB(Math.min(...rssWarm))} MiB, max ${MiB(Math.max(...rssWarm))} MiB, first ${MiB(rssWarm[0]!)} MiB, last ${MiB(rssWarm[rssWarm.length - 1]!)} MiB`,
  );
  if (!loop)
    console.log(
      `per-worker load: ${s.workers.map((w) => `#${w.shard} ${w.messages} msgs ${(w.utilization * 100).toFixed(0)}% busy (${((w.busyMs * 1000) / Math.max(1, w.messages)).toFixed(3)} us a message, ${w.batches} batches in ${w.tasks} tasks), ${w.restarts} restarts`).join(', ')}`,
    );
}

/** The single-thread batch loop the pool is compared with: bodies copied into a batch, one engine call per batch. */
class EngineLoop {
  private readonly engine: LayerEngine;
  private readonly bodies: Uint8Array;
  private readonly prev: Uint32Array;
  private readonly status: Uint8Array;
  private readonly hops: Uint32Array;
  private readonly ids: Uint32Array;
  private n = 0;

  constructor(
    tunnels: TunnelConfig[],
    private readonly batch: number,
    total: number,
  ) {
    this.engine = new LayerEngine({
      replayFilter: createReplayFilterBuffer({ messagesPerSecond: Math.ceil(total / 600) }),
    });
    for (const t of tunnels) this.engine.join(structuredClone(t));
    this.bodies = new Uint8Array(batch * BODY);
    this.prev = new Uint32Array(batch);
    this.status = new Uint8Array(batch);
    this.hops = new Uint32Array(batch);
    this.ids = new Uint32Array(batch);
  }

  /** Returns the messages processed by this call (0, or a whole batch). */
  push(body: Uint8Array, prevHop: number): number {
    this.bodies.set(body, this.n * BODY);
    this.prev[this.n++] = prevHop;
    return this.n === this.batch ? this.flush() : 0;
  }

  flush(): number {
    const n = this.n;
    if (n === 0) return 0;
    const ok = this.engine.processReceived({
      count: n,
      bodies: this.bodies,
      prevHops: this.prev,
      status: this.status,
      nextHops: this.hops,
      nextTunnelIds: this.ids,
    });
    if (ok !== n) throw new Error(`engine loop: ${ok} of ${n} ok`);
    this.n = 0;
    return n;
  }
}

// ----------------------------------------------------------------------------------------------- --memory

const WORKER_SOURCE = (piscinaUrl: string): string => `
import { move } from ${JSON.stringify(piscinaUrl)};
const BODY = ${BODY};
export default function (t) {
  if (t.mode === 'shared') {
    // As the data plane's worker: IN -> OUT one body at a time with copyWithin (grouping order), in place after.
    const all = new Uint8Array(t.sab);
    const inAt = t.slot * t.slotSize, outAt = inAt + t.count * BODY;
    for (let i = 0; i < t.count; i++) all.copyWithin(outAt + i * BODY, inAt + i * BODY, inAt + (i + 1) * BODY);
    all[outAt] ^= 1;
    return 0;
  }
  const b = new Uint8Array(t.buf);
  b[0] ^= 1;
  return move(t.buf);
}
`;

async function memory(): Promise<void> {
  const batch = Number(arg('batch', '256'));
  const tasks = Number(arg('tasks', '4000'));
  const dir = mkdtempSync(join(tmpdir(), 'tunnelplane-soak-'));
  const file = join(dir, 'worker.mjs');
  writeFileSync(file, WORKER_SOURCE(import.meta.resolve('piscina')));
  const pool = new Piscina({ filename: file, minThreads: 1, maxThreads: 1, stricterFIFO: true });
  const src = createRng('memory').bytes(batch * BODY);
  const slotSize = 2 * batch * BODY;
  const inflight = 4;
  const sab = new SharedArrayBuffer(slotSize * inflight);
  const slots = Array.from({ length: inflight }, (_, i) => new Uint8Array(sab, i * slotSize, slotSize));
  const buffers = Array.from({ length: inflight }, () => new ArrayBuffer(batch * BODY));
  const keep = new Uint8Array(batch * BODY * inflight);

  const runMode = async (mode: 'shared' | 'transfer' | 'transfer+keep'): Promise<[number, number]> => {
    let sum = 0;
    const one = async (lane: number): Promise<void> => {
      if (mode === 'shared') {
        const s = slots[lane]!;
        for (let i = 0; i < batch; i++) s.set(src.subarray(i * BODY, (i + 1) * BODY), i * BODY);
        await pool.run({ mode, sab, slot: lane, slotSize, count: batch });
        sum += s[batch * BODY]!; // read the output in place
      } else {
        const buf = buffers[lane]!;
        const view = new Uint8Array(buf);
        for (let i = 0; i < batch; i++) view.set(src.subarray(i * BODY, (i + 1) * BODY), i * BODY);
        if (mode === 'transfer+keep') keep.set(view, lane * batch * BODY);
        const back = (await pool.run({ mode, buf }, { transferList: [buf] })) as ArrayBuffer;
        buffers[lane] = back;
        sum += new Uint8Array(back)[0]!;
      }
    };
    const t0 = performance.now();
    const c0 = mainThreadCpu() ?? 0;
    await Promise.all(
      Array.from({ length: inflight }, async (_, lane) => {
        for (let k = lane; k < tasks; k += inflight) await one(lane);
      }),
    );
    void sum;
    return [((performance.now() - t0) * 1000) / tasks, (((mainThreadCpu() ?? 0) - c0) * 1e6) / tasks];
  };
  console.log(`memory: ${tasks} tasks of ${batch} messages, ${inflight} in flight, one worker, no crypto`);
  const results: Record<string, [number, number][]> = { shared: [], transfer: [], 'transfer+keep': [] };
  for (let round = 0; round < 5; round++) {
    for (const mode of ['shared', 'transfer', 'transfer+keep'] as const) results[mode]!.push(await runMode(mode));
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  for (const [mode, rs] of Object.entries(results)) {
    const wall = median(rs.slice(1).map((r) => r[0]));
    const cpu = median(rs.slice(1).map((r) => r[1]));
    console.log(
      `  ${mode.padEnd(14)} wall ${wall.toFixed(1)} us per batch (${((wall * 1000) / batch).toFixed(0)} ns/msg), main-thread CPU ${cpu.toFixed(1)} us per batch (${((cpu * 1000) / batch).toFixed(0)} ns/msg); medians of rounds 2-5`,
    );
  }
  await pool.destroy();
  rmSync(dir, { recursive: true, force: true });
}

if (process.argv.includes('--memory')) await memory();
else await soak();
