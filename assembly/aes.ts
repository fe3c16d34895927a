// Constant-time AES-256 (FIPS-197) for the tunnel data plane: key schedule into key slots, ECB and CBC (no padding)
// over batches of independent messages, each with its own key slot and IV.
//
// Constant time: no table lookup and no branch depends on a key or data byte. The state is bitsliced (bit b of
// every byte of several blocks in one word, "plane" b) and SubBytes is Boyar and Peralta's depth-16 boolean circuit
// (34 AND, 94 XOR; its 4 NOTs folded away, below); ShiftRows and MixColumns are fixed shifts, rotations and byte
// shuffles of the planes.
//   plain flavor: u64 planes, 4 blocks at once; plane bit (16*row + 4*column + block).
//   SIMD flavor:  v128 planes, 8 blocks at once; plane byte (4*column + row) = the state byte index, bit = block.
// SIMD, few lanes (CBC or ECB encryption of up to NIB_MAX messages / blocks): one block per v128, nibble-sliced
// S-box with in-register 16-entry tables (i8x16.swizzle), two lanes interleaved; see "few lanes" below.
// Each lane of a group may use a different key slot: the round keys of the lanes' slots are bitsliced per group
// (and reused while the group's slots do not change), so CBC encryption, serial inside a message, runs LANES
// messages side by side; CBC decryption and ECB also spread the blocks of one message over the lanes.
// The S-box output is computed without its four NOTs (constant 0x63); they are folded into round keys 1..14, which
// works for decryption too because InvSubBytes(x) = L(S'(L(x ^ 0x63))) with L the linear part of the inverse affine
// map (every round key but round key 0 meets exactly one such 0x63).
//
// Slot format (private, AES_SLOT_SIZE bytes each in the AES_SLOTS region): the 15 round keys, 240 bytes, FIPS-197
// byte order; the rest zero. The bitsliced round keys of the current group, the staged blocks and copies of round
// keys live in AES_WORK (below, private to this file) and are zeroed before every exported function returns.
//
// AS-level API (stable names; other kernels, e.g. assembly/layer.ts, import and compose these):
//   aesExpandKey(keyPtr: usize, slot: u32): void        32-byte key at keyPtr -> round keys in slot (key not wiped)
//   aesClearSlot(slot: u32): void                       zero a slot's key material
//   aesSlotPtr(slot: u32): usize                        address of a slot (tests / memory scans)
//   ecbEncryptBlocks(count: i32, srcPtr: usize, srcStride: i32, dstPtr: usize, dstStride: i32,
//                    slotPtr: usize, slotStride: i32): void
//   ecbDecryptBlocks(same)                              block i: src + i*srcStride -> dst + i*dstStride (in place ok),
//                                                       key slot = u32 at slotPtr + i*slotStride (0: one slot for all)
//   cbcEncryptLanes(count: i32, dataPtr: usize, stride: i32, offset: i32, len: i32,
//                   ivPtr: usize, ivStride: i32, slotPtr: usize, slotStride: i32): void
//   cbcDecryptLanes(same)                               message i: dataPtr + i*stride + offset, len bytes (a multiple
//                                                       of 16), in place; IV at ivPtr + i*ivStride (read only; it may
//                                                       lie in the message outside [offset, offset+len)); key slot
//                                                       = u32 at slotPtr + i*slotStride
// The pointer functions do not validate: callers pass counts >= 0, lengths that are multiples of 16 and slots <
// AES_KEY_SLOTS (a slot index is masked to the slot table, so a bad one never leaves the AES_SLOTS region).
//
// Region kernels (for the TypeScript side; they validate and return 0, or -1 for bad sizes, -2 for a bad slot,
// processing nothing then; on success MSG_STATUS[i] = STATUS_OK):
//   aesSetKeys(count)                    KEY_IN[32i..] -> slot MSG_SLOT_A[i]; KEY_IN zeroed (also on error)
//   aesClearSlots(count)                 slots MSG_SLOT_A[i]
//   aesEcbIo(count, decrypt)             block i at IO + 16i, slot MSG_SLOT_A[i] (count <= MAX_BATCH)
//   aesEcbIoOneSlot(count, slot, decrypt)  block i at IO + 16i, all with one slot (count <= IO_SIZE / 16)
//   aesCbcIo(count, len, decrypt)        message i at IO + i*len, IV MSG_PARAM[16i..], slot MSG_SLOT_A[i]
//   aesCbcMsg(count, offset, len, decrypt)  message i at MSG + i*TUNNEL_DATA_SIZE + offset, IV/slot as above
import {
  AES_KEY_SLOTS, AES_SLOT_SIZE, AES_BLOCK_SIZE, IO_SIZE, MAX_BATCH, TUNNEL_DATA_SIZE, STATUS_OK,
} from "../src/constants";
import {
  AES_SLOTS_BASE, IO_BASE, KEY_IN_BASE, MSG_BASE, MSG_PARAM_BASE, MSG_SLOT_A_BASE, MSG_STATUS_BASE, wipe,
} from "./layout";

/** Blocks per group: 8 with SIMD (v128 planes), 4 without (u64 planes). */
// @ts-ignore: decorator
@inline const LANES: i32 = ASC_FEATURE_SIMD ? 8 : 4;
/** Bytes per bit plane. */
// @ts-ignore: decorator
@inline const PLANE: i32 = ASC_FEATURE_SIMD ? 16 : 8;
/** Bytes of one bitsliced round key (8 planes). */
// @ts-ignore: decorator
@inline const RK_STEP: i32 = 8 * PLANE;

// Private work area; zeroed (and the slot cache invalidated) before every exported function returns.
const AES_WORK_SIZE: i32 = 3776;
const AES_WORK: usize = memory.data(AES_WORK_SIZE, 64);
const RK: usize = AES_WORK;            // 15 bitsliced round keys (<= 1920 bytes)
const BUF: usize = AES_WORK + 2048;    // LANES blocks: the group's input/output, CBC chaining values
const PLN: usize = AES_WORK + 2176;    // 8 planes of the group
const STAGE: usize = AES_WORK + 2304;  // LANES round keys being bitsliced
const PREV: usize = AES_WORK + 2432;   // CBC decryption: the ciphertext block before each lane's block
const LSLOT: usize = AES_WORK + 2560;  // u32 slot per lane of the current group
const CACHE: usize = AES_WORK + 2592;  // u32 slot per lane whose round keys are in RK (0xFFFFFFFF: none)
const OUTP: usize = AES_WORK + 2624;   // CBC decryption: output address per lane
const NRK: usize = AES_WORK + 2688;    // SIMD few-lane path: 2 lanes x 256 bytes of round keys (1..14 XOR 0x63)
const ONESLOT: usize = AES_WORK + 3712; // u32: the slot of aesEcbIoOneSlot, as a one-entry slot array

// @ts-ignore: decorator
@inline function slotAt(slot: u32): usize {
  return AES_SLOTS_BASE + <usize>(slot & <u32>(AES_KEY_SLOTS - 1)) * <usize>AES_SLOT_SIZE;
}

// @ts-ignore: decorator
@inline function copy16(dst: usize, src: usize): void {
  if (ASC_FEATURE_SIMD) {
    v128.store(dst, v128.load(src));
  } else {
    store<u64>(dst, load<u64>(src), 0);
    store<u64>(dst, load<u64>(src, 8), 8);
  }
}

// @ts-ignore: decorator
@inline function xor16(dst: usize, src: usize): void {
  if (ASC_FEATURE_SIMD) {
    v128.store(dst, v128.xor(v128.load(dst), v128.load(src)));
  } else {
    store<u64>(dst, load<u64>(dst) ^ load<u64>(src), 0);
    store<u64>(dst, load<u64>(dst, 8) ^ load<u64>(src, 8), 8);
  }
}

function invalidateCache(): void {
  memory.fill(CACHE, 0xFF, 32);
}

/** End of every exported call: no key material or data stays in the work area. */
function finish(): void {
  wipe(AES_WORK, AES_WORK_SIZE);
  invalidateCache();
}

/** finish() for a call that used only the few-lane path, which touches nothing but NRK and BUF. */
function finishNib(): void {
  wipe(NRK, 512);
  wipe(BUF, 32);
}

// ---------------------------------------------------------------------------------------------------------------
// Key schedule (FIPS-197 §5.2), constant time: SubWord runs the same S-box circuit on the word's 4 bytes.

