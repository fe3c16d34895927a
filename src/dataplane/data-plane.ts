// The embeddable data plane: TunnelData in, processed TunnelData out, on every core (docs/data-plane.md).
//
// Tunnels are sharded: each tunnel lives on exactly one worker (placement.ts), so its keys, its pinned previous hop
// and its expiry live in one engine, and its messages are processed in order by one thread. This class is the
// facade: it checks what callers pass, validates joins on this thread, routes each message to its shard (shard.ts:
// staging, dispatch and crash recovery), watches for hung workers and keeps the plane-wide counters (stats.ts).
// The types it takes and hands out are in types.ts.
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AES_KEY_SLOTS, CHACHA_KEY_SLOTS, MAX_BATCH, TUNNEL_DATA_SIZE } from '../constants.js';
import { TunnelJoinError } from '../errors.js';
import { TEST_SEAM, type DataPlaneSeam } from '../test-seam.js';
import { createReplayFilterBuffer } from '../tunnel/replay-filter.js';
import { TUNNEL_GRACE_MS, TUNNEL_LIFETIME_MS, type LayerEngineOptions, type TunnelConfig } from '../tunnel/types.js';
import {
  isGatewayRole,
  packKeys,
  runsNativeAes,
  tunnelIdOf,
  wipeConfig,
  type BatchEngine,
  type EngineFactory,
} from './batch-runner.js';
import { Grouper } from './grouping.js';
import { Placement } from './placement.js';
import type { JoinFailure } from './protocol.js';
import { MessageKind, Shard, tunnelIdOfKey, tunnelKey, type ShardContext } from './shard.js';
import { slotLayout, type SlotLayout } from './slots.js';
import { newDropCounters } from './stats.js';
import type { DataPlaneOptions, DataPlaneStats, DropCounters, OutputBatch, WorkerLoad } from './types.js';

export type { DataPlaneOptions, DataPlaneStats, DropCounters, OutputBatch, WorkerLoad } from './types.js';

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
  throw new Error(
    'tunnelplane: compiled data-plane worker not found (dist/src/dataplane/worker.js); run `npm run build`',
  );
}

