// The embeddable data plane: TunnelData in, processed TunnelData out, on every core.
//
// Tunnels are sharded: each tunnel lives on exactly one worker (the one with the fewest live tunnels when it joins;
// messages for ids never joined go by a hash of the id), so
// its keys, its pinned previous hop and its expiry live in one engine, and its messages are processed in order by
// one thread. Each shard is a one-thread piscina pool (affinity without a custom balancer) over a SharedArrayBuffer
// of batch slots; the main thread stages and groups each batch (grouping.ts) and a task carries one or more batches
// (slot index, count, the joins / ends to apply before it). The main
// thread keeps, per shard, the tunnel set as of the last delivered batch, so a replacement worker can be brought to
// exactly that state and the undelivered batches re-run from their untouched input bytes (see docs/data-plane.md).
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import {
  AES_KEY_SLOTS, CHACHA_KEY_SLOTS, MAX_BATCH, STATUS_BAD_LENGTH, STATUS_BAD_MAC, STATUS_EXPIRED_TUNNEL, STATUS_OK,
  STATUS_REPLAY, STATUS_UNKNOWN_TUNNEL, STATUS_WRONG_PREV_HOP, STATUS_WRONG_ROLE, STATUS_REPLAY_FULL, TUNNEL_DATA_SIZE,
} from '../constants.js';
import { createReplayFilterBuffer } from '../tunnel/replay-filter.js';
import { copyPrefix } from '../tunnel/aes-native.js';
import { TUNNEL_GRACE_MS, TUNNEL_LIFETIME_MS, type EngineBackend, type LayerEngineOptions, type TunnelConfig } from '../tunnel/types.js';
import type { WasmFlavor } from '../wasm/loader.js';
import {
  BatchRunner, isGatewayRole, runsNativeAes, tunnelIdOf, wipeConfig, type BatchEngine, type EngineFactory,
} from './batch-runner.js';
import type { BatchResult, ControlOp, JoinFailure, Task, TaskBatch, TaskResult, WorkerSetup } from './protocol.js';
import { TunnelJoinError } from '../errors.js';
import { TEST_SEAM, type DataPlaneSeam, type DataPlaneTestOptions } from '../test-seam.js';
import { Grouper, Stage } from './grouping.js';
import { journalBlockBytes, slotLayout, slotViews, type SlotLayout, type SlotViews } from './slots.js';

export interface DataPlaneOptions {
  /** Worker threads (one shard each), or 0 / 'inline' for a single-thread plane on the calling thread. Default: cores. */
  threads?: number | 'inline';
  /** Engine backend (default 'auto'). */
  backend?: EngineBackend;
  /** WASM flavor for the wasm backend. */
  flavor?: WasmFlavor;
  /** Grace after a tunnel's expiresAt, ms (engine default when absent). */
  graceMs?: number;
  /** The router-wide replay filter (createReplayFilterBuffer); default: one sized for `messagesPerSecond`. */
  replayFilter?: SharedArrayBuffer;
  /** Expected messages per second, to size a default replay filter (default 10 000). */
  messagesPerSecond?: number;
  /** Messages per task (default 256, at most MAX_BATCH). */
  maxBatch?: number;
  /** Messages accepted but not yet handed out, whole plane (default 16 x maxBatch per shard). */
  maxQueued?: number;
  /**
   * Tasks a worker holds at once (default 4: it keeps working through a pause of the main thread). Also the number of
   * batches in flight per worker below which a partly filled batch is sent rather than left to grow.
   */
  pipeline?: number;
  /**
   * Batches one task may carry (default 8). A worker that falls behind gets the batches that piled up meanwhile in
   * one task, so the round trip of a task (about 20-60 us in piscina) is shared; a worker that keeps up gets each
   * batch alone, as soon as it is sealed.
   */
  batchesPerTask?: number;
  /** Attempts of one batch across worker crashes before its messages are dropped as workerCrash (default 3). */
  maxAttempts?: number;
  /**
   * Receives every processed batch in order per tunnel. The views point into shared memory and are valid only
   * during the call: send or copy what you keep. Messages with status !== STATUS_OK were not transformed.
   */
  onOutput: (batch: OutputBatch) => void;
  /**
   * How batches move between threads. 'shared' (default) -- all slots of a shard in one SharedArrayBuffer, a task
   * names its slot, the input stays readable by a replacement worker. 'transfer' -- each slot is an ArrayBuffer
   * moved to its worker and back, and the main thread keeps a copy of each batch's input to re-run it after a crash.
   * Measured equal at batches of 256 and shared faster at 64 (docs/data-plane.md, "Memory"). Replay journals are shared
   * memory in both. Ignored inline.
   */
  memory?: 'shared' | 'transfer';
  /**
   * Shared memory with the native AES backend: the main thread also copies each sealed batch into its slot's output
   * half, where the worker then transforms it without a copy of its own (about 0.1 us of a 1.35 us AES message moves
   * to the main thread). Default: on when there are fewer workers than cores (the main thread has a core to spare),
   * off otherwise (its time is then what two workers wait for). A retried batch is always copied by its worker.
   */
  prefill?: boolean;
  /** Path of the compiled worker (default: dist/src/dataplane/worker.js, found from this file). */
  workerFile?: string;
  /**
   * A worker that has tasks in flight and settles none of them for this long is taken as hung: it is terminated and
   * recovered like a crash (its batches re-run on a replacement), and counted in `WorkerLoad.timeouts`. Default
   * 10 000 ms; 0 turns the watchdog off. Ignored inline.
   */
  taskTimeoutMs?: number;
  /** Test-only settings (src/testing/index.ts). */
  [TEST_SEAM]?: DataPlaneTestOptions;
}

export interface OutputBatch {
  /** Shard (worker) that processed it. */
  readonly shard: number;
  /** True for bodies pushed with pushGateway. */
  readonly gateway: boolean;
  readonly count: number;
  /** count x 1028 bytes, grouped by tunnel; arrival order kept inside each tunnel. */
  readonly bodies: Uint8Array;
  /** STATUS_* per message. */
  readonly status: Uint8Array;
  /** Next router per message (LOCAL_HOP for output that stays here). */
  readonly nextHops: Uint32Array;
  /** Tunnel id now in body[0..3]. */
  readonly nextTunnelIds: Uint32Array;
}

