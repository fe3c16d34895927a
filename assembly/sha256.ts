// SHA-256 (FIPS 180-4). Scalar: the 64 rounds are unrolled with the working variables renamed instead of moved, and
// the message schedule kept in 16 locals. (Hashing is not secret-dependent in its control flow: lengths are public.)
//
// AS-level API (stable; pointers are WASM addresses). The running state lives in module globals, so one hash is in
// progress at a time.
//   sha256Init(): void / sha256Update(ptr, len: i32): void / sha256Final(outPtr): void    streaming, 32-byte digest
//   sha256(srcPtr, len: i32, outPtr): void                                                 one-shot
//   sha256Two(aPtr, aLen: i32, bPtr, bLen: i32, outPtr): void                              SHA-256(a || b)
//       e.g. the tunnel endpoint checksum (tunnel-message.md §2.1): SHA-256(body[25+P..1028) || IV)[0..4) =
//       sha256Two(msg + 25 + P, 1003 - P, msg + IV_OFFSET, IV_SIZE, out), no copy of the IV needed.
//
// Kernels called from TypeScript (region 0 = MSG, 1 = IO; digests into MSG_OUT[32i..32i+32)):
//   sha256One(len): i32                         SHA-256(IO[0..len)) into MSG_OUT[0..32). 0 or -1.
//   sha256Batch(n, region, stride, offset, len): i32
//       digest i = SHA-256(region[i*stride + offset, +len)). Returns n, or -1 when the geometry does not fit.
//   sha256BatchSuffix(n, region, stride, end, suffixOffset, suffixLen): i32
//       digest i = SHA-256(m[end - MSG_LEN[i], end) || m[suffixOffset, +suffixLen)) with m = region + i*stride:
//       a variable-length tail followed by a fixed suffix of the same message. For the endpoint checksum:
//       end = 1028, MSG_LEN[i] = 1003 - P, suffix = (IV_OFFSET, IV_SIZE). MSG_STATUS[i] = STATUS_OK, or
//       STATUS_BAD_LENGTH when MSG_LEN[i] > end (no digest). Returns the OK count, or -1 (bad geometry).
//
// Private memory: BUF (64 B, the partial block).
import { IO_SIZE, STATUS_OK, STATUS_BAD_LENGTH } from "../src/constants";
import { MSG_LEN_BASE, MSG_OUT_BASE, MSG_STATUS_BASE, IO_BASE, regionBase, spanInRegion } from "./layout";

const BUF: usize = memory.data(64, 64);

let H0: u32 = 0, H1: u32 = 0, H2: u32 = 0, H3: u32 = 0, H4: u32 = 0, H5: u32 = 0, H6: u32 = 0, H7: u32 = 0;
let total: u64 = 0;
let buffered: i32 = 0;

// @ts-ignore: decorator
@inline function bsig0(x: u32): u32 { return rotr<u32>(x, 2) ^ rotr<u32>(x, 13) ^ rotr<u32>(x, 22); }
// @ts-ignore: decorator
@inline function bsig1(x: u32): u32 { return rotr<u32>(x, 6) ^ rotr<u32>(x, 11) ^ rotr<u32>(x, 25); }
// @ts-ignore: decorator
@inline function ssig0(x: u32): u32 { return rotr<u32>(x, 7) ^ rotr<u32>(x, 18) ^ (x >>> 3); }
// @ts-ignore: decorator
@inline function ssig1(x: u32): u32 { return rotr<u32>(x, 17) ^ rotr<u32>(x, 19) ^ (x >>> 10); }
// @ts-ignore: decorator
@inline function ch(x: u32, y: u32, z: u32): u32 { return z ^ (x & (y ^ z)); }
// Maj(a, b, c) = b ^ ((a ^ b) & (b ^ c)), and this round's b ^ c is the previous round's a ^ b: the rounds keep the
// last two a ^ b values (ab0 / ab1) instead of recomputing (measured ~3% faster).