function subWord(x: u32): u32 {
  // plane b holds bit b of the 4 bytes at bit positions 0, 8, 16, 24
  let q0: u64 = <u64>(x & 0x01010101);
  let q1: u64 = <u64>((x >> 1) & 0x01010101);
  let q2: u64 = <u64>((x >> 2) & 0x01010101);
  let q3: u64 = <u64>((x >> 3) & 0x01010101);
  let q4: u64 = <u64>((x >> 4) & 0x01010101);
  let q5: u64 = <u64>((x >> 5) & 0x01010101);
  let q6: u64 = <u64>((x >> 6) & 0x01010101);
  let q7: u64 = <u64>((x >> 7) & 0x01010101);
    const T1: u64 = q7 ^ q4; const T2: u64 = q7 ^ q2; const T3: u64 = q7 ^ q1; const T4: u64 = q4 ^ q2;
    const T5: u64 = q3 ^ q1; const T6: u64 = T1 ^ T5; const T7: u64 = q6 ^ q5; const T8: u64 = q0 ^ T6;
    const T9: u64 = q0 ^ T7; const T10: u64 = T6 ^ T7; const T11: u64 = q6 ^ q2; const T12: u64 = q5 ^ q2;
    const T13: u64 = T3 ^ T4; const T14: u64 = T6 ^ T11; const T15: u64 = T5 ^ T11; const T16: u64 = T5 ^ T12;
    const T17: u64 = T9 ^ T16; const T18: u64 = q4 ^ q0; const T19: u64 = T7 ^ T18; const T20: u64 = T1 ^ T19;
    const T21: u64 = q1 ^ q0; const T22: u64 = T7 ^ T21; const T23: u64 = T2 ^ T22; const T24: u64 = T2 ^ T10;
    const T25: u64 = T20 ^ T17; const T26: u64 = T3 ^ T16; const T27: u64 = T1 ^ T12; const M1: u64 = T13 & T6;
    const M2: u64 = T23 & T8; const M3: u64 = T14 ^ M1; const M4: u64 = T19 & q0; const M5: u64 = M4 ^ M1;
    const M6: u64 = T3 & T16; const M7: u64 = T22 & T9; const M8: u64 = T26 ^ M6; const M9: u64 = T20 & T17;
    const M10: u64 = M9 ^ M6; const M11: u64 = T1 & T15; const M12: u64 = T4 & T27; const M13: u64 = M12 ^ M11;
    const M14: u64 = T2 & T10; const M15: u64 = M14 ^ M11; const M16: u64 = M3 ^ M2; const M17: u64 = M5 ^ T24;
    const M18: u64 = M8 ^ M7; const M19: u64 = M10 ^ M15; const M20: u64 = M16 ^ M13; const M21: u64 = M17 ^ M15;
    const M22: u64 = M18 ^ M13; const M23: u64 = M19 ^ T25; const M24: u64 = M22 ^ M23;
    const M25: u64 = M22 & M20; const M26: u64 = M21 ^ M25; const M27: u64 = M20 ^ M21;
    const M28: u64 = M23 ^ M25; const M29: u64 = M28 & M27; const M30: u64 = M26 & M24;
    const M31: u64 = M20 & M23; const M32: u64 = M27 & M31; const M33: u64 = M27 ^ M25;
    const M34: u64 = M21 & M22; const M35: u64 = M24 & M34; const M36: u64 = M24 ^ M25;
    const M37: u64 = M21 ^ M29; const M38: u64 = M32 ^ M33; const M39: u64 = M23 ^ M30;
    const M40: u64 = M35 ^ M36; const M41: u64 = M38 ^ M40; const M42: u64 = M37 ^ M39;
    const M43: u64 = M37 ^ M38; const M44: u64 = M39 ^ M40; const M45: u64 = M42 ^ M41; const M46: u64 = M44 & T6;
    const M47: u64 = M40 & T8; const M48: u64 = M39 & q0; const M49: u64 = M43 & T16; const M50: u64 = M38 & T9;
    const M51: u64 = M37 & T17; const M52: u64 = M42 & T15; const M53: u64 = M45 & T27;
    const M54: u64 = M41 & T10; const M55: u64 = M44 & T13; const M56: u64 = M40 & T23;
    const M57: u64 = M39 & T19; const M58: u64 = M43 & T3; const M59: u64 = M38 & T22; const M60: u64 = M37 & T20;
    const M61: u64 = M42 & T1; const M62: u64 = M45 & T4; const M63: u64 = M41 & T2; const L0: u64 = M61 ^ M62;
    const L1: u64 = M50 ^ M56; const L2: u64 = M46 ^ M48; const L3: u64 = M47 ^ M55; const L4: u64 = M54 ^ M58;
    const L5: u64 = M49 ^ M61; const L6: u64 = M62 ^ L5; const L7: u64 = M46 ^ L3; const L8: u64 = M51 ^ M59;
    const L9: u64 = M52 ^ M53; const L10: u64 = M53 ^ L4; const L11: u64 = M60 ^ L2; const L12: u64 = M48 ^ M51;
    const L13: u64 = M50 ^ L0; const L14: u64 = M52 ^ M61; const L15: u64 = M55 ^ L1; const L16: u64 = M56 ^ L0;
    const L17: u64 = M57 ^ L1; const L18: u64 = M58 ^ L8; const L19: u64 = M63 ^ L4; const L20: u64 = L0 ^ L1;
    const L21: u64 = L1 ^ L7; const L22: u64 = L3 ^ L12; const L23: u64 = L18 ^ L2; const L24: u64 = L15 ^ L9;
    const L25: u64 = L6 ^ L10; const L26: u64 = L7 ^ L9; const L27: u64 = L8 ^ L10; const L28: u64 = L11 ^ L14;
    const L29: u64 = L11 ^ L17;
    q7 = L6 ^ L24;
    q6 = L16 ^ L26; // complemented: folded into the round keys
    q5 = L19 ^ L28; // complemented: folded into the round keys
    q4 = L6 ^ L21;
    q3 = L20 ^ L22;
    q2 = L25 ^ L29;
    q1 = L13 ^ L27; // complemented: folded into the round keys
    q0 = L6 ^ L23; // complemented: folded into the round keys
  const y: u32 = <u32>(q0 | (q1 << 1) | (q2 << 2) | (q3 << 3) | (q4 << 4) | (q5 << 5) | (q6 << 6) | (q7 << 7));
  return (y & 0xFFFFFFFF) ^ 0x63636363; // the circuit's four NOTs (0x63), applied here
}

/** Expands the 32-byte key at keyPtr into slot (15 round keys, 240 bytes). Does not touch keyPtr. */
export function aesExpandKey(keyPtr: usize, slot: u32): void {
  const s = slotAt(slot);
  memory.fill(s + 240, 0, <usize>(AES_SLOT_SIZE - 240));
  for (let i = 0; i < 8; i++) store<u32>(s + (<usize>i << 2), load<u32>(keyPtr + (<usize>i << 2)));
  let rcon: u32 = 1;
  // words are little-endian u32: byte 0 of a word is its low byte, so RotWord is a right rotation by 8
  for (let i = 8; i < 60; i++) {
    let t = load<u32>(s + (<usize>(i - 1) << 2));
    if ((i & 7) == 0) {
      t = subWord(rotr<u32>(t, 8)) ^ rcon;
      rcon <<= 1;
    } else if ((i & 7) == 4) {
      t = subWord(t);
    }
    store<u32>(s + (<usize>i << 2), load<u32>(s + (<usize>(i - 8) << 2)) ^ t);
  }
  invalidateCache();
}

/** Zeroes a slot's key material. */
export function aesClearSlot(slot: u32): void {
  wipe(slotAt(slot), AES_SLOT_SIZE);
  invalidateCache();
}

/** Address of a slot in WASM memory. */
export function aesSlotPtr(slot: u32): usize {
  return slotAt(slot);
}

// ---------------------------------------------------------------------------------------------------------------
// Plain flavor: 4 blocks in 8 u64 planes, plane bit 16*row + 4*column + block.

// @ts-ignore: decorator
@inline function spread(x: u32): u64 { // byte m -> byte 2m
  let y = <u64>x;
  y = (y | (y << 16)) & 0x0000FFFF0000FFFF;
  return (y | (y << 8)) & 0x00FF00FF00FF00FF;
}

// @ts-ignore: decorator
@inline function unspread(y: u64): u32 { // byte 2m -> byte m
  y &= 0x00FF00FF00FF00FF;
  y = (y | (y >> 8)) & 0x0000FFFF0000FFFF;
  return <u32>(y | (y >> 16));
}

/**
 * 4 blocks at src (64 bytes) -> 8 planes at dst. Word x_i (i = 4*(column & 1) + block) gets the block's bytes in
 * the order row 0 of columns c, c+2, row 1 of both, ...; an 8x8 bit transpose of x_0..x_7 then puts bit b of
 * byte p of x_i at bit 8p + i of plane b, which is 16*row + 4*column + block.
 */
function slice64(src: usize, dst: usize): void {
  let x0 = spread(load<u32>(src, 0)) | (spread(load<u32>(src, 8)) << 8);
  let x4 = spread(load<u32>(src, 4)) | (spread(load<u32>(src, 12)) << 8);
  let x1 = spread(load<u32>(src, 16)) | (spread(load<u32>(src, 24)) << 8);
  let x5 = spread(load<u32>(src, 20)) | (spread(load<u32>(src, 28)) << 8);
  let x2 = spread(load<u32>(src, 32)) | (spread(load<u32>(src, 40)) << 8);
  let x6 = spread(load<u32>(src, 36)) | (spread(load<u32>(src, 44)) << 8);
  let x3 = spread(load<u32>(src, 48)) | (spread(load<u32>(src, 56)) << 8);
  let x7 = spread(load<u32>(src, 52)) | (spread(load<u32>(src, 60)) << 8);
  let t: u64;
  t = ((x0 >> 1) ^ x1) & 0x5555555555555555; x1 ^= t; x0 ^= t << 1;
  t = ((x2 >> 1) ^ x3) & 0x5555555555555555; x3 ^= t; x2 ^= t << 1;
  t = ((x4 >> 1) ^ x5) & 0x5555555555555555; x5 ^= t; x4 ^= t << 1;
  t = ((x6 >> 1) ^ x7) & 0x5555555555555555; x7 ^= t; x6 ^= t << 1;
  t = ((x0 >> 2) ^ x2) & 0x3333333333333333; x2 ^= t; x0 ^= t << 2;
  t = ((x1 >> 2) ^ x3) & 0x3333333333333333; x3 ^= t; x1 ^= t << 2;
  t = ((x4 >> 2) ^ x6) & 0x3333333333333333; x6 ^= t; x4 ^= t << 2;
  t = ((x5 >> 2) ^ x7) & 0x3333333333333333; x7 ^= t; x5 ^= t << 2;
  t = ((x0 >> 4) ^ x4) & 0x0F0F0F0F0F0F0F0F; x4 ^= t; x0 ^= t << 4;
  t = ((x1 >> 4) ^ x5) & 0x0F0F0F0F0F0F0F0F; x5 ^= t; x1 ^= t << 4;
  t = ((x2 >> 4) ^ x6) & 0x0F0F0F0F0F0F0F0F; x6 ^= t; x2 ^= t << 4;
  t = ((x3 >> 4) ^ x7) & 0x0F0F0F0F0F0F0F0F; x7 ^= t; x3 ^= t << 4;
  store<u64>(dst, x0, 0); store<u64>(dst, x1, 8); store<u64>(dst, x2, 16); store<u64>(dst, x3, 24);
  store<u64>(dst, x4, 32); store<u64>(dst, x5, 40); store<u64>(dst, x6, 48); store<u64>(dst, x7, 56);
}

