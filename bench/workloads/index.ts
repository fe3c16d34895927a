// The workload registry. Each bench/workloads/<name>.ts exports `workloads: Workload[]`; list it here (one line).
// Modules are imported one by one: a module that does not exist yet is skipped quietly, one that fails to load is
// reported and the others still run.
import type { Workload } from '../types.js';

const MODULES: readonly string[] = [
  './primitives.js', // aes-cbc-1008, chacha20-1008, sha256-1008 (issue 3)
  './layer.js', // aes-hop, aes-hop-tunnel, aes-strip-3, chacha-hop
  './frame.js', // gateway-pack, endpoint-reassemble
  './pool.js', // pool-aes-hop, pool-chacha-hop
  './balancer.js',
];

export interface ModuleFailure {
  module: string;
  error: string;
}

export interface Registry {
  workloads: Workload<any>[];
  /** Modules that exist but could not be loaded (or export no valid workloads). */
  failures: ModuleFailure[];
  /** Modules listed above that do not exist (yet). */
  missing: string[];
}

function isMissing(err: unknown, spec: string): boolean {
  const e = err as { code?: string; message?: string };
  if (e?.code !== 'ERR_MODULE_NOT_FOUND') return false;
  // Only when the listed module itself is missing, not one of its imports.
  const file = spec.replace(/^\.\//, '');
  return typeof e.message === 'string' && e.message.includes(`/workloads/${file}`);
}

function checkWorkload(w: unknown): string | undefined {
  const x = w as Partial<Workload>;
  if (!x || typeof x !== 'object') return 'not an object';
  if (typeof x.id !== 'string' || !x.id) return 'no id';
  if (typeof x.input !== 'function') return `${x.id}: no input()`;
  if (!x.impls || typeof x.impls !== 'object') return `${x.id}: no impls`;
  if (!Array.isArray(x.batches) || x.batches.length === 0) return `${x.id}: no batches`;
  if (!(typeof x.bytesPerMessage === 'number' && x.bytesPerMessage > 0)) return `${x.id}: no bytesPerMessage`;
  return undefined;
}

/** Loads the listed modules (or `modules`, for tests) and returns their workloads in listing order. */
export async function loadWorkloads(modules: readonly string[] = MODULES): Promise<Registry> {
  const reg: Registry = { workloads: [], failures: [], missing: [] };
  const seen = new Set<string>();
  for (const spec of modules) {
    let mod: { workloads?: unknown };
    try {
      mod = (await import(new URL(spec, import.meta.url).href)) as { workloads?: unknown };
    } catch (err) {
      if (isMissing(err, spec)) reg.missing.push(spec);
      else reg.failures.push({ module: spec, error: (err as Error)?.message ?? String(err) });
      continue;
    }
    if (!Array.isArray(mod.workloads)) {
      reg.failures.push({ module: spec, error: 'does not export `workloads: Workload[]`' });
      continue;
    }
    for (const w of mod.workloads) {
      const problem = checkWorkload(w);
      if (problem) {
        reg.failures.push({ module: spec, error: `invalid workload: ${problem}` });
        continue;
      }
      const wl = w as Workload<any>;
      if (seen.has(wl.id)) {
        reg.failures.push({ module: spec, error: `duplicate workload id '${wl.id}'` });
        continue;
      }
      seen.add(wl.id);
      reg.workloads.push(wl);
    }
  }
  return reg;
}
