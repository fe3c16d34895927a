// What one thread does with one task: apply control ops, run the engine over the slot's batch (already grouped by
// tunnel on the main thread), report newly pinned previous hops. The input half of the slot is only read, so a retry
// after a crash starts from the original bytes (docs/data-plane.md, "Crash recovery: exactly once").
import { AES256_KEY_SIZE, TUNNEL_DATA_SIZE, STATUS_OK } from '../constants.js';
import type { LayerBatch, LayerEngineOptions, TunnelConfig } from '../tunnel/types.js';
import type { BatchResult, ControlOp, JoinFailure, Task, TaskBatch, TaskResult } from './protocol.js';
import { slotLayout, slotViews, type SlotLayout, type SlotViews } from './slots.js';
import { withJournal } from './replay-journal.js';
import { copyPrefix } from '../native/addon.js';

/** The part of the layer engine the data plane drives. */
export interface BatchEngine {
  join(config: TunnelConfig): void;
  /** Checks a config as join() would, keeping nothing (the main thread's check before a worker joins it). */
  validate?(config: TunnelConfig): void;
  end(tunnelId: number, gateway: boolean): void;
  processReceived(batch: LayerBatch): void;
  processGateway(batch: LayerBatch): void;
  /** Forgets ended tunnels after their tombstone time (the engine also does it inside batch calls). */
  sweep?(): void;
  /** Wipes every key the engine holds; it refuses work afterwards. */
  close?(): void;
  /** Free WASM key slots of each kind. */
  readonly freeKeySlots?: { aes: number; chacha: number };
}

/** Test hooks of a worker: what a batch marked `fail` does half way through. */
export interface FailHooks {
  exit: () => never;
  hang: () => never;
}

/** Zeroes every key array of a tunnel config (skipping anything that is not a typed array: configs may be hostile). */
export function wipeConfig(config: TunnelConfig): void {
  const zero = (k: unknown): void => {
    if (ArrayBuffer.isView(k)) new Uint8Array(k.buffer, k.byteOffset, k.byteLength).fill(0);
  };
  const wipeHop = (h: unknown): void => {
    if (h === null || typeof h !== 'object') return;
    const k = h as Record<string, unknown>;
    zero(k.layerKey);
    zero(k.ivKey);
    zero(k.inAeadKey);
    zero(k.outAeadKey);
  };
  const hops = (config as { hops?: unknown }).hops;
  if (Array.isArray(hops)) for (const h of hops) wipeHop(h);
  wipeHop(config);
}

/**
 * Moves a validated config's keys into one buffer (32-byte views of it, zeroing the arrays they replace): the copy
 * the data plane keeps per tunnel then holds one ArrayBuffer instead of two to four, and a join message clones one.
 */
export function packKeys(config: TunnelConfig): void {
  const holders: Record<string, unknown>[] = [];
  const hops = (config as { hops?: unknown }).hops;
  if (Array.isArray(hops)) for (const h of hops) if (h !== null && typeof h === 'object') holders.push(h);
  holders.push(config as unknown as Record<string, unknown>);
  const isKey = (v: unknown): v is Uint8Array => v instanceof Uint8Array && v.length === AES256_KEY_SIZE;
  let n = 0;
  for (const h of holders) for (const name of KEY_FIELDS) if (isKey(h[name])) n++;
  const packed = new Uint8Array(n * AES256_KEY_SIZE);
  const replaced: Uint8Array[] = [];
  let o = 0;
  for (const h of holders) {
    for (const name of KEY_FIELDS) {
      const k = h[name];
      if (!isKey(k)) continue;
      const view = packed.subarray(o, o + AES256_KEY_SIZE);
      view.set(k);
      replaced.push(k);
      h[name] = view;
      o += AES256_KEY_SIZE;
    }
  }
  // Zeroed only once all are copied: one array may stand in two fields (the same key twice, or clones that kept
  // the caller's sharing).
  for (const k of replaced) k.fill(0);
}

const KEY_FIELDS = ['layerKey', 'ivKey', 'inAeadKey', 'outAeadKey'] as const;

export type EngineFactory = (options: LayerEngineOptions) => BatchEngine;

/** True when the engine's AES tunnels run on the native layer (it then transforms a batch in the shared slot). */
export function runsNativeAes(engine: BatchEngine): boolean {
  return (engine as { aesBackend?: string }).aesBackend === 'native';
}

/** True for IBGW / OBGW configs: their traffic is locally framed and goes through processGateway. */
export function isGatewayRole(config: TunnelConfig): boolean {
  return config.role === 'obgw' || config.role === 'ibgw';
}

