// The workload registry of `tunnelplane bench`. Each src/bench/workloads/<name>.ts exports `workloads: Workload[]`;
// import it here and add it to WORKLOAD_MODULES (one line). Static imports: a listed module that is missing is a
// build error, not a workload quietly left out of the run.
import type { Workload } from '../types.js';
import { workloads as primitives } from './primitives.js';
import { workloads as layer } from './layer.js';
import { workloads as frame } from './frame.js';
import { workloads as pool } from './pool.js';
import { workloads as ntcp2 } from './ntcp2.js';
import { workloads as router } from './router.js';

export interface WorkloadModule {
  name: string;
  workloads: readonly unknown[];
}

export const WORKLOAD_MODULES: readonly WorkloadModule[] = [
  { name: 'primitives', workloads: primitives }, // aes-cbc-1008, chacha20-1008, sha256-1008
  { name: 'layer', workloads: layer }, // aes-hop, aes-hop-tunnel, aes-strip-3, chacha-hop, replay-filter
  { name: 'frame', workloads: frame }, // gateway-pack, endpoint-reassemble, frame-sha256
  { name: 'pool', workloads: pool }, // pool-aes-hop, pool-chacha-hop
  { name: 'ntcp2', workloads: ntcp2 }, // ntcp2-frame-1k, ntcp2-frame-16k
  { name: 'router', workloads: router }, // router-forward, tunnel-build-hop
];

export interface ModuleFailure {
  module: string;
  error: string;
}

export interface Registry {
  workloads: Workload<any>[];
  /** Workloads that were left out: invalid, or an id already taken. */
  failures: ModuleFailure[];
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

/** The workloads of `modules` (default: all of them) in listing order; invalid and duplicate ones are reported. */
export function loadWorkloads(modules: readonly WorkloadModule[] = WORKLOAD_MODULES): Registry {
  const reg: Registry = { workloads: [], failures: [] };
  const seen = new Set<string>();
  for (const mod of modules) {
    for (const w of mod.workloads) {
      const problem = checkWorkload(w);
      if (problem) {
        reg.failures.push({ module: mod.name, error: `invalid workload: ${problem}` });
        continue;
      }
      const wl = w as Workload<any>;
      if (seen.has(wl.id)) {
        reg.failures.push({ module: mod.name, error: `duplicate workload id '${wl.id}'` });
        continue;
      }
      seen.add(wl.id);
      reg.workloads.push(wl);
    }
  }
  return reg;
}
