// The readable table of a benchmark run, and the figures it shows beside each row: ratios to the baselines measured
// in the same run and the share of the hardware ceiling.
import type { Outcome, Report, ResultRow } from './harness.js';
import type { ImplId, Workload } from './types.js';

export const DEFAULT_BASELINES: readonly ImplId[] = ['noble', 'node-naive'];

/** Compact: 250000 -> "250k", 1500000 -> "1.5M", 0 -> "0" (axis ticks). */
export function compact(n: number): string {
  return si(n)
    .replace(/\.0+([kMG]?)$/, '$1')
    .replace(/(\.\d*?)0+([kMG]?)$/, '$1$2');
}

/** 1234567 -> "1.23M", 45600 -> "45.6k", 12.3 -> "12.3". */
export function si(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${(n / 1e9).toFixed(abs >= 1e10 ? 1 : 2)}G`;
  if (abs >= 1e6) return `${(n / 1e6).toFixed(abs >= 1e7 ? 1 : 2)}M`;
  if (abs >= 1e3) return `${(n / 1e3).toFixed(abs >= 1e4 ? 1 : 2)}k`;
  if (abs >= 100) return n.toFixed(0);
  return n.toFixed(abs >= 10 ? 1 : 2);
}

function fixed(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

/** The baselines of a workload that this run measured. */
export function baselinesOf(w: Workload<any> | undefined, results: readonly ResultRow[], workload: string): ImplId[] {
  const wanted = w?.baselines ?? DEFAULT_BASELINES;
  return wanted.filter((b) => results.some((r) => r.workload === workload && r.impl === b));
}

/** msgsPerSec of `impl` for the same workload, batch and threads, if measured. */
export function rateOf(results: readonly ResultRow[], row: ResultRow, impl: ImplId): number | undefined {
  return results.find(
    (r) => r.workload === row.workload && r.batch === row.batch && r.threads === row.threads && r.impl === impl,
  )?.msgsPerSec;
}

/** Ceiling msgs/s that applies to a row: one core's, times the threads the machine can actually run at once. */
export function ceilingFor(report: Report, row: ResultRow): number | undefined {
  const c = report.ceiling.find((x) => x.workload === row.workload);
  if (!c || c.msgsPerSec === null) return undefined;
  return c.msgsPerSec * Math.max(1, Math.min(row.threads, report.machine.cores));
}

interface Column {
  title: string;
  right: boolean;
}

function renderTable(columns: Column[], rows: string[][]): string[] {
  const widths = columns.map((c, i) => Math.max(c.title.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (columns[i]!.right ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.title)), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

interface WorkloadTable {
  title: string;
  columns: Column[];
  cells: string[][];
}

/** The rows of one workload: grouped by threads then batch, with its baselines' ratios and its ceiling share. */
function workloadTable(outcome: Outcome, id: string): WorkloadTable {
  const { report } = outcome;
  const w = outcome.workloads.find((x) => x.id === id);
  const rows = report.results.filter((r) => r.workload === id);
  const baselines = baselinesOf(w, report.results, id);
  const hasCeiling = report.ceiling.some((c) => c.workload === id && c.msgsPerSec !== null);
  const multiThread = rows.some((r) => r.threads !== 1);
  const columns: Column[] = [
    { title: 'impl', right: false },
    { title: 'batch', right: true },
    ...(multiThread ? [{ title: 'threads', right: true }] : []),
    { title: 'msg/s', right: true },
    { title: 'MB/s', right: true },
    { title: '±%', right: true },
    ...baselines.map((b) => ({ title: `vs ${b}`, right: true })),
    ...(hasCeiling ? [{ title: 'ceiling', right: true }] : []),
    { title: 'samples', right: true },
  ];
  const sorted = [...rows].sort((a, b) => a.threads - b.threads || a.batch - b.batch);
  const cells = sorted.map((r) => {
    const ceil = ceilingFor(report, r);
    return [
      r.impl,
      String(r.batch),
      ...(multiThread ? [String(r.threads)] : []),
      si(r.msgsPerSec),
      fixed(r.mbPerSec, 1),
      fixed(r.rme, 1),
      ...baselines.map((b) => {
        const base = rateOf(report.results, r, b);
        return base ? `${fixed(r.msgsPerSec / base, 2)}x` : '-';
      }),
      ...(hasCeiling ? [ceil ? `${fixed((100 * r.msgsPerSec) / ceil, 1)}%` : '-'] : []),
      String(r.samples),
    ];
  });
  const c = report.ceiling.find((x) => x.workload === id);
  const ceilText = c?.msgsPerSec ? ` (ceiling ${si(c.msgsPerSec)} msg/s per core)` : '';
  return { title: `${id}: ${w?.description ?? ''}${ceilText}`.trimEnd(), columns, cells };
}

/** One line per row that has figures of its own (Runner.figures): `impl batch N: name value, ...`. */
function figureLines(report: Report, id: string): string[] {
  return report.results
    .filter((r) => r.workload === id && r.figures && Object.keys(r.figures).length > 0)
    .map(
      (r) =>
        `  ${r.impl} batch ${r.batch}: ${Object.entries(r.figures!)
          .map(([k, v]) => `${k} ${si(v)}`)
          .join(', ')}`,
    );
}

/** The results as Markdown (for docs/bench/): machine, versions and date, then one table per workload. */
export function formatMarkdown(outcome: Outcome): string {
  const { report } = outcome;
  const m = report.machine;
  const out: string[] = [];
  out.push(
    `Measured with \`${report.tool}\` ${report.version} on ${report.date.slice(0, 10)}: ${m.cpu}, ${m.cores} cores, ` +
      `Node.js ${m.node}, ${m.openssl ?? 'no openssl binary (no ceiling)'}. msg/s: messages per second; vs: ratio to that ` +
      `baseline in the same run; ceiling: share of \`openssl speed -evp\` on one core.`,
  );
  const cell = (x: string) => x.replace(/\|/g, '\\|');
  for (const id of [...new Set(report.results.map((r) => r.workload))]) {
    const t = workloadTable(outcome, id);
    const [name, ...rest] = t.title.split(': ');
    out.push('', `**${cell(name!)}**: ${cell(rest.join(': '))}`, '');
    out.push(`| ${t.columns.map((c) => cell(c.title)).join(' | ')} |`);
    out.push(`|${t.columns.map((c) => (c.right ? '---:' : ':---')).join('|')}|`);
    for (const row of t.cells) out.push(`| ${row.map(cell).join(' | ')} |`);
    const figs = figureLines(report, id);
    if (figs.length > 0) out.push('', ...figs.map((f) => `- ${cell(f.trim())}`));
  }
  if (outcome.problems.length > 0) {
    out.push('', `Failed: ${outcome.problems.map((p) => `${p.workload}${p.impl ? `/${p.impl}` : ''}`).join(', ')}`);
  }
  return out.join('\n') + '\n';
}

