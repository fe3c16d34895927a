// Piscina worker of the data plane: one per shard, holding one layer engine (its own WASM instance and key slots)
// for the tunnels of that shard. Loaded from dist/src/dataplane/worker.js (vitest included: piscina starts plain
// Node worker threads, which do not go through vitest's TypeScript transform).
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { BatchRunner, type EngineFactory } from './batch-runner.js';
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
const runner = new BatchRunner(factory, setup.engine, setup.slots, setup.maxBatch, setup.slotCount, setup.memory === 'transfer');

const die = (): never => {
  process.exit(70);
};

export default function processTask(task: Task): TaskResult | ReturnType<typeof move> {
  const result = runner.run(task, task.crash ? die : undefined);
  if (!task.buffer) return result;
  // Transfer mode: the slot's memory goes back with the result (moved, not copied).
  result.buffer = task.buffer;
  return move({
    get [transferableSymbol]() { return [task.buffer!]; },
    get [valueSymbol]() { return result; },
  } as never);
}
