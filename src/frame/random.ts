// Randomness for the gateway: IVs, padding, fragment message ids. A buffered CSPRNG: the system generator
// (crypto.randomFillSync, OpenSSL's DRBG) fills a 64 KiB pool and callers take bytes from it, so one system call
// serves ~60 bodies. Injectable (RandomSource) so tests can be deterministic; never Math.random.
import { randomFillSync } from 'node:crypto';

export interface RandomSource {
  /** Fills `dest` with random bytes. */
  fill(dest: Uint8Array): void;
}

const POOL_SIZE = 65536;

export class BufferedRandom implements RandomSource {
  private readonly pool = new Uint8Array(POOL_SIZE);
  private pos = POOL_SIZE;

  fill(dest: Uint8Array): void {
    const n = dest.length;
    if (n <= 32 && POOL_SIZE - this.pos >= n) {
      // Small requests (IVs, ids): a byte loop beats creating a subarray view.
      const pool = this.pool;
      let pos = this.pos;
      for (let i = 0; i < n; i++, pos++) {
        dest[i] = pool[pos]!;
        pool[pos] = 0;
      }
      this.pos = pos;
      return;
    }
    let done = 0;
    while (done < n) {
      if (this.pos === POOL_SIZE) {
        randomFillSync(this.pool);
        this.pos = 0;
      }
      const take = Math.min(n - done, POOL_SIZE - this.pos);
      dest.set(this.pool.subarray(this.pos, this.pos + take), done);
      // Bytes handed out are not kept: a later leak of the pool cannot reveal IVs or ids already used.
      this.pool.fill(0, this.pos, this.pos + take);
      this.pos += take;
      done += take;
    }
  }
}

/** The process-wide default source. */
export const systemRandom: RandomSource = new BufferedRandom();

const u32Scratch = new Uint8Array(4);

/** A random 32-bit unsigned integer from `src`. */
export function randomU32(src: RandomSource): number {
  src.fill(u32Scratch);
  return ((u32Scratch[0]! << 24) | (u32Scratch[1]! << 16) | (u32Scratch[2]! << 8) | u32Scratch[3]!) >>> 0;
}

/** Fills `dest` with random bytes none of which is 0x00 (padding, tunnel-message.md §2.2): zeros are redrawn. */
export function fillNonZero(src: RandomSource, dest: Uint8Array): void {
  src.fill(dest);
  // indexOf is a native scan: cheaper than a JS loop over up to 1003 bytes.
  for (let i = dest.indexOf(0); i >= 0; i = dest.indexOf(0, i)) src.fill(dest.subarray(i, i + 1));
}