/** Inverse of slice64: 8 planes at src -> 4 blocks at dst (the transpose is its own inverse). */
function unslice64(src: usize, dst: usize): void {
  let x0 = load<u64>(src, 0), x1 = load<u64>(src, 8), x2 = load<u64>(src, 16), x3 = load<u64>(src, 24);
  let x4 = load<u64>(src, 32), x5 = load<u64>(src, 40), x6 = load<u64>(src, 48), x7 = load<u64>(src, 56);
  let t: u64;
  t = ((x0 >> 1) ^ x1) & 0x5555555555555555; x1 ^= t; x0 ^= t << 1;
  t = ((x2 >> 1) ^ x3) & 0x5555555555555555; x3 ^= t; x2 ^= t << 1;
  t = ((x4 >> 1) ^ x5) & 0x5555555555555555; x5 ^= t; x4 ^= t << 1;
  t = ((x6 >> 1) ^ x7) & 0x5555555555555555; x7 ^= t; x6 ^= t << 1;
  t = ((x0 >> 2) ^ x2) & 0x3333333333333333; x2 ^= t; x0 ^= t << 2;
  t = ((x1 >> 2) ^ x3) & 0x3333333333333333; x3 ^= t; x1 ^= t << 2;
  t = ((x4 >> 2) ^ x6) & 0x3333333333333333; x6 ^= t; x4 ^= t << 2;
  t = ((x5 >> 2) ^ x7) & 0x3333333333333333; x7 ^= t; x5 ^= t << 2;
  t = ((x0 >> 4) ^ x4) & 0x0F0F0F0F0F0F0F0F; x4 ^= t; x0 ^= t << 4;
  t = ((x1 >> 4) ^ x5) & 0x0F0F0F0F0F0F0F0F; x5 ^= t; x1 ^= t << 4;
  t = ((x2 >> 4) ^ x6) & 0x0F0F0F0F0F0F0F0F; x6 ^= t; x2 ^= t << 4;
  t = ((x3 >> 4) ^ x7) & 0x0F0F0F0F0F0F0F0F; x7 ^= t; x3 ^= t << 4;
  store<u32>(dst, unspread(x0), 0); store<u32>(dst, unspread(x0 >> 8), 8);
  store<u32>(dst, unspread(x4), 4); store<u32>(dst, unspread(x4 >> 8), 12);
  store<u32>(dst, unspread(x1), 16); store<u32>(dst, unspread(x1 >> 8), 24);
  store<u32>(dst, unspread(x5), 20); store<u32>(dst, unspread(x5 >> 8), 28);
  store<u32>(dst, unspread(x2), 32); store<u32>(dst, unspread(x2 >> 8), 40);
  store<u32>(dst, unspread(x6), 36); store<u32>(dst, unspread(x6 >> 8), 44);
  store<u32>(dst, unspread(x3), 48); store<u32>(dst, unspread(x3 >> 8), 56);
  store<u32>(dst, unspread(x7), 52); store<u32>(dst, unspread(x7 >> 8), 60);
}

/** ShiftRows: row r (16 bits) rotates right by 4r bits (column c takes column c+r). */
// @ts-ignore: decorator
@inline function sr64(x: u64): u64 {
  return (x & 0x000000000000FFFF)
    | ((x >> 4) & 0x000000000FFF0000) | ((x << 12) & 0x00000000F0000000)
    | ((x >> 8) & 0x000000FF00000000) | ((x << 8) & 0x0000FF0000000000)
    | ((x >> 12) & 0x000F000000000000) | ((x << 4) & 0xFFF0000000000000);
}

/** InvShiftRows: row r rotates left by 4r bits. */
// @ts-ignore: decorator
@inline function isr64(x: u64): u64 {
  return (x & 0x000000000000FFFF)
    | ((x << 4) & 0x00000000FFF00000) | ((x >> 12) & 0x00000000000F0000)
    | ((x >> 8) & 0x000000FF00000000) | ((x << 8) & 0x0000FF0000000000)
    | ((x << 12) & 0xF000000000000000) | ((x >> 4) & 0x0FFF000000000000);
}

