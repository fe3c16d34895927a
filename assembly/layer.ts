// Tunnel layer kernels: the AES layer (tunnel-crypto-aes.md §2) composed from assembly/aes.ts, and the ChaCha layer
// of our Proposal 153 profile (docs/chacha-layer.md) composed from assembly/chacha20.ts and assembly/poly1305.ts.
//
// Kernels called from TypeScript (src/tunnel/wasm-backend.ts), over the layout.ts regions:
//   aesLayerBatch(n, decrypt): i32
//     Messages MSG[i*1028, +1028) for i < n, all processed (the caller packs only the messages to transform),
//     layerKey slot MSG_SLOT_A[i], ivKey slot MSG_SLOT_B[i] (AES slots). decrypt = 0: P (participant / OBEP / IBGW);
//     1: P^-1 of one hop (creators call once per hop, the last hop first). MSG_PARAM[16i..] is used for X.
//     Bytes 0..3 untouched. Returns n, or -1 for n out of range, -2 for a slot >= AES_KEY_SLOTS (nothing touched).
//     The IV steps of all n messages are one ECB pass each; CBC runs LANES messages side by side (aes.ts).
//   chachaLayerBatch(n, mode): i32
//     Message i = MSG[i*1028, +1028), processed only when MSG_STATUS[i] == STATUS_OK on entry. Keys are ChaCha key
//     slots: MSG_SLOT_A[i] = layerKey, MSG_SLOT_B[i] = nonceKey, MSG_PARAM[16i..] = u32 LE inAeadSlot, outAeadSlot,
//     nextTunnelId (big-endian on the wire, given here as a u32 value), unused. `mode` bits, in this order:
//       MODE_OPEN (1)     AEAD-open the frame with inAeadSlot (AD = body[0..20), nonce 0^4 || tunnelNonce); a bad
//                         MAC sets MSG_STATUS[i] = STATUS_BAD_MAC and leaves the message untouched
//       MODE_FORWARD (2)  the hop's forward layer (participant / OBEP / IBGW)
//       MODE_INVERSE (4)  the hop's inverse layer (creators: one hop per call, the last hop first)
//       MODE_SET_ID (8)   body[0..3] := nextTunnelId
//       MODE_SEAL (16)    AEAD-seal the frame with outAeadSlot, MAC at 1012
//     Returns the number of messages still STATUS_OK, or -1 (nothing touched) for n out of range or a slot >= CHACHA_KEY_SLOTS.
import {
  AES_KEY_SLOTS, CHACHA_KEY_SLOTS, MAX_BATCH, STATUS_OK, STATUS_BAD_MAC, TUNNEL_DATA_SIZE, IV_OFFSET, DATA_OFFSET, DATA_SIZE,
} from "../src/constants";
import { MSG_BASE, MSG_SLOT_A_BASE, MSG_SLOT_B_BASE, MSG_PARAM_BASE, MSG_STATUS_BASE, wipe } from "./layout";
import { ecbEncryptBlocks, ecbDecryptBlocks, cbcEncryptLanes, cbcDecryptLanes } from "./aes";
import { chachaXor, chachaSlotPtr } from "./chacha20";
import { aeadOpen, aeadSeal } from "./poly1305";

export const MODE_OPEN: i32 = 1;
export const MODE_FORWARD: i32 = 2;
export const MODE_INVERSE: i32 = 4;
export const MODE_SET_ID: i32 = 8;
export const MODE_SEAL: i32 = 16;

// Body offsets of the ChaCha profile (docs/chacha-layer.md §2).
const TUNNEL_NONCE: usize = 4;
const OBFS_NONCE: usize = 12;
const FRAME: usize = 20;
const FRAME_SIZE: i32 = 992;
const MAC: usize = 1012;
const AD_SIZE: i32 = 20;

const DOMAIN_LAYER: u32 = 0;
const DOMAIN_TUNNEL_NONCE: u32 = 1;
const DOMAIN_OBFS_NONCE: u32 = 2;

/** 12-byte nonce being built (domain word || 8-byte nonce); holds no secret. */
const NONCE: usize = memory.data(16, 16);