/** The id a tunnel's traffic carries in body[0..3] when it reaches the engine. */
export function tunnelIdOf(config: TunnelConfig): number {
  return (config.role === 'obgw' ? config.gatewayTunnelId : config.receiveTunnelId) >>> 0;
}

/** Roles whose first sender fixes the previous hop when the config names none. */
function pinsOnFirstSender(config: TunnelConfig): boolean {
  return (
    (config.role === 'participant' || config.role === 'obep' || config.role === 'ibep') &&
    config.previousHop === undefined
  );
}

export class BatchRunner {
  private engine: BatchEngine;
  private readonly layout: SlotLayout;
  private readonly views: (SlotViews | undefined)[];
  private readonly unpinned = new Set<number>();
  private initialized = false;
  private expected = 0;
  private readonly tids: Uint32Array;
  /**
   * Where the engine works when it does not transform in the slot: private (unshared) memory, maxBatch x 1028 bytes,
   * read from the slot with one bulk copy and written back with one. V8 copies into and out of a SharedArrayBuffer
   * with relaxed atomic stores, byte by byte where the two addresses differ modulo 8, and the backends other than
   * native AES copy each message a few times (node:crypto results, IV blocks). docs/data-plane.md, "Memory".
   */
  private readonly privateBatch: Uint8Array;
  /** The native AES backend transforms in the slot's output half: the input is copied there with one memcpy. */
  private readonly transformInSlot: boolean;
  /** Sink of warm()'s loads. */
  private warmSink = 0;
  private closed = false;
  /** Joins refused while applying the current task's reset or batch ops (reported with the batch result). */
  private failures: JoinFailure[] = [];
  /** Called as a task makes progress (the worker's heartbeat for the main thread's hang watchdog). */
  private progress: (() => void) | undefined;

  constructor(
    private readonly factory: EngineFactory,
    private readonly engineOptions: LayerEngineOptions,
    /** The shard's slots (slots.ts). */
    private readonly buffer: ArrayBufferLike,
    maxBatch: number,
    slotCount: number,
    /**
     * Workers: the configs of tasks are this thread's own structured-clone copies, zeroed once the engine has taken
     * its copy. Inline, they are the data plane's own objects (kept for the plane's records), so left alone.
     */
    private readonly ownsConfigs = false,
  ) {
    this.engine = factory(engineOptions);
    this.layout = slotLayout(maxBatch, slotCount);
    this.views = new Array(slotCount);
    this.tids = new Uint32Array(maxBatch);
    this.transformInSlot = runsNativeAes(this.engine);
    this.privateBatch = new Uint8Array(this.transformInSlot ? 0 : maxBatch * TUNNEL_DATA_SIZE);
  }

  slot(i: number): SlotViews {
    return (this.views[i] ??= slotViews(this.buffer, this.layout, i));
  }

  private apply(reset: TunnelConfig[] | undefined, ops: ControlOp[] | undefined): void {
    if (reset) {
      this.initialized = true;
      // The engine being replaced holds the keys of the old state: wiped before it is dropped.
      this.engine.close?.();
      this.engine = this.factory(this.engineOptions);
      this.unpinned.clear();
      for (let i = 0; i < reset.length; i++) {
        this.join(reset[i]!, -1);
        if ((i & 255) === 255) this.progress?.(); // a reset of thousands of tunnels is long, not hung
      }
    }
    if (ops) {
      for (let k = 0; k < ops.length; k++) {
        const op = ops[k]!;
        if (op.op === 'join') this.join(op.config, k);
        else {
          if (!op.gateway) this.unpinned.delete(op.tunnelId);
          this.engine.end(op.tunnelId, op.gateway);
        }
      }
    }
  }

  /** `at`: the op's index in its batch, -1 for a reset. A refused join is reported to the main thread. */
  private join(config: TunnelConfig, at: number): void {
    try {
      this.engine.join(config);
    } catch (e) {
      // The main thread validated the config: what fails here is this engine's capacity (key slots) or state.
      const error = e instanceof Error ? e.message : String(e);
      this.failures.push({ op: at, tunnelId: tunnelIdOf(config), gateway: isGatewayRole(config), error });
      return;
    } finally {
      if (this.ownsConfigs) wipeConfig(config);
    }
    if (isGatewayRole(config)) return;
    const id = tunnelIdOf(config);
    if (pinsOnFirstSender(config)) this.unpinned.add(id);
    else this.unpinned.delete(id);
  }