/** Encrypts (or decrypts) the 4 blocks in BUF in place with the bitsliced round keys in RK. */
function crypt64(decrypt: bool): void {
  slice64(BUF, PLN);
  let rk: usize = decrypt ? RK + 14 * 64 : RK;
  const step: isize = decrypt ? -64 : 64;
  let q0 = load<u64>(PLN, 0) ^ load<u64>(rk, 0), q1 = load<u64>(PLN, 8) ^ load<u64>(rk, 8);
  let q2 = load<u64>(PLN, 16) ^ load<u64>(rk, 16), q3 = load<u64>(PLN, 24) ^ load<u64>(rk, 24);
  let q4 = load<u64>(PLN, 32) ^ load<u64>(rk, 32), q5 = load<u64>(PLN, 40) ^ load<u64>(rk, 40);
  let q6 = load<u64>(PLN, 48) ^ load<u64>(rk, 48), q7 = load<u64>(PLN, 56) ^ load<u64>(rk, 56);
  for (let round = 1; round <= 14; round++) {
    rk += step;
    if (decrypt) { // L: the linear part of the inverse affine map, out_i = q_{i+7} ^ q_{i+5} ^ q_{i+2}
      const a0 = q0, a1 = q1, a2 = q2, a3 = q3, a4 = q4, a5 = q5, a6 = q6, a7 = q7;
      q0 = a7 ^ a5 ^ a2; q1 = a0 ^ a6 ^ a3; q2 = a1 ^ a7 ^ a4; q3 = a2 ^ a0 ^ a5;
      q4 = a3 ^ a1 ^ a6; q5 = a4 ^ a2 ^ a7; q6 = a5 ^ a3 ^ a0; q7 = a6 ^ a4 ^ a1;
    }
    { // SubBytes without its NOTs (Boyar–Peralta); U0 (the most significant bit) is q7
      const T1: u64 = q7 ^ q4; const T2: u64 = q7 ^ q2; const T3: u64 = q7 ^ q1; const T4: u64 = q4 ^ q2;
      const T5: u64 = q3 ^ q1; const T6: u64 = T1 ^ T5; const T7: u64 = q6 ^ q5; const T8: u64 = q0 ^ T6;
      const T9: u64 = q0 ^ T7; const T10: u64 = T6 ^ T7; const T11: u64 = q6 ^ q2; const T12: u64 = q5 ^ q2;
      const T13: u64 = T3 ^ T4; const T14: u64 = T6 ^ T11; const T15: u64 = T5 ^ T11; const T16: u64 = T5 ^ T12;
      const T17: u64 = T9 ^ T16; const T18: u64 = q4 ^ q0; const T19: u64 = T7 ^ T18; const T20: u64 = T1 ^ T19;
      const T21: u64 = q1 ^ q0; const T22: u64 = T7 ^ T21; const T23: u64 = T2 ^ T22; const T24: u64 = T2 ^ T10;
      const T25: u64 = T20 ^ T17; const T26: u64 = T3 ^ T16; const T27: u64 = T1 ^ T12; const M1: u64 = T13 & T6;
      const M2: u64 = T23 & T8; const M3: u64 = T14 ^ M1; const M4: u64 = T19 & q0; const M5: u64 = M4 ^ M1;
      const M6: u64 = T3 & T16; const M7: u64 = T22 & T9; const M8: u64 = T26 ^ M6; const M9: u64 = T20 & T17;
      const M10: u64 = M9 ^ M6; const M11: u64 = T1 & T15; const M12: u64 = T4 & T27; const M13: u64 = M12 ^ M11;
      const M14: u64 = T2 & T10; const M15: u64 = M14 ^ M11; const M16: u64 = M3 ^ M2; const M17: u64 = M5 ^ T24;
      const M18: u64 = M8 ^ M7; const M19: u64 = M10 ^ M15; const M20: u64 = M16 ^ M13; const M21: u64 = M17 ^ M15;
      const M22: u64 = M18 ^ M13; const M23: u64 = M19 ^ T25; const M24: u64 = M22 ^ M23;
      const M25: u64 = M22 & M20; const M26: u64 = M21 ^ M25; const M27: u64 = M20 ^ M21;
      const M28: u64 = M23 ^ M25; const M29: u64 = M28 & M27; const M30: u64 = M26 & M24;
      const M31: u64 = M20 & M23; const M32: u64 = M27 & M31; const M33: u64 = M27 ^ M25;
      const M34: u64 = M21 & M22; const M35: u64 = M24 & M34; const M36: u64 = M24 ^ M25;
      const M37: u64 = M21 ^ M29; const M38: u64 = M32 ^ M33; const M39: u64 = M23 ^ M30;
      const M40: u64 = M35 ^ M36; const M41: u64 = M38 ^ M40; const M42: u64 = M37 ^ M39;
      const M43: u64 = M37 ^ M38; const M44: u64 = M39 ^ M40; const M45: u64 = M42 ^ M41; const M46: u64 = M44 & T6;
      const M47: u64 = M40 & T8; const M48: u64 = M39 & q0; const M49: u64 = M43 & T16; const M50: u64 = M38 & T9;
      const M51: u64 = M37 & T17; const M52: u64 = M42 & T15; const M53: u64 = M45 & T27;
      const M54: u64 = M41 & T10; const M55: u64 = M44 & T13; const M56: u64 = M40 & T23;
      const M57: u64 = M39 & T19; const M58: u64 = M43 & T3; const M59: u64 = M38 & T22; const M60: u64 = M37 & T20;
      const M61: u64 = M42 & T1; const M62: u64 = M45 & T4; const M63: u64 = M41 & T2; const L0: u64 = M61 ^ M62;
      const L1: u64 = M50 ^ M56; const L2: u64 = M46 ^ M48; const L3: u64 = M47 ^ M55; const L4: u64 = M54 ^ M58;
      const L5: u64 = M49 ^ M61; const L6: u64 = M62 ^ L5; const L7: u64 = M46 ^ L3; const L8: u64 = M51 ^ M59;
      const L9: u64 = M52 ^ M53; const L10: u64 = M53 ^ L4; const L11: u64 = M60 ^ L2; const L12: u64 = M48 ^ M51;
      const L13: u64 = M50 ^ L0; const L14: u64 = M52 ^ M61; const L15: u64 = M55 ^ L1; const L16: u64 = M56 ^ L0;
      const L17: u64 = M57 ^ L1; const L18: u64 = M58 ^ L8; const L19: u64 = M63 ^ L4; const L20: u64 = L0 ^ L1;
      const L21: u64 = L1 ^ L7; const L22: u64 = L3 ^ L12; const L23: u64 = L18 ^ L2; const L24: u64 = L15 ^ L9;
      const L25: u64 = L6 ^ L10; const L26: u64 = L7 ^ L9; const L27: u64 = L8 ^ L10; const L28: u64 = L11 ^ L14;
      const L29: u64 = L11 ^ L17;
      q7 = L6 ^ L24;
      q6 = L16 ^ L26; // complemented: folded into the round keys
      q5 = L19 ^ L28; // complemented: folded into the round keys
      q4 = L6 ^ L21;
      q3 = L20 ^ L22;
      q2 = L25 ^ L29;
      q1 = L13 ^ L27; // complemented: folded into the round keys
      q0 = L6 ^ L23; // complemented: folded into the round keys
    }
    if (decrypt) {
      const a0 = q0, a1 = q1, a2 = q2, a3 = q3, a4 = q4, a5 = q5, a6 = q6, a7 = q7;
      q0 = isr64(a7 ^ a5 ^ a2) ^ load<u64>(rk, 0); q1 = isr64(a0 ^ a6 ^ a3) ^ load<u64>(rk, 8);
      q2 = isr64(a1 ^ a7 ^ a4) ^ load<u64>(rk, 16); q3 = isr64(a2 ^ a0 ^ a5) ^ load<u64>(rk, 24);
      q4 = isr64(a3 ^ a1 ^ a6) ^ load<u64>(rk, 32); q5 = isr64(a4 ^ a2 ^ a7) ^ load<u64>(rk, 40);
      q6 = isr64(a5 ^ a3 ^ a0) ^ load<u64>(rk, 48); q7 = isr64(a6 ^ a4 ^ a1) ^ load<u64>(rk, 56);
      if (round < 14) {
        // InvMixColumns = MixColumns after u = q ^ 4*(q ^ rot2(q)) per column (circulant 05 00 04 00)
        const s0 = q0 ^ rotr<u64>(q0, 32), s1 = q1 ^ rotr<u64>(q1, 32), s2 = q2 ^ rotr<u64>(q2, 32);
        const s3 = q3 ^ rotr<u64>(q3, 32), s4 = q4 ^ rotr<u64>(q4, 32), s5 = q5 ^ rotr<u64>(q5, 32);
        const s6 = q6 ^ rotr<u64>(q6, 32), s7 = q7 ^ rotr<u64>(q7, 32);
        q0 ^= s6; q1 ^= s7 ^ s6; q2 ^= s0 ^ s7; q3 ^= s1 ^ s6;
        q4 ^= s2 ^ s7 ^ s6; q5 ^= s3 ^ s7; q6 ^= s4; q7 ^= s5;
      }
    } else {
      q0 = sr64(q0); q1 = sr64(q1); q2 = sr64(q2); q3 = sr64(q3);
      q4 = sr64(q4); q5 = sr64(q5); q6 = sr64(q6); q7 = sr64(q7);
    }
    if (round < 14) {
      // MixColumns: out = 2*(a ^ a1) ^ a1 ^ rot2(a ^ a1), a1 = the next row (rotation by 16 bits)
      const a0 = rotr<u64>(q0, 16), a1 = rotr<u64>(q1, 16), a2 = rotr<u64>(q2, 16), a3 = rotr<u64>(q3, 16);
      const a4 = rotr<u64>(q4, 16), a5 = rotr<u64>(q5, 16), a6 = rotr<u64>(q6, 16), a7 = rotr<u64>(q7, 16);
      const t0 = q0 ^ a0, t1 = q1 ^ a1, t2 = q2 ^ a2, t3 = q3 ^ a3;
      const t4 = q4 ^ a4, t5 = q5 ^ a5, t6 = q6 ^ a6, t7 = q7 ^ a7;
      q0 = t7 ^ a0 ^ rotr<u64>(t0, 32);
      q1 = t0 ^ t7 ^ a1 ^ rotr<u64>(t1, 32);
      q2 = t1 ^ a2 ^ rotr<u64>(t2, 32);
      q3 = t2 ^ t7 ^ a3 ^ rotr<u64>(t3, 32);
      q4 = t3 ^ t7 ^ a4 ^ rotr<u64>(t4, 32);
      q5 = t4 ^ a5 ^ rotr<u64>(t5, 32);
      q6 = t5 ^ a6 ^ rotr<u64>(t6, 32);
      q7 = t6 ^ a7 ^ rotr<u64>(t7, 32);
    }
    if (!decrypt) {
      q0 ^= load<u64>(rk, 0); q1 ^= load<u64>(rk, 8); q2 ^= load<u64>(rk, 16); q3 ^= load<u64>(rk, 24);
      q4 ^= load<u64>(rk, 32); q5 ^= load<u64>(rk, 40); q6 ^= load<u64>(rk, 48); q7 ^= load<u64>(rk, 56);
    }
  }
  store<u64>(PLN, q0, 0); store<u64>(PLN, q1, 8); store<u64>(PLN, q2, 16); store<u64>(PLN, q3, 24);
  store<u64>(PLN, q4, 32); store<u64>(PLN, q5, 40); store<u64>(PLN, q6, 48); store<u64>(PLN, q7, 56);
  unslice64(PLN, BUF);
}

// ---------------------------------------------------------------------------------------------------------------
// SIMD flavor: 8 blocks in 8 v128 planes; byte j of a plane is state byte j (4*column + row), its bit k is block k.

