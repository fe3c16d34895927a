// Deterministic pseudo-random inputs for benchmarks: the same seed gives the same bytes on every machine and run,
// so every implementation of a workload can be checked against the others before timing. Not for keys in real use.
import type { Rng } from './types.js';

/** FNV-1a of a string: turns "workload/batch" into a 32-bit seed. */
export function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** xoshiro128** seeded through splitmix32; small, fast and well distributed. */
export function createRng(seed: number | string): Rng {
  let x = typeof seed === 'string' ? seedOf(seed) : seed >>> 0;
  const splitmix = (): number => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix(),
    b = splitmix(),
    c = splitmix(),
    d = splitmix();
  const u32 = (): number => {
    const r = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return r;
  };
  const fill = (out: Uint8Array): Uint8Array => {
    let i = 0;
    for (; i + 4 <= out.length; i += 4) {
      const v = u32();
      out[i] = v;
      out[i + 1] = v >>> 8;
      out[i + 2] = v >>> 16;
      out[i + 3] = v >>> 24;
    }
    if (i < out.length) {
      let v = u32();
      for (; i < out.length; i++, v >>>= 8) out[i] = v;
    }
    return out;
  };
  return {
    u32,
    int: (n: number) => {
      if (!(n > 0 && n <= 0x1_0000_0000)) throw new RangeError(`rng.int: n must be in 1..2^32, not ${n}`);
      return Math.floor((u32() / 0x1_0000_0000) * n);
    },
    bytes: (n: number) => fill(new Uint8Array(n)),
    fill,
  };
}

function rotl(v: number, k: number): number {
  return ((v << k) | (v >>> (32 - k))) >>> 0;
}