export interface DropCounters {
  /** Refused at push: the queue was full (the producer did not wait for ready()). */
  queueFull: number;
  /** Refused at push: the plane was closing. */
  closed: number;
  unknownTunnel: number;
  expiredTunnel: number;
  replay: number;
  wrongPrevHop: number;
  badLength: number;
  badMac: number;
  wrongRole: number;
  /** The replay filter could not record the entry (full bucket): dropped, never passed. */
  replayFull: number;
  /** The engine threw on the batch (a bug): its messages are dropped, not retried. */
  engineError: number;
  /** The batch crashed its worker maxAttempts times. */
  workerCrash: number;
}

export interface WorkerLoad {
  shard: number;
  batches: number;
  /** Tasks that carried them (fewer than batches when the worker fell behind and got several per task). */
  tasks: number;
  messages: number;
  /** Milliseconds the worker spent processing. */
  busyMs: number;
  /** busyMs / wall time since the plane started. */
  utilization: number;
  /** Messages accepted for this shard and not yet handed out. */
  queued: number;
  /** Times the worker was replaced after dying or hanging. */
  restarts: number;
  /** Of those, the times it was found hung (no task settled within taskTimeoutMs) and terminated. */
  timeouts: number;
  tunnels: number;
  /**
   * WASM key slots its engine has left, as of its last task (AES_KEY_SLOTS / CHACHA_KEY_SLOTS per engine). What a
   * tunnel takes depends on the backend: docs/data-plane-safety.md.
   */
  keySlotsFree: { aes: number; chacha: number };
}

export interface DataPlaneStats {
  messagesIn: number;
  /** Messages handed out with STATUS_OK. */
  messagesOut: number;
  dropped: DropCounters;
  /** Messages accepted and not yet handed out (all shards). */
  queueDepth: number;
  queueLimit: number;
  /** Joins a worker's engine refused (each also emitted as a TunnelJoinError on 'error'). */
  joinErrors: number;
  workers: WorkerLoad[];
}

interface Entry {
  slot: number;
  count: number;
  gateway: boolean;
  ops: ControlOp[] | undefined;
  attempts: number;
  batchId: number;
  /** Test hook: attempts of this batch that still make their worker exit (or hang) half way, and which. */
  crashes: number;
  failHow?: 'exit' | 'hang';
  done: boolean;
  result: BatchResult | undefined;
}

interface Shard {
  index: number;
  pool: Piscina | null;
  runner: BatchRunner | null;
  /** Shared mode: the slots. Transfer mode: the replay journals. */
  buffer: SharedArrayBuffer;
  views: SlotViews[];
  /** Transfer mode: each slot's ArrayBuffer while it is here (detached while a worker holds it). */
  slotBufs: ArrayBuffer[];
  /**
   * Batches being filled, in arrival order (grouping.ts). Shared mode: one per kind (0 received, 1 gateway), grouped
   * into the slot when it is sealed. Transfer mode: one per slot, holding the grouped batch until it is delivered:
   * each send (a retry too) copies it into the slot's moved buffer.
   */
  stages: Stage[];
  free: number[];
  /** Slot being filled, per kind (0 received, 1 gateway), -1 none; its stage holds the count. */
  staging: [number, number];
  pending: Entry[];
  ops: ControlOp[];
  /** Tunnel configs as of the last delivered batch (what a replacement worker is given). Key: table bit + id. */
  base: Map<number, TunnelConfig>;
  /** Tasks sent and not settled. */
  inFlight: number;
  /** pending[0, sent) have been sent in the current worker generation; the rest wait for room in the pipeline. */
  sent: number;
  sendSeq: number;
  batchIds: number;
  epoch: number;
  recovering: boolean;
  needsReset: boolean;
  queued: number;
  batches: number;
  tasks: number;
  messages: number;
  busyMs: number;
  restarts: number;
  timeouts: number;
  /**
   * performance.now() of the last sign of progress: a settled task, a heartbeat change, or the send that put a task
   * in flight when none was.
   */
  lastProgress: number;
  /** Pools: the worker's heartbeat word (WorkerSetup.heartbeat) and its value at the watchdog's last look. */
  heartbeat: Int32Array | null;
  beatSeen: number;
  /** A worker (or its replacement) is starting: the watchdog allows it WORKER_START_MS until its first heartbeat. */
  starting: boolean;
  keySlots: { aes: number; chacha: number };
}

const STATUS_REASON: Record<number, keyof DropCounters> = {
  [STATUS_UNKNOWN_TUNNEL]: 'unknownTunnel', [STATUS_EXPIRED_TUNNEL]: 'expiredTunnel', [STATUS_REPLAY]: 'replay',
  [STATUS_WRONG_PREV_HOP]: 'wrongPrevHop', [STATUS_BAD_LENGTH]: 'badLength', [STATUS_BAD_MAC]: 'badMac',
  [STATUS_WRONG_ROLE]: 'wrongRole', [STATUS_REPLAY_FULL]: 'replayFull',
};

const GATEWAY_BIT = 0x1_0000_0000;
/** What the watchdog allows a worker thread to start (load its modules and WASM) when taskTimeoutMs is shorter. */
const WORKER_START_MS = 30_000;

function baseKey(gateway: boolean, id: number): number {
  return (gateway ? GATEWAY_BIT : 0) + (id >>> 0);
}

/** Where the compiled worker is: next to this file in dist/, or dist/src/dataplane/ above src/ (vitest, tsx). */
export function defaultWorkerFile(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const local = join(here, 'worker.js');
  if (existsSync(local)) return local;
  let dir = here;
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'dist', 'src', 'dataplane', 'worker.js');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('tunnelplane: compiled data-plane worker not found (dist/src/dataplane/worker.js); run `npm run build`');
}