  /**
   * Runs a task's batches in order. `fail`: test hooks, called half way through a batch marked `fail`. `progress`:
   * called after each batch and every 256 joins of a reset.
   */
  run(task: Task, fail?: FailHooks, progress?: () => void): TaskResult {
    this.progress = progress;
    if (task.close) {
      this.close();
      return { results: [] };
    }
    if (this.closed) return { refused: 'closed' };
    // A thread that never got the shard's state (a replacement the main thread has not heard of yet) must not
    // process anything, nor may a task run out of sequence: the main thread treats both like a crash and resends
    // from the last delivered state. (The reset task starts a sequence.)
    if (task.reset) this.expected = task.seq;
    else if (!this.initialized) return { refused: 'uninitialized' };
    if (task.seq !== this.expected) return { refused: 'sequence' };
    this.expected++;
    this.failures = [];
    if (task.reset) this.apply(task.reset, undefined);
    const results: BatchResult[] = [];
    for (const b of task.batches) {
      results.push(this.runBatch(b, b.fail && fail ? fail[b.fail] : undefined));
      progress?.();
    }
    const result: TaskResult = { results };
    const free = this.engine.freeKeySlots;
    if (free) result.keySlots = [free.aes, free.chacha];
    return result;
  }

  /** Wipes the engine's keys and the batch copy in private memory; every later task is refused. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.engine.close?.();
    this.privateBatch.fill(0);
    this.unpinned.clear();
  }

  /**
   * Reads one byte of every 64-byte line of a batch the main thread filled (prefill), before the engine runs: the
   * lines were last written on the main thread's core, and the engine's access pattern (a JS pass over every message's
   * header, then the AES layer a tunnel at a time, block j of each of its messages in turn) waits out those misses
   * one by one, where these independent loads overlap them (docs/bench/2026-12-05-data-plane.md, "One worker against
   * the loop"). A batch the worker copied itself (no prefill, or a retry) is already in its cache.
   */
  private warm(bodies: Uint8Array, size: number): void {
    let x = 0;
    for (let o = 0; o < size; o += 64) x ^= bodies[o]!;
    this.warmSink ^= x; // kept, so the loads are not optimized away
  }

  /** One batch, already grouped by tunnel (the main thread did it): control ops, then the engine over it. */
  private runBatch(task: TaskBatch, onHalf?: () => never): BatchResult {
    const t0 = performance.now();
    this.apply(undefined, task.ops);
    const joinErrors = this.failures.length > 0 ? this.failures.splice(0) : undefined;
    if (task.slot < 0 || task.count === 0) {
      const done: BatchResult = { busyMs: performance.now() - t0 };
      if (joinErrors) done.joinErrors = joinErrors;
      return done;
    }
    const v = this.slot(task.slot);
    const n = task.count;
    const size = n * TUNNEL_DATA_SIZE;
    const pinning = !task.gateway && this.unpinned.size > 0;
    if (pinning) {
      // The tunnel id of each message as received (the engine rewrites it in place).
      const inB = v.inBodies;
      for (let i = 0; i < n; i++) {
        const o = i * TUNNEL_DATA_SIZE;
        this.tids[i] = ((inB[o]! << 24) | (inB[o + 1]! << 16) | (inB[o + 2]! << 8) | inB[o + 3]!) >>> 0;
      }
    }
    const bodies = (this.transformInSlot ? v.outBodies : this.privateBatch).subarray(0, size);
    if (!(this.transformInSlot && task.prefilled)) copyPrefix(bodies, v.inBodies, size);
    else this.warm(bodies, size);
    const batch = (count: number): LayerBatch => ({
      count,
      bodies,
      prevHops: v.inPrev,
      status: v.outStatus,
      nextHops: v.outHop,
      nextTunnelIds: v.outTunnel,
    });
    let error: string | undefined;
    try {
      const engine = this.engine;
      if (task.gateway) {
        engine.processGateway(batch(n));
      } else {
        withJournal(v.journal, task.batchId, () => {
          if (onHalf) {
            // Test hook: leave the slot half transformed and the filter half filled, then die.
            engine.processReceived(batch(n >> 1));
            onHalf();
          }
          engine.processReceived(batch(n));
        });
      }
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    if (!this.transformInSlot) copyPrefix(v.outBodies, bodies, size);
    const result: BatchResult = { busyMs: 0 };
    if (joinErrors) result.joinErrors = joinErrors;
    if (error !== undefined) result.error = error;
    else if (pinning) {
      const pins: number[] = [];
      for (let i = 0; i < n && this.unpinned.size > 0; i++) {
        if (v.outStatus[i] !== STATUS_OK) continue;
        const tid = this.tids[i]!;
        if (this.unpinned.delete(tid)) pins.push(tid, v.inPrev[i]!);
      }
      if (pins.length > 0) result.pins = pins;
    }
    result.busyMs = performance.now() - t0;
    return result;
  }
}
