// What one thread does with one task: apply control ops, copy the slot's input into output order (grouped by
// tunnel, input order kept inside each tunnel), run the engine over it in place, report newly pinned previous hops.
// The input half of the slot is only read, so a retry after a crash starts from the original bytes.
import { TUNNEL_DATA_SIZE, STATUS_OK } from '../constants.js';
import type { LayerBatch, LayerEngineOptions, TunnelConfig } from '../tunnel/types.js';
import type { ControlOp, Task, TaskResult } from './protocol.js';
import { journalBlockBytes, slotLayout, slotViews, type SlotLayout, type SlotViews } from './slots.js';
import { withJournal } from './replay-journal.js';

/** The part of the layer engine the data plane drives. */
export interface BatchEngine {
  join(config: TunnelConfig): void;
  end(tunnelId: number, gateway: boolean): void;
  processReceived(batch: LayerBatch): void;
  processGateway(batch: LayerBatch): void;
  /** Forgets ended tunnels after their tombstone time (the engine also does it inside batch calls). */
  sweep?(): void;
}

export type EngineFactory = (options: LayerEngineOptions) => BatchEngine;

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
  return (config.role === 'participant' || config.role === 'obep' || config.role === 'ibep') &&
    config.previousHop === undefined;
}

export class BatchRunner {
  private engine: BatchEngine;
  private readonly layout: SlotLayout;
  private readonly views: (SlotViews | undefined)[];
  private readonly unpinned = new Set<number>();
  private initialized = false;
  private expected = 0;
  // Grouping scratch, sized once.
  private readonly tids: Uint32Array;
  private readonly groupOf: Uint32Array;
  private readonly groupStart: Uint32Array;
  private readonly tableKey: Uint32Array;
  private readonly tableGroup: Int32Array;
  private readonly tableMask: number;
  private readonly prev: Uint32Array;
  /**
   * Private (unshared) memory the engine works in: [0, B) the batch in input order, [B, 2B) grouped by tunnel
   * (B = maxBatch x 1028). Typed-array copies into and out of SharedArrayBuffer memory are slower than between
   * ordinary buffers (V8 copies shared memory with relaxed atomics), and the engine copies each message a few times
   * (node:crypto results, IV blocks), so the slot is read with one bulk copy, grouped here with copyWithin, and the
   * result written back to OUT with one bulk copy.
   */
  private readonly work: Uint8Array;
  private readonly grouped: number;

  constructor(
    private readonly factory: EngineFactory,
    private readonly engineOptions: LayerEngineOptions,
    /** Shared mode: the slots. Transfer mode: the journals (tasks bring their slot's memory). */
    private readonly buffer: ArrayBufferLike,
    maxBatch: number,
    slotCount: number,
    private readonly transfer = false,
  ) {
    this.engine = factory(engineOptions);
    this.layout = slotLayout(maxBatch, slotCount);
    this.views = new Array(slotCount);
    this.tids = new Uint32Array(maxBatch);
    this.groupOf = new Uint32Array(maxBatch);
    this.groupStart = new Uint32Array(maxBatch + 1);
    let size = 1;
    while (size < maxBatch * 2) size <<= 1;
    this.tableKey = new Uint32Array(size);
    this.tableGroup = new Int32Array(size);
    this.tableMask = size - 1;
    this.prev = new Uint32Array(maxBatch);
    this.grouped = maxBatch * TUNNEL_DATA_SIZE;
    this.work = new Uint8Array(2 * this.grouped);
  }

  slot(i: number, moved?: ArrayBuffer): SlotViews {
    if (!this.transfer) return (this.views[i] ??= slotViews(this.buffer, this.layout, i));
    if (!moved) throw new TypeError('transfer mode: task without its buffer');
    return slotViews(moved, this.layout, 0, {
      buffer: this.buffer as SharedArrayBuffer, offset: i * journalBlockBytes(this.layout),
    });
  }

  private apply(reset: TunnelConfig[] | undefined, ops: ControlOp[] | undefined): void {
    if (reset) {
      this.initialized = true;
      this.engine = this.factory(this.engineOptions);
      this.unpinned.clear();
      for (const c of reset) this.join(c);
    }
    if (ops) {
      for (const op of ops) {
        if (op.op === 'join') this.join(op.config);
        else {
          if (!op.gateway) this.unpinned.delete(op.tunnelId);
          this.engine.end(op.tunnelId, op.gateway);
        }
      }
    }
  }

