// `tunnelplane bench`: runs the benchmark harness (src/bench/harness.ts) over the registered
// workloads and prints a table, JSON and/or an SVG chart.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { intOption, parse, UsageError } from './args.js';
import { runBench, selectWorkloads, type Outcome, type Progress } from '../bench/harness.js';
import { formatJson, formatMarkdown, formatTable } from '../bench/report.js';
import { renderChart } from '../bench/chart.js';
import { loadWorkloads, type Registry } from '../bench/workloads/index.js';

export const usage = `usage: tunnelplane bench [--quick] [--json] [--filter RE] [--threads N] [--out FILE] [--chart FILE]
                       [--time MS] [--rounds N] [--markdown] [--list]

Measures tunnel crypto and framing (messages/s, MB/s) beside @noble/ciphers, naive node:crypto and the hardware
ceiling (openssl speed, one core). Every implementation of a workload is first checked to produce the same bytes as
the others on the same seeded input; a mismatch aborts that workload and makes the exit status 1.

  --quick        one batch size per workload, short timings (under a minute on 2 cores)
  --json         print the results as one JSON object instead of the table (the table then goes to stderr)
  --filter RE    keep workloads whose id matches RE, or implementations whose "workload/impl" matches it
  --threads N    the N of the multi-threaded rows of pool workloads (default: available cores)
  --out FILE     write the JSON (with --json), the Markdown (with --markdown) or the table to FILE as well
  --chart FILE   also write an SVG chart of throughput against batch size
  --time MS      timing budget per measurement in ms (default 500; --quick fits the run into ~25 s)
  --rounds N     time the implementations of a comparison in turn N times, each round with MS / N, and report
                 the median round (default 3, --quick 1): ratios then hold up when the machine slows for a while
  --markdown     print Markdown tables (for docs/bench/) instead of the plain table
  --list         list workloads and implementations, then exit

Exit status: 0 when every implementation validated and ran, 1 when one did not, 2 for bad arguments.`;

export interface BenchArgs {
  quick: boolean;
  json: boolean;
  filter?: RegExp;
  threads?: number;
  out?: string;
  chart?: string;
  timeMs?: number;
  rounds?: number;
  markdown: boolean;
  list: boolean;
}

function checkWritable(option: string, file: string): string {
  const path = resolve(file);
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UsageError(`--${option}: directory ${dir} does not exist`);
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`--${option}: ${path} is a directory`);
  return path;
}

/** Parses and checks the arguments; throws UsageError on bad input. */
export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parse(argv, {
    quick: { type: 'boolean' },
    json: { type: 'boolean' },
    filter: { type: 'string' },
    threads: { type: 'string' },
    out: { type: 'string' },
    chart: { type: 'string' },
    time: { type: 'string' },
    rounds: { type: 'string' },
    markdown: { type: 'boolean' },
    list: { type: 'boolean' },
  });
  if (values.json && values.markdown) throw new UsageError('--json and --markdown exclude each other');
  let filter: RegExp | undefined;
  if (values.filter !== undefined) {
    if (values.filter === '') throw new UsageError('--filter needs a regular expression');
    try {
      filter = new RegExp(values.filter);
    } catch (err) {
      throw new UsageError(`--filter: not a valid regular expression: ${(err as Error).message}`);
    }
  }
  return {
    quick: values.quick ?? false,
    json: values.json ?? false,
    filter,
    threads: values.threads === undefined ? undefined : intOption('threads', values.threads, 1, 1, 256),
    out: values.out === undefined ? undefined : checkWritable('out', values.out),
    chart: values.chart === undefined ? undefined : checkWritable('chart', values.chart),
    timeMs: values.time === undefined ? undefined : intOption('time', values.time, 500, 1, 60_000),
    rounds: values.rounds === undefined ? undefined : intOption('rounds', values.rounds, 3, 1, 20),
    markdown: values.markdown ?? false,
    list: values.list ?? false,
  };
}

