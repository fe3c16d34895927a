// Router-wide replay filter (tunnel-crypto-aes.md §5) over a SharedArrayBuffer, shared by every worker thread.
//
// What is remembered: a 16-byte entry per message -- AES: the received IV XOR the first 16 data bytes; ChaCha
// (docs/chacha-layer.md): tunnelNonce || obfsNonce as received. An entry is remembered for 10 to 20 minutes.
//
// Structure: a bucketed hash table of 32-bit cells; a bucket is 16 cells (64 bytes, one cache line). A cell holds
// (fingerprint << 4) | epochTag, 0 = empty. epoch = floor(now / halfLifeMs); a cell is live while its tag is the
// current or the previous epoch (mod 16), so an entry lives between one and two half-lives with no bulk clearing:
// stale cells are reused by inserts, and every insert also sweeps SWEEP_PER_INSERT cells (a cursor per thread, from a
// random start) to zero stale ones: at the design rate the threads together pass over the whole table once every
// four half-lives, long before a stale tag could come back to life 16 epochs later (at much lower rates a stale cell may
// survive that long: it then only counts as one more live cell, within the false-positive bound below). Bucket index and fingerprint come from a keyed
// 32-bit mix of the entry (key random per filter, in the header), so outsiders cannot aim at one bucket.
//
// Concurrency: the scan reads cells without Atomics (a torn or stale read only sends us to the CAS, which re-checks);
// cells are claimed with Atomics.compareExchange. One pass over the bucket both looks for the entry and picks the
// first free cell, so two threads inserting the same entry at the same instant race for the same cell; the loser
// re-scans and finds the winner's copy (a duplicate). The only miss: a lower cell of that bucket turns free (swept as
// stale, or evicted) between the two threads' scans -- rare, and only under an exact-duplicate race.
//
// False positives: a fresh entry is reported as seen when a live cell of its bucket has its fingerprint: about
// (live cells per bucket) / 2^FP_BITS. Sized as below (<= 4 live cells per bucket on average at the design rate),
// that is ~4 / 2^28 = 1.5e-8; test/replay-filter.test.ts measures it (and, with narrower fingerprints, the formula).
// A full bucket evicts a previous-epoch cell (counted in `evictions`: that entry is then remembered for less than
// 10 minutes), else the entry is not remembered at all (counted in `overflows`).
//
// Sizing: cells = 8 x rate x halfLife (at most two half-lives of entries live, at 25% load: 4 live cells per
// bucket on average, so a bucket overflows with probability P[Poisson(4) > 16] ~ 1e-6), rounded up to whole
// buckets: 32 bytes x rate x halfLife-seconds -- 1 000 msg/s with a 10-minute half-life = 19.2 MB.
// False-positive rate at the design rate: <= 4 / 2^28 = 1.5e-8 per message.

const MAGIC = 0x52504c46; // "RPLF"
const BUCKET = 16;
const TAG_BITS = 4;
const TAG_MASK = (1 << TAG_BITS) - 1;
const SWEEP_PER_INSERT = 2;

// Header (Int32 words): 0 magic, 1 buckets, 2 halfLife seconds, 3 fingerprint bits, 4..11 hash key,
// 12 (unused), 13 (unused), 14 duplicates, 15 overflows, 16 evictions. Cells start at HEADER_BYTES.
const H_MAGIC = 0, H_BUCKETS = 1, H_HALFLIFE = 2, H_FPBITS = 3, H_KEY = 4, H_DUPS = 14, H_OVERFLOWS = 15, H_EVICTIONS = 16;
const HEADER_WORDS = 32;
const HEADER_BYTES = HEADER_WORDS * 4;

export const REPLAY_HALF_LIFE_MS = 10 * 60 * 1000;

