// router-forward: TunnelData in over NTCP2, one AES participant hop, out over NTCP2, through our router B, on
// loopback (docs/router-data-path.md), over a fixed time with a window of messages in flight. The path (A and C here,
// B in its own process so that its CPU time is its own, bodies at C checked against node:crypto) is
// src/bench/router-forward.ts, shared with `tunnelplane bench --filter router-forward`; this script adds a second,
// profiled run of B (V8 --cpu-prof, main thread and data-plane worker) that gives the share of B's CPU each step takes.
//
//   npm run build:ts && npm run bench:router-forward -- [--seconds 8] [--threads 1|inline] [--aead hybrid|core|node]
//                                                      [--window 4096] [--no-profile] [--json]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForwardPath, type HopAead } from '../src/bench/router-forward.js';
import { arg } from './argv.js';

const SECONDS = Number(arg('seconds', '8'));
const THREADS = arg('threads', '1');
const WINDOW = Number(arg('window', '4096'));
const JSON_OUT = process.argv.includes('--json');
/** B's frame AEAD: hybrid (the default: WASM frame kernel up to 4 KB, node:crypto above), core (WASM crypto core only) or node (node:crypto only). */
const AEAD = arg('aead', 'hybrid') as HopAead;
const PROFILE = !process.argv.includes('--no-profile');
const CHECK = 1000;

const threadsOpt = (): number | 'inline' => (THREADS === 'inline' ? 'inline' : Number(THREADS));

interface RunResult {
  seconds: number;
  forwarded: number;
  msgsPerSec: number;
  bCpuMs: number;
  bCpuPerMsgUs: number;
  msgsPerBCpuSecond: number;
  workerBusyMs: number;
  checked: number;
  bStats: unknown;
  /** B's clock (µs) at the start and end of the measured window. */
  window: [number, number];
}

/** A keeps WINDOW messages in flight through B to C for SECONDS after 1 s of warm-up (src/bench/router-forward.ts). */
async function oneRun(profileDir?: string): Promise<RunResult> {
  const path = await ForwardPath.start({
    layerKey: randomBytes(32),
    ivKey: randomBytes(32),
    base: randomBytes(1028),
    threads: threadsOpt(),
    aead: AEAD,
    check: CHECK,
    hopExecArgv: profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-interval', '250'] : [],
  });
  let pump: NodeJS.Timeout | undefined;
  try {
    const sendSome = () => {
      while (path.sent - path.received < WINDOW && path.sendOne());
    };
    pump = setInterval(sendSome, 1);
    await new Promise((r) => setTimeout(r, 1000));
    await path.hop.request('mark', 'marked');
    const r0 = path.received;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const seconds = (performance.now() - t0) / 1000;
    const r1 = path.received;
    clearInterval(pump);
    pump = undefined;
    const rep = (await path.close())!;
    if (path.mismatches > 0)
      throw new Error(
        `${path.mismatches} of the first ${CHECK} bodies at C differ from the node:crypto participant transform`,
      );
    if (path.received < CHECK) throw new Error(`only ${path.received} bodies reached C`);
    const forwarded = rep.forwarded as number;
    const bCpuMs = rep.cpuMs as number;
    return {
      seconds,
      forwarded,
      msgsPerSec: (r1 - r0) / seconds,
      bCpuMs,
      bCpuPerMsgUs: (bCpuMs * 1000) / forwarded,
      msgsPerBCpuSecond: forwarded / (bCpuMs / 1000),
      workerBusyMs: (rep.workers as { busyMs: number }[]).reduce((x, w) => x + w.busyMs, 0),
      checked: CHECK,
      bStats: rep.stats,
      window: [rep.markUs as number, rep.stopUs as number],
    };
  } finally {
    if (pump) clearInterval(pump);
    if (path.hop.child.exitCode === null) await path.close().catch(() => undefined);
  }
}

// ------------------------------------------------------------------ CPU profile: share per step

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * A sample counts for the first step (in this order) that any function on its stack names, so WASM and native code
 * count for the TypeScript step that called them, and a copy inside push() counts as push, not as data plane code.
 */
