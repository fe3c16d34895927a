// Router-wide replay filter (tunnel-crypto-aes.md §5) over a SharedArrayBuffer, shared by every worker thread.
// Design and sizing: docs/replay-filter.md.
//
// What is remembered: a 16-byte entry per message -- AES: the received IV XOR the first 16 data bytes; ChaCha
// (docs/chacha-layer.md): tunnelNonce || obfsNonce as received -- until the time the caller gives (the engine: the
// tunnel's expiresAt + grace, the last moment the tunnel accepts a message), at most `windowMs` ahead.
//
// Fails closed: an entry that cannot be recorded (its bucket holds 16 live entries) is reported as REPLAY_FULL, and
// the engine drops the message. Nothing live is ever evicted.
//
// Structure: a bucketed hash table of 32-bit cells; a bucket is 16 cells (64 bytes, one cache line). A cell holds
// (fingerprint << 5) | expiryTag, 0 = empty, where expiryTag = the epoch (floor(time / epochMs), epochMs = windowMs/8)
// up to which the entry is kept, mod 32. A cell is live while its expiry epoch is the current one or at most
// MAX_AHEAD after it; expired cells are reused by inserts and zeroed by a sweep (SWEEP_PER_INSERT cells per insert,
// a cursor per thread) long before their tag could look live again 23 epochs later.
//
// Hash: bucket and fingerprint come from a strongly universal multilinear hash (Dietzfelbinger 1996; Lemire and
// Kaser 2014) with a random per-filter key: four 16-bit outputs, each the top half of (k0 + sum ki * xi) mod 2^32
// over the entry's eight 16-bit halves, then a fixed bijective mix of the 64 bits. For any two different entries the
// chance over the key that they collide is 2^-16 per output, independently -- no collision holds for every key, so
// an outsider cannot aim at a bucket.
//
// Concurrency: the scan reads cells without Atomics (a torn or stale read only sends us to the CAS, which re-checks);
// cells are claimed with Atomics.compareExchange. One pass over the bucket both looks for the entry and picks the
// first free cell, so two threads inserting the same entry at the same instant race for the same cell; the loser
// re-scans and finds the winner's copy. The only miss: a lower cell of that bucket turns free (swept as expired)
// between the two threads' scans -- rare, and only under an exact-duplicate race.
import { TUNNEL_GRACE_MS, TUNNEL_LIFETIME_MS } from './types.js';

const MAGIC = 0x52504c32; // "RPL2"
const BUCKET = 16;
const TAG_BITS = 5;
const TAG_MASK = (1 << TAG_BITS) - 1;
/** Epochs per window: an entry is kept to the end of its expiry epoch, at most 1/8 window longer than asked. */
const EPOCHS_PER_WINDOW = 8;
/** Latest expiry epoch a cell may carry, relative to the current one: `until` at most one window ahead. */
const MAX_AHEAD = EPOCHS_PER_WINDOW;
/**
 * Cells looked at by each insert's sweep: at the design rate the threads pass over the table about once every 1.4
 * windows, well before an expired tag looks live again (after 23 epochs, almost 3 windows).
 */
const SWEEP_PER_INSERT = 4;
/** Cells per live entry at the design rate: at most 3.2 live entries per 16-cell bucket on average (docs/replay-filter.md). */
const CELLS_PER_ENTRY = 5;
const MAX_FP_BITS = 32 - TAG_BITS;
const KEY_WORDS = 4 * 9;

// Header (Int32 words): 0 magic, 1 buckets, 2 epochMs, 3 fingerprint bits, 4 windowMs, 5 duplicates, 6 refused
// (bucket full), 8..43 hash key. Cells start at HEADER_BYTES.
const H_MAGIC = 0,
  H_BUCKETS = 1,
  H_EPOCH = 2,
  H_FPBITS = 3,
  H_WINDOW = 4,
  H_DUPS = 5,
  H_FULL = 6,
  H_KEY = 8;
