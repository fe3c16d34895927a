// Grouping a batch by tunnel on the main thread, in ordinary (unshared) memory.
//
// Messages wait in a Stage in arrival order (referenced in the caller's buffer, or copied); when the batch is sealed
// each is copied once, grouped by tunnel id (groups in order of first appearance, arrival order kept inside each
// group), into ordinary memory, from where the slot is written with one bulk copy. V8 copies into and out of a
// SharedArrayBuffer with relaxed atomic stores, a byte at a time when the two addresses differ modulo 8 -- which
// 1028-byte bodies do for every other message -- so a per-message copy into shared memory costs 120-530 ns where a
// private one costs 50-80 ns and a bulk one 40 ns a message (docs/bench/2026-11-22-data-plane.md). With the native
// addon built, sealInto() copies each message once, straight into the shared slot, with memcpy.
import { TUNNEL_DATA_SIZE } from '../constants.js';
import { nativeAes } from '../native/addon.js';

/**
 * One batch being filled. A message is either copied in (`push()`: the caller may reuse its buffer at once) or
 * referenced in the caller's buffer (`pushBatch()`: the caller keeps it unchanged until the push resolves, and
 * whatever is still unsealed then is copied in), so a pushed batch is copied once, grouped, at seal time.
 */
export class Stage {
  /** Where each message is: its source array and byte offset. */
  readonly src: Uint8Array[];
  readonly at: Float64Array;
  readonly prev: Uint32Array;
  readonly tids: Uint32Array;
  /** Bodies copied in at arrival (push, or materialized references). */
  readonly copies: Uint8Array;
  /** The sealed batch grouped by tunnel, and its previous hops. */
  readonly grouped: Uint8Array;
  readonly groupedPrev: Uint32Array;
  /** copies then grouped, as one view (the seal moves a copied-in message with copyWithin: no view per message). */
  readonly both: Uint8Array;
  count = 0;

  constructor(readonly maxBatch: number) {
    this.src = new Array<Uint8Array>(maxBatch);
    this.at = new Float64Array(maxBatch);
    this.prev = new Uint32Array(maxBatch);
    this.tids = new Uint32Array(maxBatch);
    this.both = new Uint8Array(2 * maxBatch * TUNNEL_DATA_SIZE);
    this.copies = this.both.subarray(0, maxBatch * TUNNEL_DATA_SIZE);
    this.grouped = this.both.subarray(maxBatch * TUNNEL_DATA_SIZE);
    this.groupedPrev = new Uint32Array(maxBatch);
  }

  /** Appends a reference to src[at, at + 1028): valid until `materialize(src)` or the seal. */
  refer(src: Uint8Array, at: number, tid: number, prevHop: number): void {
    const i = this.count++;
    this.src[i] = src;
    this.at[i] = at;
    this.prev[i] = prevHop;
    this.tids[i] = tid;
  }

  /** Appends a copy of src[at, at + 1028). */
  copy(src: Uint8Array, at: number, tid: number, prevHop: number): void {
    const i = this.count;
    const o = i * TUNNEL_DATA_SIZE;
    this.copies.set(at === 0 && src.length === TUNNEL_DATA_SIZE ? src : src.subarray(at, at + TUNNEL_DATA_SIZE), o);
    this.refer(this.copies, o, tid, prevHop);
  }

  /** Copies in every message still referenced in `src` (its owner is about to get it back). */
  materialize(src: Uint8Array): void {
    for (let i = 0; i < this.count; i++) {
      if (this.src[i] !== src) continue;
      const o = i * TUNNEL_DATA_SIZE;
      const a = this.at[i]!;
      this.copies.set(src.subarray(a, a + TUNNEL_DATA_SIZE), o);
      this.src[i] = this.copies;
      this.at[i] = o;
    }
  }

  /** Drops the references (after the seal). */
  release(): void {
    this.src.fill(this.copies, 0, this.count);
  }
}