const STEPS: [string, (fn: string, url: string) => boolean][] = [
  ['idle', (fn) => fn === '(idle)'],
  ['GC', (fn) => fn === '(garbage collector)'],
  [
    'frame open (ChaCha20-Poly1305 + SipHash length)',
    (fn, url) => (fn === 'open' || fn === 'readLength') && url.endsWith('ntcp2/frames.js'),
  ],
  [
    'frame seal (ChaCha20-Poly1305 + SipHash length)',
    (fn, url) => fn === 'sealInto' && url.endsWith('ntcp2/frames.js'),
  ],
  [
    'data plane push (copy in; a full batch is sealed into its slot and posted)',
    (fn, url) => fn === 'push' && url.endsWith('dataplane/data-plane.js'),
  ],
  ['AES layer (engine)', (_fn, url) => /\/tunnel\/[a-z-]+\.js$/.test(url) || url.endsWith('dataplane/batch-runner.js')],
  [
    'waiting for a task (piscina, Atomics.wait)',
    (fn, url) => fn === 'wait' || (url.includes('piscina') && url.includes('worker')),
  ],
  ['socket write (syscalls, loopback TCP)', (fn) => fn === 'writev' || fn === 'writeBuffer' || fn === 'writeGeneric'],
  [
    'output to session queues (copy out, sendI2np)',
    (fn, url) => (fn === 'onOutput' && url.endsWith('router/router.js')) || fn === 'sendI2np',
  ],
  [
    'data plane hand-off (seal batch, post task, take results)',
    (_fn, url) => /dataplane\/(data-plane|grouping|slots|replay-journal)\.js$/.test(url) || url.includes('piscina'),
  ],
  ['frame build (I2NP blocks into the frame)', (fn, url) => fn === 'flush' && url.endsWith('ntcp2/session.js')],
  ['I2NP dispatch and block parse', (_fn, url) => url.endsWith('ntcp2/blocks.js') || url.endsWith('router/router.js')],
  [
    'receive buffer and socket read',
    (_fn, url) =>
      url.endsWith('ntcp2/recv-buffer.js') ||
      url.endsWith('ntcp2/session.js') ||
      url.includes('node:internal/stream') ||
      url.includes('node:net'),
  ],
];

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** CPU ms per step over the samples taken inside [from, to] (µs, V8's clock): startup and shutdown left out. */
function shares(p: Profile, from: number, to: number): Record<string, number> {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const rank = new Map<number, number>();
  const rankOf = (id: number): number => {
    const hit = rank.get(id);
    if (hit !== undefined) return hit;
    const n = byId.get(id)!;
    const own = STEPS.findIndex(([, m]) => m(n.callFrame.functionName, n.callFrame.url));
    const up = parent.has(id) ? rankOf(parent.get(id)!) : STEPS.length;
    const r = Math.min(own < 0 ? STEPS.length : own, up);
    rank.set(id, r);
    return r;
  };
  const classify = (id: number): string => STEPS[rankOf(id)]?.[0] ?? 'other (event loop, timers, native)';
  const t: Record<string, number> = {};
  let at = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    at += p.timeDeltas[i] ?? 0;
    const d = (p.timeDeltas[i + 1] ?? 0) / 1000; // a sample stands for the interval up to the next one
    if (at < from || at > to) continue;
    const s = classify(p.samples[i]!);
    t[s] = (t[s] ?? 0) + d;
  }
  return t;
}

async function main(): Promise<void> {
  const plain = await oneRun();
  if (!PROFILE) {
    const r = { date: new Date().toISOString(), threads: THREADS, aead: AEAD, loadAverage: loadavg()[0], plain };
    if (JSON_OUT) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    else
      console.log(
        `router-forward B threads=${THREADS} aead=${AEAD}: ${Math.round(plain.msgsPerSec)} msg/s, ${plain.bCpuPerMsgUs.toFixed(2)} us of B's CPU per message (${Math.round(plain.msgsPerBCpuSecond)} msg per CPU-second), load ${loadavg()[0]!.toFixed(1)}`,
      );
    return;
  }
  const profDir = mkdtempSync(join(tmpdir(), 'tp-router-forward-prof-'));
  const profiled = await oneRun(profDir);
  const files = readdirSync(profDir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort();
  // CPU.<date>.<pid>.<threadId>.<seq>.cpuprofile: thread 0 is B's main thread, the others its data-plane worker(s)
  const threads = files.map((f) => {
    const tid = Number(f.split('.')[4]);
    return {
      thread: tid === 0 ? 'main' : `worker ${tid}`,
      steps: shares(JSON.parse(readFileSync(join(profDir, f), 'utf8')) as Profile, ...profiled.window),
    };
  });
  rmSync(profDir, { recursive: true, force: true });
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    loadAverage: loadavg()[0],
    threads: THREADS,
    aead: AEAD,
    window: WINDOW,
    plain,
    profiled: { msgsPerSec: profiled.msgsPerSec, bCpuPerMsgUs: profiled.bCpuPerMsgUs },
    cpuMsByThreadAndStep: threads,
  };
  if (JSON_OUT) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return;
  }
  const f = (n: number) => Math.round(n).toLocaleString('en');
  console.log(
    `router-forward (B: data plane threads=${THREADS}, frame AEAD ${AEAD}; window ${WINDOW}; load ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores)`,
  );
  console.log(
    `  through B: ${f(plain.msgsPerSec)} msg/s over ${plain.seconds.toFixed(1)} s; B used ${f(plain.bCpuMs)} ms CPU for ${f(plain.forwarded)} messages`,
  );
  console.log(
    `  = ${plain.bCpuPerMsgUs.toFixed(2)} us of B's CPU per message = ${f(plain.msgsPerBCpuSecond)} msg per CPU-second; data-plane worker busy ${f(plain.workerBusyMs)} ms`,
  );
  console.log(`  first ${plain.checked} bodies at C match the node:crypto participant transform`);
  console.log(
    `  profiled run: ${f(profiled.msgsPerSec)} msg/s, ${profiled.bCpuPerMsgUs.toFixed(2)} us/msg; B's CPU by step (ms, share of that thread's busy time):`,
  );
  for (const th of threads) {
    const notBusy = (k: string) => k === 'idle' || k.startsWith('waiting');
    const busy = Object.entries(th.steps)
      .filter(([k]) => !notBusy(k))
      .reduce((x, [, v]) => x + v, 0);
    console.log(`  ${th.thread}: busy ${f(busy)} ms (idle and task waits left out)`);
    for (const [k, v] of Object.entries(th.steps)
      .filter(([k2]) => !notBusy(k2))
      .sort((x, y) => y[1] - x[1])) {
      console.log(`    ${k.padEnd(52)} ${f(v).padStart(7)}  ${((100 * v) / busy).toFixed(1).padStart(5)} %`);
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