export class DataPlane extends EventEmitter {
  readonly threads: number;
  readonly maxBatch: number;
  readonly replayFilter: SharedArrayBuffer;
  readonly memory: 'shared' | 'transfer';
  /** Whether the main thread fills each batch's output half too (DataPlaneOptions.prefill). */
  readonly prefill: boolean;
  private readonly shards: Shard[];
  /**
   * Which shard each tunnel id lives on. A tunnel is placed on the shard with the fewest live tunnels when it joins
   * (hashing ids spreads a few dozen tunnels unevenly: 64 ids split 29 / 35 over two shards in the benchmark, which
   * caps two workers at 1.83x one). The entry outlives the tunnel by the engine's tombstone time, so late messages
   * still reach the engine that reports them as expired, and a rejoin lands on the same shard.
   */
  private readonly placement = new Map<number, { shard: number; refs: number; until: number }>();
  /** Live tunnels per shard (the placement load). */
  private readonly placed: number[];
  private readonly layout: SlotLayout;
  /** Transfer mode: the layout of one moved slot. */
  private readonly single: SlotLayout;
  private readonly grouper: Grouper;
  private readonly pipeline: number;
  private readonly batchesPerTask: number;
  private readonly maxAttempts: number;
  private readonly onOutput: (batch: OutputBatch) => void;
  private readonly startedAt = performance.now();
  private readonly counters = { messagesIn: 0, messagesOut: 0 };
  private readonly dropped: DropCounters = {
    queueFull: 0, closed: 0, unknownTunnel: 0, expiredTunnel: 0, replay: 0, wrongPrevHop: 0, badLength: 0,
    badMac: 0, wrongRole: 0, replayFull: 0, engineError: 0, workerCrash: 0,
  };
  private flushScheduled = false;
  private needDrain = false;
  private closing = false;
  private idleWaiters: (() => void)[] = [];
  /** Checks configs on this thread (a worker must never see one its engine rejects). */
  private readonly validator: BatchEngine;
  /** Tunnels joined and not ended, as the caller sees them: base key -> the config sent to the worker. */
  private readonly live = new Map<number, TunnelConfig>();
  private joinErrors = 0;
  private closeDone: Promise<void> | undefined;
  private readonly taskTimeoutMs: number;
  private readonly watchdog: NodeJS.Timeout | undefined;
  private readyWaiters: (() => void)[] = [];
  /** Test hook: the next task dispatched to this shard makes its worker exit (or hang) half way through. */
  private crashNext = -1;
  private crashTimes = 1;
  private crashHow: 'exit' | 'hang' = 'exit';
  private readonly graceMs: number;
  private readonly sweepTimer: NodeJS.Timeout;

  constructor(options: DataPlaneOptions, engineFactory: EngineFactory) {
    super();
    if (typeof options?.onOutput !== 'function') throw new TypeError('onOutput must be a function');
    const t = options.threads ?? availableParallelism();
    const inline = t === 'inline' || t === 0;
    if (!inline && !(Number.isInteger(t) && (t as number) > 0 && (t as number) <= 256)) {
      throw new RangeError(`threads must be 'inline' or an integer 0..256, not ${String(t)}`);
    }
    this.threads = inline ? 0 : (t as number);
    const maxBatch = options.maxBatch ?? 256;
    if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > MAX_BATCH) throw new RangeError(`maxBatch must be 1..${MAX_BATCH}`);
    this.maxBatch = maxBatch;
    this.pipeline = options.pipeline ?? 4;
    if (!Number.isInteger(this.pipeline) || this.pipeline < 1) throw new RangeError('pipeline must be an integer >= 1');
    this.batchesPerTask = options.batchesPerTask ?? 8;
    if (!Number.isInteger(this.batchesPerTask) || this.batchesPerTask < 1) throw new RangeError('batchesPerTask must be an integer >= 1');
    this.maxAttempts = options.maxAttempts ?? 3;
    this.onOutput = options.onOutput;
    const memory = options.memory ?? 'shared';
    if (memory !== 'shared' && memory !== 'transfer') throw new TypeError(`memory must be 'shared' or 'transfer'`);
    this.memory = inline ? 'shared' : memory;
    const shardCount = inline ? 1 : this.threads;
    const maxQueued = options.maxQueued ?? 16 * maxBatch * shardCount;
    if (!(maxQueued >= 1)) throw new RangeError('maxQueued must be >= 1');
    // Two slots at least per shard: one filling while one is processed.
    const slotCount = Math.max(2, Math.ceil(maxQueued / (shardCount * maxBatch)));
    this.layout = slotLayout(maxBatch, slotCount, this.memory === 'transfer');
    this.single = slotLayout(maxBatch, 1, true);
    this.grouper = new Grouper(maxBatch);
    this.replayFilter = options.replayFilter ??
      createReplayFilterBuffer({
        messagesPerSecond: options.messagesPerSecond ?? 10_000,
        windowMs: Math.ceil(TUNNEL_LIFETIME_MS + (options.graceMs ?? TUNNEL_GRACE_MS)), // as long as a default tunnel accepts traffic
      });
    const engine: LayerEngineOptions = { replayFilter: this.replayFilter };
    if (options.backend !== undefined) engine.backend = options.backend;
    if (options.flavor !== undefined) engine.flavor = options.flavor;
    if (options.graceMs !== undefined) engine.graceMs = options.graceMs;
    const workerFile = inline ? '' : (options.workerFile ?? defaultWorkerFile());
    this.graceMs = options.graceMs ?? TUNNEL_GRACE_MS;
    // The engines wipe expired tunnels themselves; this wipes the main thread's copies (kept for replacements).
    this.sweepTimer = setInterval(() => this.sweepExpired(Date.now()), 10_000);
    this.sweepTimer.unref();
    this.taskTimeoutMs = options.taskTimeoutMs ?? 10_000;
    if (!(this.taskTimeoutMs >= 0)) throw new RangeError('taskTimeoutMs must be >= 0');

