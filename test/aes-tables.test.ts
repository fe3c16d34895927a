// Re-derives the constants of the SIMD few-lane AES path (assembly/aes.ts, "few lanes") from their definition and
// checks them against the source, and checks the nibble S-box they implement on all 256 inputs. The derivation:
// GF(16) = GF(2)[x]/(x^4 + x + 1); GF(256) as GF(16)[Y]/(Y^2 + Y + lambda) with the first lambda that makes it
// irreducible; an isomorphism from the AES field that sends 0x02 to a root t of the AES polynomial; input tables
// give p = i and q = k/lambda for x = iY + k (and the same for x * Y^-1); output tables solve, bit by bit, the linear
// system "O1[io1] ^ O2[io2] = S(x) ^ 0x63 for every x" (an index >= 16 reads 0, as i8x16.swizzle does). The source
// packs p and q of the first pair into one table byte (PQL, PQH: p low nibble, q high nibble).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SBOX } from './reference/aes-reference.js';

const m16 = (a: number, b: number): number => {
  let p = 0;
  for (let t = 0; t < 4; t++) {
    if (b & 1) p ^= a;
    a <<= 1;
    if (a & 16) a ^= 0x13;
    b >>= 1;
  }
  return p;
};
const i16 = (a: number): number => {
  for (let b = 1; b < 16; b++) if (m16(a, b) === 1) return b;
  return 0;
};

let LAM = 0;
for (let l = 1; l < 16 && !LAM; l++) {
  let root = false;
  for (let y = 0; y < 16; y++) if ((m16(y, y) ^ y ^ l) === 0) root = true;
  if (!root) LAM = l;
}
type T = [number, number]; // [i, k] = iY + k
const tmul = ([a, b]: T, [c, d]: T): T => {
  const ac = m16(a, c);
  return [ac ^ m16(a, d) ^ m16(b, c), m16(ac, LAM) ^ m16(b, d)];
};
const tadd = ([a, b]: T, [c, d]: T): T => [a ^ c, b ^ d];
const tpow = (t: T, n: number): T => {
  let r: T = [0, 1];
  for (let i = 0; i < n; i++) r = tmul(r, t);
  return r;
};
const tinv = (x: T): T => {
  for (let a = 0; a < 16; a++)
    for (let b = 0; b < 16; b++) {
      const r = tmul(x, [a, b]);
      if (r[0] === 0 && r[1] === 1) return [a, b];
    }
  return [0, 0];
};
let root: T | null = null;
for (let a = 0; a < 16 && !root; a++) {
  for (let b = 0; b < 16 && !root; b++) {
    let s: T = [0, 1];
    for (const n of [8, 4, 3, 1]) s = tadd(s, tpow([a, b], n));
    if (s[0] === 0 && s[1] === 0) root = [a, b];
  }
}
const phi = (x: number): T => {
  let r: T = [0, 0];
  for (let n = 0; n < 8; n++) if ((x >> n) & 1) r = tadd(r, tpow(root!, n));
  return r;
};
const YINV = tinv([1, 0]);
const BETA_INV = i16(LAM); // q = k / lambda
const stored = (x: number, second: boolean): T => {
  let v = phi(x);
  if (second) v = tmul(v, YINV);
  return [v[0], m16(v[1], BETA_INV)];
};
const INV = Array.from({ length: 16 }, (_, z) => (z ? i16(z) : 0x80));
const INVA = Array.from({ length: 16 }, (_, z) => (z ? m16(i16(LAM), i16(z)) : 0x80));
const swz = (t: number[], i: number): number => (i < 16 ? t[i]! : 0);
const tab = (second: boolean, which: 0 | 1, high: boolean): number[] =>
  Array.from({ length: 16 }, (_, n) => stored(high ? n << 4 : n, second)[which]);
const P1L = tab(false, 0, false),
  P1H = tab(false, 0, true),
  Q1L = tab(false, 1, false),
  Q1H = tab(false, 1, true);
