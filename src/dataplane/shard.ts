// One shard of the data plane: a worker thread (a one-thread piscina pool, for affinity without a custom balancer)
// or, inline, a BatchRunner on this thread, and what the main thread keeps for it: the batches being filled and the
// shared slots they are sealed into, the batches sent and not yet handed out (in dispatch order), and the tunnel set
// as of the last delivered batch, from which a replacement worker is rebuilt after a crash or a hang and the
// undelivered batches re-run from their untouched input (docs/data-plane.md, "Crash recovery: exactly once").
import { Piscina } from 'piscina';
import { TUNNEL_DATA_SIZE } from '../constants.js';
import { copyPrefix } from '../native/addon.js';
import type { LayerEngineOptions, TunnelConfig } from '../tunnel/types.js';
import { BatchRunner, isGatewayRole, tunnelIdOf, wipeConfig, type EngineFactory } from './batch-runner.js';
import { Stage, type Grouper } from './grouping.js';
import type { BatchResult, ControlOp, JoinFailure, Task, TaskBatch, TaskResult, WorkerSetup } from './protocol.js';
import { slotViews, type SlotLayout, type SlotViews } from './slots.js';
import { countStatuses } from './stats.js';
import type { DropCounters, OutputBatch, WorkerCrashReason, WorkerLoad } from './types.js';

/** The two kinds of message a shard batches apart: each kind goes to its own engine call. */
export const MessageKind = {
  /** TunnelData received from the network (push, pushBatch with prevHops): processReceived. */
  Received: 0,
  /** Locally framed IBGW / OBGW bodies (pushGateway, pushBatch without prevHops): processGateway. */
  Gateway: 1,
} as const;
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];
const KINDS = [MessageKind.Received, MessageKind.Gateway] as const;

/** Keys of the tunnel tables: the engine keeps gateway ids (IBGW / OBGW) apart from received ids. */
const GATEWAY_BIT = 0x1_0000_0000;

export function tunnelKey(gateway: boolean, id: number): number {
  return (gateway ? GATEWAY_BIT : 0) + (id >>> 0);
}

export function tunnelIdOfKey(key: number): number {
  return key % GATEWAY_BIT;
}

/** What the watchdog allows a worker thread to start (load its modules and WASM) when taskTimeoutMs is shorter. */
const WORKER_START_MS = 30_000;
/**
 * A worker's young generation, MB (V8's default lets it grow to tens of MB under a burst of joins and keep it). The
 * hot path allocates next to nothing (batches live in shared slots), so a small one costs no throughput and keeps a
 * worker's memory to its tunnels (docs/data-plane.md, "Per-tunnel memory").
 */
const WORKER_YOUNG_GENERATION_MB = 4;

/** What a shard needs from its data plane: the shared settings and counters, and where it reports. */
export interface ShardContext {
  readonly maxBatch: number;
  readonly pipeline: number;
  readonly batchesPerTask: number;
  readonly maxAttempts: number;
  /** DataPlaneOptions.prefill, as resolved. */
  readonly prefill: boolean;
  readonly taskTimeoutMs: number;
  /** One for the whole plane: the main thread is single. */
  readonly grouper: Grouper;
  readonly dropped: DropCounters;
  readonly counters: { messagesOut: number };
  /** Pumps every shard at the next turn of the event loop. */
  scheduleFlush(): void;
  /** Hands a processed batch to the caller. */
  output(batch: OutputBatch): void;
  /** The shard's worker died or hung ('workerCrash'). */
  workerLost(shard: number, reason: WorkerCrashReason): void;
  /** A worker's engine refused a join; `config` is the main thread's copy when it still has one. */
  joinRefused(shard: number, failure: JoinFailure, config: TunnelConfig | undefined): void;
  /** Slots may have come free (batches dropped after a crash). */
  maybeDrain(): void;
  /** Batches were handed out: waiters for room or for idleness may go on. */
  delivered(): void;
}

/** Where a shard's engine runs: on this thread, or in a worker built from `workerFile`. */
export type ShardThread =
  { inline: true; factory: EngineFactory } | { inline: false; workerFile: string; engineModule?: string };

