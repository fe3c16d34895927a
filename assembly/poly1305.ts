// Poly1305 (RFC 7539 §2.5) and the ChaCha20-Poly1305 AEAD (RFC 7539 §2.8).
// Constant time: 5 limbs of 26 bits, 64-bit products, the final reduction by masks; no branch or index depends on a
// secret. The tag check ORs the XOR of all 16 bytes; only the verdict (public) selects what happens next.
// SIMD builds hash runs of 8+ blocks two lanes at a time (blocksSimd); shorter runs and odd blocks stay scalar.
//
// AS-level API (stable; all pointers are WASM addresses). The MAC state lives in module globals (WASM globals, not
// linear memory), so one MAC is in progress at a time; poly1305Finish zeroes it.
//   poly1305Init(keyPtr): void                one-time key (32 B: r || s); r is clamped here
//   poly1305Blocks(ptr, len: i32): void       floor(len/16) full 16-byte blocks
//   poly1305Padded(ptr, len: i32): void       all len bytes, a final partial block zero-padded to 16 (AEAD pad16)
//   poly1305Finish(tagPtr): void              16-byte tag; wipes the state
//   poly1305(keyPtr, msgPtr, len: i32, tagPtr): void              one-shot MAC (RFC 7539 §2.5.1)
//   aeadSeal(keyPtr, noncePtr, aadPtr, aadLen, srcPtr, dstPtr, len, tagPtr): void
//   aeadOpen(keyPtr, noncePtr, aadPtr, aadLen, srcPtr, dstPtr, len, tagPtr): bool
//       RFC 7539 §2.8: one-time key = ChaCha20 block 0, data with counter 1, MAC over
//       aad | pad16 | ciphertext | pad16 | le64(aadLen) | le64(len). src == dst allowed. aeadOpen recomputes the tag,
//       compares it in constant time and decrypts only when it matches (false: dst untouched).
//   ctEqual(aPtr, bPtr, len: i32): bool       constant-time comparison
//
// Kernels called from TypeScript (layout.ts regions; region 0 = MSG, 1 = IO):
//   aeadSealBatch(n, region, stride, offset, len, aadOffset, aadLen): i32
//       message i: AAD = region[i*stride + aadOffset, +aadLen), data [i*stride + offset, +len) encrypted in place and
//       its tag written right after it ([offset+len, +16)); key slot MSG_SLOT_A[i], nonce MSG_PARAM[16i..16i+12).
//       MSG_STATUS[i] = STATUS_OK (or STATUS_BAD_LENGTH for a slot out of range). Returns the OK count, -1 when the
//       geometry does not fit (nothing touched).
//   aeadOpenBatch(n, region, stride, offset, len, aadOffset, aadLen): i32
//       the inverse: verifies the tag at [offset+len, +16) and decrypts in place only when it matches;
//       MSG_STATUS[i] = STATUS_OK or STATUS_BAD_MAC (message untouched). Returns the OK count or -1.
//   aeadSealOne(aadLen, len): i32 / aeadOpenOne(aadLen, len): i32
//       IO = aad | data | tag(16), key KEY_IN[0..32) (wiped afterwards), nonce MSG_PARAM[0..12).
//       Seal: 0. Open: 0 when the tag matches (data decrypted), 1 when not (data untouched). -1: bad lengths.
//   poly1305One(len): i32      tag of IO[0..len) with the one-time key KEY_IN[0..32) (wiped) into MSG_OUT[0..16).
//
// Private memory: BUF (64 B: one-time key, padded block, lengths block, computed tag), wiped after each use.
import {
  CHACHA_KEY_SLOTS, IO_SIZE, POLY1305_TAG_SIZE, STATUS_OK, STATUS_BAD_LENGTH, STATUS_BAD_MAC,
} from "../src/constants";
import {
  MSG_SLOT_A_BASE, MSG_PARAM_BASE, MSG_STATUS_BASE, MSG_OUT_BASE, KEY_IN_BASE, IO_BASE, regionBase, spanInRegion, wipe,
} from "./layout";
import { chachaXor, chachaKeystream, chachaSlotPtr } from "./chacha20";

