// `--chart FILE`: an SVG of throughput (messages/s) against batch size, one panel per workload, one line per
// implementation (and thread count). Written by hand: no dependency, no script, readable in any browser.
import type { Report, ResultRow } from './harness.js';
import { compact, si } from './report.js';

const PANEL_W = 580;
const PANEL_H = 330;
const PLOT = { left: 64, right: 200, top: 38, bottom: 44 };
const COLUMNS = 2;
// Colour-blind-friendly palette (Okabe-Ito without its yellow, which vanishes on white), then darker extras.
const COLORS = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#000000',
  '#8C564B',
  '#7F7F7F',
  '#6A3D9A',
];
// Thread counts of one implementation share its colour and differ by dash pattern.
const DASHES = ['', '7 4', '2 3', '10 3 2 3'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** 1, 2 or 5 times a power of ten, at least `x`. */
function niceCeil(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

interface Series {
  label: string;
  impl: string;
  /** Index of its thread count among the panel's thread counts (0 = fewest). */
  threadIndex: number;
  points: { batch: number; rate: number }[];
}

function seriesOf(rows: readonly ResultRow[]): Series[] {
  const threadCounts = [...new Set(rows.map((r) => r.threads))].sort((a, b) => a - b);
  const multi = threadCounts.length > 1;
  const map = new Map<string, Series>();
  for (const r of rows) {
    const label = multi ? `${r.impl} ×${r.threads}` : r.impl;
    let s = map.get(label);
    if (!s) map.set(label, (s = { label, impl: r.impl, threadIndex: threadCounts.indexOf(r.threads), points: [] }));
    s.points.push({ batch: r.batch, rate: r.msgsPerSec });
  }
  for (const s of map.values()) s.points.sort((a, b) => a.batch - b.batch);
  return [...map.values()];
}

function panel(report: Report, workload: string, x0: number, y0: number, colorOf: (label: string) => string): string {
  const rows = report.results.filter((r) => r.workload === workload);
  const series = seriesOf(rows);
  const batches = [...new Set(rows.map((r) => r.batch))].sort((a, b) => a - b);
  const maxRate = Math.max(...rows.map((r) => r.msgsPerSec));
  const ceil = report.ceiling.find((c) => c.workload === workload)?.msgsPerSec ?? null;
  // Draw the ceiling inside the plot only when it does not squash the measured lines.
  const ceilOnScale = ceil !== null && ceil <= 2 * maxRate;
  const yMax = niceCeil(Math.max(maxRate, ceilOnScale ? ceil : 0) * 1.05);
  const w = PANEL_W - PLOT.left - PLOT.right;
  const h = PANEL_H - PLOT.top - PLOT.bottom;
  const px0 = x0 + PLOT.left;
  const py0 = y0 + PLOT.top;
  // x: log2 of the batch, evenly spaced when batches are powers of two; a single batch sits in the middle.
  const lo = Math.log2(batches[0]!);
  const hi = Math.log2(batches[batches.length - 1]!);
  const X = (b: number) => (hi === lo ? px0 + w / 2 : px0 + ((Math.log2(b) - lo) / (hi - lo)) * w);
  const Y = (v: number) => py0 + h - (v / yMax) * h;
  const parts: string[] = [];
  parts.push(`<g class="panel" data-workload="${esc(workload)}">`);
  parts.push(`<text x="${px0}" y="${y0 + 18}" class="title">${esc(workload)}</text>`);
  parts.push(`<rect x="${px0}" y="${py0}" width="${w}" height="${h}" class="plot"/>`);
  for (let i = 0; i <= 5; i++) {
    const v = (yMax * i) / 5;
    const y = Y(v).toFixed(1);
    parts.push(`<line x1="${px0}" y1="${y}" x2="${px0 + w}" y2="${y}" class="grid"/>`);
    parts.push(
      `<text x="${px0 - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" class="tick">${esc(compact(v))}</text>`,
    );
  }
  for (const b of batches) {
    const x = X(b).toFixed(1);
    parts.push(`<line x1="${x}" y1="${py0 + h}" x2="${x}" y2="${py0 + h + 4}" class="axis"/>`);
    parts.push(`<text x="${x}" y="${py0 + h + 16}" text-anchor="middle" class="tick">${b}</text>`);
  }
  parts.push(
    `<text x="${px0 + w / 2}" y="${py0 + h + 34}" text-anchor="middle" class="label">batch (messages per call)</text>`,
  );
  parts.push(
    `<text x="${x0 + 14}" y="${py0 + h / 2}" text-anchor="middle" transform="rotate(-90 ${x0 + 14} ${py0 + h / 2})" class="label">messages/s</text>`,
  );
  if (ceil !== null) {
    if (ceilOnScale) {
      const y = Y(ceil).toFixed(1);
      parts.push(`<line x1="${px0}" y1="${y}" x2="${px0 + w}" y2="${y}" class="ceiling"/>`);
      parts.push(`<text x="${px0 + 4}" y="${Number(y) - 4}" class="tick">openssl, 1 core: ${esc(si(ceil))}/s</text>`);
    } else {
      parts.push(
        `<text x="${px0 + w}" y="${py0 - 5}" text-anchor="end" class="tick">openssl, 1 core: ${esc(si(ceil))}/s (off scale)</text>`,
      );
    }
  }
  series.forEach((s, i) => {
    const color = colorOf(s.impl);
    const dash = DASHES[s.threadIndex % DASHES.length]!;
    const dashAttr = dash ? ` stroke-dasharray="${dash}"` : '';
    const pts = s.points.map((p) => `${X(p.batch).toFixed(1)},${Y(p.rate).toFixed(1)}`);
    if (pts.length > 1)
      parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="2"${dashAttr}/>`);
    // Filled markers for the first thread count, hollow for the others (they share the colour).
    const marker =
      s.threadIndex === 0 ? `r="3.5" fill="${color}"` : `r="3.5" fill="#fff" stroke="${color}" stroke-width="2"`;
    for (const p of s.points) {
      parts.push(
        `<circle cx="${X(p.batch).toFixed(1)}" cy="${Y(p.rate).toFixed(1)}" ${marker}><title>${esc(`${s.label}, batch ${p.batch}: ${si(p.rate)} msg/s`)}</title></circle>`,
      );
    }
    const ly = py0 + 8 + i * 18;
    const lx = px0 + w + 12;
    parts.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${color}" stroke-width="2"${dashAttr}/>`,
    );
    parts.push(`<circle cx="${lx + 11}" cy="${ly}" ${marker}/>`);
    parts.push(`<text x="${lx + 28}" y="${ly}" dominant-baseline="middle" class="legend">${esc(s.label)}</text>`);
  });
  parts.push('</g>');
  return parts.join('\n');
}

/** The whole chart as an SVG document. */
export function renderChart(report: Report): string {
  const workloads = [...new Set(report.results.map((r) => r.workload))];
  const cols = Math.min(COLUMNS, Math.max(1, workloads.length));
  const rows = Math.max(1, Math.ceil(workloads.length / cols));
  const header = 52;
  const width = cols * PANEL_W;
  const height = header + rows * PANEL_H + 10;
  const m = report.machine;
  const parts: string[] = [];
  parts.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
  );
  parts.push(`<style>
.title{font-size:15px;font-weight:bold}.tick{font-size:11px;fill:#333}.label{font-size:12px;fill:#333}
.legend{font-size:12px}.plot{fill:#fff;stroke:#888}.grid{stroke:#e4e4e4}.axis{stroke:#888}
.ceiling{stroke:#c00;stroke-dasharray:6 4;stroke-width:1.5}.head{font-size:16px;font-weight:bold}.sub{font-size:12px;fill:#444}
</style>`);
  parts.push(`<rect width="${width}" height="${height}" fill="#fafafa"/>`);
  parts.push(
    `<text x="16" y="24" class="head">${esc(`${report.tool} ${report.version}: throughput against batch size`)}</text>`,
  );
  parts.push(
    `<text x="16" y="42" class="sub">${esc(`${m.cpu}, ${m.cores} cores, node ${m.node}, ${m.openssl ?? 'no openssl'}, ${report.date}`)}</text>`,
  );
  if (workloads.length === 0) {
    parts.push(`<text x="16" y="${header + 30}" class="label">no results</text>`);
  }
  // One colour per implementation across all panels.
  const impls: string[] = [];
  for (const r of report.results) if (!impls.includes(r.impl)) impls.push(r.impl);
  const colorOf = (impl: string) => COLORS[impls.indexOf(impl) % COLORS.length]!;
  workloads.forEach((wl, i) => {
    parts.push(panel(report, wl, (i % cols) * PANEL_W, header + Math.floor(i / cols) * PANEL_H, colorOf));
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
