// router-forward: TunnelData in over NTCP2, one AES participant hop, out over NTCP2, through our router B, on
// loopback (docs/router-data-path.md). A and C run in this process; B runs in a child process so that its CPU time
// is its own: the figure that matters is messages per second through B and B's CPU seconds per message (one core =
// 1 CPU second per second). A second, profiled run of B (V8 --cpu-prof, main thread and data-plane worker) gives the
// share of B's CPU each step takes. The first 1000 bodies at C are checked against an independent node:crypto
// computation of the participant transform (tunnel-crypto-aes.md §2).
//
//   npm run build:ts && npm run bench:router-forward -- [--seconds 8] [--threads 1|inline] [--aead hybrid|core|node]
//                                                      [--window 4096] [--no-profile] [--json]
import { spawn } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRouter, type Router } from '../src/router/router.js';
import { coreFrameAead, defaultFrameAead, nodeFrameAead, type FrameAead } from '../src/transport/ntcp2/frames.js';
import { arg } from './argv.js';

const ROLE = arg('role', 'main');
const SECONDS = Number(arg('seconds', '8'));
const THREADS = arg('threads', '1');
const WINDOW = Number(arg('window', '4096'));
const JSON_OUT = process.argv.includes('--json');
/** B's frame AEAD: hybrid (the default: WASM frame kernel up to 4 KB, node:crypto above), core (WASM crypto core only) or node (node:crypto only). */
const AEAD = arg('aead', 'hybrid');
const PROFILE = !process.argv.includes('--no-profile');
const RECEIVE = 0x2000_0001;
const NEXT = 0x3000_0002;

const threadsOpt = (): number | 'inline' => (THREADS === 'inline' ? 'inline' : Number(THREADS));

// ------------------------------------------------------------------ B (child process)

async function runB(): Promise<void> {
  const cfg = JSON.parse(arg('config', '{}')) as { dir: string; peer: string; layerKey: string; ivKey: string };
  const aeads: Record<string, () => FrameAead> = {
    hybrid: () => defaultFrameAead(),
    core: () => coreFrameAead(),
    node: () => nodeFrameAead,
  };
  const frameAead = aeads[AEAD]?.();
  if (!frameAead) throw new Error(`--aead must be hybrid, core or node, not ${AEAD}`);
  // Forwarding only: no tunnel side (its pools would build through A and C during the measurement).
  const b = createRouter({
    dataDir: cfg.dir,
    port: 0,
    dataPlane: { threads: threadsOpt() },
    frameAead,
    tunnels: false,
  });
  const ready = await b.start();
  const c = b.addPeerFile(cfg.peer);
  b.dataPlane.join({
    role: 'participant',
    layer: 'aes',
    receiveTunnelId: RECEIVE,
    nextTunnelId: NEXT,
    nextHop: c.id,
    layerKey: Buffer.from(cfg.layerKey, 'hex'),
    ivKey: Buffer.from(cfg.ivKey, 'hex'),
  });
  let cpu0 = process.cpuUsage();
  let t0 = performance.now();
  let in0 = 0;
  let markUs = 0;
  const nowUs = () => Number(process.hrtime.bigint() / 1000n); // the clock of V8's profile timestamps
  process.stdin.setEncoding('utf8').on('data', (line: string) => {
    if (line.startsWith('mark')) {
      cpu0 = process.cpuUsage();
      t0 = performance.now();
      in0 = b.stats().i2npIn['18'] ?? 0;
      markUs = nowUs();
      process.stdout.write(JSON.stringify({ marked: true }) + '\n');
    } else if (line.startsWith('stop')) {
      const cpu = process.cpuUsage(cpu0);
      const wall = performance.now() - t0;
      const s = b.stats();
      const plane = b.dataPlane.stats();
      process.stdout.write(
        JSON.stringify({
          cpuMs: (cpu.user + cpu.system) / 1000,
          wallMs: wall,
          markUs,
          stopUs: nowUs(),
          forwarded: (s.i2npIn['18'] ?? 0) - in0,
          stats: s,
          workers: plane.workers.map((w) => ({
            busyMs: w.busyMs,
            batches: w.batches,
            messages: w.messages,
            tasks: w.tasks,
          })),
        }) + '\n',
      );
      b.stop(1000).then(
        () => process.exit(0),
        (e: unknown) => {
          console.error(e);
          process.exit(1);
        },
      );
    }
  });
  process.stdout.write(JSON.stringify({ routerInfo: ready.routerInfo }) + '\n');
}

// ------------------------------------------------------------------ main: A sends, C receives