const BUF: usize = memory.data(64, 64);

let r0: u32 = 0, r1: u32 = 0, r2: u32 = 0, r3: u32 = 0, r4: u32 = 0;
let h0: u32 = 0, h1: u32 = 0, h2: u32 = 0, h3: u32 = 0, h4: u32 = 0;
let p0: u32 = 0, p1: u32 = 0, p2: u32 = 0, p3: u32 = 0;
// r^2 mod p in limbs, for the 2-lane SIMD path (computed on first use after poly1305Init)
let q0: u32 = 0, q1: u32 = 0, q2: u32 = 0, q3: u32 = 0, q4: u32 = 0;
let haveR2: bool = false;

/** Below this many blocks the 2-lane SIMD path does not pay for its setup. */
const SIMD_MIN_BLOCKS: i32 = 8;

const M26: u32 = 0x3ffffff;

export function poly1305Init(keyPtr: usize): void {
  const t0 = load<u32>(keyPtr, 0), t1 = load<u32>(keyPtr, 4), t2 = load<u32>(keyPtr, 8), t3 = load<u32>(keyPtr, 12);
  // r clamped (RFC 7539 §2.5: r &= 0x0ffffffc0ffffffc0ffffffc0fffffff) and split into 26-bit limbs
  r0 = t0 & 0x3ffffff;
  r1 = ((t0 >>> 26) | (t1 << 6)) & 0x3ffff03;
  r2 = ((t1 >>> 20) | (t2 << 12)) & 0x3ffc0ff;
  r3 = ((t2 >>> 14) | (t3 << 18)) & 0x3f03fff;
  r4 = (t3 >>> 8) & 0x00fffff;
  h0 = 0; h1 = 0; h2 = 0; h3 = 0; h4 = 0;
  haveR2 = false;
  p0 = load<u32>(keyPtr, 16); p1 = load<u32>(keyPtr, 20); p2 = load<u32>(keyPtr, 24); p3 = load<u32>(keyPtr, 28);
}

/** nblocks 16-byte blocks at ptr; hibit = 1 << 24 for full blocks (2^128), 0 for the padded final block of §2.5. */
function blocks(ptr: usize, nblocks: i32, hibit: u32): void {
  const R0 = <u64>r0, R1 = <u64>r1, R2 = <u64>r2, R3 = <u64>r3, R4 = <u64>r4;
  const S1 = R1 * 5, S2 = R2 * 5, S3 = R3 * 5, S4 = R4 * 5;
  let a0 = h0, a1 = h1, a2 = h2, a3 = h3, a4 = h4;
  for (let i = 0; i < nblocks; i++) {
    const t0 = load<u32>(ptr, 0), t1 = load<u32>(ptr, 4), t2 = load<u32>(ptr, 8), t3 = load<u32>(ptr, 12);
    a0 += t0 & M26;
    a1 += ((t0 >>> 26) | (t1 << 6)) & M26;
    a2 += ((t1 >>> 20) | (t2 << 12)) & M26;
    a3 += ((t2 >>> 14) | (t3 << 18)) & M26;
    a4 += (t3 >>> 8) | hibit;
    const b0 = <u64>a0, b1 = <u64>a1, b2 = <u64>a2, b3 = <u64>a3, b4 = <u64>a4;
    let d0 = b0 * R0 + b1 * S4 + b2 * S3 + b3 * S2 + b4 * S1;
    let d1 = b0 * R1 + b1 * R0 + b2 * S4 + b3 * S3 + b4 * S2;
    let d2 = b0 * R2 + b1 * R1 + b2 * R0 + b3 * S4 + b4 * S3;
    let d3 = b0 * R3 + b1 * R2 + b2 * R1 + b3 * R0 + b4 * S4;
    let d4 = b0 * R4 + b1 * R3 + b2 * R2 + b3 * R1 + b4 * R0;
    d1 += d0 >>> 26; a0 = <u32>d0 & M26;
    d2 += d1 >>> 26; a1 = <u32>d1 & M26;
    d3 += d2 >>> 26; a2 = <u32>d2 & M26;
    d4 += d3 >>> 26; a3 = <u32>d3 & M26;
    const c = <u32>(d4 >>> 26); a4 = <u32>d4 & M26;
    a0 += c * 5;
    a1 += a0 >>> 26; a0 &= M26;
    ptr += 16;
  }
  h0 = a0; h1 = a1; h2 = a2; h3 = a3; h4 = a4;
}