/** Stable grouping by tunnel id with scratch sized once (one per data plane: the main thread is single). */
export class Grouper {
  private readonly order: Uint32Array;
  private readonly groupOf: Uint32Array;
  private readonly groupStart: Uint32Array;
  private readonly tableKey: Uint32Array;
  private readonly tableGroup: Int32Array;
  private readonly tableMask: number;
  /** sealInto: byte offsets of each message in its source and in the slot. */
  private readonly srcAt: Uint32Array;
  private readonly dstAt: Uint32Array;

  constructor(maxBatch: number) {
    this.srcAt = new Uint32Array(maxBatch);
    this.dstAt = new Uint32Array(maxBatch);
    this.order = new Uint32Array(maxBatch);
    this.groupOf = new Uint32Array(maxBatch);
    this.groupStart = new Uint32Array(maxBatch + 1);
    let size = 1;
    while (size < maxBatch * 2) size <<= 1;
    this.tableKey = new Uint32Array(size);
    this.tableGroup = new Int32Array(size);
    this.tableMask = size - 1;
  }

  /**
   * Output position of each staged message: order[i] = where message i goes. Groups are numbered by first
   * appearance; messages keep their arrival order inside a group. Returns the order array (valid until the next call).
   */
  positions(tids: Uint32Array, n: number): Uint32Array {
    const { order, groupOf, groupStart, tableKey, tableGroup, tableMask } = this;
    tableGroup.fill(-1);
    let groups = 0;
    for (let i = 0; i < n; i++) {
      const tid = tids[i]!;
      let h = (Math.imul(tid, 0x9e3779b1) >>> 0) & tableMask;
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
    let acc = 0;
    for (let g = 0; g < groups; g++) {
      const c = groupStart[g]!;
      groupStart[g] = acc;
      acc += c;
    }
    for (let i = 0; i < n; i++) order[i] = groupStart[groupOf[i]!]!++;
    return order;
  }

  /**
   * Seals the stage: its batch grouped by tunnel into `stage.grouped` / `stage.groupedPrev` (one copy per message,
   * from wherever it is), references dropped. Returns the byte size written.
   */
  seal(stage: Stage): number {
    const n = stage.count;
    const order = this.positions(stage.tids, n);
    const { grouped, groupedPrev, src, at, prev, copies, both } = stage;
    const groupedStart = stage.maxBatch * TUNNEL_DATA_SIZE; // where `grouped` begins in `both`
    for (let i = 0; i < n; i++) {
      const k = order[i]!;
      const a = at[i]!;
      const from = src[i]!;
      if (from === copies) both.copyWithin(groupedStart + k * TUNNEL_DATA_SIZE, a, a + TUNNEL_DATA_SIZE);
      else grouped.set(from.subarray(a, a + TUNNEL_DATA_SIZE), k * TUNNEL_DATA_SIZE);
      groupedPrev[k] = prev[i]!;
    }
    stage.release();
    return n * TUNNEL_DATA_SIZE;
  }

  /**
   * Seals the stage like seal(), but straight into `bodies` / `prev` (a shared slot) with the native block copy:
   * one memcpy per message instead of a grouped copy in ordinary memory and then a bulk copy into shared memory.
   * Returns false, doing nothing, when the addon is not loaded (use seal()).
   */
  sealInto(stage: Stage, bodies: Uint8Array, prev: Uint32Array): boolean {
    const lib = nativeAes;
    if (lib === null) return false;
    const n = stage.count;
    const order = this.positions(stage.tids, n);
    const { srcAt, dstAt } = this;
    const { src, at } = stage;
    for (let i = 0; i < n; i++) {
      const k = order[i]!;
      srcAt[i] = at[i]!;
      dstAt[i] = k * TUNNEL_DATA_SIZE;
      prev[k] = stage.prev[i]!;
    }
    // One call per run of messages from the same source (a pushBatch buffer, or the stage's copies).
    for (let a = 0; a < n;) {
      const from = src[a]!;
      let b = a + 1;
      while (b < n && src[b] === from) b++;
      lib.copyBlocks(bodies, dstAt, from, srcAt, a, b, TUNNEL_DATA_SIZE);
      a = b;
    }
    stage.release();
    return true;
  }
}
