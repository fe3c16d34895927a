// Messages between the DataPlane (main thread) and its workers: plain structured-cloneable data. Message bodies
// never travel here; they sit in the shard's SharedArrayBuffer slots (slots.ts) and a task names its slot.
import type { LayerEngineOptions, TunnelConfig } from '../tunnel/types.js';

export type ControlOp =
  | { op: 'join'; config: TunnelConfig }
  /** `gateway`: the id is an IBGW / OBGW id (the engine keeps those in their own table). */
  | { op: 'end'; tunnelId: number; gateway: boolean };

/** Fixed for the life of a worker: what it needs to build its engine and views. */
export interface WorkerSetup {
  shard: number;
  /** 'shared': all slots live in `slots`. 'transfer': each task brings its slot's ArrayBuffer, journals in `slots`. */
  memory: 'shared' | 'transfer';
  slots: SharedArrayBuffer;
  maxBatch: number;
  slotCount: number;
  engine: LayerEngineOptions;
  /** Module exporting `createEngine(options)`; default: the real LayerEngine (engine-host.ts). Tests only. */
  engineModule?: string;
}

export interface Task {
  /** Slot index in the shard's buffer; -1 for a control-only task. */
  slot: number;
  count: number;
  /** Locally framed gateway bodies (processGateway) rather than TunnelData received from the network. */
  gateway: boolean;
  /** Position of this send in the shard's sequence (a worker runs tasks strictly in this order). */
  seq: number;
  /** Unique per shard and batch (the same on every attempt): owner of the slot's replay journal. */
  batchId: number;
  /** Recovery: discard all tunnel state and join these first (the state as of the last delivered task). */
  reset?: TunnelConfig[];
  /** Joins / ends to apply, in order, before the batch. */
  ops?: ControlOp[];
  /** Test hook: process half the batch, then exit the thread. */
  crash?: boolean;
  /** Transfer mode: the slot's memory, moved to the worker and back. */
  buffer?: ArrayBuffer;
}

export interface TaskResult {
  /** Milliseconds the worker spent on this task (engine and copies). */
  busyMs: number;
  /** Previous hops fixed by this batch's traffic for tunnels joined without one: [tunnelId, hop, tunnelId, hop, ...]. */
  pins?: number[];
  /**
   * Nothing was processed: this thread has no tunnel state yet (it replaced a dead one), or the task came out of
   * sequence. The main thread recovers as after a crash.
   */
  refused?: 'uninitialized' | 'sequence';
  /** Transfer mode: the slot's memory coming back. */
  buffer?: ArrayBuffer;
  /** The engine threw on this batch: every message is dropped with reason engineError. */
  error?: string;
}