export function poly1305Blocks(ptr: usize, len: i32): void {
  let n = len >> 4;
  if (ASC_FEATURE_SIMD) {
    if (n >= SIMD_MIN_BLOCKS) {
      const pairs = n >> 1;
      blocksSimd(ptr, pairs);
      ptr += <usize>(pairs << 5);
      n &= 1;
    }
  }
  if (n > 0) blocks(ptr, n, 1 << 24);
}

/** q = r^2 mod p (limbs carried so that each is below 2^26 + 2^6). */
function computeR2(): void {
  const R0 = <u64>r0, R1 = <u64>r1, R2 = <u64>r2, R3 = <u64>r3, R4 = <u64>r4;
  const S1 = R1 * 5, S2 = R2 * 5, S3 = R3 * 5, S4 = R4 * 5;
  let d0 = R0 * R0 + R1 * S4 + R2 * S3 + R3 * S2 + R4 * S1;
  let d1 = R0 * R1 + R1 * R0 + R2 * S4 + R3 * S3 + R4 * S2;
  let d2 = R0 * R2 + R1 * R1 + R2 * R0 + R3 * S4 + R4 * S3;
  let d3 = R0 * R3 + R1 * R2 + R2 * R1 + R3 * R0 + R4 * S4;
  let d4 = R0 * R4 + R1 * R3 + R2 * R2 + R3 * R1 + R4 * R0;
  d1 += d0 >>> 26; let a0 = <u32>d0 & M26;
  d2 += d1 >>> 26; const a1 = <u32>d1 & M26;
  d3 += d2 >>> 26; q2 = <u32>d2 & M26;
  d4 += d3 >>> 26; q3 = <u32>d3 & M26;
  a0 += <u32>(d4 >>> 26) * 5; q4 = <u32>d4 & M26;
  q1 = a1 + (a0 >>> 26); q0 = a0 & M26;
  haveR2 = true;
}

// 2-lane Poly1305 (SIMD builds): lane A takes the odd-numbered blocks, lane B the even ones, each multiplied by r^2
// per step; the last step multiplies lane A by r^2 and lane B by r, so A + B is the sequential result
// (h + m1) r^2k + m2 r^(2k-1) + ... + m2k r. Products are 32x32->64 (i64x2.extmul_low_i32x4_u) on limbs < 2^28.
// @ts-ignore: decorator
@inline function lo2(a: u32, b: u32): v128 {
  return i32x4(a, b, 0, 0);
}