/** A batch (or a control-only step: slot -1, count 0) from its seal until it is handed out. */
interface PendingBatch {
  slot: number;
  count: number;
  gateway: boolean;
  ops: ControlOp[] | undefined;
  attempts: number;
  batchId: number;
  /** Test hook: attempts of this batch that still make their worker exit (or hang) half way, and which. */
  failuresLeft: number;
  failHow?: 'exit' | 'hang';
  done: boolean;
  result: BatchResult | undefined;
}

export class Shard {
  /** Worker shards: the pool of one thread. */
  readonly pool: Piscina | null = null;
  /** Inline: the runner on this thread. */
  readonly runner: BatchRunner | null = null;
  /** Views of the shard's slots (slots.ts): the main thread writes inputs, the worker outputs. */
  private readonly views: SlotViews[] = [];
  /** The batch being filled per kind (grouping.ts), grouped into its slot when it is sealed. */
  private readonly stages: [Stage, Stage];
  private readonly free: number[] = [];
  /** Slot being filled per kind, -1 none; the kind's stage holds the count. */
  private readonly fillingSlot: [number, number] = [-1, -1];
  /** Sealed batches not handed out yet, in dispatch order. */
  private readonly pending: PendingBatch[] = [];
  /** Joins and ends waiting for the shard's next batch. */
  private ops: ControlOp[] = [];
  /** Tunnel configs as of the last delivered batch: what a replacement worker is given. Key: tunnelKey. */
  readonly deliveredTunnels = new Map<number, TunnelConfig>();
  /** Tasks sent and not settled. */
  private inFlight = 0;
  /** pending[0, sent) have been sent in the current worker generation; the rest wait for room in the pipeline. */
  private sent = 0;
  /** Tasks sent: the next task's sequence number. */
  private sendSeq = 0;
  private batchIds = 0;
  /** Worker generation: outcomes of tasks sent to an earlier one are ignored. */
  private epoch = 0;
  /** The worker was lost and tasks of its generation are still settling. */
  private recovering = false;
  /** The next task starts with the delivered tunnel set (a new worker, or one that may have missed it). */
  private needsReset = true;
  /** Messages accepted for this shard and not handed out. */
  queued = 0;
  private batches = 0;
  private tasks = 0;
  private messages = 0;
  private busyMs = 0;
  private restarts = 0;
  private timeouts = 0;
  /**
   * performance.now() of the last sign of progress: a settled task, a heartbeat change, or the send that put a task
   * in flight when none was.
   */
  private lastProgress = 0;
  /** Workers: the heartbeat word (WorkerSetup.heartbeat) and its value at the watchdog's last look. */
  private readonly heartbeat: Int32Array | null = null;
  private beatSeen = 0;
  /** A worker (or its replacement) is starting: the watchdog allows it WORKER_START_MS until its first heartbeat. */
  private starting = true;
  private keySlots: { aes: number; chacha: number };
  /** Test hook: the next batch dispatched makes its worker exit (or hang) half way, on its first `attempts` attempts. */
  failNext: { attempts: number; how: 'exit' | 'hang' } | undefined;

