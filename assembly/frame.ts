// Endpoint body parsing in WASM, kept for the WASM-vs-TypeScript measurement of issue 5 (README.md,
// "Where the parsing runs"). frameParseBatch(n, withChecksum) checks n decrypted bodies in the MSG region the way
// src/frame/reassembler.ts validate() does: separator, optional checksum (assembly/sha256.ts), whole-body pair
// validation. Per body it writes MSG_STATUS (0 ok, 1 no separator, 2 bad checksum, 3 malformed) and MSG_LEN (offset
// of the first pair). The product runs the TypeScript parser: measured faster end to end (node:crypto SHA-256).
import { MSG_BASE, MSG_LEN_BASE, MSG_OUT_BASE, MSG_STATUS_BASE } from "./layout";
import { sha256Two } from "./sha256";
import {
  MAX_BATCH, TUNNEL_DATA_SIZE, PADDING_OFFSET, IV_OFFSET, IV_SIZE, CHECKSUM_OFFSET, FLAG_FOLLOW_ON,
  FLAG_UNIMPLEMENTED_MASK, FLAG_FRAGMENTED, DELIVERY_TUNNEL, DELIVERY_ROUTER, HASH_SIZE, FOLLOW_ON_INSTR_SIZE,
} from "../src/constants";

const FRAME_OK: u8 = 0;
const FRAME_NO_SEPARATOR: u8 = 1;
const FRAME_BAD_CHECKSUM: u8 = 2;
const FRAME_MALFORMED: u8 = 3;

function parseOne(b: usize, i: i32, withChecksum: bool): u8 {
  const end: i32 = TUNNEL_DATA_SIZE;
  let sep: i32 = PADDING_OFFSET;
  while (sep < end && load<u8>(b + <usize>sep) != 0) sep++;
  if (sep == end) return FRAME_NO_SEPARATOR;
  const start = sep + 1;
  if (withChecksum) {
    sha256Two(b + <usize>start, end - start, b + <usize>IV_OFFSET, IV_SIZE, MSG_OUT_BASE);
    if (load<u32>(MSG_OUT_BASE) != load<u32>(b + <usize>CHECKSUM_OFFSET)) return FRAME_BAD_CHECKSUM;
  }
  let off = start;
  while (off < end) {
    const flag = <i32>load<u8>(b + <usize>off);
    let p: i32;
    if (flag & FLAG_FOLLOW_ON) {
      if (((flag >> 1) & 0x3f) == 0) return FRAME_MALFORMED;
      p = off + FOLLOW_ON_INSTR_SIZE;
    } else {
      const code = (flag >> 5) & 3;
      if (code == 3 || (flag & FLAG_UNIMPLEMENTED_MASK) != 0) return FRAME_MALFORMED;
      p = off + 3;
      if (code == DELIVERY_TUNNEL) p += 4 + HASH_SIZE;
      else if (code == DELIVERY_ROUTER) p += HASH_SIZE;
      if (flag & FLAG_FRAGMENTED) p += 4;
    }
    if (p > end) return FRAME_MALFORMED;
    const size = (<i32>load<u8>(b + <usize>(p - 2)) << 8) | <i32>load<u8>(b + <usize>(p - 1));
    if (size == 0 || p + size > end) return FRAME_MALFORMED;
    off = p + size;
  }
  store<u32>(MSG_LEN_BASE + (<usize>i << 2), <u32>start);
  return FRAME_OK;
}

/** Parses bodies 0..n-1 of the MSG region; returns how many are OK, or -1 for a bad n. */
export function frameParseBatch(n: i32, withChecksum: i32): i32 {
  if (n < 0 || n > MAX_BATCH) return -1;
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const b = MSG_BASE + <usize>i * TUNNEL_DATA_SIZE;
    const s = parseOne(b, i, withChecksum != 0);
    store<u8>(MSG_STATUS_BASE + <usize>i, s);
    if (s == FRAME_OK) ok++;
  }
  return ok;
}

/** Base of the MSG region (for standalone builds of this file, whose exports lack the layout globals). */
export function frameMsgBase(): usize {
  return MSG_BASE;
}
