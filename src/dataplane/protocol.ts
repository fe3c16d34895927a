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
  /** Every slot of the shard (slots.ts). */
  slots: SharedArrayBuffer;
  maxBatch: number;
  slotCount: number;
  engine: LayerEngineOptions;
  /** Int32 [0], bumped by the worker once it is up and around every task: the main thread's hang watchdog reads it. */
  heartbeat: SharedArrayBuffer;
  /** Module exporting `createEngine(options)`; default: the real LayerEngine (engine-host.ts). Tests only (seam). */
  engineModule?: string;
}

/** One batch of a task (or a control-only step: slot -1, count 0). */
export interface TaskBatch {
  /** Slot index in the shard's buffer; -1 for control operations alone. */
  slot: number;
  count: number;
  /** Locally framed gateway bodies (processGateway) rather than TunnelData received from the network. */
  gateway: boolean;
  /** Unique per shard and batch (the same on every attempt): owner of the slot's replay journal. */
  batchId: number;
  /** The main thread already copied IN to OUT (first attempts only; DataPlaneOptions.prefill). */
  prefilled?: boolean;
  /** Joins / ends to apply, in order, before the batch. */
  ops?: ControlOp[];
  /** Test hook: process half the batch, then exit the thread or block it forever. */
  fail?: 'exit' | 'hang';
}

/**
 * What the main thread sends a worker: one or more batches in order. A worker that falls behind gets the batches
 * that piled up meanwhile in one task (at most `batchesPerTask`), so the cost of a task's round trip is shared.
 */
export interface Task {
  /** Position of this send in the shard's sequence (a worker runs tasks strictly in this order). */
  seq: number;
  /** Recovery: discard all tunnel state and join these first (the state as of the last delivered batch). */
  reset?: TunnelConfig[];
  /** The data plane is closing: wipe every key this thread holds and refuse further tasks (no batches). */
  close?: boolean;
  batches: TaskBatch[];
}

export interface BatchResult {
  /** Milliseconds the worker spent on this batch (engine and copies). */
  busyMs: number;
  /** Previous hops fixed by this batch's traffic for tunnels joined without one: [tunnelId, hop, tunnelId, hop, ...]. */
  pins?: number[];
  /** The engine threw on this batch: every message is dropped with reason engineError. */
  error?: string;
  /** Joins the engine refused (the first batch of a task also reports those of the task's reset). */
  joinErrors?: JoinFailure[];
}

export interface JoinFailure {
  /** Index of the join in the batch's ops; -1 for a join of the task's reset. */
  op: number;
  tunnelId: number;
  gateway: boolean;
  error: string;
}

export interface TaskResult {
  /** One per batch of the task, in order (absent when refused). */
  results?: BatchResult[];
  /**
   * Nothing was processed: this thread has no tunnel state yet (it replaced a dead one), or the task came out of
   * sequence. The main thread recovers as after a crash.
   */
  refused?: 'uninitialized' | 'sequence' | 'closed';
  /** Free WASM key slots of the engine after the task: [AES, ChaCha]. */
  keySlots?: [number, number];
}