/** nblocks 64-byte blocks at p into the running state. */
function compress(p: usize, nblocks: i32): void {
  let a = H0, b = H1, c = H2, d = H3, e = H4, f = H5, g = H6, h = H7;
  let ab0: u32 = 0, ab1: u32 = 0;
  let w0: u32, w1: u32, w2: u32, w3: u32, w4: u32, w5: u32, w6: u32, w7: u32;
  let w8: u32, w9: u32, w10: u32, w11: u32, w12: u32, w13: u32, w14: u32, w15: u32;
  for (let n = 0; n < nblocks; n++) {
    const sa = a, sb = b, sc = c, sd = d, se = e, sf = f, sg = g, sh = h;
      w0 = bswap<u32>(load<u32>(p, 0));
      ab1 = b ^ c; ab0 = a ^ b; h += bsig1(e) + ch(e, f, g) + 0x428a2f98 + w0; d += h; h += bsig0(a) + (b ^ (ab0 & ab1));
      w1 = bswap<u32>(load<u32>(p, 4));
      ab1 = h ^ a; g += bsig1(d) + ch(d, e, f) + 0x71374491 + w1; c += g; g += bsig0(h) + (a ^ (ab1 & ab0));
      w2 = bswap<u32>(load<u32>(p, 8));
      ab0 = g ^ h; f += bsig1(c) + ch(c, d, e) + 0xb5c0fbcf + w2; b += f; f += bsig0(g) + (h ^ (ab0 & ab1));
      w3 = bswap<u32>(load<u32>(p, 12));
      ab1 = f ^ g; e += bsig1(b) + ch(b, c, d) + 0xe9b5dba5 + w3; a += e; e += bsig0(f) + (g ^ (ab1 & ab0));
      w4 = bswap<u32>(load<u32>(p, 16));
      ab0 = e ^ f; d += bsig1(a) + ch(a, b, c) + 0x3956c25b + w4; h += d; d += bsig0(e) + (f ^ (ab0 & ab1));
      w5 = bswap<u32>(load<u32>(p, 20));
      ab1 = d ^ e; c += bsig1(h) + ch(h, a, b) + 0x59f111f1 + w5; g += c; c += bsig0(d) + (e ^ (ab1 & ab0));
      w6 = bswap<u32>(load<u32>(p, 24));
      ab0 = c ^ d; b += bsig1(g) + ch(g, h, a) + 0x923f82a4 + w6; f += b; b += bsig0(c) + (d ^ (ab0 & ab1));
      w7 = bswap<u32>(load<u32>(p, 28));
      ab1 = b ^ c; a += bsig1(f) + ch(f, g, h) + 0xab1c5ed5 + w7; e += a; a += bsig0(b) + (c ^ (ab1 & ab0));
      w8 = bswap<u32>(load<u32>(p, 32));
      ab0 = a ^ b; h += bsig1(e) + ch(e, f, g) + 0xd807aa98 + w8; d += h; h += bsig0(a) + (b ^ (ab0 & ab1));
      w9 = bswap<u32>(load<u32>(p, 36));
      ab1 = h ^ a; g += bsig1(d) + ch(d, e, f) + 0x12835b01 + w9; c += g; g += bsig0(h) + (a ^ (ab1 & ab0));
      w10 = bswap<u32>(load<u32>(p, 40));
      ab0 = g ^ h; f += bsig1(c) + ch(c, d, e) + 0x243185be + w10; b += f; f += bsig0(g) + (h ^ (ab0 & ab1));
      w11 = bswap<u32>(load<u32>(p, 44));
      ab1 = f ^ g; e += bsig1(b) + ch(b, c, d) + 0x550c7dc3 + w11; a += e; e += bsig0(f) + (g ^ (ab1 & ab0));
      w12 = bswap<u32>(load<u32>(p, 48));
      ab0 = e ^ f; d += bsig1(a) + ch(a, b, c) + 0x72be5d74 + w12; h += d; d += bsig0(e) + (f ^ (ab0 & ab1));
      w13 = bswap<u32>(load<u32>(p, 52));
      ab1 = d ^ e; c += bsig1(h) + ch(h, a, b) + 0x80deb1fe + w13; g += c; c += bsig0(d) + (e ^ (ab1 & ab0));
      w14 = bswap<u32>(load<u32>(p, 56));
      ab0 = c ^ d; b += bsig1(g) + ch(g, h, a) + 0x9bdc06a7 + w14; f += b; b += bsig0(c) + (d ^ (ab0 & ab1));
      w15 = bswap<u32>(load<u32>(p, 60));
      ab1 = b ^ c; a += bsig1(f) + ch(f, g, h) + 0xc19bf174 + w15; e += a; a += bsig0(b) + (c ^ (ab1 & ab0));
      w0 += ssig1(w14) + w9 + ssig0(w1);
      ab0 = a ^ b; h += bsig1(e) + ch(e, f, g) + 0xe49b69c1 + w0; d += h; h += bsig0(a) + (b ^ (ab0 & ab1));
      w1 += ssig1(w15) + w10 + ssig0(w2);
      ab1 = h ^ a; g += bsig1(d) + ch(d, e, f) + 0xefbe4786 + w1; c += g; g += bsig0(h) + (a ^ (ab1 & ab0));
      w2 += ssig1(w0) + w11 + ssig0(w3);
      ab0 = g ^ h; f += bsig1(c) + ch(c, d, e) + 0x0fc19dc6 + w2; b += f; f += bsig0(g) + (h ^ (ab0 & ab1));
      w3 += ssig1(w1) + w12 + ssig0(w4);
      ab1 = f ^ g; e += bsig1(b) + ch(b, c, d) + 0x240ca1cc + w3; a += e; e += bsig0(f) + (g ^ (ab1 & ab0));
      w4 += ssig1(w2) + w13 + ssig0(w5);
      ab0 = e ^ f; d += bsig1(a) + ch(a, b, c) + 0x2de92c6f + w4; h += d; d += bsig0(e) + (f ^ (ab0 & ab1));
      w5 += ssig1(w3) + w14 + ssig0(w6);
      ab1 = d ^ e; c += bsig1(h) + ch(h, a, b) + 0x4a7484aa + w5; g += c; c += bsig0(d) + (e ^ (ab1 & ab0));
      w6 += ssig1(w4) + w15 + ssig0(w7);
      ab0 = c ^ d; b += bsig1(g) + ch(g, h, a) + 0x5cb0a9dc + w6; f += b; b += bsig0(c) + (d ^ (ab0 & ab1));
      w7 += ssig1(w5) + w0 + ssig0(w8);
      ab1 = b ^ c; a += bsig1(f) + ch(f, g, h) + 0x76f988da + w7; e += a; a += bsig0(b) + (c ^ (ab1 & ab0));
      w8 += ssig1(w6) + w1 + ssig0(w9);
      ab0 = a ^ b; h += bsig1(e) + ch(e, f, g) + 0x983e5152 + w8; d += h; h += bsig0(a) + (b ^ (ab0 & ab1));
      w9 += ssig1(w7) + w2 + ssig0(w10);
      ab1 = h ^ a; g += bsig1(d) + ch(d, e, f) + 0xa831c66d + w9; c += g; g += bsig0(h) + (a ^ (ab1 & ab0));
      w10 += ssig1(w8) + w3 + ssig0(w11);
      ab0 = g ^ h; f += bsig1(c) + ch(c, d, e) + 0xb00327c8 + w10; b += f; f += bsig0(g) + (h ^ (ab0 & ab1));
      w11 += ssig1(w9) + w4 + ssig0(w12);
      ab1 = f ^ g; e += bsig1(b) + ch(b, c, d) + 0xbf597fc7 + w11; a += e; e += bsig0(f) + (g ^ (ab1 & ab0));
      w12 += ssig1(w10) + w5 + ssig0(w13);
      ab0 = e ^ f; d += bsig1(a) + ch(a, b, c) + 0xc6e00bf3 + w12; h += d; d += bsig0(e) + (f ^ (ab0 & ab1));
      w13 += ssig1(w11) + w6 + ssig0(w14);
      ab1 = d ^ e; c += bsig1(h) + ch(h, a, b) + 0xd5a79147 + w13; g += c; c += bsig0(d) + (e ^ (ab1 & ab0));
      w14 += ssig1(w12) + w7 + ssig0(w15);
      ab0 = c ^ d; b += bsig1(g) + ch(g, h, a) + 0x06ca6351 + w14; f += b; b += bsig0(c) + (d ^ (ab0 & ab1));
      w15 += ssig1(w13) + w8 + ssig0(w0);
      ab1 = b ^ c; a += bsig1(f) + ch(f, g, h) + 0x14292967 + w15; e += a; a += bsig0(b) + (c ^ (ab1 & ab0));
      w0 += ssig1(w14) + w9 + ssig0(w1);
      ab0 = a ^ b; h += bsig1(e) + ch(e, f, g) + 0x27b70a85 + w0; d += h; h += bsig0(a) + (b ^ (ab0 & ab1));
      w1 += ssig1(w15) + w10 + ssig0(w2);
      ab1 = h ^ a; g += bsig1(d) + ch(d, e, f) + 0x2e1b2138 + w1; c += g; g += bsig0(h) + (a ^ (ab1 & ab0));
      w2 += ssig1(w0) + w11 + ssig0(w3);
      ab0 = g ^ h; f += bsig1(c) + ch(c, d, e) + 0x4d2c6dfc + w2; b += f; f += bsig0(g) + (h ^ (ab0 & ab1));
      w3 += ssig1(w1) + w12 + ssig0(w4);
      ab1 = f ^ g; e += bsig1(b) + ch(b, c, d) + 0x53380d13 + w3; a += e; e += bsig0(f) + (g ^ (ab1 & ab0));
      w4 += ssig1(w2) + w13 + ssig0(w5);
      ab0 = e ^ f; d += bsig1(a) + ch(a, b, c) + 0x650a7354 + w4; h += d; d += bsig0(e) + (f ^ (ab0 & ab1));
      w5 += ssig1(w3) + w14 + ssig0(w6);
      ab1 = d ^ e; c += bsig1(h) + ch(h, a, b) + 0x766a0abb + w5; g += c; c += bsig0(d) + (e ^ (ab1 & ab0));
      w6 += ssig1(w4) + w15 + ssig0(w7);
      ab0 = c ^ d; b += bsig1(g) + ch(g, h, a) + 0x81c2c92e + w6; f += b; b += bsig0(c) + (d ^ (ab0 & ab1));
      w7 += ssig1(w5) + w0 + ssig0(w8);
      ab1 = b ^ c; a += bsig1(f) + ch(f, g, h) + 0x92722c85 + w7; e += a; a += bsig0(b) + (c ^ (ab1 & ab0));
      w8 += ssig1(w6) + w1 + ssig0(w9);
      ab0 = a ^ b; h += bsig1(e) + ch(e, f, g) + 0xa2bfe8a1 + w8; d += h; h += bsig0(a) + (b ^ (ab0 & ab1));
      w9 += ssig1(w7) + w2 + ssig0(w10);
      ab1 = h ^ a; g += bsig1(d) + ch(d, e, f) + 0xa81a664b + w9; c += g; g += bsig0(h) + (a ^ (ab1 & ab0));
      w10 += ssig1(w8) + w3 + ssig0(w11);
      ab0 = g ^ h; f += bsig1(c) + ch(c, d, e) + 0xc24b8b70 + w10; b += f; f += bsig0(g) + (h ^ (ab0 & ab1));
      w11 += ssig1(w9) + w4 + ssig0(w12);
      ab1 = f ^ g; e += bsig1(b) + ch(b, c, d) + 0xc76c51a3 + w11; a += e; e += bsig0(f) + (g ^ (ab1 & ab0));
      w12 += ssig1(w10) + w5 + ssig0(w13);
      ab0 = e ^ f; d += bsig1(a) + ch(a, b, c) + 0xd192e819 + w12; h += d; d += bsig0(e) + (f ^ (ab0 & ab1));
      w13 += ssig1(w11) + w6 + ssig0(w14);
      ab1 = d ^ e; c += bsig1(h) + ch(h, a, b) + 0xd6990624 + w13; g += c; c += bsig0(d) + (e ^ (ab1 & ab0));
      w14 += ssig1(w12) + w7 + ssig0(w15);
      ab0 = c ^ d; b += bsig1(g) + ch(g, h, a) + 0xf40e3585 + w14; f += b; b += bsig0(c) + (d ^ (ab0 & ab1));
      w15 += ssig1(w13) + w8 + ssig0(w0);
      ab1 = b ^ c; a += bsig1(f) + ch(f, g, h) + 0x106aa070 + w15; e += a; a += bsig0(b) + (c ^ (ab1 & ab0));
      w0 += ssig1(w14) + w9 + ssig0(w1);
      ab0 = a ^ b; h += bsig1(e) + ch(e, f, g) + 0x19a4c116 + w0; d += h; h += bsig0(a) + (b ^ (ab0 & ab1));
      w1 += ssig1(w15) + w10 + ssig0(w2);
      ab1 = h ^ a; g += bsig1(d) + ch(d, e, f) + 0x1e376c08 + w1; c += g; g += bsig0(h) + (a ^ (ab1 & ab0));
      w2 += ssig1(w0) + w11 + ssig0(w3);
      ab0 = g ^ h; f += bsig1(c) + ch(c, d, e) + 0x2748774c + w2; b += f; f += bsig0(g) + (h ^ (ab0 & ab1));
      w3 += ssig1(w1) + w12 + ssig0(w4);
      ab1 = f ^ g; e += bsig1(b) + ch(b, c, d) + 0x34b0bcb5 + w3; a += e; e += bsig0(f) + (g ^ (ab1 & ab0));
      w4 += ssig1(w2) + w13 + ssig0(w5);
      ab0 = e ^ f; d += bsig1(a) + ch(a, b, c) + 0x391c0cb3 + w4; h += d; d += bsig0(e) + (f ^ (ab0 & ab1));
      w5 += ssig1(w3) + w14 + ssig0(w6);
      ab1 = d ^ e; c += bsig1(h) + ch(h, a, b) + 0x4ed8aa4a + w5; g += c; c += bsig0(d) + (e ^ (ab1 & ab0));
      w6 += ssig1(w4) + w15 + ssig0(w7);
      ab0 = c ^ d; b += bsig1(g) + ch(g, h, a) + 0x5b9cca4f + w6; f += b; b += bsig0(c) + (d ^ (ab0 & ab1));
      w7 += ssig1(w5) + w0 + ssig0(w8);
      ab1 = b ^ c; a += bsig1(f) + ch(f, g, h) + 0x682e6ff3 + w7; e += a; a += bsig0(b) + (c ^ (ab1 & ab0));
      w8 += ssig1(w6) + w1 + ssig0(w9);
      ab0 = a ^ b; h += bsig1(e) + ch(e, f, g) + 0x748f82ee + w8; d += h; h += bsig0(a) + (b ^ (ab0 & ab1));
      w9 += ssig1(w7) + w2 + ssig0(w10);
      ab1 = h ^ a; g += bsig1(d) + ch(d, e, f) + 0x78a5636f + w9; c += g; g += bsig0(h) + (a ^ (ab1 & ab0));
      w10 += ssig1(w8) + w3 + ssig0(w11);
      ab0 = g ^ h; f += bsig1(c) + ch(c, d, e) + 0x84c87814 + w10; b += f; f += bsig0(g) + (h ^ (ab0 & ab1));
      w11 += ssig1(w9) + w4 + ssig0(w12);
      ab1 = f ^ g; e += bsig1(b) + ch(b, c, d) + 0x8cc70208 + w11; a += e; e += bsig0(f) + (g ^ (ab1 & ab0));
      w12 += ssig1(w10) + w5 + ssig0(w13);
      ab0 = e ^ f; d += bsig1(a) + ch(a, b, c) + 0x90befffa + w12; h += d; d += bsig0(e) + (f ^ (ab0 & ab1));
      w13 += ssig1(w11) + w6 + ssig0(w14);
      ab1 = d ^ e; c += bsig1(h) + ch(h, a, b) + 0xa4506ceb + w13; g += c; c += bsig0(d) + (e ^ (ab1 & ab0));
      w14 += ssig1(w12) + w7 + ssig0(w15);
      ab0 = c ^ d; b += bsig1(g) + ch(g, h, a) + 0xbef9a3f7 + w14; f += b; b += bsig0(c) + (d ^ (ab0 & ab1));
      w15 += ssig1(w13) + w8 + ssig0(w0);
      ab1 = b ^ c; a += bsig1(f) + ch(f, g, h) + 0xc67178f2 + w15; e += a; a += bsig0(b) + (c ^ (ab1 & ab0));
    a += sa; b += sb; c += sc; d += sd; e += se; f += sf; g += sg; h += sh;
    p += 64;
  }
  H0 = a; H1 = b; H2 = c; H3 = d; H4 = e; H5 = f; H6 = g; H7 = h;
}

