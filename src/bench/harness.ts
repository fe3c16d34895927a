// The benchmark harness: selects workloads, validates every implementation against the others on the same seeded
// input, times them with tinybench, measures the hardware ceiling with openssl, and returns one report object.
// Presentation lives elsewhere (report.ts: table and JSON, chart.ts: SVG); the CLI is src/cli/bench.ts.
import { readFileSync, existsSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { createRng } from './random.js';
import { measureCeiling, opensslVersion, CEILING_BYTES } from './openssl.js';
import {
  Unavailable,
  type CeilingAlgorithm,
  type ImplId,
  type RunContext,
  type Runner,
  type ThreadCount,
  type Workload,
} from './types.js';

// ----- the report object (`--json` writes exactly this) ---------------------------------------------------------

export interface ResultRow {
  workload: string;
  impl: ImplId;
  /** Messages per run() (one batch). */
  batch: number;
  threads: number;
  msgsPerSec: number;
  mbPerSec: number;
  /** Relative margin of error of the mean time per batch, in percent (95 %). */
  rme: number;
  /** Timed runs (tinybench samples). */
  samples: number;
  /** The runner's own figures (Runner.figures), where it has some. */
  figures?: Record<string, number>;
}

export interface CeilingRow {
  workload: string;
  /** Messages/s on one core by OpenSSL EVP, or null where it was not measured (see `source`). */
  msgsPerSec: number | null;
  source: string;
}

export interface Report {
  tool: string;
  version: string;
  date: string;
  machine: { cpu: string; cores: number; node: string; openssl: string | null };
  results: ResultRow[];
  ceiling: CeilingRow[];
}

// ----- what a run tells its caller besides the report ------------------------------------------------------------

/** Something that makes the run fail (non-zero exit): a validation mismatch, an implementation error. */
export interface Problem {
  workload: string;
  impl?: ImplId;
  message: string;
}

/** An implementation that cannot run here (reported, not a failure). */
export interface Skip {
  workload: string;
  impl: ImplId;
  reason: string;
}

export interface Outcome {
  report: Report;
  problems: Problem[];
  skips: Skip[];
  /** Workloads run, in order (for the report's descriptions and bytes per message). */
  workloads: Workload<any>[];
  /** Human-readable remarks (ceiling not measured, modules missing, ...). */
  notes: string[];
  /** Wall time of the whole run in ms. */
  elapsedMs: number;
}

export interface Progress {
  /** 'ceiling': openssl speed is running; 'validate': setup and the compared first run; 'time': tinybench. */
  phase: 'ceiling' | 'validate' | 'time';
  done: number;
  total: number;
  workload: string;
  impl: ImplId;
  batch: number;
  threads: number;
  elapsedMs: number;
  /** Estimated ms until the end, or undefined before the first task has finished. */
  etaMs: number | undefined;
}

export interface HarnessOptions {
  /** Workloads to consider (the registry's, normally). */
  workloads: readonly Workload<any>[];
  quick?: boolean;
  /** Keeps a workload when it matches its id, else the implementations whose `workload/impl` it matches. */
  filter?: RegExp;
  /** The N of thread count 'max' (default os.availableParallelism()). */
  threads?: number;
  /** Per-task time budget in ms (default: 500 full; quick: spread over ~25 s, 40..250). */
  timeMs?: number;
  /** Per-task warmup budget in ms (default: timeMs / 4). */
  warmupMs?: number;
  /** Minimum timed runs per task (default 32 full, 8 quick). */
  iterations?: number;
  /**
   * Timing rounds (default 3 full, 1 quick). The implementations of a workload and batch are timed in turn, round
   * after round, each round with timeMs / rounds, and a row reports the median round: a slow spell of the machine
   * (other tenants, frequency changes) then hits every implementation of a comparison alike instead of the one that
   * happened to be running, so ratios measured in one run hold up.
   */
  rounds?: number;
  /** Measure the ceiling with openssl (default true); tests pass false. */
  ceiling?: boolean;
  /** Seconds per `openssl speed` algorithm (default 3 full, 1 quick). */
  ceilingSeconds?: number;
  /** How long the first (validated) run of an async implementation may take (default 60 s). */
  firstRunTimeoutMs?: number;
  /** The openssl binary (default 'openssl' on PATH). */
  opensslBinary?: string;
  onProgress?: (p: Progress) => void;
  /** Notes as they happen (ceiling measured, implementation skipped, ...). */
  onNote?: (msg: string) => void;
}

const QUICK_TARGET_MS = 25_000;
/** A pool implementation whose first batch never completes must not hang the whole run. */
const FIRST_RUN_TIMEOUT_MS = 60_000;

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export function toolVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'tunnelplane') return pkg.version ?? '0.0.0';
    }
    dir = dirname(dir);
  }
  return '0.0.0';
}

