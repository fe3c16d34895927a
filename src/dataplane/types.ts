// The public types of the data plane: its options, the batches it hands out and its counters (docs/data-plane.md).
import type { EngineBackend } from '../tunnel/types.js';
import type { WasmFlavor } from '../wasm/loader.js';
import { TEST_SEAM, type DataPlaneTestOptions } from '../test-seam.js';

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
   * one task, so the round trip of a task through piscina is shared; a worker that keeps up gets each
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
   * How batches move between threads: 'shared', the only mode -- all slots of a shard in one SharedArrayBuffer, a task
   * names its slot, and the input stays readable by a replacement worker (docs/data-plane.md, "Memory"). 'transfer'
   * was removed (it measured slower); passing it throws.
   */
  memory?: 'shared';
  /**
   * With the native AES backend: the main thread also copies each sealed batch into its slot's output half, where the
   * worker then transforms it without a copy of its own. Default: on when there are fewer workers than cores (the
   * main thread has a core to spare), off otherwise (its time is then what the workers wait for). A retried batch is
   * always copied by its worker. docs/data-plane.md, "Memory".
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

/** Why a worker was replaced: the second argument of the 'workerCrash' event. */
export type WorkerCrashReason = 'exit' | 'timeout';