// @ts-ignore: decorator
@inline function setNonce(domain: u32, src: usize): void {
  store<u32>(NONCE, domain);
  store<u64>(NONCE, load<u64>(src), 4);
}

function forward(m: usize, lk: usize, nk: usize): void {
  setNonce(DOMAIN_TUNNEL_NONCE, m + OBFS_NONCE);
  chachaXor(nk, NONCE, 0, m + TUNNEL_NONCE, m + TUNNEL_NONCE, 8);
  setNonce(DOMAIN_LAYER, m + TUNNEL_NONCE);
  chachaXor(lk, NONCE, 0, m + FRAME, m + FRAME, FRAME_SIZE);
  setNonce(DOMAIN_OBFS_NONCE, m + TUNNEL_NONCE);
  chachaXor(nk, NONCE, 0, m + OBFS_NONCE, m + OBFS_NONCE, 8);
}

function inverse(m: usize, lk: usize, nk: usize): void {
  setNonce(DOMAIN_OBFS_NONCE, m + TUNNEL_NONCE);
  chachaXor(nk, NONCE, 0, m + OBFS_NONCE, m + OBFS_NONCE, 8);
  setNonce(DOMAIN_LAYER, m + TUNNEL_NONCE);
  chachaXor(lk, NONCE, 0, m + FRAME, m + FRAME, FRAME_SIZE);
  setNonce(DOMAIN_TUNNEL_NONCE, m + OBFS_NONCE);
  chachaXor(nk, NONCE, 0, m + TUNNEL_NONCE, m + TUNNEL_NONCE, 8);
}

export function chachaLayerBatch(n: i32, mode: i32): i32 {
  if (n < 0 || n > MAX_BATCH) return -1;
  for (let i = 0; i < n; i++) {
    if (load<u8>(MSG_STATUS_BASE + <usize>i) != STATUS_OK) continue;
    const p = MSG_PARAM_BASE + (<usize>i << 4);
    if (load<u32>(MSG_SLOT_A_BASE + (<usize>i << 2)) >= <u32>CHACHA_KEY_SLOTS) return -1;
    if (load<u32>(MSG_SLOT_B_BASE + (<usize>i << 2)) >= <u32>CHACHA_KEY_SLOTS) return -1;
    if ((mode & MODE_OPEN) != 0 && load<u32>(p) >= <u32>CHACHA_KEY_SLOTS) return -1;
    if ((mode & MODE_SEAL) != 0 && load<u32>(p, 4) >= <u32>CHACHA_KEY_SLOTS) return -1;
  }
  let ok = 0;
  for (let i = 0; i < n; i++) {
    if (load<u8>(MSG_STATUS_BASE + <usize>i) != STATUS_OK) continue;
    const m = MSG_BASE + <usize>i * TUNNEL_DATA_SIZE;
    const p = MSG_PARAM_BASE + (<usize>i << 4);
    if ((mode & MODE_OPEN) != 0) {
      setNonce(0, m + TUNNEL_NONCE);
      if (!aeadOpen(chachaSlotPtr(load<u32>(p)), NONCE, m, AD_SIZE, m + FRAME, m + FRAME, FRAME_SIZE, m + MAC)) {
        store<u8>(MSG_STATUS_BASE + <usize>i, STATUS_BAD_MAC);
        continue;
      }
      memory.fill(m + MAC, 0, 16);
    }
    const lk = chachaSlotPtr(load<u32>(MSG_SLOT_A_BASE + (<usize>i << 2)));
    const nk = chachaSlotPtr(load<u32>(MSG_SLOT_B_BASE + (<usize>i << 2)));
    if ((mode & MODE_FORWARD) != 0) forward(m, lk, nk);
    if ((mode & MODE_INVERSE) != 0) inverse(m, lk, nk);
    if ((mode & MODE_SET_ID) != 0) store<u32>(m, bswap<u32>(load<u32>(p, 8)));
    if ((mode & MODE_SEAL) != 0) {
      setNonce(0, m + TUNNEL_NONCE);
      aeadSeal(chachaSlotPtr(load<u32>(p, 4)), NONCE, m, AD_SIZE, m + FRAME, m + FRAME, FRAME_SIZE, m + MAC);
    }
    ok++;
  }
  wipe(NONCE, 16);
  return ok;
}

