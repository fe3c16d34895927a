// The `aes-hop-4k` workload of `tunnelplane bench` (4096 live tunnels, each message from a random one; or another
// layer workload with --workload) run in a plain loop for a fixed time, for a profiler to watch (node --cpu-prof,
// perf record): no tinybench, no other implementations. Prints messages per second at the end.
//   npm run build && node dist/bench/aes-hop-4k-loop.js [--batch 64] [--seconds 10] [--impl tunnelplane] [--workload aes-hop-4k]
import { createRng } from '../src/bench/random.js';
import { workloads } from '../src/bench/workloads/layer.js';
import type { Workload } from '../src/bench/types.js';
import { arg } from './argv.js';

const batch = Number(arg('batch', '64'));
const seconds = Number(arg('seconds', '10'));
const impl = arg('impl', 'tunnelplane');
const id = arg('workload', 'aes-hop-4k');
const w = (workloads as Workload<unknown>[]).find((x) => x.id === id);
if (!w || !w.impls[impl]) throw new Error(`no ${id} implementation '${impl}'`);
const input = w.input(batch, createRng(`${id}/${batch}`), {
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
// CPU time as well: on a shared machine the wall-clock rate moves with the other tenants, CPU time much less.
const cpu0 = process.cpuUsage();
while (performance.now() < end) {
  for (let k = 0; k < 64; k++) void runner.run();
  runs += 64;
}
const s = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const cpuUs = (cpu.user + cpu.system) / (runs * batch);
console.log(
  `${impl} ${id} batch ${batch}: ${Math.round((runs * batch) / s)} msg/s over ${s.toFixed(1)} s, ` +
    `${cpuUs.toFixed(3)} us CPU a message (${Math.round(1e6 / cpuUs)} msg/s per CPU second)`,
);
await runner.close?.();