// @ts-ignore: decorator
@inline function sr128(x: v128): v128 { // ShiftRows: byte 4c + r takes byte 4((c + r) & 3) + r
  return i8x16.shuffle(x, x, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
}
// @ts-ignore: decorator
@inline function isr128(x: v128): v128 { // InvShiftRows: byte 4c + r takes byte 4((c - r) & 3) + r
  return i8x16.shuffle(x, x, 0, 13, 10, 7, 4, 1, 14, 11, 8, 5, 2, 15, 12, 9, 6, 3);
}
// @ts-ignore: decorator
@inline function rot1(x: v128): v128 { // row r takes row r + 1 of the same column
  return i8x16.shuffle(x, x, 1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12);
}
// @ts-ignore: decorator
@inline function rot2(x: v128): v128 { // row r takes row r + 2
  return i8x16.shuffle(x, x, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
}

/**
 * 8 blocks at src (128 bytes) <-> 8 planes at dst: an 8x8 bit transpose in every byte position, across the 8
 * words (block k bit b <-> plane b bit k). Its own inverse.
 */
function transpose128(src: usize, dst: usize): void {
  const M1 = i8x16.splat(0x55), M2 = i8x16.splat(0x33), M4 = i8x16.splat(0x0F);
  let x0 = v128.load(src, 0), x1 = v128.load(src, 16), x2 = v128.load(src, 32), x3 = v128.load(src, 48);
  let x4 = v128.load(src, 64), x5 = v128.load(src, 80), x6 = v128.load(src, 96), x7 = v128.load(src, 112);
  let t: v128;
  t = v128.and(v128.xor(i64x2.shr_u(x0, 1), x1), M1); x1 = v128.xor(x1, t); x0 = v128.xor(x0, i64x2.shl(t, 1));
  t = v128.and(v128.xor(i64x2.shr_u(x2, 1), x3), M1); x3 = v128.xor(x3, t); x2 = v128.xor(x2, i64x2.shl(t, 1));
  t = v128.and(v128.xor(i64x2.shr_u(x4, 1), x5), M1); x5 = v128.xor(x5, t); x4 = v128.xor(x4, i64x2.shl(t, 1));
  t = v128.and(v128.xor(i64x2.shr_u(x6, 1), x7), M1); x7 = v128.xor(x7, t); x6 = v128.xor(x6, i64x2.shl(t, 1));
  t = v128.and(v128.xor(i64x2.shr_u(x0, 2), x2), M2); x2 = v128.xor(x2, t); x0 = v128.xor(x0, i64x2.shl(t, 2));
  t = v128.and(v128.xor(i64x2.shr_u(x1, 2), x3), M2); x3 = v128.xor(x3, t); x1 = v128.xor(x1, i64x2.shl(t, 2));
  t = v128.and(v128.xor(i64x2.shr_u(x4, 2), x6), M2); x6 = v128.xor(x6, t); x4 = v128.xor(x4, i64x2.shl(t, 2));
  t = v128.and(v128.xor(i64x2.shr_u(x5, 2), x7), M2); x7 = v128.xor(x7, t); x5 = v128.xor(x5, i64x2.shl(t, 2));
  t = v128.and(v128.xor(i64x2.shr_u(x0, 4), x4), M4); x4 = v128.xor(x4, t); x0 = v128.xor(x0, i64x2.shl(t, 4));
  t = v128.and(v128.xor(i64x2.shr_u(x1, 4), x5), M4); x5 = v128.xor(x5, t); x1 = v128.xor(x1, i64x2.shl(t, 4));
  t = v128.and(v128.xor(i64x2.shr_u(x2, 4), x6), M4); x6 = v128.xor(x6, t); x2 = v128.xor(x2, i64x2.shl(t, 4));
  t = v128.and(v128.xor(i64x2.shr_u(x3, 4), x7), M4); x7 = v128.xor(x7, t); x3 = v128.xor(x3, i64x2.shl(t, 4));
  v128.store(dst, x0, 0); v128.store(dst, x1, 16); v128.store(dst, x2, 32); v128.store(dst, x3, 48);
  v128.store(dst, x4, 64); v128.store(dst, x5, 80); v128.store(dst, x6, 96); v128.store(dst, x7, 112);
}

/** Encrypts (or decrypts) the 8 blocks in BUF in place with the bitsliced round keys in RK. */
function crypt128(decrypt: bool): void {
  transpose128(BUF, PLN);
  let rk: usize = decrypt ? RK + 14 * 128 : RK;
  const step: isize = decrypt ? -128 : 128;
  let q0 = v128.xor(v128.load(PLN, 0), v128.load(rk, 0)), q1 = v128.xor(v128.load(PLN, 16), v128.load(rk, 16));
  let q2 = v128.xor(v128.load(PLN, 32), v128.load(rk, 32)), q3 = v128.xor(v128.load(PLN, 48), v128.load(rk, 48));
  let q4 = v128.xor(v128.load(PLN, 64), v128.load(rk, 64)), q5 = v128.xor(v128.load(PLN, 80), v128.load(rk, 80));
  let q6 = v128.xor(v128.load(PLN, 96), v128.load(rk, 96));
  let q7 = v128.xor(v128.load(PLN, 112), v128.load(rk, 112));
  for (let round = 1; round <= 14; round++) {
    rk += step;
    if (decrypt) { // L (see crypt64)
      const a0 = q0, a1 = q1, a2 = q2, a3 = q3, a4 = q4, a5 = q5, a6 = q6, a7 = q7;
      q0 = v128.xor(v128.xor(a7, a5), a2); q1 = v128.xor(v128.xor(a0, a6), a3);
      q2 = v128.xor(v128.xor(a1, a7), a4); q3 = v128.xor(v128.xor(a2, a0), a5);
      q4 = v128.xor(v128.xor(a3, a1), a6); q5 = v128.xor(v128.xor(a4, a2), a7);
      q6 = v128.xor(v128.xor(a5, a3), a0); q7 = v128.xor(v128.xor(a6, a4), a1);
    }
    { // SubBytes without its NOTs (Boyar–Peralta); U0 (the most significant bit) is q7
      const T1: v128 = v128.xor(q7, q4); const T2: v128 = v128.xor(q7, q2); const T3: v128 = v128.xor(q7, q1);
      const T4: v128 = v128.xor(q4, q2); const T5: v128 = v128.xor(q3, q1); const T6: v128 = v128.xor(T1, T5);
      const T7: v128 = v128.xor(q6, q5); const T8: v128 = v128.xor(q0, T6); const T9: v128 = v128.xor(q0, T7);
      const T10: v128 = v128.xor(T6, T7); const T11: v128 = v128.xor(q6, q2); const T12: v128 = v128.xor(q5, q2);
      const T13: v128 = v128.xor(T3, T4); const T14: v128 = v128.xor(T6, T11); const T15: v128 = v128.xor(T5, T11);
      const T16: v128 = v128.xor(T5, T12); const T17: v128 = v128.xor(T9, T16); const T18: v128 = v128.xor(q4, q0);
      const T19: v128 = v128.xor(T7, T18); const T20: v128 = v128.xor(T1, T19); const T21: v128 = v128.xor(q1, q0);
      const T22: v128 = v128.xor(T7, T21); const T23: v128 = v128.xor(T2, T22); const T24: v128 = v128.xor(T2, T10);
      const T25: v128 = v128.xor(T20, T17); const T26: v128 = v128.xor(T3, T16);
      const T27: v128 = v128.xor(T1, T12); const M1: v128 = v128.and(T13, T6); const M2: v128 = v128.and(T23, T8);
      const M3: v128 = v128.xor(T14, M1); const M4: v128 = v128.and(T19, q0); const M5: v128 = v128.xor(M4, M1);
      const M6: v128 = v128.and(T3, T16); const M7: v128 = v128.and(T22, T9); const M8: v128 = v128.xor(T26, M6);
      const M9: v128 = v128.and(T20, T17); const M10: v128 = v128.xor(M9, M6); const M11: v128 = v128.and(T1, T15);
      const M12: v128 = v128.and(T4, T27); const M13: v128 = v128.xor(M12, M11);
      const M14: v128 = v128.and(T2, T10); const M15: v128 = v128.xor(M14, M11); const M16: v128 = v128.xor(M3, M2);
      const M17: v128 = v128.xor(M5, T24); const M18: v128 = v128.xor(M8, M7); const M19: v128 = v128.xor(M10, M15);
      const M20: v128 = v128.xor(M16, M13); const M21: v128 = v128.xor(M17, M15);
      const M22: v128 = v128.xor(M18, M13); const M23: v128 = v128.xor(M19, T25);
      const M24: v128 = v128.xor(M22, M23); const M25: v128 = v128.and(M22, M20);
      const M26: v128 = v128.xor(M21, M25); const M27: v128 = v128.xor(M20, M21);
      const M28: v128 = v128.xor(M23, M25); const M29: v128 = v128.and(M28, M27);
      const M30: v128 = v128.and(M26, M24); const M31: v128 = v128.and(M20, M23);
      const M32: v128 = v128.and(M27, M31); const M33: v128 = v128.xor(M27, M25);
      const M34: v128 = v128.and(M21, M22); const M35: v128 = v128.and(M24, M34);
      const M36: v128 = v128.xor(M24, M25); const M37: v128 = v128.xor(M21, M29);
      const M38: v128 = v128.xor(M32, M33); const M39: v128 = v128.xor(M23, M30);
      const M40: v128 = v128.xor(M35, M36); const M41: v128 = v128.xor(M38, M40);
      const M42: v128 = v128.xor(M37, M39); const M43: v128 = v128.xor(M37, M38);
      const M44: v128 = v128.xor(M39, M40); const M45: v128 = v128.xor(M42, M41);
      const M46: v128 = v128.and(M44, T6); const M47: v128 = v128.and(M40, T8); const M48: v128 = v128.and(M39, q0);
      const M49: v128 = v128.and(M43, T16); const M50: v128 = v128.and(M38, T9);
      const M51: v128 = v128.and(M37, T17); const M52: v128 = v128.and(M42, T15);
      const M53: v128 = v128.and(M45, T27); const M54: v128 = v128.and(M41, T10);
      const M55: v128 = v128.and(M44, T13); const M56: v128 = v128.and(M40, T23);
      const M57: v128 = v128.and(M39, T19); const M58: v128 = v128.and(M43, T3);
      const M59: v128 = v128.and(M38, T22); const M60: v128 = v128.and(M37, T20);
      const M61: v128 = v128.and(M42, T1); const M62: v128 = v128.and(M45, T4); const M63: v128 = v128.and(M41, T2);
      const L0: v128 = v128.xor(M61, M62); const L1: v128 = v128.xor(M50, M56); const L2: v128 = v128.xor(M46, M48);
      const L3: v128 = v128.xor(M47, M55); const L4: v128 = v128.xor(M54, M58); const L5: v128 = v128.xor(M49, M61);
      const L6: v128 = v128.xor(M62, L5); const L7: v128 = v128.xor(M46, L3); const L8: v128 = v128.xor(M51, M59);
      const L9: v128 = v128.xor(M52, M53); const L10: v128 = v128.xor(M53, L4); const L11: v128 = v128.xor(M60, L2);
      const L12: v128 = v128.xor(M48, M51); const L13: v128 = v128.xor(M50, L0);
      const L14: v128 = v128.xor(M52, M61); const L15: v128 = v128.xor(M55, L1);
      const L16: v128 = v128.xor(M56, L0); const L17: v128 = v128.xor(M57, L1); const L18: v128 = v128.xor(M58, L8);
      const L19: v128 = v128.xor(M63, L4); const L20: v128 = v128.xor(L0, L1); const L21: v128 = v128.xor(L1, L7);
      const L22: v128 = v128.xor(L3, L12); const L23: v128 = v128.xor(L18, L2); const L24: v128 = v128.xor(L15, L9);
      const L25: v128 = v128.xor(L6, L10); const L26: v128 = v128.xor(L7, L9); const L27: v128 = v128.xor(L8, L10);
      const L28: v128 = v128.xor(L11, L14); const L29: v128 = v128.xor(L11, L17);
      q7 = v128.xor(L6, L24);
      q6 = v128.xor(L16, L26); // complemented: folded into the round keys
      q5 = v128.xor(L19, L28); // complemented: folded into the round keys
      q4 = v128.xor(L6, L21);
      q3 = v128.xor(L20, L22);
      q2 = v128.xor(L25, L29);
      q1 = v128.xor(L13, L27); // complemented: folded into the round keys
      q0 = v128.xor(L6, L23); // complemented: folded into the round keys
    }
    if (decrypt) {
      const a0 = q0, a1 = q1, a2 = q2, a3 = q3, a4 = q4, a5 = q5, a6 = q6, a7 = q7;
      q0 = v128.xor(isr128(v128.xor(v128.xor(a7, a5), a2)), v128.load(rk, 0));
      q1 = v128.xor(isr128(v128.xor(v128.xor(a0, a6), a3)), v128.load(rk, 16));
      q2 = v128.xor(isr128(v128.xor(v128.xor(a1, a7), a4)), v128.load(rk, 32));
      q3 = v128.xor(isr128(v128.xor(v128.xor(a2, a0), a5)), v128.load(rk, 48));
      q4 = v128.xor(isr128(v128.xor(v128.xor(a3, a1), a6)), v128.load(rk, 64));
      q5 = v128.xor(isr128(v128.xor(v128.xor(a4, a2), a7)), v128.load(rk, 80));
      q6 = v128.xor(isr128(v128.xor(v128.xor(a5, a3), a0)), v128.load(rk, 96));
      q7 = v128.xor(isr128(v128.xor(v128.xor(a6, a4), a1)), v128.load(rk, 112));
      if (round < 14) { // InvMixColumns pre-step (see crypt64)
        const s0 = v128.xor(q0, rot2(q0)), s1 = v128.xor(q1, rot2(q1)), s2 = v128.xor(q2, rot2(q2));
        const s3 = v128.xor(q3, rot2(q3)), s4 = v128.xor(q4, rot2(q4)), s5 = v128.xor(q5, rot2(q5));
        const s6 = v128.xor(q6, rot2(q6)), s7 = v128.xor(q7, rot2(q7));
        q0 = v128.xor(q0, s6); q1 = v128.xor(q1, v128.xor(s7, s6)); q2 = v128.xor(q2, v128.xor(s0, s7));
        q3 = v128.xor(q3, v128.xor(s1, s6)); q4 = v128.xor(q4, v128.xor(v128.xor(s2, s7), s6));
        q5 = v128.xor(q5, v128.xor(s3, s7)); q6 = v128.xor(q6, s4); q7 = v128.xor(q7, s5);
      }
    } else {
      q0 = sr128(q0); q1 = sr128(q1); q2 = sr128(q2); q3 = sr128(q3);
      q4 = sr128(q4); q5 = sr128(q5); q6 = sr128(q6); q7 = sr128(q7);
    }
    if (round < 14) { // MixColumns (see crypt64)
      const a0 = rot1(q0), a1 = rot1(q1), a2 = rot1(q2), a3 = rot1(q3);
      const a4 = rot1(q4), a5 = rot1(q5), a6 = rot1(q6), a7 = rot1(q7);
      const t0 = v128.xor(q0, a0), t1 = v128.xor(q1, a1), t2 = v128.xor(q2, a2), t3 = v128.xor(q3, a3);
      const t4 = v128.xor(q4, a4), t5 = v128.xor(q5, a5), t6 = v128.xor(q6, a6), t7 = v128.xor(q7, a7);
      q0 = v128.xor(v128.xor(t7, a0), rot2(t0));
      q1 = v128.xor(v128.xor(v128.xor(t0, t7), a1), rot2(t1));
      q2 = v128.xor(v128.xor(t1, a2), rot2(t2));
      q3 = v128.xor(v128.xor(v128.xor(t2, t7), a3), rot2(t3));
      q4 = v128.xor(v128.xor(v128.xor(t3, t7), a4), rot2(t4));
      q5 = v128.xor(v128.xor(t4, a5), rot2(t5));
      q6 = v128.xor(v128.xor(t5, a6), rot2(t6));
      q7 = v128.xor(v128.xor(t6, a7), rot2(t7));
    }
    if (!decrypt) {
      q0 = v128.xor(q0, v128.load(rk, 0)); q1 = v128.xor(q1, v128.load(rk, 16));
      q2 = v128.xor(q2, v128.load(rk, 32)); q3 = v128.xor(q3, v128.load(rk, 48));
      q4 = v128.xor(q4, v128.load(rk, 64)); q5 = v128.xor(q5, v128.load(rk, 80));
      q6 = v128.xor(q6, v128.load(rk, 96)); q7 = v128.xor(q7, v128.load(rk, 112));
    }
  }
  v128.store(PLN, q0, 0); v128.store(PLN, q1, 16); v128.store(PLN, q2, 32); v128.store(PLN, q3, 48);
  v128.store(PLN, q4, 64); v128.store(PLN, q5, 80); v128.store(PLN, q6, 96); v128.store(PLN, q7, 112);
  transpose128(PLN, BUF);
}

// ---------------------------------------------------------------------------------------------------------------
// SIMD flavor, few lanes (CBC encryption of 1..NIB_MAX messages, ECB encryption of a few blocks): bitslicing wastes
// most of its 8 lanes there, so one block sits in one v128 (natural byte order) and SubBytes works on nibbles with
// i8x16.swizzle: 16-entry tables held in registers, indexed by nibbles of the state. A swizzle is a register
// permutation (pshufb / tbl), not a memory access, and runs in the same time for every index: constant time.
// S-box: x^-1 in GF(2^8) via the tower GF(16)[Y]/(Y^2 + Y + 8) (GF(16) mod x^4 + x + 1). With x = iY + k the
// inverse is (iY + (i + k)) / N, N = 8i^2 + ik + k^2. Input tables map x to scaled coordinates p = i, q = k/8;
// then io = 1/(1/p + 15/q) + (p + q) = N / (8 (i + k)) (15 = 1/8), so 1/io carries the coordinate (i + k)/N; the
// same on x*Y^-1 carries i/N. Output tables map the two to A * x^-1 (the S-box without its 0x63, which is folded
// into the round keys as in the bitsliced path). 1/0 is 0x80: a swizzle index >= 16 yields 0, which keeps
// 1/(1/0 + ...) = 0 right in every zero case. test/aes-tables.test.ts derives every table below from this recipe,
// compares it with the source and checks the S-box on all 256 inputs.

/** Few-lane threshold: batches (or group tails) of up to this many messages use the nibble path. */
// @ts-ignore: decorator
@inline const NIB_MAX: i32 = 4;

/**
 * One round on one block. The input tables are packed: PQ* gives p (low nibble) and q (high nibble) of x in one
 * byte, Q2* gives the q of x*Y^-1 (whose p equals q). 12 swizzles a round: the shuffle unit is the bottleneck, so
 * the MixColumns rotations are 32-bit lane shifts and xtime is an add plus a sign mask.
 */
// @ts-ignore: decorator
@inline function nibRound(x: v128, rk: v128, mix: bool, PQL: v128, PQH: v128, Q2L: v128, Q2H: v128, INV: v128,
  INVA: v128, O1: v128, O2: v128): v128 {
  const m = i8x16.splat(0x0F);
  const lo = v128.and(x, m), hi = v128.and(i16x8.shr_u(x, 4), m);
  const pq = v128.xor(i8x16.swizzle(PQL, lo), i8x16.swizzle(PQH, hi));
  const p1 = v128.and(pq, m), q1 = v128.and(i16x8.shr_u(pq, 4), m);
  const q2 = v128.xor(i8x16.swizzle(Q2L, lo), i8x16.swizzle(Q2H, hi));
  const io1 = v128.xor(i8x16.swizzle(INV, v128.xor(i8x16.swizzle(INV, p1), i8x16.swizzle(INVA, q1))), v128.xor(p1, q1));
  const io2 = v128.xor(i8x16.swizzle(INV, v128.xor(i8x16.swizzle(INV, q1), i8x16.swizzle(INVA, q2))), v128.xor(q1, q2));
  const s0 = v128.xor(i8x16.swizzle(O1, io1), i8x16.swizzle(O2, io2));
  let s = sr128(s0);
  if (mix) { // 2*(s ^ a1) ^ a1 ^ rot2(s ^ a1), a1 = s with each row taking the next row of its column, shuffled
    // straight from s0 (rot1 after ShiftRows as one permutation) to keep the dependency chain short
    const a1 = i8x16.shuffle(s0, s0, 5, 10, 15, 0, 9, 14, 3, 4, 13, 2, 7, 8, 1, 6, 11, 12), t = v128.xor(s, a1);
    const xt = v128.xor(i8x16.add(t, t), v128.and(i8x16.lt_s(t, i8x16.splat(0)), i8x16.splat(0x1b)));
    s = v128.xor(v128.xor(xt, a1), v128.or(i32x4.shr_u(t, 16), i32x4.shl(t, 16)));
  }
  return v128.xor(s, rk);
}

/** CBC-encrypts one message (blocks at msg, in place) from the IV at ivPtr with round keys at rk (NRK format): the
 *  chaining value and the tables stay in registers across blocks. */
function cbcEncNib1(msg: usize, blocks: i32, ivPtr: usize, rk: usize): void {
  const PQL = i64x2(0xb646b444f202f000, 0x32c230c076867484);
  const PQH = i64x2(0x7dfe1093ee6d8300, 0x13907efd8003ed6e);
  const Q2L = i64x2(0x070d0a00070d0a00, 0x0f0502080f050208);
  const Q2H = i64x2(0x0c0f0f0c00030300, 0x0d0e0e0d01020201);
  const INV = i64x2(0x06070b0d0e090180, 0x0803040a050c020f);
  const INVA = i64x2(0x040b0307050e0f80, 0x0102090c06080d0a);
  const O1 = i64x2(0xab9bad06b42f3000, 0x1fb2299d19368284);
  const O2 = i64x2(0x326c3e0c5b375e00, 0x69573b6065520905);
  let c = v128.load(ivPtr);
  for (let j = 0; j < blocks; j++) {
    const at = msg + (<usize>j << 4);
    let a = v128.xor(v128.xor(c, v128.load(at)), v128.load(rk));
    for (let r = 1; r < 14; r++) {
      a = nibRound(a, v128.load(rk + <usize>(r << 4)), true, PQL, PQH, Q2L, Q2H, INV, INVA, O1, O2);
    }
    c = nibRound(a, v128.load(rk, 224), false, PQL, PQH, Q2L, Q2H, INV, INVA, O1, O2);
    v128.store(at, c);
  }
}

/** Encrypts the 2 blocks at st, st+16 in place, with round keys at rkA and rkB (NRK format), interleaved; with
 *  rkB == 0 only the first block. */
function encNib(st: usize, rkA: usize, rkB: usize): void {
  const PQL = i64x2(0xb646b444f202f000, 0x32c230c076867484);
  const PQH = i64x2(0x7dfe1093ee6d8300, 0x13907efd8003ed6e);
  const Q2L = i64x2(0x070d0a00070d0a00, 0x0f0502080f050208);
  const Q2H = i64x2(0x0c0f0f0c00030300, 0x0d0e0e0d01020201);
  const INV = i64x2(0x06070b0d0e090180, 0x0803040a050c020f);
  const INVA = i64x2(0x040b0307050e0f80, 0x0102090c06080d0a);
  const O1 = i64x2(0xab9bad06b42f3000, 0x1fb2299d19368284);
  const O2 = i64x2(0x326c3e0c5b375e00, 0x69573b6065520905);
  let a = v128.xor(v128.load(st), v128.load(rkA));
  if (rkB == 0) {
    for (let r = 1; r < 14; r++) {
      a = nibRound(a, v128.load(rkA + <usize>(r << 4)), true, PQL, PQH, Q2L, Q2H, INV, INVA, O1, O2);
    }
    v128.store(st, nibRound(a, v128.load(rkA, 224), false, PQL, PQH, Q2L, Q2H, INV, INVA, O1, O2));
    return;
  }
  let b = v128.xor(v128.load(st, 16), v128.load(rkB));
  for (let r = 1; r < 14; r++) {
    const o = <usize>(r << 4);
    a = nibRound(a, v128.load(rkA + o), true, PQL, PQH, Q2L, Q2H, INV, INVA, O1, O2);
    b = nibRound(b, v128.load(rkB + o), true, PQL, PQH, Q2L, Q2H, INV, INVA, O1, O2);
  }
  v128.store(st, nibRound(a, v128.load(rkA, 224), false, PQL, PQH, Q2L, Q2H, INV, INVA, O1, O2));
  v128.store(st, nibRound(b, v128.load(rkB, 224), false, PQL, PQH, Q2L, Q2H, INV, INVA, O1, O2), 16);
}

/** NRK lane `lane` (0 or 1) <- the round keys of `slot`, round keys 1..14 XOR 0x63. */
function prepNib(lane: i32, slot: u32): void {
  const src = slotAt(slot), dst = NRK + (<usize>lane << 8);
  v128.store(dst, v128.load(src));
  const c = i8x16.splat(0x63);
  for (let i = 1; i < 15; i++) {
    const o = <usize>(i << 4);
    v128.store(dst + o, v128.xor(v128.load(src + o), c));
  }
}

/** CBC encryption of n <= NIB_MAX messages (message i at data + i*stride), two at a time. */
function cbcEncryptNib(n: i32, data: usize, stride: i32, blocks: i32, ivPtr: usize, ivStride: i32,
  slotPtr: usize, slotStride: i32): void {
  for (let k = 0; k < n; k += 2) {
    const two = k + 1 < n;
    if (!two) {
      prepNib(0, load<u32>(slotPtr + <usize>k * <usize>slotStride));
      cbcEncNib1(data + <usize>k * <usize>stride, blocks, ivPtr + <usize>k * <usize>ivStride, NRK);
      break;
    }
    const m0 = data + <usize>k * <usize>stride, m1 = two ? m0 + <usize>stride : m0;
    prepNib(0, load<u32>(slotPtr + <usize>k * <usize>slotStride));
    prepNib(1, load<u32>(slotPtr + <usize>(two ? k + 1 : k) * <usize>slotStride));
    copy16(BUF, ivPtr + <usize>k * <usize>ivStride);
    copy16(BUF + 16, ivPtr + <usize>(two ? k + 1 : k) * <usize>ivStride);
    for (let j = 0; j < blocks; j++) {
      const o = <usize>j << 4;
      xor16(BUF, m0 + o);
      xor16(BUF + 16, m1 + o);
      encNib(BUF, NRK, NRK + 256);
      copy16(m0 + o, BUF);
      if (two) copy16(m1 + o, BUF + 16);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Groups: LANES blocks in BUF, their slots in LSLOT.

/** Bitslices the round keys of the lanes' slots into RK, unless RK already holds them. */
function prepKeys(): void {
  let same = true;
  for (let k = 0; k < LANES; k++) {
    if (load<u32>(LSLOT + (<usize>k << 2)) != load<u32>(CACHE + (<usize>k << 2))) { same = false; break; }
  }
  if (same) return;
  memory.copy(CACHE, LSLOT, <usize>(LANES << 2));
  for (let i = 0; i < 15; i++) {
    const off = <usize>(i << 4);
    for (let k = 0; k < LANES; k++) copy16(STAGE + (<usize>k << 4), slotAt(load<u32>(LSLOT + (<usize>k << 2))) + off);
    const dst = RK + <usize>(i * RK_STEP);
    if (ASC_FEATURE_SIMD) transpose128(STAGE, dst); else slice64(STAGE, dst);
    if (i > 0) { // the S-box circuit's NOTs (0x63: bits 0, 1, 5, 6)
      if (ASC_FEATURE_SIMD) {
        v128.store(dst, v128.not(v128.load(dst, 0)), 0); v128.store(dst, v128.not(v128.load(dst, 16)), 16);
        v128.store(dst, v128.not(v128.load(dst, 80)), 80); v128.store(dst, v128.not(v128.load(dst, 96)), 96);
      } else {
        store<u64>(dst, ~load<u64>(dst, 0), 0); store<u64>(dst, ~load<u64>(dst, 8), 8);
        store<u64>(dst, ~load<u64>(dst, 40), 40); store<u64>(dst, ~load<u64>(dst, 48), 48);
      }
    }
  }
}

// @ts-ignore: decorator
@inline function crypt(decrypt: bool): void {
  if (ASC_FEATURE_SIMD) crypt128(decrypt); else crypt64(decrypt);
}

/** Fills lanes n..LANES-1 (of a short last group) with lane 0's slot, so they reuse its round keys. */
// @ts-ignore: decorator
@inline function padLanes(n: i32): void {
  const s0 = load<u32>(LSLOT);
  for (let k = n; k < LANES; k++) store<u32>(LSLOT + (<usize>k << 2), s0);
}

/**
 * ECB over `count` blocks, block i with the slot at slotPtr + i * slotStride. With dst2Ptr != 0 (encryption only) each
 * result is encrypted once more with the same key into dst2Ptr + 16i: the two IV steps of the AES tunnel layer
 * (tunnel-crypto-aes.md section 2), which use one key and do not depend on the CBC step between them, with the round
 * keys prepared once for both.
 */
function ecb(decrypt: bool, count: i32, srcPtr: usize, srcStride: i32, dstPtr: usize, dstStride: i32,
  slotPtr: usize, slotStride: i32, dst2Ptr: usize = 0): void {
  invalidateCache();
  for (let g = 0; g < count; g += LANES) {
    const n = min(LANES, count - g);
    if (ASC_FEATURE_SIMD && !decrypt && n <= NIB_MAX) {
      for (let k = 0; k < n; k += 2) {
        const i0 = <usize>(g + k), i1 = k + 1 < n ? i0 + 1 : i0;
        const two = i1 != i0;
        prepNib(0, load<u32>(slotPtr + i0 * <usize>slotStride));
        prepNib(1, load<u32>(slotPtr + i1 * <usize>slotStride));
        copy16(BUF, srcPtr + i0 * <usize>srcStride);
        copy16(BUF + 16, srcPtr + i1 * <usize>srcStride);
        encNib(BUF, NRK, two ? NRK + 256 : 0);
        copy16(dstPtr + i0 * <usize>dstStride, BUF);
        if (two) copy16(dstPtr + i1 * <usize>dstStride, BUF + 16);
        if (dst2Ptr != 0) {
          encNib(BUF, NRK, two ? NRK + 256 : 0);
          copy16(dst2Ptr + (i0 << 4), BUF);
          if (two) copy16(dst2Ptr + (i1 << 4), BUF + 16);
        }
      }
      continue;
    }
    for (let k = 0; k < n; k++) {
      const i = <usize>(g + k);
      store<u32>(LSLOT + (<usize>k << 2), load<u32>(slotPtr + i * <usize>slotStride));
      copy16(BUF + (<usize>k << 4), srcPtr + i * <usize>srcStride);
    }
    padLanes(n);
    prepKeys();
    crypt(decrypt);
    for (let k = 0; k < n; k++) copy16(dstPtr + <usize>(g + k) * <usize>dstStride, BUF + (<usize>k << 4));
    if (dst2Ptr != 0) {
      crypt(false);
      for (let k = 0; k < n; k++) copy16(dst2Ptr + (<usize>(g + k) << 4), BUF + (<usize>k << 4));
    }
  }
  if (ASC_FEATURE_SIMD && !decrypt && count <= NIB_MAX) finishNib(); else finish();
}

/** ECB encryption of `count` blocks; see the API at the top. */
export function ecbEncryptBlocks(count: i32, srcPtr: usize, srcStride: i32, dstPtr: usize, dstStride: i32,
  slotPtr: usize, slotStride: i32): void {
  ecb(false, count, srcPtr, srcStride, dstPtr, dstStride, slotPtr, slotStride);
}

/** ECB decryption of `count` blocks; see the API at the top. */
export function ecbDecryptBlocks(count: i32, srcPtr: usize, srcStride: i32, dstPtr: usize, dstStride: i32,
  slotPtr: usize, slotStride: i32): void {
  ecb(true, count, srcPtr, srcStride, dstPtr, dstStride, slotPtr, slotStride);
}

/**
 * CBC encryption of `count` messages in place, LANES messages side by side (one per lane, each with its own key
 * and IV): BUF holds each lane's chaining value, c_j = E(p_j ^ c_{j-1}).
 */
export function cbcEncryptLanes(count: i32, dataPtr: usize, stride: i32, offset: i32, len: i32,
  ivPtr: usize, ivStride: i32, slotPtr: usize, slotStride: i32): void {
  invalidateCache();
  const blocks = len >> 4;
  for (let g = 0; g < count; g += LANES) {
    const n = min(LANES, count - g);
    if (ASC_FEATURE_SIMD && n <= NIB_MAX) {
      cbcEncryptNib(n, dataPtr + <usize>g * <usize>stride + <usize>offset, stride, blocks,
        ivPtr + <usize>g * <usize>ivStride, ivStride, slotPtr + <usize>g * <usize>slotStride, slotStride);
      continue;
    }
    for (let k = 0; k < n; k++) {
      const i = <usize>(g + k);
      store<u32>(LSLOT + (<usize>k << 2), load<u32>(slotPtr + i * <usize>slotStride));
      copy16(BUF + (<usize>k << 4), ivPtr + i * <usize>ivStride);
    }
    padLanes(n);
    prepKeys();
    const base = dataPtr + <usize>g * <usize>stride + <usize>offset;
    for (let j = 0; j < blocks; j++) {
      const at = base + (<usize>j << 4);
      for (let k = 0; k < n; k++) xor16(BUF + (<usize>k << 4), at + <usize>k * <usize>stride);
      crypt(false);
      for (let k = 0; k < n; k++) copy16(at + <usize>k * <usize>stride, BUF + (<usize>k << 4));
    }
  }
  if (ASC_FEATURE_SIMD && count <= NIB_MAX) finishNib(); else finish();
}

/**
 * CBC decryption of `count` messages in place. All blocks are independent here: the (message, block) pairs are
 * taken in order message by message, each from its last block to its first, LANES at a time (a group may span
 * messages and keys). Every input block and the ciphertext before it are read before the group writes anything, and
 * later groups only read blocks in front of the ones written, so in-place works.
 */
export function cbcDecryptLanes(count: i32, dataPtr: usize, stride: i32, offset: i32, len: i32,
  ivPtr: usize, ivStride: i32, slotPtr: usize, slotStride: i32): void {
  invalidateCache();
  const blocks = len >> 4;
  if (blocks <= 0 || count <= 0) { finish(); return; }
  let m = 0, j = blocks - 1; // next (message, block)
  let left = count * blocks;
  while (left > 0) {
    const n = min(LANES, left);
    for (let k = 0; k < n; k++) {
      const msg = dataPtr + <usize>m * <usize>stride + <usize>offset;
      const at = msg + (<usize>j << 4);
      store<u32>(LSLOT + (<usize>k << 2), load<u32>(slotPtr + <usize>m * <usize>slotStride));
      copy16(BUF + (<usize>k << 4), at);
      copy16(PREV + (<usize>k << 4), j > 0 ? at - 16 : ivPtr + <usize>m * <usize>ivStride);
      store<usize>(OUTP + (<usize>k << 3), at);
      if (--j < 0) { m++; j = blocks - 1; }
    }
    padLanes(n);
    prepKeys();
    crypt(true);
    for (let k = 0; k < n; k++) {
      const out = BUF + (<usize>k << 4);
      xor16(out, PREV + (<usize>k << 4));
      copy16(load<usize>(OUTP + (<usize>k << 3)), out);
    }
    left -= n;
  }
  finish();
}

// ---------------------------------------------------------------------------------------------------------------
// Region kernels for the TypeScript side (validate, then call the functions above).

/** 0 when every MSG_SLOT_A[0..count) names a slot, else -2. */
function checkSlots(count: i32): i32 {
  let bad: u32 = 0;
  for (let i = 0; i < count; i++) bad |= <u32>(load<u32>(MSG_SLOT_A_BASE + (<usize>i << 2)) >= <u32>AES_KEY_SLOTS);
  return bad ? -2 : 0;
}

function statusOk(count: i32): void {
  memory.fill(MSG_STATUS_BASE, <u8>STATUS_OK, <usize>count);
}

/** Expands KEY_IN[32i, 32i+32) into slot MSG_SLOT_A[i] for i < count; KEY_IN is zeroed afterwards in any case. */
export function aesSetKeys(count: i32): i32 {
  let r = count < 0 || count > MAX_BATCH ? -1 : checkSlots(count);
  if (r == 0) {
    for (let i = 0; i < count; i++) {
      aesExpandKey(KEY_IN_BASE + (<usize>i << 5), load<u32>(MSG_SLOT_A_BASE + (<usize>i << 2)));
    }
    statusOk(count);
  }
  wipe(KEY_IN_BASE, MAX_BATCH * 32);
  return r;
}

/** Zeroes slots MSG_SLOT_A[0..count). */
export function aesClearSlots(count: i32): i32 {
  const r = count < 0 || count > MAX_BATCH ? -1 : checkSlots(count);
  if (r != 0) return r;
  for (let i = 0; i < count; i++) aesClearSlot(load<u32>(MSG_SLOT_A_BASE + (<usize>i << 2)));
  statusOk(count);
  return 0;
}

/** ECB over blocks IO[16i, 16i+16) in place, block i with slot MSG_SLOT_A[i]. */
export function aesEcbIo(count: i32, decrypt: bool): i32 {
  const r = count < 0 || count > MAX_BATCH ? -1 : checkSlots(count);
  if (r != 0) return r;
  ecb(decrypt, count, IO_BASE, AES_BLOCK_SIZE, IO_BASE, AES_BLOCK_SIZE, MSG_SLOT_A_BASE, 4);
  statusOk(count);
  return 0;
}

/**
 * The two IV steps of the AES layer for `count` blocks: IO[16i, 16i+16) := X_i = E(IV_i) and
 * IO[16(MAX_BATCH+i), ...) := E(X_i), block i with slot MSG_SLOT_A[i].
 */
export function aesEcbIoTwice(count: i32): i32 {
  const r = count < 0 || count > MAX_BATCH ? -1 : checkSlots(count);
  if (r != 0) return r;
  ecb(false, count, IO_BASE, AES_BLOCK_SIZE, IO_BASE, AES_BLOCK_SIZE, MSG_SLOT_A_BASE, 4, IO_BASE + <usize>(MAX_BATCH << 4));
  statusOk(count);
  return 0;
}

/** ECB over blocks IO[16i, 16i+16) in place, all with one slot. */
export function aesEcbIoOneSlot(count: i32, slot: u32, decrypt: bool): i32 {
  if (count < 0 || count > IO_SIZE / AES_BLOCK_SIZE) return -1;
  if (slot >= <u32>AES_KEY_SLOTS) return -2;
  store<u32>(ONESLOT, slot);
  ecb(decrypt, count, IO_BASE, AES_BLOCK_SIZE, IO_BASE, AES_BLOCK_SIZE, ONESLOT, 0);
  return 0;
}

/** CBC over messages IO[i*len, (i+1)*len) in place; IV MSG_PARAM[16i..], slot MSG_SLOT_A[i]. */
export function aesCbcIo(count: i32, len: i32, decrypt: bool): i32 {
  if (count < 0 || count > MAX_BATCH || len < 0 || (len & 15) != 0 || <i64>count * len > IO_SIZE) return -1;
  const r = checkSlots(count);
  if (r != 0) return r;
  if (decrypt) cbcDecryptLanes(count, IO_BASE, len, 0, len, MSG_PARAM_BASE, 16, MSG_SLOT_A_BASE, 4);
  else cbcEncryptLanes(count, IO_BASE, len, 0, len, MSG_PARAM_BASE, 16, MSG_SLOT_A_BASE, 4);
  statusOk(count);
  return 0;
}

/** CBC over MSG message slots: bytes [offset, offset+len) of message i in place; IV MSG_PARAM[16i..], slot MSG_SLOT_A[i]. */
export function aesCbcMsg(count: i32, offset: i32, len: i32, decrypt: bool): i32 {
  if (count < 0 || count > MAX_BATCH || offset < 0 || len < 0 || (len & 15) != 0 || offset + len > TUNNEL_DATA_SIZE) {
    return -1;
  }
  const r = checkSlots(count);
  if (r != 0) return r;
  if (decrypt) cbcDecryptLanes(count, MSG_BASE, TUNNEL_DATA_SIZE, offset, len, MSG_PARAM_BASE, 16, MSG_SLOT_A_BASE, 4);
  else cbcEncryptLanes(count, MSG_BASE, TUNNEL_DATA_SIZE, offset, len, MSG_PARAM_BASE, 16, MSG_SLOT_A_BASE, 4);
  statusOk(count);
  return 0;
}