export function sha256Init(): void {
  // FIPS 180-4 §5.3.3
  H0 = 0x6a09e667; H1 = 0xbb67ae85; H2 = 0x3c6ef372; H3 = 0xa54ff53a;
  H4 = 0x510e527f; H5 = 0x9b05688c; H6 = 0x1f83d9ab; H7 = 0x5be0cd19;
  total = 0;
  buffered = 0;
}

export function sha256Update(ptr: usize, len: i32): void {
  if (len <= 0) return;
  total += <u64>len;
  if (buffered > 0) {
    const take = min(64 - buffered, len);
    memory.copy(BUF + <usize>buffered, ptr, <usize>take);
    buffered += take; ptr += <usize>take; len -= take;
    if (buffered < 64) return;
    compress(BUF, 1);
    buffered = 0;
  }
  const nb = len >> 6;
  if (nb > 0) {
    compress(ptr, nb);
    ptr += <usize>(nb << 6);
    len -= nb << 6;
  }
  if (len > 0) {
    memory.copy(BUF, ptr, <usize>len);
    buffered = len;
  }
}

export function sha256Final(outPtr: usize): void {
  // FIPS 180-4 §5.1.1: 0x80, zeros, 64-bit big-endian bit length
  store<u8>(BUF + <usize>buffered, 0x80);
  buffered++;
  if (buffered > 56) {
    memory.fill(BUF + <usize>buffered, 0, <usize>(64 - buffered));
    compress(BUF, 1);
    buffered = 0;
  }
  memory.fill(BUF + <usize>buffered, 0, <usize>(56 - buffered));
  store<u64>(BUF, bswap<u64>(total << 3), 56);
  compress(BUF, 1);
  store<u32>(outPtr, bswap<u32>(H0), 0); store<u32>(outPtr, bswap<u32>(H1), 4);
  store<u32>(outPtr, bswap<u32>(H2), 8); store<u32>(outPtr, bswap<u32>(H3), 12);
  store<u32>(outPtr, bswap<u32>(H4), 16); store<u32>(outPtr, bswap<u32>(H5), 20);
  store<u32>(outPtr, bswap<u32>(H6), 24); store<u32>(outPtr, bswap<u32>(H7), 28);
  buffered = 0;
}