const HEADER_WORDS = 64;
/** Touched entries remembered per batch (the engine's MAX_BATCH), words each (4 entry words, bucket, fingerprint). */
const MEMO = 1024;
const MEMO_WORDS = 6;
/** How far past skipped touches a lookup searches the memo (a message dropped between its touch and its lookup). */
const MEMO_LOOKAHEAD = 4;
const HEADER_BYTES = HEADER_WORDS * 4;

/** `seen` verdicts. Truthy means "drop the message". */
export const REPLAY_FRESH = 0;
/** The entry was already there: a replay. */
export const REPLAY_SEEN = 1;
/** The entry could not be recorded (its bucket is full of live entries): drop, the filter fails closed. */
export const REPLAY_FULL = 2;
export type ReplayVerdict = typeof REPLAY_FRESH | typeof REPLAY_SEEN | typeof REPLAY_FULL;

/** Default window: the longest a tunnel accepts traffic after joining (default lifetime + default grace). */
export const REPLAY_WINDOW_MS = TUNNEL_LIFETIME_MS + TUNNEL_GRACE_MS;

export interface ReplayFilterSizing {
  /** Expected TunnelData messages per second through this router (all threads). Default 1000. */
  messagesPerSecond?: number;
  /**
   * The longest an entry must be kept, ms (default REPLAY_WINDOW_MS = 11 minutes: a tunnel's 10-minute lifetime plus
   * the engine's 1-minute grace). An engine refuses to join a tunnel that would accept traffic for longer.
   */
  windowMs?: number;
  /** Fingerprint bits, 8..27 (default 27). Narrower only to measure the false-positive formula in tests. */
  fingerprintBits?: number;
  /**
   * Write every page of the table once at creation (default true), so the operating system commits the memory now
   * rather than with one page fault per first insert into each page during traffic.
   */
  prefault?: boolean;
}

/** Bytes a filter of this sizing occupies. */
export function replayFilterBytes(sizing: ReplayFilterSizing = {}): number {
  return HEADER_BYTES + bucketsFor(sizing) * BUCKET * 4;
}

function windowOf(s: ReplayFilterSizing): number {
  const w = s.windowMs ?? REPLAY_WINDOW_MS;
  if (!Number.isInteger(w) || w < EPOCHS_PER_WINDOW || w > 2 ** 31 - 1)
    throw new RangeError('replay filter: windowMs must be an integer 8..2^31-1');
  return w;
}

function bucketsFor(s: ReplayFilterSizing): number {
  const rate = s.messagesPerSecond ?? 1000;
  if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError('replay filter: messagesPerSecond must be > 0');
  const w = windowOf(s);
  // An entry lives at most window + one epoch: that many seconds of entries at the design rate, CELLS_PER_ENTRY
  // cells each.
  const live = (rate * (w + Math.ceil(w / EPOCHS_PER_WINDOW))) / 1000;
  const buckets = Math.max(1, Math.ceil((CELLS_PER_ENTRY * live) / BUCKET));
  if (buckets * BUCKET * 4 + HEADER_BYTES > 2 ** 31)
    throw new RangeError('replay filter: more than 2 GiB; lower the rate');
  return buckets;
}