export class DataPlane extends EventEmitter {
  readonly threads: number;
  readonly maxBatch: number;
  readonly replayFilter: SharedArrayBuffer;
  /** Whether the main thread fills each batch's output half too (DataPlaneOptions.prefill). */
  readonly prefill: boolean;
  private readonly shards: Shard[];
  private readonly placement: Placement;
  private readonly layout: SlotLayout;
  private readonly onOutput: (batch: OutputBatch) => void;
  private readonly startedAt = performance.now();
  private readonly counters = { messagesIn: 0, messagesOut: 0 };
  private readonly dropped: DropCounters = newDropCounters();
  private flushScheduled = false;
  private needDrain = false;
  private closing = false;
  private idleWaiters: (() => void)[] = [];
  private readyWaiters: (() => void)[] = [];
  /** Checks configs on this thread (a worker must never see one its engine rejects). */
  private readonly validator: BatchEngine;
  /** Tunnels joined and not ended, as the caller sees them: tunnelKey -> the config sent to the worker. */
  private readonly joined = new Map<number, TunnelConfig>();
  private joinErrors = 0;
  private closeDone: Promise<void> | undefined;
  private readonly taskTimeoutMs: number;
  private readonly watchdog: NodeJS.Timeout | undefined;
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
    if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > MAX_BATCH)
      throw new RangeError(`maxBatch must be 1..${MAX_BATCH}`);
    this.maxBatch = maxBatch;
    const pipeline = options.pipeline ?? 4;
    if (!Number.isInteger(pipeline) || pipeline < 1) throw new RangeError('pipeline must be an integer >= 1');
    const batchesPerTask = options.batchesPerTask ?? 8;
    if (!Number.isInteger(batchesPerTask) || batchesPerTask < 1)
      throw new RangeError('batchesPerTask must be an integer >= 1');
    this.onOutput = options.onOutput;
    const memory: unknown = options.memory ?? 'shared';
    if (memory === 'transfer') {
      throw new TypeError("memory: 'transfer' was removed: batches always move through shared memory (omit it)");
    }
    if (memory !== 'shared') throw new TypeError(`memory must be 'shared'`);
    const shardCount = inline ? 1 : this.threads;
    const maxQueued = options.maxQueued ?? 16 * maxBatch * shardCount;
    if (!(maxQueued >= 1)) throw new RangeError('maxQueued must be >= 1');
    // Two slots at least per shard: one filling while one is processed.
    const slotCount = Math.max(2, Math.ceil(maxQueued / (shardCount * maxBatch)));
    this.layout = slotLayout(maxBatch, slotCount);
    this.replayFilter =
      options.replayFilter ??
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
    this.prefill =
      !inline && runsNativeAes(this.validator) && (options.prefill ?? this.threads < availableParallelism());
    const context: ShardContext = {
      maxBatch,
      pipeline,
      batchesPerTask,
      maxAttempts: options.maxAttempts ?? 3,
      prefill: this.prefill,
      taskTimeoutMs: this.taskTimeoutMs,
      grouper: new Grouper(maxBatch),
      dropped: this.dropped,
      counters: this.counters,
      scheduleFlush: () => this.scheduleFlush(),
      output: (batch) => {
        try {
          this.onOutput(batch);
        } catch (err) {
          queueMicrotask(() => this.emit('error', err));
        }
      },
      workerLost: (shard, reason) => this.emit('workerCrash', shard, reason),
      joinRefused: (shard, failure, config) => this.joinRefused(shard, failure, config),
      maybeDrain: () => this.maybeDrain(),
      delivered: () => {
        this.maybeDrain();
        if (this.idleWaiters.length > 0 && this.isIdle()) for (const w of this.idleWaiters.splice(0)) w();
      },
    };
    const engineModule = options[TEST_SEAM]?.engineModule;
    const keySlots = this.validator.freeKeySlots ?? { aes: AES_KEY_SLOTS, chacha: CHACHA_KEY_SLOTS };
    this.shards = [];
    for (let s = 0; s < shardCount; s++) {
      const thread = inline
        ? { inline: true as const, factory: engineFactory }
        : { inline: false as const, workerFile, ...(engineModule === undefined ? {} : { engineModule }) };
      this.shards.push(new Shard(s, context, this.layout, engine, thread, { ...keySlots }));
    }
    this.placement = new Placement(shardCount);
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
      key = tunnelKey(gateway, id);
      if (this.joined.has(key)) throw new Error(`tunnel id ${id} is already in use`);
      // Throws TypeError / RangeError exactly as a worker's engine would. validate() takes no key copy, context or
      // tombstone (10 000 transit tunnels must not cost the main thread a second engine's worth of state);
      // an engine without it is joined and ended on a probe whose keys are zeroed either way.
      if (this.validator.validate) this.validator.validate(own);
      else {
        const probe = structuredClone(own);
        try {
          this.validator.join(probe);
        } finally {
          wipeConfig(probe);
        }
        this.validator.end(id, gateway);
      }
    } catch (e) {
      wipeConfig(own); // a refused config leaves no copy behind
      throw e;
    }
    packKeys(own); // validated: one key buffer for the copy kept here and the one the worker gets
    this.joined.set(key, own);
    this.shards[this.placement.place(id)]!.control({ op: 'join', config: own });
  }

  /** Ends a tunnel (keys zeroed in the worker and here) before any message pushed after this call. */
  end(tunnelId: number, options: { gateway?: boolean } = {}): void {
    this.checkOpen();
    if (!Number.isInteger(tunnelId) || tunnelId < 0 || tunnelId > 0xffffffff)
      throw new TypeError('tunnelId must be a u32');
    const gateway = options.gateway === true;
    const shard = this.shardOf(tunnelId);
    if (this.joined.delete(tunnelKey(gateway, tunnelId))) this.placement.unplace(tunnelId, Date.now());
    shard.control({ op: 'end', tunnelId, gateway });
  }

  /**
   * A worker's engine refused a join: the tunnel is not live there, so it is not here either (unless the caller has
   * ended it and joined a new one since), and its config is wiped. Reported on 'error' and counted.
   */
  private joinRefused(shard: number, f: JoinFailure, config: TunnelConfig | undefined): void {
    this.joinErrors++;
    if (config !== undefined) {
      const key = tunnelKey(f.gateway, f.tunnelId);
      if (this.joined.get(key) === config) {
        this.joined.delete(key);
        this.placement.unplace(f.tunnelId, Date.now());
      }
      wipeConfig(config);
    }
    const err = new TunnelJoinError(f.tunnelId, f.gateway, shard, f.error);
    queueMicrotask(() => this.emit('error', err));
  }

  // ---------------------------------------------------------------- data in

  /**
   * Accepts one TunnelData body received from `prevHop` (copied into shared memory). Returns false when the
   * queue is full (the message is dropped and counted as queueFull; wait for ready() or 'drain') or the plane is
   * closing.
   */
  push(body: Uint8Array, prevHop: number): boolean {
    checkBody(body);
    return this.accept(body, 0, prevHop >>> 0, MessageKind.Received, true);
  }

  /** Accepts one locally framed gateway body (IBGW / OBGW, body[0..3] = the gateway's tunnel id). */
  pushGateway(body: Uint8Array): boolean {
    checkBody(body);
    return this.accept(body, 0, 0, MessageKind.Gateway, true);
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
    if (!Number.isInteger(n) || n < 0 || n * TUNNEL_DATA_SIZE > bodies.length)
      throw new RangeError('bodies must hold count x 1028 bytes');
    if (prevHops !== undefined && !(prevHops instanceof Uint32Array && prevHops.length >= n)) {
      throw new RangeError('prevHops must be a Uint32Array of count entries');
    }
    const kind = prevHops === undefined ? MessageKind.Gateway : MessageKind.Received;
    // A long push gives the event loop a turn every `yieldEvery` messages: finished batches are handed out and the
    // next ones sent while the copying goes on (otherwise each worker runs dry after its `pipeline` tasks).
    const yieldEvery = this.maxBatch * this.shards.length;
    try {
      for (let i = 0; i < n; i++) {
        if (i > 0 && i % yieldEvery === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        const o = i * TUNNEL_DATA_SIZE;
        const id = readId(bodies, o);
        let shard = this.shardOf(id);
        while (!this.closing && !shard.hasRoom(kind)) {
          await this.ready();
          shard = this.shardOf(id); // a join while waiting may have placed this id
        }
        if (!this.accept(bodies, o, prevHops === undefined ? 0 : prevHops[i]!, kind, false, id, shard)) return;
      }
    } finally {
      // The caller gets its buffer back: copy in what batches still being filled reference in it.
      for (const shard of this.shards) shard.materialize(bodies);
    }
  }

  /** `copy`: take a copy now (push); otherwise reference src until the seal or the end of pushBatch. */
  private accept(
    src: Uint8Array,
    at: number,
    prevHop: number,
    kind: MessageKind,
    copy: boolean,
    id = readId(src, at),
    shard = this.shardOf(id),
  ): boolean {
    if (this.closing) {
      this.dropped.closed++;
      return false;
    }
    if (!shard.accept(src, at, id, prevHop, kind, copy)) {
      this.dropped.queueFull++;
      this.needDrain = true;
      return false;
    }
    this.counters.messagesIn++;
    return true;
  }

  /** Resolves when every shard can accept a message again (at once if they all can). */
  ready(): Promise<void> {
    if (this.closing || this.allHaveRoom()) return Promise.resolve();
    this.needDrain = true;
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Dispatches every partly filled batch now (otherwise they go when the worker is free or the batch is full). */
  flush(): void {
    for (const shard of this.shards) shard.flush();
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
    await Promise.all(this.shards.map((s) => s.close()));
    this.validator.close?.();
    for (const c of this.joined.values()) wipeConfig(c);
    this.joined.clear();
  }

  stats(): DataPlaneStats {
    const wall = performance.now() - this.startedAt;
    let depth = 0;
    const workers = this.shards.map((s): WorkerLoad => {
      depth += s.queued;
      return s.load(wall);
    });
    return {
      messagesIn: this.counters.messagesIn,
      messagesOut: this.counters.messagesOut,
      dropped: { ...this.dropped },
      queueDepth: depth,
      queueLimit: this.shards.length * this.layout.slotCount * this.maxBatch,
      joinErrors: this.joinErrors,
      workers,
    };
  }

  /** Test-only internals (src/testing/index.ts): crash and hang injection. */
  [TEST_SEAM](): DataPlaneSeam {
    return {
      failNextBatch: (shard, attempts, how) => {
        for (const s of this.shards) s.failNext = undefined; // one injection pending at a time, plane-wide
        const target = this.shards[shard];
        if (target) target.failNext = { attempts, how };
      },
    };
  }

  /**
   * Worker (shard index) that handles a tunnel id: the one it was placed on when it joined (kept until 10 minutes
   * after it ends), else a fixed hash of the id (where messages for unknown ids are reported).
   */
  shardOfTunnel(tunnelId: number): number {
    return this.placement.shardOf(tunnelId);
  }

  private shardOf(tunnelId: number): Shard {
    return this.shards[this.placement.shardOf(tunnelId)]!;
  }

  // ---------------------------------------------------------------- upkeep

  private checkOpen(): void {
    if (this.closing) throw new Error('data plane is closed');
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      for (const shard of this.shards) shard.pump();
    });
  }

  /**
   * Every few hundred ms, asks each shard whether its worker hangs (Shard.hung) and terminates one that does (its
   * tasks then fail, and the crash path re-runs them on a replacement). A tick that comes late means this thread
   * was blocked, and results may be waiting behind it: the shards' clocks restart instead.
   */
  private startWatchdog(): NodeJS.Timeout {
    const every = Math.max(10, Math.min(1000, this.taskTimeoutMs / 4));
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      const late = now - last > 2 * every + 50;
      last = now;
      for (const shard of this.shards) if (shard.hung(now, late)) shard.terminateHung();
    }, every);
    timer.unref();
    return timer;
  }

  /** Forgets (and wipes) the configs of tunnels past expiresAt + grace. */
  private sweepExpired(now: number): void {
    this.validator.sweep?.(); // its join-then-end checks leave tombstones; it never runs a batch that would sweep
    for (const shard of this.shards) {
      for (const key of shard.forgetExpired(now, this.graceMs)) {
        if (this.joined.delete(key)) this.placement.unplace(tunnelIdOfKey(key), now);
      }
    }
    this.placement.sweep(now);
  }

  private isIdle(): boolean {
    return this.shards.every((s) => s.isIdle());
  }

  private allHaveRoom(): boolean {
    return this.shards.every((s) => s.hasRoom(MessageKind.Received) && s.hasRoom(MessageKind.Gateway));
  }

  private maybeDrain(): void {
    if (!this.needDrain) return;
    if (!this.allHaveRoom()) return;
    this.needDrain = false;
    for (const w of this.readyWaiters.splice(0)) w();
    this.emit('drain');
  }
}

function checkBody(body: Uint8Array): void {
  if (!(body instanceof Uint8Array)) throw new TypeError('body must be a Uint8Array');
  if (body.length !== TUNNEL_DATA_SIZE)
    throw new RangeError(`body must be ${TUNNEL_DATA_SIZE} bytes, not ${body.length}`);
}

function readId(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
