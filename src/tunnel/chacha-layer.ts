// ChaCha20 tunnel layer, our profile of Proposal 153 (docs/chacha-layer.md), per message with node:crypto.
// No deployed router speaks it: it is for tunnels between tunnelplane routers only.
//
// Body: tunnelId(4) | tunnelNonce(8) @4 | obfsNonce(8) @12 | frame(992) @20 | MAC(16) @1012.
// Raw ChaCha20 (RFC 8439 block function, 32-bit counter from 0) with 96-bit nonce = domain(4, LE) || nonce(8):
// domain 0 = layer keystream, 1 = tunnelNonce encryption, 2 = obfsNonce encryption (all under per-hop keys).
// AEAD: ChaCha20-Poly1305 (RFC 8439), nonce = 0x00000000 || tunnelNonce as sent, AD = body[0..20) as sent.
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { TUNNEL_DATA_SIZE } from '../constants.js';

export const CHACHA_TUNNEL_NONCE_OFFSET = 4;
export const CHACHA_OBFS_NONCE_OFFSET = 12;
export const CHACHA_FRAME_OFFSET = 20;
export const CHACHA_FRAME_SIZE = 992;
export const CHACHA_MAC_OFFSET = 1012;
export const CHACHA_AD_SIZE = 20;

export const DOMAIN_LAYER = 0;
export const DOMAIN_TUNNEL_NONCE = 1;
export const DOMAIN_OBFS_NONCE = 2;

/** Keys of one ChaCha hop (ivKey = Proposal 153's nonceKey). */
export interface ChaChaHopKeys {
  layerKey: Uint8Array;
  ivKey: Uint8Array;
}

/** XOR `len` bytes at buf[off..] with ChaCha20(key, domain || nonce8, counter 0). */
function xorStream(
  key: Uint8Array,
  domain: number,
  nonce: Uint8Array,
  no: number,
  buf: Uint8Array,
  off: number,
  len: number,
): void {
  const iv = new Uint8Array(16); // node's chacha20 IV: counter(4, LE) || nonce(12)
  iv[4] = domain;
  iv.set(nonce.subarray(no, no + 8), 8);
  const c = createCipheriv('chacha20', key, iv);
  buf.set(c.update(buf.subarray(off, off + len)), off);
}

/** A hop's forward layer (participant / OBEP / IBGW) on body[4..1012), in place. */
export function chachaLayerForward(body: Uint8Array, k: ChaChaHopKeys): void {
  // tunnelNonce' = tunnelNonce ^ KS(nonceKey, 1 || obfsNonce)
  xorStream(k.ivKey, DOMAIN_TUNNEL_NONCE, body, CHACHA_OBFS_NONCE_OFFSET, body, CHACHA_TUNNEL_NONCE_OFFSET, 8);
  // frame ^= KS(layerKey, 0 || tunnelNonce')
  xorStream(k.layerKey, DOMAIN_LAYER, body, CHACHA_TUNNEL_NONCE_OFFSET, body, CHACHA_FRAME_OFFSET, CHACHA_FRAME_SIZE);
  // obfsNonce' = obfsNonce ^ KS(nonceKey, 2 || tunnelNonce')
  xorStream(k.ivKey, DOMAIN_OBFS_NONCE, body, CHACHA_TUNNEL_NONCE_OFFSET, body, CHACHA_OBFS_NONCE_OFFSET, 8);
}

/** The exact inverse of chachaLayerForward (creators: OBGW pre-processing, IBEP). */
export function chachaLayerInverse(body: Uint8Array, k: ChaChaHopKeys): void {
  xorStream(k.ivKey, DOMAIN_OBFS_NONCE, body, CHACHA_TUNNEL_NONCE_OFFSET, body, CHACHA_OBFS_NONCE_OFFSET, 8);
  xorStream(k.layerKey, DOMAIN_LAYER, body, CHACHA_TUNNEL_NONCE_OFFSET, body, CHACHA_FRAME_OFFSET, CHACHA_FRAME_SIZE);
  xorStream(k.ivKey, DOMAIN_TUNNEL_NONCE, body, CHACHA_OBFS_NONCE_OFFSET, body, CHACHA_TUNNEL_NONCE_OFFSET, 8);
}

