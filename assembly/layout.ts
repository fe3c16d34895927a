// Named static regions of the tunnelplane WASM memory. Kernels take counts and slot indices, never pointers from
// the caller, and read/write only these regions; nothing is allocated per call, so memory never grows and the
// TypeScript side builds its typed views once per instance (src/wasm/loader.ts).
//
//   region        size (bytes)                          contents
//   ------------  ------------------------------------  ----------------------------------------------------------
//   MSG           MAX_BATCH * 1028                      message slots, stride TUNNEL_DATA_SIZE (a batch of bodies)
//   MSG_SLOT_A    MAX_BATCH * 4                         u32 per message: primary key slot (AES layerKey / ChaCha key)
//   MSG_SLOT_B    MAX_BATCH * 4                         u32 per message: secondary key slot (AES ivKey / nonceKey)
//   MSG_PARAM     MAX_BATCH * 16                        16 B per message: IV, or nonce(12) + counter(4 LE), ...
//   MSG_LEN       MAX_BATCH * 4                         u32 per message: length where a kernel takes one
//   MSG_OUT       MAX_BATCH * 32                        32 B per message: digests, tags
//   MSG_STATUS    MAX_BATCH                             u8 per message: STATUS_* (src/constants.ts)
//   KEY_IN        MAX_BATCH * 32                        raw keys staged for key-slot setup, zeroed after use
//   AES_SLOTS     AES_KEY_SLOTS * AES_SLOT_SIZE         expanded AES-256 keys (format private to aes.ts)
//   CHACHA_SLOTS  CHACHA_KEY_SLOTS * CHACHA_SLOT_SIZE   ChaCha20 keys
//   IO            IO_SIZE                               general buffer for the one-shot primitive API
//   SCRATCH       SCRATCH_SIZE                          kernel-private scratch (never holds data across calls)
//
// Every base is 64-byte aligned. The TypeScript side reads the bases from the exported globals below.

import {
  MAX_BATCH, TUNNEL_DATA_SIZE, AES_KEY_SLOTS, AES_SLOT_SIZE, CHACHA_KEY_SLOTS, CHACHA_SLOT_SIZE, IO_SIZE,
} from "../src/constants";

export const SCRATCH_SIZE: i32 = 65536;

export const MSG_BASE: usize = memory.data(MAX_BATCH * TUNNEL_DATA_SIZE, 64);
export const MSG_SLOT_A_BASE: usize = memory.data(MAX_BATCH * 4, 64);
export const MSG_SLOT_B_BASE: usize = memory.data(MAX_BATCH * 4, 64);
export const MSG_PARAM_BASE: usize = memory.data(MAX_BATCH * 16, 64);
export const MSG_LEN_BASE: usize = memory.data(MAX_BATCH * 4, 64);
export const MSG_OUT_BASE: usize = memory.data(MAX_BATCH * 32, 64);
export const MSG_STATUS_BASE: usize = memory.data(MAX_BATCH, 64);
export const KEY_IN_BASE: usize = memory.data(MAX_BATCH * 32, 64);
export const AES_SLOTS_BASE: usize = memory.data(AES_KEY_SLOTS * AES_SLOT_SIZE, 64);
export const CHACHA_SLOTS_BASE: usize = memory.data(CHACHA_KEY_SLOTS * CHACHA_SLOT_SIZE, 64);
export const IO_BASE: usize = memory.data(IO_SIZE, 64);
export const SCRATCH_BASE: usize = memory.data(SCRATCH_SIZE, 64);

/** Address of message slot i. */
// @ts-ignore: decorator
@inline export function msgAt(i: i32): usize { return MSG_BASE + <usize>i * TUNNEL_DATA_SIZE; }

/** Base address of a batch region as the TypeScript side names it (src/crypto/utils.ts): 0 = MSG, 1 = IO. */
// @ts-ignore: decorator
@inline export function regionBase(region: i32): usize { return region == 0 ? MSG_BASE : IO_BASE; }

/**
 * True when messages 0..n-1 at i*stride + [lo, hi) all lie inside region 0 (MSG) or 1 (IO), with n <= MAX_BATCH:
 * the bounds check every batch kernel makes before it touches memory.
 */
export function spanInRegion(n: i32, region: i32, stride: i32, lo: i32, hi: i32): bool {
  if (n < 0 || n > MAX_BATCH || (region != 0 && region != 1) || stride < 0 || lo < 0 || hi < lo) return false;
  if (n == 0) return true;
  const size: i64 = region == 0 ? <i64>MAX_BATCH * TUNNEL_DATA_SIZE : <i64>IO_SIZE;
  return <i64>(n - 1) * stride + hi <= size;
}

/** Zero `len` bytes at `ptr` in a way the optimizer does not elide (key wiping). */
export function wipe(ptr: usize, len: i32): void {
  memory.fill(ptr, 0, <usize>len);
}
