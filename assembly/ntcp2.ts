// NTCP2 data-phase frames in batches (ntcp2-routerinfo.md §5.1): several ChaCha20-Poly1305 frames, of one session or
// of several, sealed or opened in one call. Frames have their own lengths, so they lie back to back in IO exactly as
// on the wire: frame i = length(2) || data(len_i) || tag(16), the next frame right after it. The 2 length bytes
// (SipHash-obfuscated) are written and read by the caller, which owns the per-direction SipHash chain.
//
// Kernels called from TypeScript:
//   ntcp2SealFrames(n): i32
//       frame i: key KEY_IN[32i..32i+32), nonce MSG_PARAM[16i..16i+12), plaintext length MSG_LEN[i] (u32),
//       empty AAD; data sealed in place, tag after it. MSG_STATUS[i] = STATUS_OK. Returns n.
//   ntcp2OpenFrames(n): i32
//       the inverse with MSG_LEN[i] = sealed length - 16; decrypts in place only when the tag matches, else the frame
//       is left untouched and MSG_STATUS[i] = STATUS_BAD_MAC. Returns the number of frames that opened.
//   Both return -1 (nothing decrypted or encrypted) when n is out of 0..MAX_BATCH or the frames do not fit IO, and
//   always wipe KEY_IN[0..32n) before returning.
import { MAX_BATCH, IO_SIZE, POLY1305_TAG_SIZE, STATUS_OK, STATUS_BAD_MAC } from "../src/constants";
import { MSG_PARAM_BASE, MSG_LEN_BASE, MSG_STATUS_BASE, KEY_IN_BASE, IO_BASE, wipe } from "./layout";
import { aeadSeal, aeadOpen } from "./poly1305";

/** Frame length field (§5.1). */
const LENGTH_SIZE: i32 = 2;

/** True when frames 0..n-1 (lengths from MSG_LEN) fit IO back to back. */
function framesFit(n: i32): bool {
  if (n < 0 || n > MAX_BATCH) return false;
  let end: i64 = 0;
  for (let i = 0; i < n; i++) {
    end += <i64>LENGTH_SIZE + <i64>load<u32>(MSG_LEN_BASE + (<usize>i << 2)) + POLY1305_TAG_SIZE;
  }
  return end <= <i64>IO_SIZE;
}

function frames(seal: bool, n: i32): i32 {
  if (!framesFit(n)) {
    if (n > 0 && n <= MAX_BATCH) wipe(KEY_IN_BASE, n << 5);
    return -1;
  }
  let at: usize = IO_BASE;
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const len = <i32>load<u32>(MSG_LEN_BASE + (<usize>i << 2));
    const key = KEY_IN_BASE + (<usize>i << 5);
    const nonce = MSG_PARAM_BASE + (<usize>i << 4);
    const data = at + <usize>LENGTH_SIZE;
    const status = MSG_STATUS_BASE + <usize>i;
    if (seal) {
      aeadSeal(key, nonce, 0, 0, data, data, len, data + <usize>len);
      store<u8>(status, STATUS_OK);
      ok++;
    } else if (aeadOpen(key, nonce, 0, 0, data, data, len, data + <usize>len)) {
      store<u8>(status, STATUS_OK);
      ok++;
    } else {
      store<u8>(status, STATUS_BAD_MAC);
    }
    at = data + <usize>len + POLY1305_TAG_SIZE;
  }
  wipe(KEY_IN_BASE, n << 5);
  return ok;
}

export function ntcp2SealFrames(n: i32): i32 {
  return frames(true, n);
}

export function ntcp2OpenFrames(n: i32): i32 {
  return frames(false, n);
}
