// Shared batch slots: the memory through which the main thread and one worker exchange batches of TunnelData
// bodies without copying messages through postMessage. One SharedArrayBuffer per shard holds `slotCount` slots;
// a task names a slot by index and carries only counts and control operations.
//
//   per slot (offsets from the slot start, each 64-byte aligned)
//   ----------  ------------------  ------------------------------------------------------------------------
//   IN          maxBatch * 1028     bodies grouped by tunnel (the main thread groups them, grouping.ts); never
//                                   written by a worker (a retry restarts from it)
//   IN_PREV     maxBatch * 4        u32 previous-hop id per message
//   OUT         maxBatch * 1028     processed bodies, same order (native AES: copied from IN, then transformed
//                                   here in place)
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

/** Views of slot `slot` in the shard's buffer. */
export function slotViews(buffer: ArrayBufferLike, layout: SlotLayout, slot: number): SlotViews {
  const slotStart = slot * layout.slotSize;
  const n = layout.maxBatch;
  return {
    inBodies: new Uint8Array(buffer, slotStart + layout.IN, n * TUNNEL_DATA_SIZE),
    inPrev: new Uint32Array(buffer, slotStart + layout.IN_PREV, n),
    outBodies: new Uint8Array(buffer, slotStart + layout.OUT, n * TUNNEL_DATA_SIZE),
    outStatus: new Uint8Array(buffer, slotStart + layout.OUT_STATUS, n),
    outHop: new Uint32Array(buffer, slotStart + layout.OUT_HOP, n),
    outTunnel: new Uint32Array(buffer, slotStart + layout.OUT_TUNNEL, n),
    journal: {
      header: new Int32Array(buffer, slotStart + layout.JOURNAL, 16),
      records: new Int32Array(buffer, slotStart + layout.RECORDS, journalWords(n)),
    },
  };
}