  constructor(
    readonly index: number,
    private readonly ctx: ShardContext,
    layout: SlotLayout,
    engine: LayerEngineOptions,
    thread: ShardThread,
    keySlots: { aes: number; chacha: number },
  ) {
    this.keySlots = keySlots;
    const { maxBatch, slotCount } = layout;
    const slots = new SharedArrayBuffer(layout.slotSize * slotCount);
    for (let i = 0; i < slotCount; i++) this.views.push(slotViews(slots, layout, i));
    this.stages = [new Stage(maxBatch), new Stage(maxBatch)];
    for (let i = slotCount - 1; i >= 0; i--) this.free.push(i);
    if (thread.inline) {
      this.runner = new BatchRunner(thread.factory, engine, slots, maxBatch, slotCount);
      return;
    }
    this.heartbeat = new Int32Array(new SharedArrayBuffer(4));
    const setup: WorkerSetup = {
      shard: index,
      slots,
      maxBatch,
      slotCount,
      engine,
      heartbeat: this.heartbeat.buffer as SharedArrayBuffer,
    };
    if (thread.engineModule !== undefined) setup.engineModule = thread.engineModule;
    // Per-tunnel order depends on the worker taking tasks in submission order. stricterFIFO: by default piscina puts
    // a task it could not hand out at once back at the tail of its queue. `pipeline` tasks per worker, so the next
    // batch is already there when one ends; piscina does not promise to start a worker's tasks in order, so each
    // carries a sequence number and the worker refuses one out of turn (recovered like a crash).
    this.pool = new Piscina({
      filename: thread.workerFile,
      minThreads: 1,
      maxThreads: 1,
      concurrentTasksPerWorker: ctx.pipeline,
      stricterFIFO: true,
      recordTiming: false,
      workerData: setup,
      name: 'default',
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    // Crashes surface as rejected tasks; the pool's own 'error' event must not bring the process down.
    this.pool.on('error', () => {});
  }

  // ---------------------------------------------------------------- staging

  /**
   * Takes one message into the batch being filled for its kind (`copy`: a copy now; otherwise a reference into src
   * until the seal or materialize()). False when no slot is free.
   */
  accept(src: Uint8Array, at: number, id: number, prevHop: number, kind: MessageKind, copy: boolean): boolean {
    let slot = this.fillingSlot[kind];
    const stage = this.stages[kind];
    if (slot < 0) {
      const f = this.free.pop();
      if (f === undefined) return false;
      slot = f;
      this.fillingSlot[kind] = slot;
      stage.count = 0;
    }
    if (copy) stage.copy(src, at, id, prevHop);
    else stage.refer(src, at, id, prevHop);
    this.queued++;
    if (stage.count === this.ctx.maxBatch) this.seal(kind);
    else this.ctx.scheduleFlush();
    return true;
  }

  /** Messages in the batch being filled for this kind. */
  private staged(kind: MessageKind): number {
    return this.fillingSlot[kind] < 0 ? 0 : this.stages[kind].count;
  }

  /** True when a message of this kind would be accepted now. */
  hasRoom(kind: MessageKind): boolean {
    return this.fillingSlot[kind] >= 0 || this.free.length > 0;
  }

  /** Copies in what the batches being filled still reference in `src` (its owner gets it back). */
  materialize(src: Uint8Array): void {
    for (const k of KINDS) if (this.fillingSlot[k] >= 0) this.stages[k].materialize(src);
  }

  /** Queues a join or end behind everything pushed so far (which is processed under the old tunnel set). */
  control(op: ControlOp): void {
    for (const k of KINDS) if (this.staged(k) > 0) this.seal(k);
    this.ops.push(op);
    this.ctx.scheduleFlush();
  }

  /** Dispatches the partly filled batches and pending control ops now. */
  flush(): void {
    for (const k of KINDS) if (this.staged(k) > 0) this.seal(k);
    if (this.ops.length > 0) this.enqueue(-1, 0, false, this.ops.splice(0));
  }

  /** Sends partial batches and pending control ops when the worker has room in its pipeline. */
  pump(): void {
    if (this.recovering) return;
    for (const k of KINDS) {
      if (this.staged(k) > 0 && this.inFlight < this.ctx.pipeline) this.seal(k);
    }
    if (this.ops.length > 0 && this.staged(MessageKind.Received) === 0 && this.staged(MessageKind.Gateway) === 0) {
      this.enqueue(-1, 0, false, this.ops.splice(0));
    }
    this.sendReady();
  }

  isIdle(): boolean {
    return this.queued === 0 && this.pending.length === 0 && this.ops.length === 0;
  }

  /**
   * Seals the batch being filled: grouped by tunnel into its slot (straight in with the native copy, else through the
   * stage and one bulk copy), where it stays untouched until it is delivered, and queued for sending.
   */
  private seal(kind: MessageKind): void {
    const slot = this.fillingSlot[kind];
    const stage = this.stages[kind];
    const count = stage.count;
    this.fillingSlot[kind] = -1;
    const v = this.views[slot]!;
    const grouper = this.ctx.grouper;
    if (!grouper.sealInto(stage, v.inBodies, v.inPrev)) {
      const size = grouper.seal(stage);
      v.inBodies.set(stage.grouped.subarray(0, size));
      v.inPrev.set(stage.groupedPrev.subarray(0, count));
    }
    if (this.ctx.prefill) copyPrefix(v.outBodies, v.inBodies, count * TUNNEL_DATA_SIZE);
    this.enqueue(slot, count, kind === MessageKind.Gateway, this.ops.length > 0 ? this.ops.splice(0) : undefined);
  }

  private enqueue(slot: number, count: number, gateway: boolean, ops: ControlOp[] | undefined): void {
    this.batchIds = (this.batchIds + 1) | 0;
    this.pending.push({
      slot,
      count,
      gateway,
      ops,
      attempts: 0,
      batchId: this.batchIds,
      failuresLeft: 0,
      done: false,
      result: undefined,
    });
    this.sendReady();
  }

  // ---------------------------------------------------------------- dispatch

  /** Sends what is not sent yet, consecutive batches together, while the worker has room in its pipeline. */
  private sendReady(): void {
    if (this.recovering) return;
    while (this.inFlight < this.ctx.pipeline && this.sent < this.pending.length) {
      const from = this.sent;
      this.sent = Math.min(this.pending.length, from + this.ctx.batchesPerTask);
      this.sendTask(this.pending.slice(from, this.sent));
    }
  }

  private sendTask(entries: PendingBatch[]): void {
    const task: Task = { seq: this.sendSeq++, batches: [] };
    if (this.needsReset) {
      task.reset = [...this.deliveredTunnels.values()];
      this.needsReset = false;
    }
    for (const entry of entries) {
      const b: TaskBatch = { slot: entry.slot, count: entry.count, gateway: entry.gateway, batchId: entry.batchId };
      if (this.ctx.prefill && entry.attempts === 0 && entry.count > 0) b.prefilled = true;
      if (entry.ops) b.ops = entry.ops;
      const inject = this.failNext;
      if (inject && entry.count > 1 && !entry.gateway && entry.attempts === 0) {
        entry.failuresLeft = inject.attempts;
        entry.failHow = inject.how;
        this.failNext = undefined;
      }
      if (entry.failuresLeft > 0) {
        b.fail = entry.failHow ?? 'exit';
        entry.failuresLeft--;
      }
      entry.attempts++;
      task.batches.push(b);
    }
    const epoch = this.epoch;
    if (this.inFlight === 0) this.lastProgress = performance.now(); // the watchdog's clock starts with this task
    this.inFlight++;
    if (this.runner) {
      const runner = this.runner;
      queueMicrotask(() => {
        let r: TaskResult;
        try {
          r = runner.run(task);
        } catch (e) {
          const error = e instanceof Error ? e.message : String(e);
          r = { results: entries.map(() => ({ busyMs: 0, error })) };
        }
        this.settled(entries, epoch, r);
      });
      return;
    }
    this.pool!.run(task).then(
      (r: TaskResult) => this.settled(entries, epoch, r),
      () => this.settled(entries, epoch, undefined),
    );
  }

  /** A task came back (`result`; `refused` counts as a death) or its worker died (undefined). */
  private settled(entries: PendingBatch[], epoch: number, result: TaskResult | undefined): void {
    this.inFlight--;
    this.lastProgress = performance.now();
    if (epoch !== this.epoch) {
      // A task of a worker generation already being replaced: it is resent in order; ignore this outcome.
      if (this.recovering && this.inFlight === 0) this.resend();
      return;
    }
    const results = result?.results;
    if (results === undefined || results.length !== entries.length) {
      this.lost('exit');
      return;
    }
    if (result!.keySlots) this.keySlots = { aes: result!.keySlots[0], chacha: result!.keySlots[1] };
    if (entries.some((e) => e.count > 0)) this.tasks++;
    for (let i = 0; i < entries.length; i++) {
      entries[i]!.done = true;
      entries[i]!.result = results[i];
    }
    this.deliver();
  }

  // ---------------------------------------------------------------- recovery

  /**
   * The worker died (its task failed or was refused) or hung (the watchdog): everything in flight is void. Once the
   * last of it has settled, resend() brings a replacement to the last delivered state. Runs once per worker
   * generation: outcomes of the old generation's tasks are ignored (epoch), and the watchdog skips a shard that is
   * recovering.
   */
  private lost(reason: WorkerCrashReason): void {
    this.epoch++;
    this.recovering = true;
    this.restarts++;
    if (reason === 'timeout') this.timeouts++;
    this.starting = true; // piscina starts a replacement (a worker that only refused a task beats again at once)
    this.ctx.workerLost(this.index, reason);
    if (this.inFlight === 0) this.resend();
  }

  /**
   * The watchdog's look: true when the worker has tasks in flight and has shown no progress (a settled task or a
   * heartbeat) within taskTimeoutMs, or WORKER_START_MS while it has not come up yet. `late`: the watchdog's tick
   * came late, so this thread was blocked and results may be waiting behind it: the clock restarts instead.
   */
  hung(now: number, late: boolean): boolean {
    const beat = this.heartbeat ? Atomics.load(this.heartbeat, 0) : 0;
    if (beat !== this.beatSeen) {
      this.beatSeen = beat;
      this.lastProgress = now;
      this.starting = false;
    }
    if (late) {
      this.lastProgress = now;
      return false;
    }
    const timeout = this.ctx.taskTimeoutMs;
    const limit = this.starting ? Math.max(timeout, WORKER_START_MS) : timeout;
    return !(this.recovering || this.inFlight === 0 || now - this.lastProgress <= limit);
  }

  /** Terminates a hung worker: its tasks then fail, and the crash path re-runs them on a replacement. */
  terminateHung(): void {
    this.lost('timeout');
    for (const t of this.pool?.threads ?? []) void t.terminate();
  }

  /** After the worker was lost: bring its replacement to the last delivered state and re-run what was not delivered. */
  private resend(): void {
    this.recovering = false;
    this.needsReset = true;
    for (const entry of this.pending) {
      entry.done = false;
      entry.result = undefined;
      if (entry.attempts >= this.ctx.maxAttempts && entry.count > 0) {
        // Poison batch: keep its control ops (a control-only retry), drop its messages.
        this.ctx.dropped.workerCrash += entry.count;
        this.queued -= entry.count;
        if (entry.slot >= 0) this.free.push(entry.slot);
        entry.slot = -1;
        entry.count = 0;
      }
    }
    this.sent = 0;
    if (this.pending.length === 0 && this.deliveredTunnels.size > 0) this.enqueue(-1, 0, false, undefined);
    this.sendReady();
    this.pump();
    this.ctx.maybeDrain();
  }

  // ---------------------------------------------------------------- delivery

  /** Hands out completed batches from the head of the queue, in dispatch order. */
  private deliver(): void {
    const ctx = this.ctx;
    while (this.pending.length > 0 && this.pending[0]!.done) {
      const e = this.pending.shift()!;
      this.sent--;
      const r = e.result!;
      // Joins of the task's reset that failed refer to the state before this batch's ops.
      for (const f of r.joinErrors ?? []) {
        if (f.op < 0) this.joinRefused(f, this.deliveredTunnels.get(tunnelKey(f.gateway, f.tunnelId)));
      }
      if (e.ops) this.applyOps(e.ops, r.joinErrors);
      if (r.pins) {
        for (let i = 0; i < r.pins.length; i += 2) {
          const c = this.deliveredTunnels.get(tunnelKey(false, r.pins[i]!));
          if (c && c.role !== 'obgw' && c.role !== 'ibgw' && c.previousHop === undefined)
            c.previousHop = r.pins[i + 1]!;
        }
      }
      this.busyMs += r.busyMs;
      if (e.count > 0) {
        this.batches++;
        this.messages += e.count;
        const v = this.views[e.slot]!;
        if (r.error !== undefined) {
          ctx.dropped.engineError += e.count;
        } else {
          const st = v.outStatus;
          ctx.counters.messagesOut += countStatuses(st, e.count, ctx.dropped);
          ctx.output({
            shard: this.index,
            gateway: e.gateway,
            count: e.count,
            bodies: v.outBodies.subarray(0, e.count * TUNNEL_DATA_SIZE),
            status: st.subarray(0, e.count),
            nextHops: v.outHop.subarray(0, e.count),
            nextTunnelIds: v.outTunnel.subarray(0, e.count),
          });
        }
        this.queued -= e.count;
        this.free.push(e.slot);
      }
    }
    this.pump();
    ctx.delivered();
  }

  /** A delivered batch's joins and ends, applied to the delivered tunnel set (a refused join is not applied). */
  private applyOps(ops: ControlOp[], failures: JoinFailure[] | undefined): void {
    for (let k = 0; k < ops.length; k++) {
      const op = ops[k]!;
      const failed = failures?.find((f) => f.op === k);
      if (failed && op.op === 'join') {
        this.joinRefused(failed, op.config);
      } else if (op.op === 'join') {
        const key = tunnelKey(isGatewayRole(op.config), tunnelIdOf(op.config));
        const old = this.deliveredTunnels.get(key);
        if (old && old !== op.config) wipeConfig(old);
        this.deliveredTunnels.set(key, op.config);
      } else {
        const key = tunnelKey(op.gateway, op.tunnelId);
        const old = this.deliveredTunnels.get(key);
        if (old) wipeConfig(old);
        this.deliveredTunnels.delete(key);
      }
    }
  }

  /** The engine refused a join: the tunnel is not live in this shard (the data plane wipes the config). */
  private joinRefused(f: JoinFailure, config: TunnelConfig | undefined): void {
    const key = tunnelKey(f.gateway, f.tunnelId);
    if (config !== undefined && this.deliveredTunnels.get(key) === config) this.deliveredTunnels.delete(key);
    this.ctx.joinRefused(this.index, f, config);
  }

  /** Forgets and wipes the configs of tunnels past expiresAt + graceMs; returns their keys. */
  forgetExpired(now: number, graceMs: number): number[] {
    const gone: number[] = [];
    for (const [key, c] of this.deliveredTunnels) {
      if ((c.expiresAt ?? Infinity) + graceMs >= now) continue;
      wipeConfig(c);
      this.deliveredTunnels.delete(key);
      gone.push(key);
    }
    return gone;
  }

  // ---------------------------------------------------------------- close and stats

  /**
   * Wipes the shard's keys: the inline runner's engine here, a worker's engine and key copies in its thread (a close
   * task, waited for at most taskTimeoutMs), then the pool goes; then this thread's delivered configs.
   */
  async close(): Promise<void> {
    await this.closeThread();
    for (const c of this.deliveredTunnels.values()) wipeConfig(c);
    this.deliveredTunnels.clear();
  }

  private async closeThread(): Promise<void> {
    if (this.runner) {
      this.runner.close();
      return;
    }
    const pool = this.pool!;
    if (this.sendSeq === 0) {
      await pool.destroy(); // never sent a task: its thread has no key
      return;
    }
    const wiped = pool.run({ seq: -1, close: true, batches: [] } satisfies Task).catch(() => undefined);
    const timeout = this.ctx.taskTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const limit =
      timeout > 0
        ? new Promise<void>((resolve) => {
            timer = setTimeout(resolve, timeout);
          })
        : wiped;
    await Promise.race([wiped, limit]);
    clearTimeout(timer);
    await pool.destroy();
  }

  /** `wallMs`: time since the plane started. */
  load(wallMs: number): WorkerLoad {
    return {
      shard: this.index,
      batches: this.batches,
      tasks: this.tasks,
      messages: this.messages,
      busyMs: this.busyMs,
      utilization: wallMs > 0 ? this.busyMs / wallMs : 0,
      queued: this.queued,
      restarts: this.restarts,
      timeouts: this.timeouts,
      tunnels: this.deliveredTunnels.size,
      keySlotsFree: { ...this.keySlots },
    };
  }
}