/** The text report: header with machine and ceiling, one table per workload, then problems and notes. */
export function formatTable(outcome: Outcome): string {
  const { report } = outcome;
  const m = report.machine;
  const out: string[] = [];
  out.push(`${report.tool} ${report.version}  ${report.date}`);
  out.push(`machine: ${m.cpu}, ${m.cores} cores, node ${m.node}, ${m.openssl ?? 'no openssl binary'}`);
  const measured = report.ceiling.filter((c) => c.msgsPerSec !== null);
  if (report.ceiling.length > 0 && measured.length === 0) {
    out.push(`hardware ceiling: ${report.ceiling[0]!.source}`);
  }
  const byId = new Map(outcome.workloads.map((w) => [w.id, w]));
  if (measured.length > 0) {
    // One figure per openssl algorithm (a workload costing k operations per message gets 1/k of it).
    const perAlg = new Map<string, string>();
    for (const c of measured) {
      const ceil = byId.get(c.workload)?.ceiling;
      // Operations of another size than 1008 bytes are named with it.
      const name =
        ceil && ceil.bytes !== undefined && ceil.bytes !== 1008
          ? `${ceil.algorithm} (${ceil.bytes} B)`
          : ceil?.algorithm;
      if (ceil && name && !perAlg.has(name)) perAlg.set(name, si(c.msgsPerSec! * (ceil.opsPerMessage ?? 1)));
    }
    out.push(
      `hardware ceiling (openssl speed -evp, 1008-byte operations/s unless named, one core): ${[...perAlg].map(([a, v]) => `${a} ${v}`).join(', ')}`,
    );
  }
  out.push('msg/s, MB/s: messages per second (batch / mean time per batch); ±%: 95 % margin of error of that mean;');
  out.push("vs <baseline>: this row / that baseline at the same batch and threads; ceiling: share of openssl's rate.");

  const ids = [...new Set(report.results.map((r) => r.workload))];
  for (const id of ids) {
    const t = workloadTable(outcome, id);
    out.push('', t.title, ...renderTable(t.columns, t.cells), ...figureLines(report, id));
  }
  if (ids.length === 0) out.push('', 'no results.');

  if (outcome.skips.length > 0) {
    out.push('', 'skipped (cannot run here):');
    for (const s of outcome.skips) out.push(`  ${s.workload}/${s.impl}: ${s.reason}`);
  }
  const otherNotes = outcome.notes.filter((n) => !/ skipped: /.test(n));
  if (otherNotes.length > 0) {
    out.push('', 'notes:');
    for (const n of otherNotes) out.push(`  ${n}`);
  }
  if (outcome.problems.length > 0) {
    out.push('', `FAILED (${outcome.problems.length}):`);
    for (const p of outcome.problems) out.push(`  ${p.workload}${p.impl ? `/${p.impl}` : ''}: ${p.message}`);
  }
  out.push('', `${report.results.length} results in ${(outcome.elapsedMs / 1000).toFixed(1)} s`);
  return out.join('\n') + '\n';
}

/** The JSON document of `--json`: exactly the report object. */
export function formatJson(report: Report): string {
  const round = (n: number, d: number) => (Number.isFinite(n) ? Number(n.toFixed(d)) : n);
  const doc: Report = {
    tool: report.tool,
    version: report.version,
    date: report.date,
    machine: {
      cpu: report.machine.cpu,
      cores: report.machine.cores,
      node: report.machine.node,
      openssl: report.machine.openssl,
    },
    results: report.results.map((r) => ({
      workload: r.workload,
      impl: r.impl,
      batch: r.batch,
      threads: r.threads,
      msgsPerSec: round(r.msgsPerSec, 1),
      mbPerSec: round(r.mbPerSec, 3),
      rme: round(r.rme, 2),
      samples: r.samples,
      ...(r.figures
        ? { figures: Object.fromEntries(Object.entries(r.figures).map(([k, v]) => [k, round(v, 3)])) }
        : {}),
    })),
    ceiling: report.ceiling.map((c) => ({
      workload: c.workload,
      msgsPerSec: c.msgsPerSec === null ? null : round(c.msgsPerSec, 1),
      source: c.source,
    })),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}
