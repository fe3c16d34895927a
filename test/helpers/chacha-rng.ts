// Seeded randomness for the ChaCha20 / Poly1305 / SHA-256 cross-checks. The seed is logged (test/helpers/seed.ts); set
// TUNNELPLANE_SEED=<integer> to replay a failing run.
import { readFileSync } from 'node:fs';
import { createInstance, simdSupported, type WasmInstance } from '../../src/wasm/loader.js';

// The run's seed comes from the one seed helper; re-exported so these suites import a single module.
export { testSeed } from './seed.js';

/** splitmix32: small, fast, good enough to pick test inputs. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  u32(): number {
    let z = (this.s = (this.s + 0x9e3779b9) >>> 0);
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }
  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor((this.u32() / 2 ** 32) * n);
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

export const FLAVORS = simdSupported() ? (['plain', 'simd'] as const) : (['plain'] as const);

/** Fresh instances, one per flavor. */
export function instances(): { flavor: string; inst: WasmInstance }[] {
  return FLAVORS.map((flavor) => ({ flavor, inst: createInstance({ flavor }) }));
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export function fromHex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}

export function vectors<T>(file: string): T[] {
  const url = new URL(`../../../shared/spec/vectors/${file}`, import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { vectors: T[] }).vectors;
}

/** True when some `window`-byte run of `needle` occurs in `hay`. */
export function containsAnyWindow(hay: Uint8Array, needle: Uint8Array, window = 8): boolean {
  const hb = Buffer.from(hay.buffer, hay.byteOffset, hay.length);
  for (let i = 0; i + window <= needle.length; i++) {
    if (hb.indexOf(Buffer.from(needle.subarray(i, i + window))) >= 0) return true;
  }
  return false;
}