function blocksSimd(ptr: usize, pairs: i32): void {
  if (!haveR2) computeR2();
  const MASK = i32x4.splat(M26);
  const MASK64 = i64x2.splat(<i64>M26);
  const HIBIT = i32x4.splat(1 << 24);
  // multiplier for all but the last step: [r^2, r^2]; last step: [r^2, r]
  let R0 = lo2(q0, q0), R1 = lo2(q1, q1), R2 = lo2(q2, q2), R3 = lo2(q3, q3), R4 = lo2(q4, q4);
  let H0 = lo2(h0, 0), H1 = lo2(h1, 0), H2 = lo2(h2, 0), H3 = lo2(h3, 0), H4 = lo2(h4, 0);
  for (let p = 0; p < pairs; p++) {
    if (p == pairs - 1) {
      R0 = lo2(q0, r0); R1 = lo2(q1, r1); R2 = lo2(q2, r2); R3 = lo2(q3, r3); R4 = lo2(q4, r4);
    }
    const S1 = i32x4.mul(R1, i32x4.splat(5)), S2 = i32x4.mul(R2, i32x4.splat(5));
    const S3 = i32x4.mul(R3, i32x4.splat(5)), S4 = i32x4.mul(R4, i32x4.splat(5));
    const A = v128.load(ptr), B = v128.load(ptr, 16);
    const t01 = i32x4.shuffle(A, B, 0, 4, 1, 5); // [A0 B0 A1 B1]
    const t23 = i32x4.shuffle(A, B, 2, 6, 3, 7); // [A2 B2 A3 B3]
    const T1 = i32x4.shuffle(t01, t01, 2, 3, 2, 3);
    const T3 = i32x4.shuffle(t23, t23, 2, 3, 2, 3);
    H0 = i32x4.add(H0, v128.and(t01, MASK));
    H1 = i32x4.add(H1, v128.and(v128.or(i32x4.shr_u(t01, 26), i32x4.shl(T1, 6)), MASK));
    H2 = i32x4.add(H2, v128.and(v128.or(i32x4.shr_u(T1, 20), i32x4.shl(t23, 12)), MASK));
    H3 = i32x4.add(H3, v128.and(v128.or(i32x4.shr_u(t23, 14), i32x4.shl(T3, 18)), MASK));
    H4 = i32x4.add(H4, v128.or(i32x4.shr_u(T3, 8), HIBIT));
    let d0 = i64x2.add(i64x2.add(i64x2.add(i64x2.add(
      i64x2.extmul_low_i32x4_u(H0, R0), i64x2.extmul_low_i32x4_u(H1, S4)), i64x2.extmul_low_i32x4_u(H2, S3)),
      i64x2.extmul_low_i32x4_u(H3, S2)), i64x2.extmul_low_i32x4_u(H4, S1));
    let d1 = i64x2.add(i64x2.add(i64x2.add(i64x2.add(
      i64x2.extmul_low_i32x4_u(H0, R1), i64x2.extmul_low_i32x4_u(H1, R0)), i64x2.extmul_low_i32x4_u(H2, S4)),
      i64x2.extmul_low_i32x4_u(H3, S3)), i64x2.extmul_low_i32x4_u(H4, S2));
    let d2 = i64x2.add(i64x2.add(i64x2.add(i64x2.add(
      i64x2.extmul_low_i32x4_u(H0, R2), i64x2.extmul_low_i32x4_u(H1, R1)), i64x2.extmul_low_i32x4_u(H2, R0)),
      i64x2.extmul_low_i32x4_u(H3, S4)), i64x2.extmul_low_i32x4_u(H4, S3));
    let d3 = i64x2.add(i64x2.add(i64x2.add(i64x2.add(
      i64x2.extmul_low_i32x4_u(H0, R3), i64x2.extmul_low_i32x4_u(H1, R2)), i64x2.extmul_low_i32x4_u(H2, R1)),
      i64x2.extmul_low_i32x4_u(H3, R0)), i64x2.extmul_low_i32x4_u(H4, S4));
    let d4 = i64x2.add(i64x2.add(i64x2.add(i64x2.add(
      i64x2.extmul_low_i32x4_u(H0, R4), i64x2.extmul_low_i32x4_u(H1, R3)), i64x2.extmul_low_i32x4_u(H2, R2)),
      i64x2.extmul_low_i32x4_u(H3, R1)), i64x2.extmul_low_i32x4_u(H4, R0));
    d1 = i64x2.add(d1, i64x2.shr_u(d0, 26)); d0 = v128.and(d0, MASK64);
    d2 = i64x2.add(d2, i64x2.shr_u(d1, 26)); d1 = v128.and(d1, MASK64);
    d3 = i64x2.add(d3, i64x2.shr_u(d2, 26)); d2 = v128.and(d2, MASK64);
    d4 = i64x2.add(d4, i64x2.shr_u(d3, 26)); d3 = v128.and(d3, MASK64);
    const c = i64x2.shr_u(d4, 26); d4 = v128.and(d4, MASK64);
    d0 = i64x2.add(d0, i64x2.add(c, i64x2.shl(c, 2)));
    d1 = i64x2.add(d1, i64x2.shr_u(d0, 26)); d0 = v128.and(d0, MASK64);
    // back to 32-bit lanes 0 (A) and 1 (B)
    H0 = i32x4.shuffle(d0, d0, 0, 2, 0, 2);
    H1 = i32x4.shuffle(d1, d1, 0, 2, 0, 2);
    H2 = i32x4.shuffle(d2, d2, 0, 2, 0, 2);
    H3 = i32x4.shuffle(d3, d3, 0, 2, 0, 2);
    H4 = i32x4.shuffle(d4, d4, 0, 2, 0, 2);
    ptr += 32;
  }
  // A + B, then carry so every limb is back below 2^26 (+ a small excess in limb 1, as after a scalar block)
  let a0 = i32x4.extract_lane(H0, 0) + i32x4.extract_lane(H0, 1);
  let a1 = i32x4.extract_lane(H1, 0) + i32x4.extract_lane(H1, 1);
  let a2 = i32x4.extract_lane(H2, 0) + i32x4.extract_lane(H2, 1);
  let a3 = i32x4.extract_lane(H3, 0) + i32x4.extract_lane(H3, 1);
  let a4 = i32x4.extract_lane(H4, 0) + i32x4.extract_lane(H4, 1);
  a1 += <u32>a0 >>> 26; a0 &= M26;
  a2 += <u32>a1 >>> 26; a1 &= M26;
  a3 += <u32>a2 >>> 26; a2 &= M26;
  a4 += <u32>a3 >>> 26; a3 &= M26;
  a0 += (<u32>a4 >>> 26) * 5; a4 &= M26;
  a1 += <u32>a0 >>> 26; a0 &= M26;
  h0 = a0; h1 = a1; h2 = a2; h3 = a3; h4 = a4;
}