    // The workers' engine options: a backend this machine lacks ('native' without the addon) fails here, not in them.
    this.validator = engineFactory(engine);
    this.prefill = !inline && this.memory === 'shared' && runsNativeAes(this.validator) &&
      (options.prefill ?? this.threads < availableParallelism());
    this.shards = [];
    this.placed = new Array<number>(shardCount).fill(0);
    const transfer = this.memory === 'transfer';
    for (let s = 0; s < shardCount; s++) {
      // Shared: every slot in one SharedArrayBuffer. Transfer: one ArrayBuffer per slot (moved to the worker and
      // back; the worker transforms it in place), each batch's grouped input kept in its stage here for retries, and
      // the replay journals in shared memory.
      const buffer = new SharedArrayBuffer(transfer ? journalBlockBytes(this.layout) * slotCount : this.layout.slotSize * slotCount);
      const shard: Shard = {
        index: s, pool: null, runner: null, buffer, views: [], slotBufs: [], stages: [], free: [], staging: [-1, -1],
        pending: [], ops: [], base: new Map(), inFlight: 0, sent: 0, sendSeq: 0, batchIds: 0, epoch: 0,
        recovering: false, needsReset: true, queued: 0, batches: 0, tasks: 0, messages: 0, busyMs: 0, restarts: 0,
        timeouts: 0, lastProgress: 0, heartbeat: null, beatSeen: 0, starting: true,
        keySlots: this.validator.freeKeySlots ?? { aes: AES_KEY_SLOTS, chacha: CHACHA_KEY_SLOTS },
      };
      if (transfer) {
        for (let i = 0; i < slotCount; i++) {
          const b = new ArrayBuffer(this.single.slotSize);
          shard.slotBufs.push(b);
          shard.views.push(slotViews(b, this.single, 0));
          shard.stages.push(new Stage(maxBatch));
        }
      } else {
        for (let i = 0; i < slotCount; i++) shard.views.push(slotViews(buffer, this.layout, i));
        shard.stages.push(new Stage(maxBatch), new Stage(maxBatch));
      }
      for (let i = slotCount - 1; i >= 0; i--) shard.free.push(i);
      if (inline) {
        shard.runner = new BatchRunner(engineFactory, engine, buffer, maxBatch, slotCount);
      } else {
        shard.heartbeat = new Int32Array(new SharedArrayBuffer(4));
        const setup: WorkerSetup = {
          shard: s, memory: this.memory, slots: buffer, maxBatch, slotCount, engine,
          heartbeat: shard.heartbeat.buffer as SharedArrayBuffer,
        };
        const test = options[TEST_SEAM];
        if (test?.engineModule !== undefined) setup.engineModule = test.engineModule;
        // Per-tunnel order depends on the worker taking tasks in submission order. stricterFIFO: by default
        // piscina puts a task it could not hand out at once back at the tail of its queue. `pipeline` tasks per
        // worker, so the next batch is already there when one ends; piscina does not promise to start a worker's
        // tasks in order, so each carries a sequence number and the worker refuses one out of turn (recovered
        // like a crash; not seen in practice).
        shard.pool = new Piscina({
          filename: workerFile, minThreads: 1, maxThreads: 1, concurrentTasksPerWorker: this.pipeline,
          stricterFIFO: true, recordTiming: false, workerData: setup, name: 'default',
        });
        // Crashes surface as rejected tasks; the pool's own 'error' event must not bring the process down.
        shard.pool.on('error', () => {});
      }
      this.shards.push(shard);
    }
    this.watchdog = inline || this.taskTimeoutMs === 0 ? undefined : this.startWatchdog();
  }

  // ---------------------------------------------------------------- control plane

  /**
   * Starts processing a tunnel. Takes effect before any message pushed after this call (messages already pushed
   * for the same shard are dispatched first). The config is cloned; the caller may wipe its keys.
   */
  join(config: TunnelConfig): void {
    this.checkOpen();
    if (config === null || typeof config !== 'object') throw new TypeError('config must be a TunnelConfig');
    const own = structuredClone(config);
    let key: number;
    let id: number;
    try {
      if (own.expiresAt === undefined) own.expiresAt = Date.now() + TUNNEL_LIFETIME_MS; // fixed now, for replacements
      const gateway = isGatewayRole(own);
      id = tunnelIdOf(own);
      key = baseKey(gateway, id);
      if (this.live.has(key)) throw new Error(`tunnel id ${id} is already in use`);
      // Throws TypeError / RangeError exactly as a worker's engine would. The probe's keys are zeroed either way.
      const probe = structuredClone(own);
      try {
        this.validator.join(probe);
      } finally {
        wipeConfig(probe);
      }
      this.validator.end(id, gateway);
    } catch (e) {
      wipeConfig(own); // a refused config leaves no copy behind
      throw e;
    }
    this.live.set(key, own);
    this.control(this.place(id), { op: 'join', config: own });
  }

  /** Ends a tunnel (keys zeroed in the worker and here) before any message pushed after this call. */
  end(tunnelId: number, options: { gateway?: boolean } = {}): void {
    this.checkOpen();
    if (!Number.isInteger(tunnelId) || tunnelId < 0 || tunnelId > 0xffffffff) throw new TypeError('tunnelId must be a u32');
    const gateway = options.gateway === true;
    const shard = this.shardOf(tunnelId);
    if (this.live.delete(baseKey(gateway, tunnelId))) this.unplace(tunnelId, Date.now());
    this.control(shard, { op: 'end', tunnelId, gateway });
  }

  private control(shard: Shard, op: ControlOp): void {
    // Order: everything pushed before this call is processed under the old tunnel set.
    for (const k of [0, 1] as const) if (this.staged(shard, k) > 0) this.dispatchStaging(shard, k);
    shard.ops.push(op);
    this.scheduleFlush();
  }

  // ---------------------------------------------------------------- data in

  /**
   * Accepts one TunnelData body received from `prevHop` (copied into shared memory). Returns false when the
   * queue is full (the message is dropped and counted as queueFull; wait for ready() or 'drain') or the plane is
   * closing.
   */
  push(body: Uint8Array, prevHop: number): boolean {
    checkBody(body);
    return this.accept(body, 0, prevHop >>> 0, 0, true);
  }

  /** Accepts one locally framed gateway body (IBGW / OBGW, body[0..3] = the gateway's tunnel id). */
  pushGateway(body: Uint8Array): boolean {
    checkBody(body);
    return this.accept(body, 0, 0, 1, true);
  }

  /**
   * Accepts `count` bodies laid out back to back (count x 1028 bytes), waiting for room instead of dropping.
   * `prevHops` (one per message) for received TunnelData; omit it for gateway bodies. Keep `bodies` unchanged until
   * the promise resolves: messages are copied from it when their batch is sealed (once, grouped by tunnel), and
   * whatever is not sealed yet is copied before it resolves. A long push also yields to the event loop every
   * maxBatch x threads messages; await it before close(), which refuses what is not yet accepted.
   */
  async pushBatch(bodies: Uint8Array, prevHops?: Uint32Array, count?: number): Promise<void> {
    if (!(bodies instanceof Uint8Array)) throw new TypeError('bodies must be a Uint8Array');
    const n = count ?? Math.floor(bodies.length / TUNNEL_DATA_SIZE);
    if (!Number.isInteger(n) || n < 0 || n * TUNNEL_DATA_SIZE > bodies.length) throw new RangeError('bodies must hold count x 1028 bytes');
    if (prevHops !== undefined && !(prevHops instanceof Uint32Array && prevHops.length >= n)) {
      throw new RangeError('prevHops must be a Uint32Array of count entries');
    }
    const kind = prevHops === undefined ? 1 : 0;
    // A long push gives the event loop a turn every `yieldEvery` messages: finished batches are handed out and the
    // next ones sent while the copying goes on (otherwise each worker runs dry after its `pipeline` tasks).
    const yieldEvery = this.maxBatch * this.shards.length;
    try {
      for (let i = 0; i < n; i++) {
        if (i > 0 && i % yieldEvery === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        const o = i * TUNNEL_DATA_SIZE;
        const id = readId(bodies, o);
        let shard = this.shardOf(id);
        while (!this.closing && !this.hasRoom(shard, kind)) {
          await this.ready();
          shard = this.shardOf(id); // a join while waiting may have placed this id
        }
        if (!this.accept(bodies, o, kind === 0 ? prevHops![i]! : 0, kind, false, id, shard)) return;
      }
    } finally {
      // The caller gets its buffer back: copy in what batches still being filled reference in it.
      for (const shard of this.shards) {
        for (const k of [0, 1] as const) {
          const slot = shard.staging[k];
          if (slot >= 0) this.stageOf(shard, slot, k).materialize(bodies);
        }
      }
    }
  }

  /** `copy`: take a copy now (push); otherwise reference src until the seal or the end of pushBatch. */
  private accept(
    src: Uint8Array, at: number, prevHop: number, kind: 0 | 1, copy: boolean, id = readId(src, at), shard = this.shardOf(id),
  ): boolean {
    if (this.closing) {
      this.dropped.closed++;
      return false;
    }
    let slot = shard.staging[kind];
    if (slot < 0) {
      const f = shard.free.pop();
      if (f === undefined) {
        this.dropped.queueFull++;
        this.needDrain = true;
        return false;
      }
      slot = f;
      shard.staging[kind] = slot;
      this.stageOf(shard, slot, kind).count = 0;
    }
    const stage = this.stageOf(shard, slot, kind);
    if (copy) stage.copy(src, at, id, prevHop);
    else stage.refer(src, at, id, prevHop);
    shard.queued++;
    this.counters.messagesIn++;
    if (stage.count === this.maxBatch) this.dispatchStaging(shard, kind);
    else this.scheduleFlush();
    return true;
  }

  private stageOf(shard: Shard, slot: number, kind: 0 | 1): Stage {
    return shard.stages[this.memory === 'transfer' ? slot : kind]!;
  }

  /** Messages in the batch being filled for this kind. */
  private staged(shard: Shard, kind: 0 | 1): number {
    const slot = shard.staging[kind];
    return slot < 0 ? 0 : this.stageOf(shard, slot, kind).count;
  }

  /** True when a message for this shard would be accepted now. */
  private hasRoom(shard: Shard, kind: 0 | 1): boolean {
    return shard.staging[kind] >= 0 || shard.free.length > 0;
  }

  /** Resolves when every shard can accept a message again (at once if they all can). */
  ready(): Promise<void> {
    if (this.closing || this.shards.every((s) => this.hasRoom(s, 0) && this.hasRoom(s, 1))) return Promise.resolve();
    this.needDrain = true;
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Dispatches every partly filled batch now (otherwise they go when the worker is free or the batch is full). */
  flush(): void {
    for (const shard of this.shards) {
      for (const k of [0, 1] as const) if (this.staged(shard, k) > 0) this.dispatchStaging(shard, k);
      if (shard.ops.length > 0) this.dispatchControl(shard);
    }
  }

  /** Resolves when everything accepted so far has been handed out. */
  idle(): Promise<void> {
    this.flush();
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops accepting, processes and hands out everything accepted, then wipes every key: each worker's engine (and
   * the configs it received), the inline engine, the validator, and this thread's copies; then stops the workers.
   */
  close(): Promise<void> {
    return (this.closeDone ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    for (const w of this.readyWaiters.splice(0)) w();
    await this.idle();
    clearInterval(this.sweepTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    await Promise.all(this.shards.map((s) => this.closeShard(s)));
    this.validator.close?.();
    for (const s of this.shards) {
      for (const c of s.base.values()) wipeConfig(c);
      s.base.clear();
    }
    for (const c of this.live.values()) wipeConfig(c);
    this.live.clear();
  }

  /**
   * Wipes a shard's keys: the inline runner's engine here, a worker's engine and key copies in its thread (a close
   * task, waited for at most taskTimeoutMs), then the pool goes.
   */
  private async closeShard(shard: Shard): Promise<void> {
    if (shard.runner) {
      shard.runner.close();
      return;
    }
    const pool = shard.pool!;
    if (shard.sendSeq === 0) {
      await pool.destroy(); // never sent a task: its thread has no key
      return;
    }
    const wiped = pool.run({ seq: -1, close: true, batches: [] } satisfies Task).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const limit = this.taskTimeoutMs > 0
      ? new Promise<void>((resolve) => { timer = setTimeout(resolve, this.taskTimeoutMs); })
      : wiped;
    await Promise.race([wiped, limit]);
    clearTimeout(timer);
    await pool.destroy();
  }

  stats(): DataPlaneStats {
    const wall = performance.now() - this.startedAt;
    let depth = 0;
    const workers = this.shards.map((s): WorkerLoad => {
      depth += s.queued;
      return {
        shard: s.index, batches: s.batches, tasks: s.tasks, messages: s.messages, busyMs: s.busyMs,
        utilization: wall > 0 ? s.busyMs / wall : 0, queued: s.queued, restarts: s.restarts, timeouts: s.timeouts,
        tunnels: s.base.size, keySlotsFree: { ...s.keySlots },
      };
    });
    return {
      messagesIn: this.counters.messagesIn, messagesOut: this.counters.messagesOut, dropped: { ...this.dropped },
      queueDepth: depth, queueLimit: this.shards.length * this.layout.slotCount * this.maxBatch,
      joinErrors: this.joinErrors, workers,
    };
  }

  /** Test-only internals (src/testing/index.ts): crash and hang injection. */
  [TEST_SEAM](): DataPlaneSeam {
    return {
      failNextBatch: (shard, attempts, how) => {
        this.crashNext = shard;
        this.crashTimes = attempts;
        this.crashHow = how;
      },
    };
  }

  /**
   * Worker (shard index) that handles a tunnel id: the one it was placed on when it joined (kept until 10 minutes
   * after it ends), else a fixed hash of the id (where messages for unknown ids are reported).
   */
  shardOfTunnel(tunnelId: number): number {
    return this.shardOf(tunnelId).index;
  }

  private shardOf(tunnelId: number): Shard {
    const n = this.shards.length;
    if (n === 1) return this.shards[0]!;
    const p = this.placement.get(tunnelId);
    if (p !== undefined) return this.shards[p.shard]!;
    let h = tunnelId >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
    h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
    return this.shards[((h ^ (h >>> 16)) >>> 0) % n]!;
  }

  /** The shard a joining tunnel goes to: its id's existing placement, else the shard with the fewest live tunnels. */
  private place(tunnelId: number): Shard {
    let p = this.placement.get(tunnelId);
    if (p === undefined) {
      let best = 0;
      for (let s = 1; s < this.placed.length; s++) if (this.placed[s]! < this.placed[best]!) best = s;
      p = { shard: best, refs: 0, until: Infinity };
      this.placement.set(tunnelId, p);
    }
    p.refs++;
    p.until = Infinity;
    this.placed[p.shard]!++;
    return this.shards[p.shard]!;
  }

  /** A tunnel with this id ended or expired: its shard's load drops; the placement stays for the tombstone time. */
  private unplace(tunnelId: number, now: number): void {
    const p = this.placement.get(tunnelId);
    if (p === undefined || p.refs === 0) return;
    p.refs--;
    this.placed[p.shard]!--;
    if (p.refs === 0) p.until = now + TUNNEL_LIFETIME_MS;
  }

  // ---------------------------------------------------------------- dispatch

  private checkOpen(): void {
    if (this.closing) throw new Error('data plane is closed');
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      for (const shard of this.shards) this.pump(shard);
    });
  }

  /** Sends partial batches and pending control ops when the shard's worker has room in its pipeline. */
  private pump(shard: Shard): void {
    if (shard.recovering) return;
    for (const k of [0, 1] as const) {
      if (this.staged(shard, k) > 0 && shard.inFlight < this.pipeline) this.dispatchStaging(shard, k);
    }
    if (shard.ops.length > 0 && this.staged(shard, 0) === 0 && this.staged(shard, 1) === 0) this.dispatchControl(shard);
    this.sendReady(shard);
  }

  private dispatchStaging(shard: Shard, kind: 0 | 1): void {
    const slot = shard.staging[kind];
    const stage = this.stageOf(shard, slot, kind);
    const count = stage.count;
    shard.staging[kind] = -1;
    // Sealed: grouped by tunnel. Shared mode: into the slot (straight in with the native copy, else through the
    // stage and one bulk copy), untouched until it is delivered. Transfer mode: the stage keeps it for every send.
    if (this.memory === 'shared') {
      const v = shard.views[slot]!;
      if (!this.grouper.sealInto(stage, v.inBodies, v.inPrev)) {
        const size = this.grouper.seal(stage);
        v.inBodies.set(stage.grouped.subarray(0, size));
        v.inPrev.set(stage.groupedPrev.subarray(0, count));
      }
      if (this.prefill) copyPrefix(v.outBodies, v.inBodies, count * TUNNEL_DATA_SIZE);
    } else {
      this.grouper.seal(stage);
    }
    const entry: Entry = {
      slot, count, gateway: kind === 1, ops: shard.ops.length > 0 ? shard.ops.splice(0) : undefined,
      attempts: 0, batchId: this.nextBatchId(shard), crashes: 0, done: false, result: undefined,
    };
    shard.pending.push(entry);
    this.sendReady(shard);
  }

  private dispatchControl(shard: Shard): void {
    const entry: Entry = {
      slot: -1, count: 0, gateway: false, ops: shard.ops.splice(0), attempts: 0, batchId: this.nextBatchId(shard), crashes: 0, done: false,
      result: undefined,
    };
    shard.pending.push(entry);
    this.sendReady(shard);
  }

  private nextBatchId(shard: Shard): number {
    shard.batchIds = (shard.batchIds + 1) | 0;
    return shard.batchIds;
  }

  /** Sends what is not sent yet, consecutive batches together, while the worker has room in its pipeline. */
  private sendReady(shard: Shard): void {
    if (shard.recovering) return;
    while (shard.inFlight < this.pipeline && shard.sent < shard.pending.length) {
      const from = shard.sent;
      shard.sent = Math.min(shard.pending.length, from + this.batchesPerTask);
      this.sendTask(shard, shard.pending.slice(from, shard.sent));
    }
  }

  private sendTask(shard: Shard, entries: Entry[]): void {
    const task: Task = { seq: shard.sendSeq++, batches: [] };
    if (shard.needsReset) {
      task.reset = [...shard.base.values()];
      shard.needsReset = false;
    }
    const transferList: ArrayBuffer[] = [];
    for (const entry of entries) {
      const b: TaskBatch = { slot: entry.slot, count: entry.count, gateway: entry.gateway, batchId: entry.batchId };
      if (this.prefill && entry.attempts === 0 && entry.count > 0) b.prefilled = true;
      if (entry.ops) b.ops = entry.ops;
      if (this.crashNext === shard.index && entry.count > 1 && !entry.gateway && entry.attempts === 0) {
        entry.crashes = this.crashTimes;
        entry.failHow = this.crashHow;
        this.crashNext = -1;
      }
      if (entry.crashes > 0) {
        b.fail = entry.failHow ?? 'exit';
        entry.crashes--;
      }
      if (this.memory === 'transfer' && entry.slot >= 0) {
        b.buffer = this.moveOut(shard, entry);
        transferList.push(b.buffer);
      }
      entry.attempts++;
      task.batches.push(b);
    }
    const epoch = shard.epoch;
    if (shard.inFlight === 0) shard.lastProgress = performance.now(); // the watchdog's clock starts with this task
    shard.inFlight++;
    if (shard.runner) {
      const runner = shard.runner;
      queueMicrotask(() => {
        let r: TaskResult;
        try {
          r = runner.run(task);
        } catch (e) {
          const error = e instanceof Error ? e.message : String(e);
          r = { results: entries.map(() => ({ busyMs: 0, error })) };
        }
        this.settled(shard, entries, epoch, r);
      });
      return;
    }
    shard.pool!.run(task, transferList.length > 0 ? { transferList } : undefined).then(
      (r: TaskResult) => this.settled(shard, entries, epoch, r),
      () => this.settled(shard, entries, epoch, undefined),
    );
  }

  /**
   * Transfer mode: the slot's ArrayBuffer for a send, with the sealed batch copied into it from the stage (every
   * attempt: a retry's buffer may have died with its worker or come back transformed).
   */
  private moveOut(shard: Shard, entry: Entry): ArrayBuffer {
    const slot = entry.slot;
    let buf = shard.slotBufs[slot]!;
    let v = shard.views[slot]!;
    if (buf.byteLength === 0) {
      buf = new ArrayBuffer(this.single.slotSize);
      v = slotViews(buf, this.single, 0);
    }
    const stage = shard.stages[slot]!;
    v.inBodies.set(stage.grouped.subarray(0, entry.count * TUNNEL_DATA_SIZE));
    v.inPrev.set(stage.groupedPrev.subarray(0, entry.count));
    shard.slotBufs[slot] = new ArrayBuffer(0); // detached marker until it comes back
    return buf;
  }

  /** Transfer mode: a slot's memory came back from a worker. */
  private moveIn(shard: Shard, slot: number, buf: ArrayBuffer): void {
    shard.slotBufs[slot] = buf;
    shard.views[slot] = slotViews(buf, this.single, 0);
  }

  /** A task came back (`result`; `refused` counts as a death) or its worker died (undefined). */
  private settled(shard: Shard, entries: Entry[], epoch: number, result: TaskResult | undefined): void {
    shard.inFlight--;
    shard.lastProgress = performance.now();
    if (result?.buffers) {
      for (let i = 0; i < entries.length; i++) {
        const b = result.buffers[i];
        if (b && entries[i]!.slot >= 0) this.moveIn(shard, entries[i]!.slot, b);
      }
    }
    if (epoch !== shard.epoch) {
      // A task of a worker generation already being replaced: it is resent in order; ignore this outcome.
      if (shard.recovering && shard.inFlight === 0) this.resend(shard);
      return;
    }
    const results = result?.results;
    if (results === undefined || results.length !== entries.length) {
      this.workerLost(shard, 'exit');
      return;
    }
    if (result!.keySlots) shard.keySlots = { aes: result!.keySlots[0], chacha: result!.keySlots[1] };
    if (entries.some((e) => e.count > 0)) shard.tasks++;
    for (let i = 0; i < entries.length; i++) {
      entries[i]!.done = true;
      entries[i]!.result = results[i];
    }
    this.deliver(shard);
  }

  /**
   * The shard's worker died (its task failed or was refused) or hung (the watchdog): everything in flight is void.
   * Once the last of it has settled, resend() brings a replacement to the last delivered state. Runs once per
   * worker generation: outcomes of the old generation's tasks are ignored (epoch), and the watchdog skips a shard
   * that is recovering.
   */
  private workerLost(shard: Shard, reason: 'exit' | 'timeout'): void {
    shard.epoch++;
    shard.recovering = true;
    shard.restarts++;
    if (reason === 'timeout') shard.timeouts++;
    shard.starting = true; // piscina starts a replacement (a worker that only refused a task beats again at once)
    this.emit('workerCrash', shard.index, reason);
    if (shard.inFlight === 0) this.resend(shard);
  }

  /**
   * Checks every few hundred ms that each worker with tasks in flight shows progress (a settled task or a heartbeat)
   * within taskTimeoutMs, or within WORKER_START_MS while it has not come up yet. A hung one is terminated (its
   * tasks then fail, and the crash path re-runs them on a replacement). A tick that comes late means this thread
   * was blocked, and results may be waiting behind it: the clocks restart instead.
   */
  private startWatchdog(): NodeJS.Timeout {
    const every = Math.max(10, Math.min(1000, this.taskTimeoutMs / 4));
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      const late = now - last > 2 * every + 50;
      last = now;
      for (const shard of this.shards) {
        const beat = shard.heartbeat ? Atomics.load(shard.heartbeat, 0) : 0;
        if (beat !== shard.beatSeen) {
          shard.beatSeen = beat;
          shard.lastProgress = now;
          shard.starting = false;
        }
        if (late) { shard.lastProgress = now; continue; }
        const limit = shard.starting ? Math.max(this.taskTimeoutMs, WORKER_START_MS) : this.taskTimeoutMs;
        if (shard.recovering || shard.inFlight === 0 || now - shard.lastProgress <= limit) continue;
        this.workerLost(shard, 'timeout');
        for (const t of shard.pool?.threads ?? []) void t.terminate();
      }
    }, every);
    timer.unref();
    return timer;
  }

  /** After a worker died: bring its replacement to the last delivered state and re-run what was not delivered. */
  private resend(shard: Shard): void {
    shard.recovering = false;
    shard.needsReset = true;
    for (const entry of shard.pending) {
      entry.done = false;
      entry.result = undefined;
      if (entry.attempts >= this.maxAttempts && entry.count > 0) {
        // Poison batch: keep its control ops (a control-only retry), drop its messages.
        this.dropped.workerCrash += entry.count;
        shard.queued -= entry.count;
        if (entry.slot >= 0) {
          if (this.memory === 'transfer' && shard.slotBufs[entry.slot]!.byteLength === 0) {
            this.moveIn(shard, entry.slot, new ArrayBuffer(this.single.slotSize)); // died with its worker
          }
          shard.free.push(entry.slot);
        }
        entry.slot = -1;
        entry.count = 0;
      }
    }
    shard.sent = 0;
    if (shard.pending.length === 0 && shard.base.size > 0) this.dispatchControlReset(shard);
    this.sendReady(shard);
    this.pump(shard);
    this.maybeDrain();
  }

  private dispatchControlReset(shard: Shard): void {
    const entry: Entry = { slot: -1, count: 0, gateway: false, ops: undefined, attempts: 0, batchId: this.nextBatchId(shard), crashes: 0, done: false, result: undefined };
    shard.pending.push(entry);
    this.sendReady(shard);
  }

  /** Hands out completed batches from the head of the shard's queue, in dispatch order. */
  private deliver(shard: Shard): void {
    while (shard.pending.length > 0 && shard.pending[0]!.done) {
      const e = shard.pending.shift()!;
      shard.sent--;
      const r = e.result!;
      // Joins of the task's reset that failed refer to the state before this batch's ops.
      for (const f of r.joinErrors ?? []) {
        if (f.op < 0) this.joinFailed(shard, f, shard.base.get(baseKey(f.gateway, f.tunnelId)));
      }
      if (e.ops) this.applyToBase(shard, e.ops, r.joinErrors);
      if (r.pins) {
        for (let i = 0; i < r.pins.length; i += 2) {
          const c = shard.base.get(baseKey(false, r.pins[i]!));
          if (c && c.role !== 'obgw' && c.role !== 'ibgw' && c.previousHop === undefined) c.previousHop = r.pins[i + 1]!;
        }
      }
      shard.busyMs += r.busyMs;
      if (e.count > 0) {
        shard.batches++;
        shard.messages += e.count;
        const v = shard.views[e.slot]!;
        if (r.error !== undefined) {
          this.dropped.engineError += e.count;
        } else {
          let ok = 0;
          const st = v.outStatus;
          for (let i = 0; i < e.count; i++) {
            const s = st[i]!;
            if (s === STATUS_OK) ok++;
            else this.dropped[STATUS_REASON[s] ?? 'engineError']++;
          }
          this.counters.messagesOut += ok;
          try {
            this.onOutput({
              shard: shard.index, gateway: e.gateway, count: e.count,
              bodies: v.outBodies.subarray(0, e.count * TUNNEL_DATA_SIZE), status: st.subarray(0, e.count),
              nextHops: v.outHop.subarray(0, e.count), nextTunnelIds: v.outTunnel.subarray(0, e.count),
            });
          } catch (err) {
            queueMicrotask(() => this.emit('error', err));
          }
        }
        shard.queued -= e.count;
        shard.free.push(e.slot);
      }
    }
    this.pump(shard);
    this.maybeDrain();
    if (this.idleWaiters.length > 0 && this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
  }

  private applyToBase(shard: Shard, ops: ControlOp[], failures: JoinFailure[] | undefined): void {
    for (let k = 0; k < ops.length; k++) {
      const op = ops[k]!;
      const failed = failures?.find((f) => f.op === k);
      if (failed && op.op === 'join') {
        this.joinFailed(shard, failed, op.config);
      } else if (op.op === 'join') {
        const key = baseKey(isGatewayRole(op.config), tunnelIdOf(op.config));
        const old = shard.base.get(key);
        if (old && old !== op.config) wipeConfig(old);
        shard.base.set(key, op.config);
      } else {
        const key = baseKey(op.gateway, op.tunnelId);
        const old = shard.base.get(key);
        if (old) wipeConfig(old);
        shard.base.delete(key);
      }
    }
  }

  /**
   * A worker's engine refused a join: the tunnel is not live there, so it is not here either (unless the caller has
   * ended it and joined a new one since), and its config is wiped. Reported on 'error' and counted.
   */
  private joinFailed(shard: Shard, f: JoinFailure, config: TunnelConfig | undefined): void {
    this.joinErrors++;
    const key = baseKey(f.gateway, f.tunnelId);
    if (config !== undefined) {
      if (shard.base.get(key) === config) shard.base.delete(key);
      if (this.live.get(key) === config) {
        this.live.delete(key);
        this.unplace(f.tunnelId, Date.now());
      }
      wipeConfig(config);
    }
    const err = new TunnelJoinError(f.tunnelId, f.gateway, shard.index, f.error);
    queueMicrotask(() => this.emit('error', err));
  }

  /** Forgets (and wipes) the configs of tunnels past expiresAt + grace. */
  private sweepExpired(now: number): void {
    this.validator.sweep?.(); // its join-then-end checks leave tombstones; it never runs a batch that would sweep
    for (const shard of this.shards) {
      for (const [key, c] of shard.base) {
        if ((c.expiresAt ?? Infinity) + this.graceMs >= now) continue;
        wipeConfig(c);
        shard.base.delete(key);
        if (this.live.delete(key)) this.unplace(key % GATEWAY_BIT, now);
      }
    }
    for (const [id, p] of this.placement) if (p.refs === 0 && p.until < now) this.placement.delete(id);
  }

  private isIdle(): boolean {
    return this.shards.every((s) => s.queued === 0 && s.pending.length === 0 && s.ops.length === 0);
  }

  private maybeDrain(): void {
    if (!this.needDrain) return;
    if (!this.shards.every((s) => this.hasRoom(s, 0) && this.hasRoom(s, 1))) return;
    this.needDrain = false;
    for (const w of this.readyWaiters.splice(0)) w();
    this.emit('drain');
  }
}

function checkBody(body: Uint8Array): void {
  if (!(body instanceof Uint8Array)) throw new TypeError('body must be a Uint8Array');
  if (body.length !== TUNNEL_DATA_SIZE) throw new RangeError(`body must be ${TUNNEL_DATA_SIZE} bytes, not ${body.length}`);
}

function readId(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