function aesEcb(key: Uint8Array, block: Uint8Array): Buffer {
  const c = createCipheriv('aes-256-ecb', key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

/** Participant transform with node:crypto only (tunnel-crypto-aes.md §2): independent of src/tunnel/. */
function expectedAtC(body: Uint8Array, layerKey: Uint8Array, ivKey: Uint8Array): Buffer {
  const x = aesEcb(ivKey, body.subarray(4, 20));
  const cbc = createCipheriv('aes-256-cbc', layerKey, x);
  cbc.setAutoPadding(false);
  const data = Buffer.concat([cbc.update(body.subarray(20)), cbc.final()]);
  const out = Buffer.alloc(1028);
  out.writeUInt32BE(NEXT, 0);
  aesEcb(ivKey, x).copy(out, 4);
  data.copy(out, 20);
  return out;
}

interface Line {
  [k: string]: unknown;
}

function childB(dir: string, peer: string, keys: { layerKey: Buffer; ivKey: Buffer }, profileDir?: string) {
  const self = fileURLToPath(import.meta.url);
  const args = [
    ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir, '--cpu-prof-interval', '250'] : []),
    self,
    '--role',
    'b',
    '--threads',
    THREADS,
    '--aead',
    AEAD,
    '--config',
    JSON.stringify({ dir, peer, layerKey: keys.layerKey.toString('hex'), ivKey: keys.ivKey.toString('hex') }),
  ];
  const p = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: Line[] = [];
  let buf = '';
  p.stdout.setEncoding('utf8').on('data', (c: string) => {
    buf += c;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buf.slice(0, nl)) as Line);
      buf = buf.slice(nl + 1);
    }
  });
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  const next = async (key: string, ms = 20_000): Promise<Line> => {
    const end = Date.now() + ms;
    for (;;) {
      const i = lines.findIndex((l) => key in l);
      if (i >= 0) return lines.splice(i, 1)[0]!;
      if (Date.now() > end) throw new Error(`B did not report ${key}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { p, next, exited };
}

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

async function oneRun(profileDir?: string): Promise<RunResult> {
  const root = mkdtempSync(join(tmpdir(), 'tp-router-forward-'));
  const routers: Router[] = [];
  try {
    const a = createRouter({ dataDir: join(root, 'a'), port: 0, dataPlane: { threads: 'inline' }, tunnels: false });
    const c = createRouter({ dataDir: join(root, 'c'), port: 0, dataPlane: { threads: 'inline' }, tunnels: false });
    routers.push(a, c);
    await a.start();
    const cReady = await c.start();
    const keys = { layerKey: randomBytes(32), ivKey: randomBytes(32) };
    const b = childB(join(root, 'b'), cReady.routerInfo, keys, profileDir);
    const bRi = (await b.next('routerInfo')).routerInfo as string;
    const bPeer = a.addPeerFile(bRi);
    await a.connect(bPeer.identHash);

    // Distinct bodies: a random base with a counter in the IV, so B's replay filter passes every one.
    const base = randomBytes(1028);
    base.writeUInt32BE(RECEIVE, 0);
    const CHECK = 1000;
    const firstSent: Buffer[] = [];
    let received = 0;
    let mismatches = 0;
    c.handle(18, (m) => {
      if (received < CHECK && !expectedAtC(firstSent[received]!, keys.layerKey, keys.ivKey).equals(m.body))
        mismatches++;
      received++;
    });
    let sent = 0;
    const sendSome = () => {
      while (sent - received < WINDOW) {
        const body = Buffer.allocUnsafe(1028);
        base.copy(body);
        body.writeUInt32BE(sent >>> 0, 4);
        body.writeUInt32BE((sent / 2 ** 32) >>> 0, 8);
        if (sent < CHECK) firstSent.push(Buffer.from(body));
        if (!a.send(bPeer.identHash, 18, body)) break;
        sent++;
      }
    };
    // warm up 1 s, then measure
    const pump = setInterval(sendSome, 1);
    await new Promise((r) => setTimeout(r, 1000));
    b.p.stdin.write('mark\n');
    await b.next('marked');
    const r0 = received;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    const seconds = (performance.now() - t0) / 1000;
    const r1 = received;
    b.p.stdin.write('stop\n');
    const rep = await b.next('cpuMs');
    clearInterval(pump);
    await b.exited;
    if (mismatches > 0)
      throw new Error(
        `${mismatches} of the first ${CHECK} bodies at C differ from the node:crypto participant transform`,
      );
    if (received < CHECK) throw new Error(`only ${received} bodies reached C`);
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
    await Promise.all(routers.map((r) => r.stop(500)));
    rmSync(root, { recursive: true, force: true });
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

if (ROLE === 'b') void runB();
else
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