export function machineInfo(opensslBinary = 'openssl'): Report['machine'] {
  const list = cpus();
  return {
    cpu: list[0]?.model?.trim() || 'unknown',
    cores: availableParallelism(),
    node: process.version,
    openssl: opensslVersion(opensslBinary),
  };
}

/** Batches of a workload for this run. */
export function batchesOf(w: Workload<any>, quick: boolean): number[] {
  if (!quick) return [...w.batches];
  if (w.quickBatches && w.quickBatches.length > 0) return [...w.quickBatches];
  const small = w.batches.filter((b) => b <= 64);
  return [small.length > 0 ? Math.max(...small) : Math.min(...w.batches)];
}

/** Resolved thread counts of a workload for this run. */
export function threadsOf(w: Workload<any>, quick: boolean, max: number): number[] {
  const list: readonly ThreadCount[] = (quick ? (w.quickThreads ?? w.threads) : w.threads) ?? [1];
  const out: number[] = [];
  for (const t of list) {
    const n = t === 'max' ? max : t;
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

/** The implementations of a workload this run keeps, in declaration order. */
export function selectImpls(w: Workload<any>, filter: RegExp | undefined): ImplId[] {
  const ids = Object.keys(w.impls).filter((id) => w.impls[id] !== undefined);
  if (!filter || test(filter, w.id)) return ids;
  return ids.filter((id) => test(filter, `${w.id}/${id}`));
}

function test(re: RegExp, s: string): boolean {
  re.lastIndex = 0;
  return re.test(s);
}

/** Workloads (with their kept implementations) a filter selects. */
export function selectWorkloads(
  workloads: readonly Workload<any>[],
  filter: RegExp | undefined,
): { workload: Workload<any>; impls: ImplId[] }[] {
  return workloads.map((w) => ({ workload: w, impls: selectImpls(w, filter) })).filter((s) => s.impls.length > 0);
}

/** Describes where two outputs first differ. */
function firstDifference(a: Uint8Array, b: Uint8Array, bytesPerMessage: number): string {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  const where =
    i < n
      ? `first difference at byte ${i} (message ${Math.floor(i / bytesPerMessage)}, offset ${i % bytesPerMessage})`
      : 'one output is a prefix of the other';
  return a.length !== b.length ? `lengths ${a.length} vs ${b.length}, ${where}` : where;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function closeAll(runners: Iterable<Runner>): Promise<void> {
  for (const r of runners) {
    try {
      await r.close?.();
    } catch {
      // A failing close must not hide the result; the implementation's tests cover it.
    }
  }
}

/** Runs the benchmark and returns the report. Never throws for a workload's failure: see `problems`. */
export async function runBench(opts: HarnessOptions): Promise<Outcome> {
  const started = performance.now();
  const date = new Date().toISOString();
  const quick = opts.quick ?? false;
  const maxThreads = opts.threads ?? availableParallelism();
  const notes: string[] = [];
  const problems: Problem[] = [];
  const skips: Skip[] = [];
  const note = (msg: string) => {
    notes.push(msg);
    opts.onNote?.(msg);
  };
  const selected = selectWorkloads(opts.workloads, opts.filter);
  const machine = machineInfo(opts.opensslBinary);

  // --- ceiling first, while nothing else runs ---
  const ceiling: CeilingRow[] = [];
  // One openssl run per (algorithm, bytes per operation).
  const wanted = new Map<string, { algorithm: CeilingAlgorithm; bytes: number }>();
  const keyOf = (c: { algorithm: CeilingAlgorithm; bytes?: number }) => `${c.algorithm}@${c.bytes ?? CEILING_BYTES}`;
  for (const s of selected) {
    const c = s.workload.ceiling;
    if (c) wanted.set(keyOf(c), { algorithm: c.algorithm, bytes: c.bytes ?? CEILING_BYTES });
  }
  const rates = new Map<string, { opsPerSec: number; command: string } | { error: string }>();
  if (wanted.size > 0) {
    if (opts.ceiling === false) {
      for (const k of wanted.keys()) rates.set(k, { error: 'not measured (ceiling disabled for this run)' });
    } else if (machine.openssl === null) {
      note('no openssl binary on PATH: the hardware ceiling is not measured in this run');
      for (const k of wanted.keys()) rates.set(k, { error: 'not measured: no openssl binary on PATH' });
    } else {
      const seconds = opts.ceilingSeconds ?? (quick ? 1 : 3);
      for (const [k, { algorithm: a, bytes }] of wanted) {
        opts.onProgress?.({
          phase: 'ceiling',
          done: 0,
          total: 0,
          workload: a,
          impl: 'openssl',
          batch: 1,
          threads: 1,
          elapsedMs: performance.now() - started,
          etaMs: undefined,
        });
        const r = measureCeiling(a, seconds, opts.opensslBinary, bytes);
        if ('error' in r) note(`ceiling for ${a} (${bytes}-byte ops) not measured: ${r.error}`);
        rates.set(k, r);
      }
    }
  }
  for (const s of selected) {
    const c = s.workload.ceiling;
    if (!c) continue;
    const r = rates.get(keyOf(c))!;
    const per = c.opsPerMessage ?? 1;
    if ('error' in r) {
      ceiling.push({ workload: s.workload.id, msgsPerSec: null, source: r.error });
    } else {
      const perText = per === 1 ? '' : `, ${per} ops per message`;
      ceiling.push({
        workload: s.workload.id,
        msgsPerSec: r.opsPerSec / per,
        source: `${r.command} (${machine.openssl}, 1 core, ${c.bytes ?? CEILING_BYTES}-byte ops${perText})`,
      });
    }
  }

  // --- plan: one task per (workload, batch, threads, impl) ---
  interface Config {
    batch: number;
    threads: number;
  }
  const plans = selected.map((s) => {
    const configs: Config[] = [];
    for (const threads of threadsOf(s.workload, quick, maxThreads)) {
      for (const batch of batchesOf(s.workload, quick)) configs.push({ batch, threads });
    }
    return { ...s, configs };
  });
  const total = plans.reduce((n, p) => n + p.configs.length * p.impls.length, 0);
  let done = 0;
  const timedStart = performance.now();
  const budget = (): { time: number; warmup: number } => {
    let time = opts.timeMs;
    if (time === undefined) {
      if (quick) {
        const left = QUICK_TARGET_MS - (performance.now() - timedStart);
        time = Math.min(250, Math.max(40, (0.8 * left) / Math.max(1, total - done)));
      } else {
        time = 500;
      }
    }
    return { time, warmup: opts.warmupMs ?? Math.max(10, time / 4) };
  };
  const progress = (phase: Progress['phase'], workload: string, impl: ImplId, c: Config) => {
    const elapsedMs = performance.now() - started;
    const timed = performance.now() - timedStart;
    opts.onProgress?.({
      phase,
      done,
      total,
      workload,
      impl,
      batch: c.batch,
      threads: c.threads,
      elapsedMs,
      etaMs: done > 0 ? (timed / done) * (total - done) : undefined,
    });
  };

  const results: ResultRow[] = [];
  const ran: Workload<any>[] = [];
  // A task is settled once: timed, or known never to run (its implementation failed, or its workload aborted).
  const settled = new Set<string>();
  const settle = (wid: string, ci: number, id: ImplId): void => {
    const key = `${wid}\u0000${ci}\u0000${id}`;
    if (settled.has(key)) return;
    settled.add(key);
    done++;
  };
  interface Prepared {
    c: Config;
    ci: number;
    runners: Map<ImplId, Runner>;
    isAsync: Map<ImplId, boolean>;
  }
  for (const plan of plans) {
    const w = plan.workload;
    ran.push(w);
    const implsLeft = new Set(plan.impls);
    const failed = new Set<ImplId>();
    const settleImpl = (id: ImplId): void => {
      for (let j = 0; j < plan.configs.length; j++) settle(w.id, j, id);
    };
    const rows: { ci: number; row: ResultRow }[] = [];
    let aborted = false;
    // Configurations of one batch size (a workload's thread counts) are set up together and timed in the same
    // rounds, like the implementations of one configuration: the ratio of 2 workers to 1 then comes from the same
    // minutes of a machine whose speed drifts.
    const batchOrder = [...new Set(plan.configs.map((c) => c.batch))];
    for (const batch of batchOrder) {
      const group = plan.configs.map((c, ci) => ({ c, ci })).filter((x) => x.c.batch === batch);
      const prepared: Prepared[] = [];
      for (const { c, ci } of group) {
        // 1-3: set up every implementation on identically seeded input, run once, compare outputs.
        const runners = new Map<ImplId, Runner>();
        const outputs = new Map<ImplId, Uint8Array>();
        const isAsync = new Map<ImplId, boolean>();
        for (const id of plan.impls) {
          if (!implsLeft.has(id)) continue;
          const ctx: RunContext = { workload: w.id, impl: id, batch: c.batch, threads: c.threads, quick };
          progress('validate', w.id, id, c);
          let runner: Runner | undefined;
          try {
            const input = w.input(c.batch, createRng(`${w.id}/${c.batch}`), ctx);
            runner = await w.impls[id]!.setup(input, ctx);
            const p = runner.run();
            isAsync.set(id, p instanceof Promise);
            const limit = opts.firstRunTimeoutMs ?? FIRST_RUN_TIMEOUT_MS;
            if (p instanceof Promise) await withTimeout(p, limit, `first run did not finish within ${limit / 1000} s`);
            outputs.set(id, new Uint8Array(runner.output())); // a copy: the output may be a view that later runs overwrite
            runners.set(id, runner);
          } catch (err) {
            if (runner) await closeAll([runner]);
            implsLeft.delete(id);
            settle(w.id, ci, id);
            for (let j = 0; j < plan.configs.length; j++)
              if (!prepared.some((x) => x.ci === j && x.runners.has(id))) settle(w.id, j, id);
            if (err instanceof Unavailable) {
              skips.push({ workload: w.id, impl: id, reason: err.message });
              note(`${w.id}/${id} skipped: ${err.message}`);
            } else {
              problems.push({
                workload: w.id,
                impl: id,
                message: `setup or first run failed (batch ${c.batch}, threads ${c.threads}): ${errText(err)}`,
              });
            }
          }
        }
        // Group implementations by identical output; more than one group is a mismatch.
        const groups: { ids: ImplId[]; out: Uint8Array }[] = [];
        for (const [id, out] of outputs) {
          const g = groups.find((x) => equalBytes(x.out, out));
          if (g) g.ids.push(id);
          else groups.push({ ids: [id], out });
        }
        if (groups.length > 1) {
          const ref = groups[0]!;
          const detail = groups
            .slice(1)
            .map(
              (g) =>
                `{${g.ids.join(', ')}} vs {${ref.ids.join(', ')}}: ${firstDifference(g.out, ref.out, w.bytesPerMessage)}`,
            );
          problems.push({
            workload: w.id,
            message: `validation failed at batch ${c.batch}, threads ${c.threads}: implementations disagree on the same input; ${detail.join('; ')}. Workload aborted.`,
          });
          await closeAll(runners.values());
          aborted = true;
          break;
        }
        if (outputs.size === 1 && plan.impls.length > 1 && ci === 0) {
          note(`${w.id}: only one implementation ran, nothing to validate it against`);
        }
        prepared.push({ c, ci, runners, isAsync });
      }
      if (aborted) {
        for (const p of prepared) await closeAll(p.runners.values());
        for (const id of plan.impls) settleImpl(id);
        break;
      }
      // 4: time the runners in turn -- every implementation of every thread count of this batch size -- `rounds`
      // times, and keep each one's median round.
      const rounds = Math.max(1, opts.rounds ?? (quick ? 1 : 3));
      const perRound = new Map<string, { mean: number; rme: number; samples: number }[]>();
      for (let round = 0; round < rounds; round++) {
        for (const { c, ci, runners, isAsync } of prepared) {
          for (const [id, runner] of runners) {
            if (failed.has(id)) continue;
            const last = round === rounds - 1;
            if (last) progress('time', w.id, id, c);
            const b = budget();
            const bench = new Bench({
              time: b.time / rounds,
              warmupTime: round === 0 ? b.warmup : Math.min(b.warmup, 50),
              iterations: Math.max(1, Math.ceil((opts.iterations ?? (quick ? 8 : 32)) / rounds)),
              warmupIterations: round === 0 ? (quick ? 2 : 8) : 2,
            });
            bench.add(id, () => runner.run(), { async: isAsync.get(id) ?? false });
            try {
              await bench.run();
              await runner.finish?.();
              const r = bench.tasks[0]!.result;
              if (r.state === 'errored') throw r.error;
              if (r.state !== 'completed') throw new Error(`tinybench task ${r.state}`);
              const key = `${ci}\u0000${id}`;
              const list = perRound.get(key) ?? [];
              list.push({ mean: r.latency.mean, rme: r.latency.rme, samples: r.latency.samplesCount });
              perRound.set(key, list);
            } catch (err) {
              problems.push({
                workload: w.id,
                impl: id,
                message: `timing failed (batch ${c.batch}, threads ${c.threads}): ${errText(err)}`,
              });
              failed.add(id);
              implsLeft.delete(id);
              settleImpl(id); // this task and every later one of this implementation
              continue;
            }
            if (last) settle(w.id, ci, id);
          }
        }
      }
      for (const { c, ci, runners } of prepared) {
        for (const id of runners.keys()) {
          const list = perRound.get(`${ci}\u0000${id}`);
          if (failed.has(id) || !list || list.length === 0) continue;
          const sorted = [...list].sort((a, b) => a.mean - b.mean);
          const med = sorted[(sorted.length - 1) >> 1]!;
          // ±%: the median round's own margin of error, or the spread of the rounds around it when that is larger.
          const spread = (100 * (sorted[sorted.length - 1]!.mean - sorted[0]!.mean)) / (2 * med.mean);
          const msgs = w.messagesPerRun ? w.messagesPerRun(c.batch, c.threads) : c.batch;
          const msgsPerSec = (msgs * 1000) / med.mean;
          let figures: Record<string, number> | undefined;
          try {
            figures = await runners.get(id)!.figures?.();
          } catch (err) {
            problems.push({ workload: w.id, impl: id, message: `figures failed (batch ${c.batch}): ${errText(err)}` });
          }
          rows.push({
            ci,
            row: {
              workload: w.id,
              impl: id,
              batch: c.batch,
              threads: c.threads,
              msgsPerSec,
              mbPerSec: (msgsPerSec * w.bytesPerMessage) / 1e6,
              rme: Math.max(med.rme, list.length > 1 ? spread : 0),
              samples: list.reduce((n, x) => n + x.samples, 0),
              ...(figures ? { figures } : {}),
            },
          });
        }
        await closeAll(runners.values());
      }
    }
    // Drop the rows of an aborted workload: its figures are not trustworthy. Otherwise rows in plan order.
    if (!aborted) for (const { row } of rows.sort((a, b) => a.ci - b.ci)) results.push(row);
  }

  const report: Report = {
    tool: 'tunnelplane bench',
    version: toolVersion(),
    date,
    machine,
    results,
    ceiling,
  };
  return { report, problems, skips, workloads: ran, notes, elapsedMs: performance.now() - started };
}
