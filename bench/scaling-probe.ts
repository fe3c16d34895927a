// Two-thread scaling probe for the AES hop (issue 6: "2 workers >= 1.7x one worker"). Not part of `tunnelplane bench`.
//
//   node dist/bench/scaling-probe.js [--kinds a,b,...] [--threads 1,2] [--batch 256] [--tunnels 64] [--time 2000]
//
// Runs the same loop in 1 and in 2 plain worker threads (no data plane, no messaging while timed) and prints the
// per-thread and total rates, the 2-thread / 1-thread ratio, and where the process spent CPU while the loops ran
// (from /proc/self/task: the loop threads vs everything else -- V8 platform threads doing GC work, libuv, main), so a
// loop that "does not scale" because it leans on background threads shows as CPU outside the loop threads.
// Kinds:
//   engine-wasm / engine-node / engine-hybrid   LayerEngine AES participant hop with that backend (each thread its
//                                               own engine, replay filter and tunnels; `batch` per call)
//   engine-chacha                               LayerEngine ChaCha participant hop (pure WASM): control
//   node-cbc                                    node:crypto aes-256-cbc, one long-lived cipher, one update() per
//                                               1008-byte message: no cipher creation at all: control
//   node-cbc-batch                              the same with one update() for the whole batch (fewer result Buffers)
//   node-create                                 createCipheriv('aes-256-ecb') + update per message (cipher creation)
import { createCipheriv } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { LayerEngine } from '../src/tunnel/engine.js';
import { chachaAeadSeal } from '../src/tunnel/chacha-layer.js';
import { createReplayFilterBuffer } from '../src/tunnel/replay-filter.js';
import { createRng } from './random.js';
import { arg } from './argv.js';

const BODY = 1028;

interface Job {
  kind: string;
  batch: number;
  tunnels: number;
  timeMs: number;
  seed: number;
}

type Loop = () => number; // one round; returns messages done

function makeLoop(job: Job): Loop {
  const rng = createRng(`scaling-probe/${job.seed}`);
  const n = job.batch;
  const bodies = rng.bytes(n * BODY);
  if (job.kind.startsWith('engine-')) {
    const chacha = job.kind === 'engine-chacha';
    const backend = chacha ? 'auto' : (job.kind.slice(7) as 'wasm' | 'node' | 'hybrid');
    const engine = new LayerEngine({ backend, replayFilter: createReplayFilterBuffer({ messagesPerSecond: 5000 }) });
    const aead: Uint8Array[] = [];
    for (let t = 0; t < job.tunnels; t++) {
      const k = rng.bytes(32);
      aead.push(k);
      engine.join({
        role: 'participant', layer: chacha ? 'chacha' : 'aes', receiveTunnelId: 1 + t, nextTunnelId: 1 + t, nextHop: 7,
        layerKey: rng.bytes(32), ivKey: rng.bytes(32), ...(chacha ? { inAeadKey: k, outAeadKey: k } : {}),
      });
    }
    for (let i = 0; i < n; i++) {
      const t = i % job.tunnels;
      new DataView(bodies.buffer, i * BODY, 4).setUint32(0, 1 + t);
      if (chacha) chachaAeadSeal(bodies.subarray(i * BODY, (i + 1) * BODY), aead[t]!);
    }
    const batch = {
      count: n, bodies, prevHops: new Uint32Array(n), status: new Uint8Array(n),
      nextHops: new Uint32Array(n), nextTunnelIds: new Uint32Array(n),
    };
    return () => {
      const ok = engine.processReceived(batch);
      if (ok !== n) throw new Error(`${job.kind}: ${ok} of ${n} ok`);
      return n;
    };
  }
  const key = rng.bytes(32);
  if (job.kind === 'node-cbc' || job.kind === 'node-cbc-batch') {
    const c = createCipheriv('aes-256-cbc', key, new Uint8Array(16)).setAutoPadding(false);
    if (job.kind === 'node-cbc-batch') {
      return () => {
        const out = c.update(bodies.subarray(0, n * 1008));
        bodies[0] ^= out[0]!;
        return n;
      };
    }
    return () => {
      for (let i = 0; i < n; i++) {
        const d = i * BODY + 20;
        const out = c.update(bodies.subarray(d, d + 1008));
        bodies[d] ^= out[0]!;
      }
      return n;
    };
  }
  if (job.kind === 'node-create') {
    return () => {
      for (let i = 0; i < n; i++) {
        const d = i * BODY + 4;
        const out = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false).update(bodies.subarray(d, d + 16));
        bodies[d] ^= out[0]!;
      }
      return n;
    };
  }
  throw new Error(`unknown kind ${job.kind}`);
}

/** Builds and warms the loop (300 ms), then reports ready. */
function warmJob(job: Job): Loop {
  const loop = makeLoop(job);
  const warm = performance.now() + 300;
  while (performance.now() < warm) loop();
  parentPort!.postMessage({ ready: true });
  return loop;
}

