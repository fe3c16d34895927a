// Piscina worker of the data plane: one per shard, holding one layer engine (its own WASM instance and key slots)
// for the tunnels of that shard. Loaded from dist/src/dataplane/worker.js (vitest included: piscina starts plain
// Node worker threads, which do not go through vitest's TypeScript transform).
import { workerData } from 'piscina';
import { BatchRunner, type EngineFactory, type FailHooks } from './batch-runner.js';
import { installReplayJournal } from './replay-journal.js';
import { createEngine } from './engine-host.js';
import type { Task, TaskResult, WorkerSetup } from './protocol.js';

const setup = workerData as WorkerSetup;
installReplayJournal();

let factory: EngineFactory = createEngine;
if (setup.engineModule) {
  const mod = (await import(setup.engineModule)) as { createEngine: EngineFactory };
  factory = mod.createEngine;
}
// Task configs arrive as this thread's own structured-clone copies: the runner zeroes them after each join.
const runner = new BatchRunner(factory, setup.engine, setup.slots, setup.maxBatch, setup.slotCount, true);
// A thread that exits by itself (process.exit, the crash hook) wipes its engine on the way out. One terminated from
// outside (a hung worker) runs no more JavaScript: see docs/data-plane-safety.md for what that leaves.
process.on('exit', () => runner.close());
const heartbeat = new Int32Array(setup.heartbeat);
/** Progress for the main thread's hang watchdog: up, a task started, a batch done. */
const beat = (): void => {
  Atomics.add(heartbeat, 0, 1);
};
beat(); // up: the watchdog's start-up allowance ends

const fail: FailHooks = {
  exit: (): never => process.exit(70),
  hang: (): never => {
    // Blocks this thread for good without using a core; only Worker.terminate() ends it.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    throw new Error('unreachable');
  },
};

/**
 * A turn of the event loop before each task. piscina hands a worker every task it holds at once and runs them as
 * promise continuations; a synchronous handler would then run them all back to back and their results would be
 * posted together after the last one, so the main thread learns of none until the whole group is done and the
 * worker waits a round trip for more (measured: a gap after every `pipeline` tasks, about 7 % of the time with two
 * workers). Yielding first puts each task in its own macrotask, and its result is posted before the next one starts.
 */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export default async function processTask(task: Task): Promise<TaskResult> {
  await nextTurn();
  beat();
  return runner.run(task, fail, beat);
}