/** A new, empty filter's memory: create once per router and hand the same buffer to every thread's engine. */
export function createReplayFilterBuffer(sizing: ReplayFilterSizing = {}): SharedArrayBuffer {
  const buckets = bucketsFor(sizing);
  const fpBits = sizing.fingerprintBits ?? MAX_FP_BITS;
  if (!Number.isInteger(fpBits) || fpBits < 8 || fpBits > MAX_FP_BITS)
    throw new RangeError(`replay filter: fingerprintBits must be 8..${MAX_FP_BITS}`);
  const windowMs = windowOf(sizing);
  const sab = new SharedArrayBuffer(HEADER_BYTES + buckets * BUCKET * 4);
  const h = new Int32Array(sab, 0, HEADER_WORDS);
  h[H_MAGIC] = MAGIC;
  h[H_BUCKETS] = buckets;
  h[H_EPOCH] = Math.ceil(windowMs / EPOCHS_PER_WINDOW);
  h[H_FPBITS] = fpBits;
  h[H_WINDOW] = windowMs;
  const key = new Int32Array(KEY_WORDS);
  crypto.getRandomValues(key);
  h.set(key, H_KEY);
  key.fill(0);
  if (sizing.prefault ?? true) {
    const cells = new Int32Array(sab, HEADER_BYTES);
    for (let i = 0; i < cells.length; i += 1024) cells[i] = 0;
  }
  return sab;
}

/** One thread's handle on a shared filter. Cheap; make one per engine. */
export class ReplayFilter {
  readonly buffer: SharedArrayBuffer;
  readonly buckets: number;
  /** Longest time an entry can be kept ahead of `now`, ms. */
  readonly windowMs: number;
  readonly epochMs: number;
  readonly fingerprintBits: number;
  private readonly cells: Int32Array;
  private readonly header: Int32Array;
  private readonly k: Int32Array;
  private readonly fpMask: number;
  /** This thread's sweep cursor and insert count (not shared: no cache line bouncing between threads). */
  private cursor: number;
  private inserts = 0;
  /** buckets / 2^32. */
  private readonly bucketScale: number;
  /** floor(epochAt / epochMs), kept for the batch's `now`. */
  private epochAt = NaN;
  private epoch = 0;
  /** The fingerprint locate() found. */
  private locatedFp = 0;
  /** This batch's touched entries (touchWords): words, bucket, fingerprint; read from memoHead on. */
  private readonly memo = new Int32Array(MEMO * MEMO_WORDS);
  private memoHead = 0;
  private memoTail = 0;
  /** XOR of the cells touchWords loaded (never read: it only keeps the loads). */
  private touched = 0;

  constructor(buffer: SharedArrayBuffer) {
    if (!(buffer instanceof SharedArrayBuffer)) throw new TypeError('replay filter: expected a SharedArrayBuffer');
    if (buffer.byteLength < HEADER_BYTES + BUCKET * 4) throw new RangeError('replay filter: buffer too small');
    const h = new Int32Array(buffer, 0, HEADER_WORDS);
    if (h[H_MAGIC] !== MAGIC) throw new TypeError('replay filter: not a filter buffer (use createReplayFilterBuffer)');
    this.buffer = buffer;
    this.header = h;
    this.buckets = h[H_BUCKETS]!;
    if (HEADER_BYTES + this.buckets * BUCKET * 4 !== buffer.byteLength)
      throw new RangeError('replay filter: corrupt header');
    this.epochMs = h[H_EPOCH]!;
    this.windowMs = h[H_WINDOW]!;
    this.fingerprintBits = h[H_FPBITS]!;
    if (!(this.epochMs > 0) || !(this.fingerprintBits >= 8 && this.fingerprintBits <= MAX_FP_BITS))
      throw new RangeError('replay filter: corrupt header');
    this.fpMask = 2 ** this.fingerprintBits - 1;
    this.k = Int32Array.from(h.subarray(H_KEY, H_KEY + KEY_WORDS));
    this.cells = new Int32Array(buffer, HEADER_BYTES, this.buckets * BUCKET);
    this.bucketScale = this.buckets / 2 ** 32;
    this.cursor = Math.floor(Math.random() * this.cells.length);
  }