export function aesLayerBatch(n: i32, decrypt: i32): i32 {
  if (n < 0 || n > MAX_BATCH) return -1;
  let bad: u32 = 0;
  for (let i = 0; i < n; i++) {
    bad |= <u32>(load<u32>(MSG_SLOT_A_BASE + (<usize>i << 2)) >= <u32>AES_KEY_SLOTS);
    bad |= <u32>(load<u32>(MSG_SLOT_B_BASE + (<usize>i << 2)) >= <u32>AES_KEY_SLOTS);
  }
  if (bad) return -2;
  const iv = MSG_BASE + <usize>IV_OFFSET;
  if (decrypt == 0) {
    // X = E(ivKey, IV); D' = CBC-E(layerKey, X, D); IV' = E(ivKey, X)
    ecbEncryptBlocks(n, iv, TUNNEL_DATA_SIZE, MSG_PARAM_BASE, 16, MSG_SLOT_B_BASE, 4);
    cbcEncryptLanes(n, MSG_BASE, TUNNEL_DATA_SIZE, DATA_OFFSET, DATA_SIZE, MSG_PARAM_BASE, 16, MSG_SLOT_A_BASE, 4);
    ecbEncryptBlocks(n, MSG_PARAM_BASE, 16, iv, TUNNEL_DATA_SIZE, MSG_SLOT_B_BASE, 4);
  } else {
    // X = D(ivKey, IV'); D = CBC-D(layerKey, X, D'); IV = D(ivKey, X)
    ecbDecryptBlocks(n, iv, TUNNEL_DATA_SIZE, MSG_PARAM_BASE, 16, MSG_SLOT_B_BASE, 4);
    cbcDecryptLanes(n, MSG_BASE, TUNNEL_DATA_SIZE, DATA_OFFSET, DATA_SIZE, MSG_PARAM_BASE, 16, MSG_SLOT_A_BASE, 4);
    ecbDecryptBlocks(n, MSG_PARAM_BASE, 16, iv, TUNNEL_DATA_SIZE, MSG_SLOT_B_BASE, 4);
  }
  wipe(MSG_PARAM_BASE, n << 4);
  return n;
}

/**
 * One step of CBC encryption run "sideways" across n messages of one tunnel (the hybrid backend's large groups):
 * the AES itself is node:crypto ECB with the layer key over MSG_PARAM[0..16n) between the steps; this kernel does
 * the scatter / gather around it, in place on the messages MSG[i*1028, +1028) (data at DATA_OFFSET).
 *   j = -1: MSG_PARAM[16i..] (X_i, the CBC IV, on entry) ^= data block 0 of message i: the first ECB input.
 *   0 <= j < 62: MSG_PARAM[16i..] holds c_ij = E(p_ij ^ c_i,j-1); store it as data block j of message i and leave
 *     data block j+1 ^ c_ij there (the next ECB input).
 *   j = 62 (the last block): store only.
 * Returns n, or -1 (nothing touched) for n or j out of range.
 */
export function cbcSidewaysStep(n: i32, j: i32): i32 {
  const blocks = DATA_SIZE >> 4;
  if (n < 0 || n > MAX_BATCH || j < -1 || j >= blocks) return -1;
  for (let i = 0; i < n; i++) {
    const p = MSG_PARAM_BASE + (<usize>i << 4);
    const m = MSG_BASE + <usize>i * TUNNEL_DATA_SIZE + <usize>DATA_OFFSET;
    if (j < 0) {
      store<u64>(p, load<u64>(p) ^ load<u64>(m));
      store<u64>(p, load<u64>(p, 8) ^ load<u64>(m, 8), 8);
      continue;
    }
    const d = m + (<usize>j << 4);
    const c0 = load<u64>(p);
    const c1 = load<u64>(p, 8);
    store<u64>(d, c0);
    store<u64>(d, c1, 8);
    if (j + 1 < blocks) {
      store<u64>(p, c0 ^ load<u64>(d, 16));
      store<u64>(p, c1 ^ load<u64>(d, 24), 8);
    }
  }
  return n;
}