function aeadNonce(body: Uint8Array): Uint8Array {
  const n = new Uint8Array(12);
  n.set(body.subarray(CHACHA_TUNNEL_NONCE_OFFSET, CHACHA_TUNNEL_NONCE_OFFSET + 8), 4);
  return n;
}

/** Seals the frame in place: frame encrypted, MAC written at 1012; AD = body[0..20). */
export function chachaAeadSeal(body: Uint8Array, key: Uint8Array): void {
  const c = createCipheriv('chacha20-poly1305', key, aeadNonce(body), { authTagLength: 16 });
  c.setAAD(body.subarray(0, CHACHA_AD_SIZE), { plaintextLength: CHACHA_FRAME_SIZE });
  body.set(c.update(body.subarray(CHACHA_FRAME_OFFSET, CHACHA_FRAME_OFFSET + CHACHA_FRAME_SIZE)), CHACHA_FRAME_OFFSET);
  c.final();
  body.set(c.getAuthTag(), CHACHA_MAC_OFFSET);
}

/** Opens the frame in place when the MAC verifies (then zeroes the MAC) and returns true; else leaves body as is. */
export function chachaAeadOpen(body: Uint8Array, key: Uint8Array): boolean {
  const d = createDecipheriv('chacha20-poly1305', key, aeadNonce(body), { authTagLength: 16 });
  d.setAAD(body.subarray(0, CHACHA_AD_SIZE), { plaintextLength: CHACHA_FRAME_SIZE });
  d.setAuthTag(body.subarray(CHACHA_MAC_OFFSET, CHACHA_MAC_OFFSET + 16));
  const plain = d.update(body.subarray(CHACHA_FRAME_OFFSET, CHACHA_FRAME_OFFSET + CHACHA_FRAME_SIZE));
  try {
    d.final();
  } catch {
    plain.fill(0);
    return false;
  }
  body.set(plain, CHACHA_FRAME_OFFSET);
  body.fill(0, CHACHA_MAC_OFFSET, TUNNEL_DATA_SIZE);
  return true;
}

/**
 * One ChaCha hop as in the `hop` vectors kind: AEAD-open with `inAeadKey` (absent: IBGW, input is local plaintext),
 * forward layer, body[0..3] := nextTunnelId, AEAD-seal with `outAeadKey` (absent: OBEP, output stays here with a
 * zero MAC). Returns false (body untouched) when the MAC does not verify.
 */
export function chachaHop(
  body: Uint8Array,
  keys: ChaChaHopKeys & { inAeadKey?: Uint8Array; outAeadKey?: Uint8Array },
  nextTunnelId: number,
): boolean {
  if (keys.inAeadKey && !chachaAeadOpen(body, keys.inAeadKey)) return false;
  chachaLayerForward(body, keys);
  new DataView(body.buffer, body.byteOffset, 4).setUint32(0, nextTunnelId >>> 0);
  if (keys.outAeadKey) chachaAeadSeal(body, keys.outAeadKey);
  return true;
}

/**
 * The creator's strip as in the `strip` vectors kind: AEAD-open with `inAeadKey` if given (IBEP), then the inverse
 * layer of the last hop first and hop 1 last, then AEAD-seal with `outAeadKey` if given (OBGW). Bytes 0..3 untouched.
 * Returns false (body untouched) when the MAC does not verify.
 */
export function chachaStrip(
  body: Uint8Array,
  hops: readonly ChaChaHopKeys[],
  aead: { inAeadKey?: Uint8Array; outAeadKey?: Uint8Array } = {},
): boolean {
  if (aead.inAeadKey && !chachaAeadOpen(body, aead.inAeadKey)) return false;
  for (let i = hops.length - 1; i >= 0; i--) chachaLayerInverse(body, hops[i]!);
  if (aead.outAeadKey) chachaAeadSeal(body, aead.outAeadKey);
  return true;
}
