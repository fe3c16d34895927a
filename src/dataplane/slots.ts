// Shared batch slots: the memory through which the main thread and one worker exchange batches of TunnelData
// bodies without copying messages through postMessage. One SharedArrayBuffer per shard holds `slotCount` slots;
// a task names a slot by index and carries only counts and control operations.
//
//   per slot (offsets from the slot base, each 64-byte aligned)
//   ----------  ------------------  ------------------------------------------------------------------------
//   IN          maxBatch * 1028     bodies grouped by tunnel (the main thread groups them, grouping.ts); in shared
//                                   memory never written by a worker (a retry restarts from it)
//   IN_PREV     maxBatch * 4        u32 previous-hop id per message
//   OUT         maxBatch * 1028     processed bodies, same order (native AES: copied from IN, then transformed
//                                   here in place; transfer mode has no OUT and processes IN)
//   OUT_STATUS  maxBatch            u8 STATUS_* per message
//   OUT_HOP     maxBatch * 4        u32 next-hop id per message
//   OUT_TUNNEL  maxBatch * 4        u32 next tunnel id per message
//   JOURNAL     64                  i32 replay journal header (replay-journal.ts): [0] records written
//   RECORDS     maxBatch * 20       replay journal records: i32 x 5 per filter call (entry words, state)
import { TUNNEL_DATA_SIZE } from '../constants.js';
import { journalWords, type Journal } from './replay-journal.js';

const align = (n: number): number => (n + 63) & ~63;

export interface SlotLayout {
  readonly maxBatch: number;
  readonly slotCount: number;
  readonly slotSize: number;
  readonly IN: number;
  readonly IN_PREV: number;
  readonly OUT: number;
  readonly OUT_STATUS: number;
  readonly OUT_HOP: number;
  readonly OUT_TUNNEL: number;
  readonly JOURNAL: number;
  readonly RECORDS: number;
}

/**
 * `inPlace`: the worker transforms IN where it is and OUT is the same region (transfer mode: the slot is moved to
 * the worker and the main thread keeps the arrival-order input for retries).
 */
export function slotLayout(maxBatch: number, slotCount: number, inPlace = false): SlotLayout {
  let o = 0;
  const take = (n: number): number => {
    const at = o;
    o = align(o + n);
    return at;
  };
  const IN = take(maxBatch * TUNNEL_DATA_SIZE);
  const IN_PREV = take(maxBatch * 4);
  const OUT = inPlace ? IN : take(maxBatch * TUNNEL_DATA_SIZE);
  const OUT_STATUS = take(maxBatch);
  const OUT_HOP = take(maxBatch * 4);
  const OUT_TUNNEL = take(maxBatch * 4);
  const JOURNAL = take(64);
  const RECORDS = take(journalWords(maxBatch) * 4);
  return { maxBatch, slotCount, slotSize: o, IN, IN_PREV, OUT, OUT_STATUS, OUT_HOP, OUT_TUNNEL, JOURNAL, RECORDS };
}

/** Typed views of one slot (built once per slot per thread). */
export interface SlotViews {
  readonly inBodies: Uint8Array;
  readonly inPrev: Uint32Array;
  readonly outBodies: Uint8Array;
  readonly outStatus: Uint8Array;
  readonly outHop: Uint32Array;
  readonly outTunnel: Uint32Array;
  readonly journal: Journal;
}

/**
 * Views of one slot. `journalAt`: where the slot's journal is -- by default inside the slot (shared memory); in
 * transfer mode the slot is an ArrayBuffer that moves between threads and the journal stays behind in a
 * SharedArrayBuffer of its own (journalBlockBytes per slot).
 */
export function slotViews(
  buffer: ArrayBufferLike, layout: SlotLayout, slot: number,
  journalAt?: { buffer: SharedArrayBuffer; offset: number },
): SlotViews {
  const base = slot * layout.slotSize;
  const n = layout.maxBatch;
  const jb = journalAt?.buffer ?? buffer;
  const jo = journalAt ? journalAt.offset : base + layout.JOURNAL;
  return {
    inBodies: new Uint8Array(buffer, base + layout.IN, n * TUNNEL_DATA_SIZE),
    inPrev: new Uint32Array(buffer, base + layout.IN_PREV, n),
    outBodies: new Uint8Array(buffer, base + layout.OUT, n * TUNNEL_DATA_SIZE),
    outStatus: new Uint8Array(buffer, base + layout.OUT_STATUS, n),
    outHop: new Uint32Array(buffer, base + layout.OUT_HOP, n),
    outTunnel: new Uint32Array(buffer, base + layout.OUT_TUNNEL, n),
    journal: {
      header: new Int32Array(jb, jo, 16),
      records: new Int32Array(jb, jo + (layout.RECORDS - layout.JOURNAL), journalWords(n)),
    },
  };
}

/** Bytes of one slot's journal (header + records), as laid out inside a slot. */
export function journalBlockBytes(layout: SlotLayout): number {
  return layout.slotSize - layout.JOURNAL;
}