  /**
   * Records the entry a ^ b (16 bytes each, at a[ao..ao+16) and b[bo..bo+16); pass b = null for a alone) at time
   * `now` (epoch ms), to be kept until `until` (epoch ms; default now + windowMs, the longest). Returns REPLAY_FRESH
   * (recorded), REPLAY_SEEN (already there: a replay) or REPLAY_FULL (cannot be recorded: drop the message too).
   */
  seen(
    a: Uint8Array,
    ao: number,
    b: Uint8Array | null,
    bo: number,
    now: number,
    until = now + this.windowMs,
  ): ReplayVerdict {
    const [w0, w1, w2, w3] = words(a, ao, b, bo);
    // Every recording lookup goes through seenWords (src/dataplane/replay-journal.ts hooks it).
    return this.seenWords(w0, w1, w2, w3, now, until);
  }

  /** Like `seen` but never records: true when the entry is live in the filter. */
  has(a: Uint8Array, ao: number, b: Uint8Array | null, bo: number, now: number): boolean {
    const [w0, w1, w2, w3] = words(a, ao, b, bo);
    return this.probe(w0, w1, w2, w3, now, now, false) === REPLAY_SEEN;
  }

  /** Same as `seen` on the entry given as four little-endian 32-bit words. */
  seenWords(w0: number, w1: number, w2: number, w3: number, now: number, until = now + this.windowMs): ReplayVerdict {
    return this.probe(w0, w1, w2, w3, now, until, true);
  }

  private probe(
    w0: number,
    w1: number,
    w2: number,
    w3: number,
    now: number,
    until: number,
    insert: boolean,
  ): ReplayVerdict {
    // Where the entry lives: from this batch's touches when touchWords saw these words, else hashed now.
    let base: number, fp: number;
    const m = this.memoFind(w0, w1, w2, w3);
    if (m >= 0) {
      base = this.memo[m * MEMO_WORDS + 4]!;
      fp = this.memo[m * MEMO_WORDS + 5]!;
    } else {
      base = this.locate(w0, w1, w2, w3);
      fp = this.locatedFp;
    }
    if (now !== this.epochAt) {
      this.epochAt = now;
      this.epoch = Math.floor(now / this.epochMs);
    }
    const epoch = this.epoch;
    const tag = epoch & TAG_MASK;
    const cells = this.cells;
    if (insert) this.sweep(tag);
    for (;;) {
      // One pass both looks for the entry and picks the cell to claim (the first empty or expired one). Doing both in
      // one pass matters: two threads inserting the same entry then aim at the same cell, so the loser of the
      // compareExchange re-scans and finds the winner's copy.
      let j = -1,
        jv = 0;
      for (let q = 0; q < BUCKET; q++) {
        const v = cells[base + q]!;
        if (v !== 0 && ((v - tag) & TAG_MASK) <= MAX_AHEAD) {
          if (v >>> TAG_BITS === fp) {
            if (insert) Atomics.add(this.header, H_DUPS, 1);
            return REPLAY_SEEN;
          }
        } else if (j < 0) {
          j = q;
          jv = v;
        }
      }
      if (!insert) return REPLAY_FRESH;
      if (j < 0) {
        Atomics.add(this.header, H_FULL, 1);
        return REPLAY_FULL;
      }
      // Kept to the end of the epoch `until` falls in (at least the current one); never more than MAX_AHEAD epochs
      // (`until` beyond the window: the entry cannot be kept that long, so it is refused like a full bucket).
      let ahead = Math.floor(until / this.epochMs) - epoch;
      if (!(ahead >= 0)) ahead = 0;
      if (ahead > MAX_AHEAD) {
        Atomics.add(this.header, H_FULL, 1);
        return REPLAY_FULL;
      }
      const mine = (fp << TAG_BITS) | ((epoch + ahead) & TAG_MASK);
      // Expect exactly what the scan saw: a cell that changed since (another insert) must not be overwritten.
      if (Atomics.compareExchange(cells, base + j, jv, mine) === jv) {
        this.inserts++;
        return REPLAY_FRESH;
      }
      // Lost a race for that cell: look again (the winner may have inserted this very entry).
    }
  }