export function sha256(srcPtr: usize, len: i32, outPtr: usize): void {
  sha256Init();
  sha256Update(srcPtr, len);
  sha256Final(outPtr);
}

export function sha256Two(aPtr: usize, aLen: i32, bPtr: usize, bLen: i32, outPtr: usize): void {
  sha256Init();
  sha256Update(aPtr, aLen);
  sha256Update(bPtr, bLen);
  sha256Final(outPtr);
}

// --- kernels called from TypeScript ---

export function sha256One(len: i32): i32 {
  if (len < 0 || len > IO_SIZE) return -1;
  sha256(IO_BASE, len, MSG_OUT_BASE);
  return 0;
}

export function sha256Batch(n: i32, region: i32, stride: i32, offset: i32, len: i32): i32 {
  if (len < 0 || !spanInRegion(n, region, stride, offset, offset + len)) return -1;
  const base = regionBase(region) + <usize>offset;
  for (let i = 0; i < n; i++) {
    sha256(base + <usize>i * <usize>stride, len, MSG_OUT_BASE + (<usize>i << 5));
  }
  return n;
}

export function sha256BatchSuffix(n: i32, region: i32, stride: i32, end: i32, suffixOffset: i32, suffixLen: i32): i32 {
  if (end < 0 || suffixLen < 0 || !spanInRegion(n, region, stride, 0, end)) return -1;
  if (!spanInRegion(n, region, stride, suffixOffset, suffixOffset + suffixLen)) return -1;
  const base = regionBase(region);
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const len = load<u32>(MSG_LEN_BASE + (<usize>i << 2));
    if (len > <u32>end) {
      store<u8>(MSG_STATUS_BASE + <usize>i, STATUS_BAD_LENGTH);
      continue;
    }
    const m = base + <usize>i * <usize>stride;
    sha256Two(m + <usize>(end - <i32>len), <i32>len, m + <usize>suffixOffset, suffixLen, MSG_OUT_BASE + (<usize>i << 5));
    store<u8>(MSG_STATUS_BASE + <usize>i, STATUS_OK);
    ok++;
  }
  return ok;
}