export function poly1305Padded(ptr: usize, len: i32): void {
  if (len <= 0) return;
  poly1305Blocks(ptr, len);
  const rest = len & 15;
  if (rest != 0) {
    memory.fill(BUF, 0, 16);
    memory.copy(BUF, ptr + <usize>(len - rest), <usize>rest);
    blocks(BUF, 1, 1 << 24);
    wipe(BUF, 16);
  }
}

export function poly1305Finish(tagPtr: usize): void {
  let a0 = h0, a1 = h1, a2 = h2, a3 = h3, a4 = h4;
  // full carry
  a2 += a1 >>> 26; a1 &= M26;
  a3 += a2 >>> 26; a2 &= M26;
  a4 += a3 >>> 26; a3 &= M26;
  a0 += (a4 >>> 26) * 5; a4 &= M26;
  a1 += a0 >>> 26; a0 &= M26;
  // g = h + 5 - 2^130; keep g when it does not borrow (h >= p)
  let g0 = a0 + 5; let c = g0 >>> 26; g0 &= M26;
  let g1 = a1 + c; c = g1 >>> 26; g1 &= M26;
  let g2 = a2 + c; c = g2 >>> 26; g2 &= M26;
  let g3 = a3 + c; c = g3 >>> 26; g3 &= M26;
  const g4 = a4 + c - (1 << 26);
  const useG = (g4 >>> 31) - 1; // all ones when g4 did not go negative
  const keepH = ~useG;
  a0 = (a0 & keepH) | (g0 & useG);
  a1 = (a1 & keepH) | (g1 & useG);
  a2 = (a2 & keepH) | (g2 & useG);
  a3 = (a3 & keepH) | (g3 & useG);
  a4 = (a4 & keepH) | (g4 & useG);
  // h mod 2^128, + s
  const w0 = a0 | (a1 << 26);
  const w1 = (a1 >>> 6) | (a2 << 20);
  const w2 = (a2 >>> 12) | (a3 << 14);
  const w3 = (a3 >>> 18) | (a4 << 8);
  let f: u64 = <u64>w0 + p0; store<u32>(tagPtr, <u32>f, 0);
  f = <u64>w1 + p1 + (f >>> 32); store<u32>(tagPtr, <u32>f, 4);
  f = <u64>w2 + p2 + (f >>> 32); store<u32>(tagPtr, <u32>f, 8);
  f = <u64>w3 + p3 + (f >>> 32); store<u32>(tagPtr, <u32>f, 12);
  r0 = 0; r1 = 0; r2 = 0; r3 = 0; r4 = 0;
  h0 = 0; h1 = 0; h2 = 0; h3 = 0; h4 = 0;
  p0 = 0; p1 = 0; p2 = 0; p3 = 0;
  q0 = 0; q1 = 0; q2 = 0; q3 = 0; q4 = 0;
  haveR2 = false;
}