function listing(reg: Registry): string {
  const lines: string[] = [];
  for (const f of reg.failures) lines.push(`(module ${f.module}: ${f.error})`);
  for (const w of reg.workloads) {
    const thr = w.threads ? `, threads ${w.threads.join('/')}` : '';
    lines.push(
      `${w.id}: ${w.description} (batches ${w.batches.join(', ')}${thr}${w.ceiling ? `, ceiling ${w.ceiling.algorithm}` : ''})`,
    );
    for (const [id, impl] of Object.entries(w.impls)) {
      if (impl) lines.push(`  ${id.padEnd(24)} ${impl.description ?? ''}`.trimEnd());
    }
  }
  return lines.join('\n') + '\n';
}

function fmtSeconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** A progress line on stderr: rewritten in place on a terminal, one line per configuration otherwise. */
function progressPrinter(): { update(p: Progress): void; clear(): void } {
  const tty = process.stderr.isTTY === true;
  let last = '';
  let shown = false;
  return {
    update(p) {
      const what =
        p.phase === 'ceiling'
          ? `ceiling: openssl speed -evp ${p.workload}`
          : `${p.workload} ${p.impl} batch ${p.batch}${p.threads !== 1 ? ` threads ${p.threads}` : ''} (${p.phase === 'validate' ? 'validating' : 'timing'})`;
      const counts = p.total > 0 ? `[${p.done}/${p.total}] ` : '';
      const time = `elapsed ${fmtSeconds(p.elapsedMs)}${p.etaMs !== undefined ? `, ETA ${fmtSeconds(p.etaMs)}` : ''}`;
      if (tty) {
        const cols = process.stderr.columns || 120;
        const line = `${counts}${what}  ${time}`.slice(0, Math.max(20, cols - 1));
        process.stderr.write(`\r\x1b[K${line}`);
        shown = true;
      } else {
        // Off a terminal, one line when a new configuration starts validating (not per timed task).
        const key = `${p.phase === 'ceiling' ? p.workload : p.workload + p.batch + '/' + p.threads}`;
        if (key !== last && p.phase !== 'time') {
          last = key;
          process.stderr.write(
            `bench: ${counts}${p.phase === 'ceiling' ? what : `${p.workload} batch ${p.batch}${p.threads !== 1 ? ` threads ${p.threads}` : ''}`}  ${time}\n`,
          );
        }
      }
    },
    clear() {
      if (tty && shown) process.stderr.write('\r\x1b[K');
      shown = false;
    },
  };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseBenchArgs(argv);
  const reg = loadWorkloads();
  if (args.list) {
    process.stdout.write(listing(reg));
    return reg.failures.length > 0 ? 1 : 0;
  }
  if (args.filter && selectWorkloads(reg.workloads, args.filter).length === 0) {
    throw new UsageError(
      `--filter ${args.filter.source} matches no workload or implementation; workloads: ${reg.workloads.map((w) => w.id).join(', ')}`,
    );
  }
  for (const f of reg.failures) process.stderr.write(`tunnelplane bench: workload module ${f.module}: ${f.error}\n`);

  const progress = progressPrinter();
  let outcome: Outcome;
  try {
    outcome = await runBench({
      workloads: reg.workloads,
      quick: args.quick,
      filter: args.filter,
      threads: args.threads,
      timeMs: args.timeMs,
      rounds: args.rounds,
      onProgress: (p) => progress.update(p),
    });
  } finally {
    progress.clear();
  }
  for (const f of reg.failures) outcome.problems.push({ workload: `(module ${f.module})`, message: f.error });

  const table = formatTable(outcome);
  if (args.json) {
    const json = formatJson(outcome.report);
    if (args.out) {
      writeFileSync(args.out, json);
      process.stdout.write(table);
      process.stdout.write(`JSON written to ${args.out}\n`);
    } else {
      process.stdout.write(json);
      process.stderr.write(table);
    }
  } else if (args.markdown) {
    const md = formatMarkdown(outcome);
    process.stdout.write(md);
    if (args.out) writeFileSync(args.out, md);
    process.stderr.write(table);
  } else {
    process.stdout.write(table);
    if (args.out) writeFileSync(args.out, table);
  }
  if (args.chart) {
    writeFileSync(args.chart, renderChart(outcome.report));
    (args.json && !args.out ? process.stderr : process.stdout).write(`chart written to ${args.chart}\n`);
  }
  if (outcome.problems.length > 0) {
    process.stderr.write(`tunnelplane bench: ${outcome.problems.length} problem(s); see FAILED above\n`);
    return 1;
  }
  return 0;
}
