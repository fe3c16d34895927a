// The workload interface of `tunnelplane bench`. A workload file (src/bench/workloads/<name>.ts) exports
// `workloads: Workload[]` (build each entry with `defineWorkload` so its input type is checked) and is listed once in
// src/bench/workloads/index.ts. The harness (harness.ts) does everything else: seeding, validation, timing,
// ratios, the ceiling, the table, JSON and the chart.
//
// Life of one measurement, for each (batch, threads) of a workload:
//   1. for every implementation: `input = workload.input(batch, rng, ctx)` with a fresh rng on the same seed, so
//      every implementation gets its own copy of the same bytes (implementations may mutate their input freely);
//   2. `runner = await impl.setup(input, ctx)` -- untimed: expand keys, fill key slots, start pools;
//   3. `await runner.run()` once, then `runner.output()`: all implementations must return identical bytes, else the
//      whole workload is aborted with a message naming the implementations and the first differing byte;
//   4. tinybench times `runner.run()` (one batch per iteration; further runs may keep transforming the same buffers,
//      which is fine: only the first run's output is compared);
//   5. `await runner.close?.()`.
// Messages per second = messagesPerRun(batch, threads) / mean seconds per run(); MB/s uses bytesPerMessage.

/**
 * Implementation ids. The first six are the ones the issues name; a workload may add others (e.g. `noble-cbc` for a
 * second way of using a library). Ratios in the report are taken against `baselines` (default: noble, node-naive).
 */
export type ImplId =
  | 'tunnelplane' // the project's public API with its default backend choice (what a user gets)
  | 'tunnelplane-wasm' // the WASM backend, SIMD flavor where the engine supports it
  | 'tunnelplane-wasm-plain' // the WASM backend, plain (non-SIMD) flavor
  | 'tunnelplane-node' // the node:crypto backend (long-lived cipher objects per key)
  | 'tunnelplane-hybrid' // AES: WASM IV steps + node:crypto CBC, what 'auto' falls back to without the native addon
  | 'noble' // @noble/ciphers / @noble/hashes, keys expanded once where its API allows
  | 'node-naive' // node:crypto with a new cipher/hash object per message, as a straightforward port would do
  | (string & {});

/** The hardware ceilings the harness can measure with `openssl speed -evp <algorithm> -bytes <n>` on one core. */
export type CeilingAlgorithm = 'aes-256-cbc' | 'chacha20' | 'sha256' | 'chacha20-poly1305';

export interface Ceiling {
  /** The `openssl speed -evp` algorithm whose 1008-byte rate bounds this workload. */
  algorithm: CeilingAlgorithm;
  /**
   * How many 1008-byte operations of that algorithm one message of this workload costs (default 1): e.g. 3 for a
   * creator strip of 3 hops. The ceiling in messages/s is openssl's ops/s divided by this.
   */
  opsPerMessage?: number;
  /** Bytes per operation (`openssl speed -bytes`), default 1008: workloads of another message size give theirs. */
  bytes?: number;
}

/** A thread count: a number, or 'max' = `--threads N` if given, else os.availableParallelism(). */
export type ThreadCount = number | 'max';

/** What the harness tells a workload about the configuration being measured. */
export interface RunContext {
  readonly workload: string;
  readonly impl: ImplId;
  /** Messages per batch (one batch per `run()`). */
  readonly batch: number;
  /** Resolved thread count (1 for workloads without `threads`). */
  readonly threads: number;
  /** True under --quick: keep setup cheap. */
  readonly quick: boolean;
}

/** Deterministic pseudo-random source (seeded per workload and batch; see random.ts). */
export interface Rng {
  /** A uniformly random unsigned 32-bit integer. */
  u32(): number;
  /** A random integer in [0, n). */
  int(n: number): number;
  /** `n` fresh random bytes. */
  bytes(n: number): Uint8Array;
  /** Fills `out` with random bytes and returns it. */
  fill(out: Uint8Array): Uint8Array;
}

/** One prepared implementation for one configuration. */
export interface Runner {
  /**
   * Processes one batch. May return a promise (pool workloads); the harness awaits it inside the timed window. The
   * first run() after setup must complete all its work (its output is validated).
   */
  run(): void | Promise<void>;
  /**
   * The bytes produced by the first `run()` after setup, for validation. Must be the same bytes for every
   * implementation of the workload (e.g. all ciphertexts concatenated). Read once, right after that run.
   */
  output(): Uint8Array;
  /**
   * Pipelined runners (run() returns while part of its work is still in flight, so the next run() overlaps it):
   * completes and checks that outstanding work. The harness calls it, untimed, after every timing period, so
   * nothing of one implementation runs while another is timed.
   */
  finish?(): void | Promise<void>;
  /**
   * Figures besides msg/s that this runner measured over its runs (name with unit -> value), read once after the
   * timing: e.g. a router's CPU µs per message, or the rate of the operation that bounds the workload.
   */
  figures?(): Record<string, number> | Promise<Record<string, number>>;
  /** Releases what setup acquired (worker pools, key slots). */
  close?(): void | Promise<void>;
}

export interface Implementation<I> {
  /** One line shown by `tunnelplane bench --list` and in the chart legend tooltip. */
  description?: string;
  /**
   * Prepares a runner for this input (untimed). Throw `Unavailable` when this implementation cannot run here
   * (no SIMD, module not built, primitive not in this Node): the harness reports it as skipped, not failed.
   */
  setup(input: I, ctx: RunContext): Runner | Promise<Runner>;
}

export interface Workload<I = unknown> {
  /** Stable id from the issues (`aes-cbc-1008`, `aes-hop`, `pool-aes-hop`, ...): used by --filter and in JSON. */
  id: string;
  /** One line for the table header and the chart. */
  description: string;
  /** Bytes of one message, for MB/s (1008 for primitives, 1028 for TunnelData). */
  bytesPerMessage: number;
  /** Batch sizes of a full run (messages per `run()`). */
  batches: readonly number[];
  /** Batch sizes under --quick (default: the largest of `batches` that is <= 64, else the smallest). */
  quickBatches?: readonly number[];
  /** Thread counts to measure (pool workloads: [1, 'max']); default [1]. Each is its own row. */
  threads?: readonly ThreadCount[];
  /** Thread counts under --quick (default: same as `threads`). */
  quickThreads?: readonly ThreadCount[];
  /** Messages one `run()` processes (default: `batch`). */
  messagesPerRun?(batch: number, threads: number): number;
  /** The hardware ceiling this workload is compared to, where one applies. */
  ceiling?: Ceiling;
  /** Implementations the others are divided by in the report (default: ['noble', 'node-naive'], those present). */
  baselines?: readonly ImplId[];
  /** Builds the deterministic input of one batch. Called once per implementation with identically seeded rngs. */
  input(batch: number, rng: Rng, ctx: RunContext): I;
  /** Implementations keyed by id; the order here is the order of the table rows and chart lines. */
  impls: { readonly [id: string]: Implementation<I> | undefined };
}

/** Thrown from `Implementation.setup` when an implementation cannot run on this machine or build. */
export class Unavailable extends Error {
  override name = 'Unavailable';
}

/** Identity helper that type-checks a workload against its input type and erases it for the registry. */
export function defineWorkload<I>(w: Workload<I>): Workload<any> {
  return w as Workload<any>;
}

/** Convenience: concatenates byte arrays (for `output()` of implementations that produce separate buffers). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