export function poly1305(keyPtr: usize, msgPtr: usize, len: i32, tagPtr: usize): void {
  poly1305Init(keyPtr);
  poly1305Blocks(msgPtr, len);
  const rest = len & 15;
  if (rest != 0) {
    // final partial block: the bytes, then 0x01, then zeros; no 2^128 bit (RFC 7539 §2.5.1)
    memory.fill(BUF, 0, 16);
    memory.copy(BUF, msgPtr + <usize>(len - rest), <usize>rest);
    store<u8>(BUF + <usize>rest, 1);
    blocks(BUF, 1, 0);
    wipe(BUF, 16);
  }
  poly1305Finish(tagPtr);
}

export function ctEqual(aPtr: usize, bPtr: usize, len: i32): bool {
  let d: u32 = 0;
  for (let i = 0; i < len; i++) d |= load<u8>(aPtr + <usize>i) ^ load<u8>(bPtr + <usize>i);
  return d == 0;
}

/** Tag of aad | pad16 | ct | pad16 | le64(aadLen) | le64(len) with the one-time key of (key, nonce). */
function aeadTag(keyPtr: usize, noncePtr: usize, aadPtr: usize, aadLen: i32, ctPtr: usize, len: i32, tagPtr: usize): void {
  chachaKeystream(keyPtr, noncePtr, 0, BUF, 32);
  poly1305Init(BUF);
  wipe(BUF, 32);
  poly1305Padded(aadPtr, aadLen);
  poly1305Padded(ctPtr, len);
  store<u64>(BUF, <u64>aadLen, 0);
  store<u64>(BUF, <u64>len, 8);
  blocks(BUF, 1, 1 << 24);
  wipe(BUF, 16);
  poly1305Finish(tagPtr);
}

export function aeadSeal(
  keyPtr: usize, noncePtr: usize, aadPtr: usize, aadLen: i32, srcPtr: usize, dstPtr: usize, len: i32, tagPtr: usize,
): void {
  chachaXor(keyPtr, noncePtr, 1, srcPtr, dstPtr, len);
  aeadTag(keyPtr, noncePtr, aadPtr, aadLen, dstPtr, len, tagPtr);
}