  /** The first cell of the entry's bucket; its fingerprint in locatedFp. */
  private locate(w0: number, w1: number, w2: number, w3: number): number {
    // Multilinear hash of the eight 16-bit halves, four independent keys (see the header comment).
    const k = this.k;
    const x0 = w0 & 0xffff,
      x1 = w0 >>> 16,
      x2 = w1 & 0xffff,
      x3 = w1 >>> 16;
    const x4 = w2 & 0xffff,
      x5 = w2 >>> 16,
      x6 = w3 & 0xffff,
      x7 = w3 >>> 16;
    const h0 = lane(k, 0, x0, x1, x2, x3, x4, x5, x6, x7);
    const h1 = lane(k, 9, x0, x1, x2, x3, x4, x5, x6, x7);
    const h2 = lane(k, 18, x0, x1, x2, x3, x4, x5, x6, x7);
    const h3 = lane(k, 27, x0, x1, x2, x3, x4, x5, x6, x7);
    // A fixed two-round Feistel mix of the 64 bits follows (a bijection: no collision added). Pairwise independence
    // bounds collisions but not how full the fullest buckets get: without the mix, entries that differ in a counter
    // land on an arithmetic progression of buckets; with it they spread as under a random function.
    const a = (h0 << 16) | h1;
    const c = (h2 << 16) | h3;
    const a1 = a ^ fmix(c);
    const c1 = c ^ fmix(a1);
    // Range reduction by multiplication (floor(h x buckets / 2^32) < buckets for any 32-bit h): no division.
    const base = Math.floor((a1 >>> 0) * this.bucketScale) * BUCKET;
    let fp = (c1 >>> 0) & this.fpMask;
    if (fp === 0) fp = 1;
    this.locatedFp = fp;
    return base;
  }

  /**
   * Starts a batch of touches: forgets the previous batch's (the memo is per batch, so an entry the batch then never
   * looked up does not linger).
   */
  touchReset(): void {
    this.memoHead = 0;
    this.memoTail = 0;
  }

  /**
   * Remembers where the entry given as four words lives (its bucket and fingerprint); records nothing. A caller that
   * notes a batch's entries first, then calls touchLoad, then seenWords for them in the same order, hashes each entry
   * once and gets the table's cache misses side by side instead of one per lookup. Where an entry lives is a pure
   * function of its words, so a remembered place is right whatever came in between.
   */
  touchWords(w0: number, w1: number, w2: number, w3: number): void {
    const t = this.memoTail;
    if (t >= MEMO) return;
    const base = this.locate(w0, w1, w2, w3);
    const o = t * MEMO_WORDS;
    const memo = this.memo;
    memo[o] = w0;
    memo[o + 1] = w1;
    memo[o + 2] = w2;
    memo[o + 3] = w3;
    memo[o + 4] = base;
    memo[o + 5] = this.locatedFp;
    this.memoTail = t + 1;
  }

  /**
   * Loads the buckets of the entries noted since touchReset, in a loop with nothing else in it, so the processor has
   * many of those misses in flight at once.
   */
  touchLoad(): void {
    const memo = this.memo;
    const cells = this.cells;
    let x = 0;
    for (let i = this.memoHead, end = this.memoTail; i < end; i++) x ^= cells[memo[i * MEMO_WORDS + 4]!]!;
    // The loads are the point; keeping their value stops the compiler from dropping them.
    this.touched ^= x;
  }

  /** The memo index of these words among the next MEMO_LOOKAHEAD touched ones (skipped ones are passed), or -1. */
  private memoFind(w0: number, w1: number, w2: number, w3: number): number {
    const memo = this.memo;
    const end = Math.min(this.memoTail, this.memoHead + MEMO_LOOKAHEAD);
    for (let i = this.memoHead; i < end; i++) {
      const o = i * MEMO_WORDS;
      if (memo[o] === (w0 | 0) && memo[o + 1] === (w1 | 0) && memo[o + 2] === (w2 | 0) && memo[o + 3] === (w3 | 0)) {
        this.memoHead = i + 1;
        return i;
      }
    }
    return -1;
  }