const Q2L = tab(true, 1, false),
  Q2H = tab(true, 1, true);
const core = (p: number, q: number): number => (swz(INV, (swz(INV, p) ^ swz(INVA, q)) & 0xff) ^ p ^ q) & 0xff;
const ios = Array.from({ length: 256 }, (_, x) => {
  const lo = x & 15,
    hi = x >> 4;
  const p1 = P1L[lo]! ^ P1H[hi]!,
    q1 = Q1L[lo]! ^ Q1H[hi]!,
    q2 = Q2L[lo]! ^ Q2H[hi]!;
  return [core(p1, q1), core(q1, q2)] as const;
});

/** Solves O1[io1] ^ O2[io2] = SBOX[x] ^ 0x63 over GF(2), one output bit at a time (32 unknowns per bit). */
function solveOutputs(): [number[], number[]] {
  const O1 = new Array<number>(16).fill(0),
    O2 = new Array<number>(16).fill(0);
  for (let bit = 0; bit < 8; bit++) {
    const piv: [number, number, number][] = [];
    for (let x = 0; x < 256; x++) {
      const [a, b] = ios[x]!;
      let m = (a < 16 ? 1 << a : 0) | (b < 16 ? 1 << (16 + b) : 0);
      let r = ((SBOX[x]! ^ 0x63) >> bit) & 1;
      for (const p of piv)
        if (m & p[2]) {
          m ^= p[0];
          r ^= p[1];
        }
      if (m === 0) {
        expect(r).toBe(0);
        continue;
      }
      const lb = m & -m;
      for (const p of piv)
        if (p[0] & lb) {
          p[0] ^= m;
          p[1] ^= r;
        }
      piv.push([m, r, lb]);
    }
    for (const [, r, lb] of piv) {
      const u = 31 - Math.clz32(lb);
      if (u < 16) O1[u]! |= r << bit;
      else O2[u - 16]! |= r << bit;
    }
  }
  return [O1, O2];
}

/** The constants as written in assembly/aes.ts: `const NAME = i64x2(0xLO, 0xHI);` -> 16 bytes. */
function sourceTables(): Map<string, number[]> {
  const src = readFileSync(new URL('../assembly/aes.ts', import.meta.url), 'utf8');
  const out = new Map<string, number[]>();
  for (const m of src.matchAll(/const (\w+) = i64x2\(0x([0-9a-f]{16}), 0x([0-9a-f]{16})\);/g)) {
    const bytes: number[] = [];
    for (const h of [m[2]!, m[3]!]) for (let i = 7; i >= 0; i--) bytes.push(parseInt(h.slice(2 * i, 2 * i + 2), 16));
    out.set(m[1]!, bytes);
  }
  return out;
}

describe('AES few-lane (nibble) tables', () => {
  it('derive to exactly the constants in assembly/aes.ts and give the S-box on all 256 inputs', () => {
    expect(LAM).toBe(8);
    const [O1, O2] = solveOutputs();
    for (let x = 0; x < 256; x++) expect(swz(O1, ios[x]![0]) ^ swz(O2, ios[x]![1])).toBe(SBOX[x]! ^ 0x63);
    // the second input pair shares its p with the first pair's q (the source reuses q1)
    for (let x = 0; x < 256; x++) expect(stored(x, true)[0]).toBe(stored(x, false)[1]);
    const packed = (p: number[], q: number[]): number[] => p.map((v, i) => v | (q[i]! << 4));
    const expected: Record<string, number[]> = {
      PQL: packed(P1L, Q1L),
      PQH: packed(P1H, Q1H),
      Q2L,
      Q2H,
      INV,
      INVA,
      O1,
      O2,
    };
    const src = sourceTables();
    for (const [name, bytes] of Object.entries(expected)) expect(src.get(name), name).toEqual(bytes);
  });
});
