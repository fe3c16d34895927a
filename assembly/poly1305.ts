// Poly1305 (RFC 7539 §2.5) and the ChaCha20-Poly1305 AEAD (RFC 7539 §2.8).
// Constant time: 5 limbs of 26 bits, 64-bit products, the final reduction by masks; no branch or index depends on a
// secret. The tag check ORs the XOR of all 16 bytes; only the verdict (public) selects what happens next.
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
import { MSG_BASE, MSG_SLOT_A_BASE, MSG_PARAM_BASE, MSG_STATUS_BASE, MSG_OUT_BASE, KEY_IN_BASE, IO_BASE, wipe } from "./layout";
import { chachaXor, chachaKeystream, chachaSlotPtr, chachaSpanOk } from "./chacha20";

const BUF: usize = memory.data(64, 64);

let r0: u32 = 0, r1: u32 = 0, r2: u32 = 0, r3: u32 = 0, r4: u32 = 0;
let h0: u32 = 0, h1: u32 = 0, h2: u32 = 0, h3: u32 = 0, h4: u32 = 0;
let p0: u32 = 0, p1: u32 = 0, p2: u32 = 0, p3: u32 = 0;

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
  if (len >= 16) blocks(ptr, len >> 4, 1 << 24);
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
  if (!chachaSpanOk(n, region, stride, offset, offset + len + POLY1305_TAG_SIZE)) return -1;
  if (!chachaSpanOk(n, region, stride, aadOffset, aadOffset + aadLen)) return -1;
  const base = region == 0 ? MSG_BASE : IO_BASE;
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