/** utime+stime (clock ticks) and name of every thread of this process. */
function threadTimes(): Map<string, { name: string; ticks: number }> {
  const out = new Map<string, { name: string; ticks: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, { name, ticks: Number(f[11]) + Number(f[12]) });
    } catch { /* thread gone */ }
  }
  return out;
}

async function measure(job: Job, threads: number): Promise<{ rates: number[]; loopCpu: number; otherCpu: number; wallS: number }> {
  const workers: Worker[] = [];
  const ready: Promise<void>[] = [];
  const before0 = new Set(readdirSync('/proc/self/task'));
  for (let t = 0; t < threads; t++) {
    const w = new Worker(new URL(import.meta.url), { workerData: { ...job, seed: job.seed + t } });
    workers.push(w);
    ready.push(new Promise((resolve, reject) => {
      w.once('error', reject);
      w.once('message', () => resolve());
    }));
  }
  await Promise.all(ready); // every thread warmed up and waiting
  const loopTids = [...readdirSync('/proc/self/task')].filter((t) => !before0.has(t));
  const t0 = threadTimes();
  const start = performance.now();
  const done = workers.map((w) => new Promise<{ messages: number; ms: number }>((resolve, reject) => {
    w.once('error', reject);
    w.once('message', (m) => resolve(m));
  }));
  for (const w of workers) w.postMessage({ go: true });
  const res = await Promise.all(done);
  const wallS = (performance.now() - start) / 1000;
  const t1 = threadTimes();
  for (const w of workers) await w.terminate();
  // Which new threads are the loop threads: each worker's JS thread burns ~all of the interval; the rest of the
  // new threads (and old ones) are helpers.
  let loopCpu = 0, otherCpu = 0;
  const deltas: { tid: string; name: string; d: number }[] = [];
  for (const [tid, v] of t1) {
    const d = (v.ticks - (t0.get(tid)?.ticks ?? 0)) / 100;
    if (d > 0) deltas.push({ tid, name: v.name, d });
  }
  deltas.sort((a, b) => b.d - a.d);
  const newOnes = deltas.filter((x) => loopTids.includes(x.tid)).slice(0, threads).map((x) => x.tid);
  for (const x of deltas) if (newOnes.includes(x.tid)) loopCpu += x.d; else otherCpu += x.d;
  if (process.argv.includes('--threads-detail')) {
    console.log('    ' + deltas.slice(0, 8).map((x) => `${x.name}:${x.d.toFixed(2)}s`).join(' '));
  }
  return { rates: res.map((r) => r.messages / (r.ms / 1000)), loopCpu, otherCpu, wallS };
}

const k = (x: number): string => `${(x / 1000).toFixed(1)}k`;

async function main(): Promise<void> {
  const kinds = arg('kinds', 'engine-chacha,node-cbc,node-cbc-batch,node-create,engine-wasm,engine-node,engine-hybrid').split(',');
  const threadCounts = arg('threads', '1,2').split(',').map(Number);
  const batch = Number(arg('batch', '256'));
  const tunnels = Number(arg('tunnels', '64'));
  const timeMs = Number(arg('time', '2000'));
  const rounds = Number(arg('rounds', '1'));
  console.log(`scaling probe: batch ${batch}, tunnels ${tunnels}, ${timeMs} ms per measurement, node ${process.version}, ` +
    `openssl ${process.versions.openssl}, load ${(await import('node:os')).loadavg()[0]!.toFixed(2)}`);
  console.log('kind             threads  per-thread msg/s          total      2/1    loop-thread CPU  other CPU (s per s)  CPU us/msg');
  for (let r = 0; r < rounds; r++) {
    for (const kind of kinds) {
      let one = 0;
      for (const threads of threadCounts) {
        const m = await measure({ kind, batch, tunnels, timeMs, seed: 1 }, threads);
        const total = m.rates.reduce((a, b) => a + b, 0);
        if (threads === 1) one = total;
        console.log(`${kind.padEnd(16)} ${String(threads).padStart(7)}  ${m.rates.map(k).join(' ').padEnd(24)} ${k(total).padStart(8)}  ` +
          `${threads > 1 && one ? (total / one).toFixed(2) + 'x' : '     '}  ${(m.loopCpu / m.wallS).toFixed(2).padStart(15)}  ${(m.otherCpu / m.wallS).toFixed(2).padStart(9)}  ${((m.loopCpu + m.otherCpu) / m.wallS / total * 1e6).toFixed(2).padStart(19)}`);
      }
    }
  }
}

if (isMainThread) {
  await main();
} else {
  const job = workerData as Job;
  const loop = warmJob(job);
  parentPort!.once('message', () => {
    let messages = 0;
    const start = performance.now();
    const end = start + job.timeMs;
    let now = start;
    while (now < end) {
      messages += loop();
      now = performance.now();
    }
    parentPort!.postMessage({ messages, ms: now - start });
  });
}