  private join(config: TunnelConfig): void {
    try {
      this.engine.join(config);
    } catch {
      return; // the main thread validated it; a clash here means the tunnel was already live
    }
    if (isGatewayRole(config)) return;
    const id = tunnelIdOf(config);
    if (pinsOnFirstSender(config)) this.unpinned.add(id);
    else this.unpinned.delete(id);
  }

  run(task: Task, onHalf?: () => never): TaskResult {
    const t0 = performance.now();
    // A thread that never got the shard's state (a replacement the main thread has not heard of yet) must not
    // process anything, nor may a task run out of sequence: the main thread treats both like a crash and resends
    // from the last delivered state. (The reset task starts a sequence.)
    if (task.reset) this.expected = task.seq;
    else if (!this.initialized) return { busyMs: 0, refused: 'uninitialized' };
    if (task.seq !== this.expected) return { busyMs: 0, refused: 'sequence' };
    this.expected++;
    this.apply(task.reset, task.ops);
    if (task.slot < 0 || task.count === 0) return { busyMs: performance.now() - t0 };
    const v = this.slot(task.slot, task.buffer);
    const n = task.count;
    this.group(v, n);
    const batch = (from: number, to: number): LayerBatch => ({
      count: to - from,
      bodies: this.work.subarray(this.grouped + from * TUNNEL_DATA_SIZE, this.grouped + to * TUNNEL_DATA_SIZE),
      prevHops: this.prev.subarray(from, to),
      status: v.outStatus.subarray(from, to),
      nextHops: v.outHop.subarray(from, to),
      nextTunnelIds: v.outTunnel.subarray(from, to),
    });
    let error: string | undefined;
    try {
      const engine = this.engine;
      if (task.gateway) {
        engine.processGateway(batch(0, n));
      } else {
        withJournal(v.journal, task.batchId, () => {
          if (onHalf) {
            // Test hook: leave the slot half transformed and the filter half filled, then die.
            engine.processReceived(batch(0, n >> 1));
            onHalf();
          }
          engine.processReceived(batch(0, n));
        });
      }
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    v.outBodies.set(this.work.subarray(this.grouped, this.grouped + n * TUNNEL_DATA_SIZE));
    const result: TaskResult = { busyMs: 0 };
    if (error !== undefined) result.error = error;
    else if (!task.gateway && this.unpinned.size > 0) {
      const pins: number[] = [];
      for (let i = 0; i < n && this.unpinned.size > 0; i++) {
        if (v.outStatus[i] !== STATUS_OK) continue;
        const tid = this.tids[v.outIndex[i]!]!;
        if (this.unpinned.delete(tid)) pins.push(tid, this.prev[i]!);
      }
      if (pins.length > 0) result.pins = pins;
    }
    result.busyMs = performance.now() - t0;
    return result;
  }

  /** Stable grouping by tunnel id (body[0..3], big endian): fills outIndex, copies IN -> work and prevs. */
  private group(v: SlotViews, n: number): void {
    const { tids, groupOf, groupStart, tableKey, tableGroup, tableMask } = this;
    const inB = v.inBodies;
    tableGroup.fill(-1);
    let groups = 0;
    for (let i = 0; i < n; i++) {
      const o = i * TUNNEL_DATA_SIZE;
      const tid = ((inB[o]! << 24) | (inB[o + 1]! << 16) | (inB[o + 2]! << 8) | inB[o + 3]!) >>> 0;
      tids[i] = tid;
      let h = Math.imul(tid, 0x9e3779b1) >>> 0 & tableMask;
      for (;;) {
        const g = tableGroup[h]!;
        if (g < 0) {
          tableKey[h] = tid;
          tableGroup[h] = groups;
          groupStart[groups] = 0;
          groupOf[i] = groups++;
          break;
        }
        if (tableKey[h] === tid) {
          groupOf[i] = g;
          break;
        }
        h = (h + 1) & tableMask;
      }
      groupStart[groupOf[i]!]!++;
    }
    // Counts -> start offsets.
    let acc = 0;
    for (let g = 0; g < groups; g++) {
      const c = groupStart[g]!;
      groupStart[g] = acc;
      acc += c;
    }
    const outIndex = v.outIndex;
    const prev = this.prev;
    const work = this.work;
    const base = this.grouped;
    work.set(inB.subarray(0, n * TUNNEL_DATA_SIZE));
    for (let i = 0; i < n; i++) {
      const dst = groupStart[groupOf[i]!]!++;
      outIndex[dst] = i;
      prev[dst] = v.inPrev[i]!;
      work.copyWithin(base + dst * TUNNEL_DATA_SIZE, i * TUNNEL_DATA_SIZE, (i + 1) * TUNNEL_DATA_SIZE);
    }
  }
}
