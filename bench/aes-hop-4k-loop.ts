// The `aes-hop-4k` workload of `tunnelplane bench` (4096 live tunnels, each message from a random one) run in a
// plain loop for a fixed time, for a profiler to watch (node --cpu-prof, perf record): no tinybench, no other
// implementations. Prints messages per second at the end.
//   npm run build && node dist/bench/aes-hop-4k-loop.js [--batch 64] [--seconds 10] [--impl tunnelplane]
import { createRng } from '../src/bench/random.js';
import { workloads } from '../src/bench/workloads/layer.js';
import type { Workload } from '../src/bench/types.js';
import { arg } from './argv.js';

const batch = Number(arg('batch', '64'));
const seconds = Number(arg('seconds', '10'));
const impl = arg('impl', 'tunnelplane');
const w = (workloads as Workload<unknown>[]).find((x) => x.id === 'aes-hop-4k');
if (!w || !w.impls[impl]) throw new Error(`no aes-hop-4k implementation '${impl}'`);
const input = w.input(batch, createRng(`aes-hop-4k/${batch}`), {
  workload: w.id,
  impl,
  batch,
  threads: 1,
  quick: false,
});
const runner = await w.impls[impl]!.setup(input, { workload: w.id, impl, batch, threads: 1, quick: false });
const end = performance.now() + seconds * 1000;
let runs = 0;
const t0 = performance.now();
while (performance.now() < end) {
  for (let k = 0; k < 64; k++) void runner.run();
  runs += 64;
}
const s = (performance.now() - t0) / 1000;
console.log(`${impl} aes-hop-4k batch ${batch}: ${Math.round((runs * batch) / s)} msg/s over ${s.toFixed(1)} s`);
await runner.close?.();
