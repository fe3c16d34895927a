// Replay filter for Noise N messages to our router (build records, one-shot garlic): remembers each accepted
// ephemeral key until its message could no longer be fresh. Neither i2pd nor the spec defines one
// (netdb-floodfill.md §9 item 3); the window is ours: request time + 600 s + skew. Bounded: at `capacity` keys the
// oldest entries go first (a flood can then replay its own oldest messages, never grow memory).
export interface EphemeralKeyFilterOptions {
  /** How long a key is remembered, ms (default 12 minutes: the 10-minute request life plus skew). */
  windowMs?: number;
  /** Most keys remembered (default 100 000: ~10 MB). */
  capacity?: number;
}

export class EphemeralKeyFilter {
  private readonly windowMs: number;
  private readonly capacity: number;
  /** key (hex) -> expiry; Map keeps insertion order, which is expiry order for a fixed window. */
  private readonly seen = new Map<string, number>();

  constructor(opts: EphemeralKeyFilterOptions = {}) {
    this.windowMs = opts.windowMs ?? 12 * 60_000;
    this.capacity = opts.capacity ?? 100_000;
    if (!(this.capacity >= 1)) throw new RangeError('capacity must be at least 1');
  }

  get size(): number {
    return this.seen.size;
  }

  /** True (replay) if `key` was added within the window; otherwise records it and returns false. */
  checkAndAdd(key: Uint8Array, now: number): boolean {
    this.sweep(now);
    const k = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex');
    if (this.seen.has(k)) return true;
    while (this.seen.size >= this.capacity) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(k, now + this.windowMs);
    return false;
  }

  private sweep(now: number): void {
    for (const [k, exp] of this.seen) {
      if (exp > now) break;
      this.seen.delete(k);
    }
  }
}