export interface ReplayFilterSizing {
  /** Expected TunnelData messages per second through this router (all threads). Default 1000. */
  messagesPerSecond?: number;
  /** Half-life in ms: entries live one to two half-lives (default 10 minutes, the spec's 10-20 minute window). */
  halfLifeMs?: number;
  /** Fingerprint bits, 8..28 (default 28). Narrower only to measure the false-positive formula in tests. */
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

function bucketsFor(s: ReplayFilterSizing): number {
  const rate = s.messagesPerSecond ?? 1000;
  const half = (s.halfLifeMs ?? REPLAY_HALF_LIFE_MS) / 1000;
  if (!(rate > 0) || !(half > 0)) throw new RangeError('replay filter: messagesPerSecond and halfLifeMs must be > 0');
  const cells = Math.ceil(8 * rate * half);
  const buckets = Math.max(1, Math.ceil(cells / BUCKET));
  if (buckets * BUCKET * 4 + HEADER_BYTES > 2 ** 31) throw new RangeError('replay filter: more than 2 GiB; lower the rate');
  return buckets;
}

/** A new, empty filter's memory: create once per router and hand the same buffer to every thread's engine. */
export function createReplayFilterBuffer(sizing: ReplayFilterSizing = {}): SharedArrayBuffer {
  const buckets = bucketsFor(sizing);
  const fpBits = sizing.fingerprintBits ?? 28;
  if (!Number.isInteger(fpBits) || fpBits < 8 || fpBits > 28) throw new RangeError('replay filter: fingerprintBits must be 8..28');
  const halfLifeMs = sizing.halfLifeMs ?? REPLAY_HALF_LIFE_MS;
  if (!Number.isInteger(halfLifeMs) || halfLifeMs < 1) throw new RangeError('replay filter: halfLifeMs must be a positive integer');
  const sab = new SharedArrayBuffer(HEADER_BYTES + buckets * BUCKET * 4);
  const h = new Int32Array(sab, 0, HEADER_WORDS);
  h[H_MAGIC] = MAGIC;
  h[H_BUCKETS] = buckets;
  h[H_HALFLIFE] = halfLifeMs; // ms, fits i32 for up to ~24 days
  h[H_FPBITS] = fpBits;
  const key = new Int32Array(8);
  crypto.getRandomValues(key);
  h.set(key, H_KEY);
  if (sizing.prefault ?? true) {
    const cells = new Int32Array(sab, HEADER_BYTES);
    for (let i = 0; i < cells.length; i += 1024) cells[i] = 0;
  }
  return sab;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** One thread's handle on a shared filter. Cheap; make one per engine. */
export class ReplayFilter {
  readonly buffer: SharedArrayBuffer;
  readonly buckets: number;
  readonly halfLifeMs: number;
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
  /** floor(epochAt / halfLifeMs), kept for the batch's `now`. */
  private epochAt = NaN;
  private epoch = 0;

  constructor(buffer: SharedArrayBuffer) {
    if (!(buffer instanceof SharedArrayBuffer)) throw new TypeError('replay filter: expected a SharedArrayBuffer');
    if (buffer.byteLength < HEADER_BYTES + BUCKET * 4) throw new RangeError('replay filter: buffer too small');
    const h = new Int32Array(buffer, 0, HEADER_WORDS);
    if (h[H_MAGIC] !== MAGIC) throw new TypeError('replay filter: not a filter buffer (use createReplayFilterBuffer)');
    this.buffer = buffer;
    this.header = h;
    this.buckets = h[H_BUCKETS]!;
    if (HEADER_BYTES + this.buckets * BUCKET * 4 !== buffer.byteLength) throw new RangeError('replay filter: corrupt header');
    this.halfLifeMs = h[H_HALFLIFE]!;
    this.fingerprintBits = h[H_FPBITS]!;
    this.fpMask = this.fingerprintBits === 28 ? 0x0fffffff : (1 << this.fingerprintBits) - 1;
    this.k = Int32Array.from(h.subarray(H_KEY, H_KEY + 8));
    this.cells = new Int32Array(buffer, HEADER_BYTES, this.buckets * BUCKET);
    this.bucketScale = this.buckets / 2 ** 32;
    this.cursor = Math.floor(Math.random() * this.cells.length);
  }

  /**
   * Records the entry a ^ b (16 bytes each, at a[ao..ao+16) and b[bo..bo+16); pass b = null for a alone) at
   * time `now` (epoch ms). Returns true when it was already there (a replay: drop the message).
   */
  seen(a: Uint8Array, ao: number, b: Uint8Array | null, bo: number, now: number): boolean {
    return this.lookup(a, ao, b, bo, now, true);
  }

  /** Like `seen` but never records: true when the entry is live in the filter. */
  has(a: Uint8Array, ao: number, b: Uint8Array | null, bo: number, now: number): boolean {
    return this.lookup(a, ao, b, bo, now, false);
  }

  private lookup(a: Uint8Array, ao: number, b: Uint8Array | null, bo: number, now: number, insert: boolean): boolean {
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
    // Every recording lookup goes through seenWords (src/dataplane/replay-journal.ts hooks it).
    return insert ? this.seenWords(w0, w1, w2, w3, now) : this.probe(w0, w1, w2, w3, now, false);
  }

  /** Same as `seen` on the entry given as four little-endian 32-bit words. */
  seenWords(w0: number, w1: number, w2: number, w3: number, now: number): boolean {
    return this.probe(w0, w1, w2, w3, now, true);
  }

  private probe(w0: number, w1: number, w2: number, w3: number, now: number, insert: boolean): boolean {
    // Keyed mix: each word XOR a key word times an odd constant (a bijection per word), two sums, two finalizers.
    const k = this.k;
    const a = (Math.imul(w0 ^ k[0]!, 0x9e3779b1) + Math.imul(w1 ^ k[1]!, 0x85ebca77)) | 0;
    const c = (Math.imul(w2 ^ k[2]!, 0xc2b2ae3d) + Math.imul(w3 ^ k[3]!, 0x27d4eb2f)) | 0;
    const h1 = fmix(a ^ k[4]! ^ ((c << 13) | (c >>> 19)));
    const h2 = fmix(c ^ k[5]! ^ ((a << 7) | (a >>> 25)));
    // Range reduction by multiplication (floor(h x buckets / 2^32) < buckets for any 32-bit h): no division.
    const base = Math.floor((h1 >>> 0) * this.bucketScale) * BUCKET;
    let fp = h2 & this.fpMask;
    if (fp === 0) fp = 1;
    if (now !== this.epochAt) {
      this.epochAt = now;
      this.epoch = Math.floor(now / this.halfLifeMs);
    }
    const epoch = this.epoch;
    const tag = epoch & TAG_MASK;
    const prevTag = (epoch - 1) & TAG_MASK;
    const mine = (fp << TAG_BITS) | tag;
    const cells = this.cells;
    if (insert) this.sweep(tag, prevTag);
    for (;;) {
      // One pass both looks for the entry and picks the cell to claim (the first empty or stale one, else the first
      // previous-epoch one to evict). Doing both in one pass matters: two threads inserting the same entry then aim
      // at the same cell, so the loser of the compareExchange re-scans and finds the winner's copy. (With a separate
      // look-then-claim pass, a thread that looked before the winner's insert and claimed after it would take the
      // next free cell and accept the entry a second time.)
      let j = -1, jv = 0;
      let evict = -1, ev = 0;
      for (let q = 0; q < BUCKET; q++) {
        const v = cells[base + q]!;
        const t = v & TAG_MASK;
        const live = v !== 0 && (t === tag || t === prevTag);
        if (live) {
          if (v >>> TAG_BITS === fp) {
            if (insert) Atomics.add(this.header, H_DUPS, 1);
            return true;
          }
          if (evict < 0 && t === prevTag) { evict = q; ev = v; }
        } else if (j < 0) {
          j = q; jv = v;
        }
      }
      if (!insert) return false;
      if (j < 0) { j = evict; jv = ev; }
      if (j < 0) {
        Atomics.add(this.header, H_OVERFLOWS, 1);
        return false;
      }
      // Expect exactly what the scan saw: a cell that changed since (another insert) must not be overwritten.
      const expected = jv;
      if (Atomics.compareExchange(cells, base + j, expected, mine) === expected) {
        if (j === evict) Atomics.add(this.header, H_EVICTIONS, 1);
        this.inserts++;
        return false;
      }
      // Lost a race for that cell: look again (the winner may have inserted this very entry).
    }
  }

  private sweep(tag: number, prevTag: number): void {
    const cells = this.cells;
    let c = this.cursor;
    if (c + SWEEP_PER_INSERT > cells.length) c = 0;
    for (let i = 0; i < SWEEP_PER_INSERT; i++, c++) {
      const v = cells[c]!;
      if (v === 0) continue;
      const t = v & TAG_MASK;
      if (t !== tag && t !== prevTag) Atomics.compareExchange(cells, c, v, 0);
    }
    this.cursor = c;
  }

  /**
   * Counters: duplicates found, evictions and overflows (full buckets) for all threads; inserts by this handle only.
   */
  stats(): { inserts: number; duplicates: number; evictions: number; overflows: number; bytes: number } {
    return {
      evictions: Atomics.load(this.header, H_EVICTIONS) >>> 0,
      inserts: this.inserts,
      duplicates: Atomics.load(this.header, H_DUPS) >>> 0,
      overflows: Atomics.load(this.header, H_OVERFLOWS) >>> 0,
      bytes: this.buffer.byteLength,
    };
  }
}