  private sweep(tag: number): void {
    const cells = this.cells;
    let c = this.cursor;
    if (c + SWEEP_PER_INSERT > cells.length) c = 0;
    for (let i = 0; i < SWEEP_PER_INSERT; i++, c++) {
      const v = cells[c]!;
      if (v !== 0 && ((v - tag) & TAG_MASK) > MAX_AHEAD) Atomics.compareExchange(cells, c, v, 0);
    }
    this.cursor = c;
  }

  /**
   * Counters: duplicates found and entries refused (`overflows`: full bucket, or kept longer than the window) for all
   * threads; inserts by this handle only.
   */
  stats(): { inserts: number; duplicates: number; overflows: number; bytes: number } {
    return {
      inserts: this.inserts,
      duplicates: Atomics.load(this.header, H_DUPS) >>> 0,
      overflows: Atomics.load(this.header, H_FULL) >>> 0,
      bytes: this.buffer.byteLength,
    };
  }
}

/**
 * One 16-bit output of the multilinear hash: bits 16..31 of (k[o] + sum k[o+1+i] x_i) mod 2^32, x_i < 2^16
 * (strongly universal onto 16 bits for a uniformly random key). Int32 arithmetic throughout (| 0 after each add).
 */
function lane(
  k: Int32Array,
  o: number,
  x0: number,
  x1: number,
  x2: number,
  x3: number,
  x4: number,
  x5: number,
  x6: number,
  x7: number,
): number {
  let h = (k[o]! + Math.imul(k[o + 1]!, x0)) | 0;
  h = (h + Math.imul(k[o + 2]!, x1)) | 0;
  h = (h + Math.imul(k[o + 3]!, x2)) | 0;
  h = (h + Math.imul(k[o + 4]!, x3)) | 0;
  h = (h + Math.imul(k[o + 5]!, x4)) | 0;
  h = (h + Math.imul(k[o + 6]!, x5)) | 0;
  h = (h + Math.imul(k[o + 7]!, x6)) | 0;
  h = (h + Math.imul(k[o + 8]!, x7)) | 0;
  return h >>> 16;
}

/** The 32-bit finalizer of MurmurHash3: a fixed bijection with full avalanche. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** The entry a ^ b (b null: a alone) as four little-endian 32-bit words. */
function words(a: Uint8Array, ao: number, b: Uint8Array | null, bo: number): [number, number, number, number] {
  let w0 = a[ao]! | (a[ao + 1]! << 8) | (a[ao + 2]! << 16) | (a[ao + 3]! << 24);
  let w1 = a[ao + 4]! | (a[ao + 5]! << 8) | (a[ao + 6]! << 16) | (a[ao + 7]! << 24);
  let w2 = a[ao + 8]! | (a[ao + 9]! << 8) | (a[ao + 10]! << 16) | (a[ao + 11]! << 24);
  let w3 = a[ao + 12]! | (a[ao + 13]! << 8) | (a[ao + 14]! << 16) | (a[ao + 15]! << 24);
  if (b !== null) {
    w0 ^= b[bo]! | (b[bo + 1]! << 8) | (b[bo + 2]! << 16) | (b[bo + 3]! << 24);
    w1 ^= b[bo + 4]! | (b[bo + 5]! << 8) | (b[bo + 6]! << 16) | (b[bo + 7]! << 24);
    w2 ^= b[bo + 8]! | (b[bo + 9]! << 8) | (b[bo + 10]! << 16) | (b[bo + 11]! << 24);
    w3 ^= b[bo + 12]! | (b[bo + 13]! << 8) | (b[bo + 14]! << 16) | (b[bo + 15]! << 24);
  }
  return [w0, w1, w2, w3];
}
