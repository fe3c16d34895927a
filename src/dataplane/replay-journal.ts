// Crash-safe use of the router-wide replay filter.
//
// The filter's `seen` is test-and-insert. A worker that dies in the middle of a batch may already have inserted
// some of that batch's entries, so a plain retry would find them and drop its own messages as replays. Each batch
// slot therefore carries a journal in shared memory (it outlives the worker): one record per filter call,
// (entry words, state), written PENDING before the call and NEW, REPLAY or FULL after it. A retry first consumes the
// records of earlier attempts, matching by entry: NEW or PENDING means "an earlier attempt of this very batch
// inserted it" (not a replay, the message is processed), REPLAY keeps the earlier verdict, FULL (nothing was
// inserted) takes the filter's answer now, and an entry with no record goes to the filter as usual. Whenever the
// filter cannot record the entry now, the message is dropped (the filter fails closed). Records are per occurrence, so two copies of one message inside a batch keep
// the first-copy-wins outcome across retries. The one inexact case: a worker dying between the filter's insert and
// the record's update (a window of one hash-table probe) leaves PENDING, which is read as "ours"; if that message
// happened to be a genuine replay it passes once. A lost message is never the result.
//
// The hook sits on ReplayFilter.prototype.seenWords in the worker's own module graph (all `seen` calls reach it),
// because src/tunnel/ offers no insert journal; it is a no-op outside `withJournal`.
import { REPLAY_FRESH, REPLAY_FULL, REPLAY_SEEN, ReplayFilter, type ReplayVerdict } from '../tunnel/replay-filter.js';

const PENDING = 1;
const NEW = 2;
const REPLAY = 3;
const FULL = 4;
/** Int32 words per record: w0, w1, w2, w3, state. */
const REC = 5;
/** Journal header words (slots.ts JOURNAL region): [0] record count, [1] id of the batch the records belong to. */
export const J_COUNT = 0;
export const J_BATCH = 1;

export interface Journal {
  /** Header (Int32, shared): [J_COUNT] records written. */
  header: Int32Array;
  /** Records (Int32, shared): capacity / REC records. */
  records: Int32Array;
}

let current: Journal | null = null;
let inherited = 0;
let consumed: Uint8Array = new Uint8Array(0);

type SeenWords = (
  this: ReplayFilter,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
  now: number,
  until?: number,
) => ReplayVerdict;

function stateOf(v: ReplayVerdict): number {
  return v === REPLAY_FRESH ? NEW : v === REPLAY_SEEN ? REPLAY : FULL;
}
let original: SeenWords | null = null;

function journaled(
  this: ReplayFilter,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
  now: number,
  until?: number,
): ReplayVerdict {
  const j = current;
  const orig = original!;
  if (j === null) return orig.call(this, w0, w1, w2, w3, now, until);
  const r = j.records;
  // An earlier attempt of this batch checked this entry: keep its verdict.
  for (let k = 0; k < inherited; k++) {
    if (consumed[k] === 1) continue;
    const o = k * REC;
    if (r[o] === w0 && r[o + 1] === w1 && r[o + 2] === w2 && r[o + 3] === w3) {
      consumed[k] = 1;
      const state = Atomics.load(r, o + 4);
      const verdict = orig.call(this, w0, w1, w2, w3, now, until); // refresh (re-inserts if the attempt died before inserting)
      if (verdict === REPLAY_FULL) {
        Atomics.store(r, o + 4, FULL);
        return REPLAY_FULL;
      }
      if (state === REPLAY) return REPLAY_SEEN;
      if (state === FULL) {
        Atomics.store(r, o + 4, stateOf(verdict));
        return verdict;
      }
      Atomics.store(r, o + 4, NEW);
      return REPLAY_FRESH;
    }
  }
  const n = j.header[J_COUNT]!;
  if ((n + 1) * REC > r.length) return orig.call(this, w0, w1, w2, w3, now, until); // journal full: plain check
  const o = n * REC;
  // Plain stores: the only reader is a retry in another thread, which starts after the main thread has seen this
  // thread exit and posted it a task -- a synchronization after every store here, whatever their order. What matters
  // is that the record and the count are written before the filter call, which program order within this thread
  // gives (V8 keeps stores in order on its effect chain and does not move them across the call). Measured over a
  // native AES hop of about 0.85 us in one thread: the journal adds 0.01-0.03 us a message this way, 0.03-0.05 with
  // Atomics.store (an xchg on x86).
  r[o] = w0;
  r[o + 1] = w1;
  r[o + 2] = w2;
  r[o + 3] = w3;
  r[o + 4] = PENDING;
  j.header[J_COUNT] = n + 1;
  const seen = orig.call(this, w0, w1, w2, w3, now, until);
  r[o + 4] = stateOf(seen);
  return seen;
}

/** Installs the hook once per thread (before any engine is made). */
export function installReplayJournal(): void {
  if (original !== null) return;
  original = ReplayFilter.prototype.seenWords as SeenWords;
  ReplayFilter.prototype.seenWords = journaled;
}

/**
 * Runs `fn` (one engine call over one batch) with `journal` recording every filter call. `batchId` names the batch
 * (unique per shard): records left by an earlier batch in the same slot are discarded, records of earlier attempts
 * of this batch are honoured.
 */
export function withJournal<T>(journal: Journal, batchId: number, fn: () => T): T {
  if (Atomics.load(journal.header, J_BATCH) !== batchId) {
    Atomics.store(journal.header, J_COUNT, 0);
    Atomics.store(journal.header, J_BATCH, batchId);
  }
  inherited = Atomics.load(journal.header, J_COUNT);
  if (consumed.length < inherited) consumed = new Uint8Array(journal.records.length / REC);
  consumed.fill(0, 0, inherited);
  current = journal;
  try {
    return fn();
  } finally {
    current = null;
  }
}

/** Int32 words a journal for `maxBatch` messages needs (header excluded). */
export function journalWords(maxBatch: number): number {
  return maxBatch * REC;
}