export function aeadOpen(
  keyPtr: usize, noncePtr: usize, aadPtr: usize, aadLen: i32, srcPtr: usize, dstPtr: usize, len: i32, tagPtr: usize,
): bool {
  const mine = BUF + 32;
  aeadTag(keyPtr, noncePtr, aadPtr, aadLen, srcPtr, len, mine);
  const ok = ctEqual(mine, tagPtr, POLY1305_TAG_SIZE);
  wipe(mine, 16);
  if (ok) chachaXor(keyPtr, noncePtr, 1, srcPtr, dstPtr, len);
  return ok;
}

// --- kernels called from TypeScript ---

function aeadBatch(seal: bool, n: i32, region: i32, stride: i32, offset: i32, len: i32, aadOffset: i32, aadLen: i32): i32 {
  if (len < 0 || aadLen < 0 || aadOffset < 0 || offset < 0) return -1;
  if (!spanInRegion(n, region, stride, offset, offset + len + POLY1305_TAG_SIZE)) return -1;
  if (!spanInRegion(n, region, stride, aadOffset, aadOffset + aadLen)) return -1;
  const base = regionBase(region);
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const slot = load<u32>(MSG_SLOT_A_BASE + (<usize>i << 2));
    const status = MSG_STATUS_BASE + <usize>i;
    if (slot >= <u32>CHACHA_KEY_SLOTS) {
      store<u8>(status, STATUS_BAD_LENGTH);
      continue;
    }
    const m = base + <usize>i * <usize>stride;
    const key = chachaSlotPtr(slot);
    const nonce = MSG_PARAM_BASE + (<usize>i << 4);
    const data = m + <usize>offset;
    if (seal) {
      aeadSeal(key, nonce, m + <usize>aadOffset, aadLen, data, data, len, data + <usize>len);
    } else if (!aeadOpen(key, nonce, m + <usize>aadOffset, aadLen, data, data, len, data + <usize>len)) {
      store<u8>(status, STATUS_BAD_MAC);
      continue;
    }
    store<u8>(status, STATUS_OK);
    ok++;
  }
  return ok;
}

export function aeadSealBatch(n: i32, region: i32, stride: i32, offset: i32, len: i32, aadOffset: i32, aadLen: i32): i32 {
  return aeadBatch(true, n, region, stride, offset, len, aadOffset, aadLen);
}

export function aeadOpenBatch(n: i32, region: i32, stride: i32, offset: i32, len: i32, aadOffset: i32, aadLen: i32): i32 {
  return aeadBatch(false, n, region, stride, offset, len, aadOffset, aadLen);
}

function oneOk(aadLen: i32, len: i32): bool {
  return aadLen >= 0 && len >= 0 && <i64>aadLen + len + POLY1305_TAG_SIZE <= <i64>IO_SIZE;
}

export function aeadSealOne(aadLen: i32, len: i32): i32 {
  if (!oneOk(aadLen, len)) {
    wipe(KEY_IN_BASE, 32);
    return -1;
  }
  const data = IO_BASE + <usize>aadLen;
  aeadSeal(KEY_IN_BASE, MSG_PARAM_BASE, IO_BASE, aadLen, data, data, len, data + <usize>len);
  wipe(KEY_IN_BASE, 32);
  return 0;
}

export function aeadOpenOne(aadLen: i32, len: i32): i32 {
  if (!oneOk(aadLen, len)) {
    wipe(KEY_IN_BASE, 32);
    return -1;
  }
  const data = IO_BASE + <usize>aadLen;
  const ok = aeadOpen(KEY_IN_BASE, MSG_PARAM_BASE, IO_BASE, aadLen, data, data, len, data + <usize>len);
  wipe(KEY_IN_BASE, 32);
  return ok ? 0 : 1;
}

export function poly1305One(len: i32): i32 {
  if (len < 0 || len > IO_SIZE) {
    wipe(KEY_IN_BASE, 32);
    return -1;
  }
  poly1305(KEY_IN_BASE, IO_BASE, len, MSG_OUT_BASE);
  wipe(KEY_IN_BASE, 32);
  return 0;
}
