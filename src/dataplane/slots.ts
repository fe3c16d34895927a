// Shared batch slots: the memory through which the main thread and one worker exchange batches of TunnelData
// bodies without copying messages through postMessage. One SharedArrayBuffer per shard holds `slotCount` slots;
// a task names a slot by index and carries only counts and control operations.
//
//   per slot (offsets from the slot base, each 64-byte aligned)
//   ----------  ------------------  ------------------------------------------------------------------------
//   IN          maxBatch * 1028     bodies as submitted; never written by a worker (a retry restarts from it)
//   IN_PREV     maxBatch * 4        u32 previous-hop id per submitted message
//   OUT         maxBatch * 1028     bodies in output order (grouped by tunnel, input order kept inside a tunnel)
//   OUT_STATUS  maxBatch            u8 STATUS_* per output message
//   OUT_HOP     maxBatch * 4        u32 next-hop id per output message
//   OUT_TUNNEL  maxBatch * 4        u32 next tunnel id per output message
//   OUT_INDEX   maxBatch * 4        u32 input index of each output message
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
  readonly OUT_INDEX: number;
  readonly JOURNAL: number;
  readonly RECORDS: number;
}

export function slotLayout(maxBatch: number, slotCount: number): SlotLayout {
  let o = 0;
  const take = (n: number): number => {
    const at = o;
    o = align(o + n);
    return at;
  };
  const IN = take(maxBatch * TUNNEL_DATA_SIZE);
  const IN_PREV = take(maxBatch * 4);
  const OUT = take(maxBatch * TUNNEL_DATA_SIZE);
  const OUT_STATUS = take(maxBatch);
  const OUT_HOP = take(maxBatch * 4);
  const OUT_TUNNEL = take(maxBatch * 4);
  const OUT_INDEX = take(maxBatch * 4);
  const JOURNAL = take(64);
  const RECORDS = take(journalWords(maxBatch) * 4);
  return { maxBatch, slotCount, slotSize: o, IN, IN_PREV, OUT, OUT_STATUS, OUT_HOP, OUT_TUNNEL, OUT_INDEX, JOURNAL, RECORDS };
}

/** Typed views of one slot (built once per slot per thread). */
export interface SlotViews {
  readonly inBodies: Uint8Array;
  readonly inPrev: Uint32Array;
  readonly outBodies: Uint8Array;
  readonly outStatus: Uint8Array;
  readonly outHop: Uint32Array;
  readonly outTunnel: Uint32Array;
  readonly outIndex: Uint32Array;
  readonly journal: Journal;
  /** The whole underlying buffer and the byte offsets of IN and OUT in it (copyWithin: no view per message). */
  readonly all: Uint8Array;
  readonly inAt: number;
  readonly outAt: number;
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
    outIndex: new Uint32Array(buffer, base + layout.OUT_INDEX, n),
    all: new Uint8Array(buffer),
    inAt: base + layout.IN,
    outAt: base + layout.OUT,
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
