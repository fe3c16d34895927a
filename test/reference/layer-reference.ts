// A slow, readable reference of the tunnel layer transforms, written from the specs and independent of
// src/tunnel/ and of node:crypto: AES single blocks from @noble/ciphers (ECB, one block at a time), CBC chaining by
// hand; ChaCha20 and ChaCha20-Poly1305 from @noble/ciphers.
//   AES:    ../shared/spec/tunnel-crypto-aes.md §2 (P, P^-1), §3 (creator order), §5 (replay entry)
//   ChaCha: docs/chacha-layer.md (our profile of Proposal 153)
import { ecb } from '@noble/ciphers/aes.js';
import { chacha20, chacha20poly1305 } from '@noble/ciphers/chacha.js';

export interface RefHop {
  layerKey: Uint8Array;
  ivKey: Uint8Array;
}

function encryptBlock(key: Uint8Array, block: Uint8Array): Uint8Array {
  return ecb(key, { disablePadding: true }).encrypt(block);
}

function decryptBlock(key: Uint8Array, block: Uint8Array): Uint8Array {
  return ecb(key, { disablePadding: true }).decrypt(block);
}

function xor16(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** P on a 1028-byte body (a copy is returned): IV at 4..20, 63 data blocks at 20..1028. */
export function refHopEncrypt(body: Uint8Array, hop: RefHop): Uint8Array {
  const out = Uint8Array.from(body);
  const iv = out.slice(4, 20);
  const x = encryptBlock(hop.ivKey, iv); // 1. X = E(ivKey, IV)
  let prev = x; // 2. CBC encrypt, IV = X
  for (let b = 0; b < 63; b++) {
    const at = 20 + b * 16;
    const c = encryptBlock(hop.layerKey, xor16(out.slice(at, at + 16), prev));
    out.set(c, at);
    prev = c;
  }
  out.set(encryptBlock(hop.ivKey, x), 4); // 3. IV' = E(ivKey, X)
  return out;
}

/** P^-1 on a 1028-byte body (a copy is returned). */
export function refHopDecrypt(body: Uint8Array, hop: RefHop): Uint8Array {
  const out = Uint8Array.from(body);
  const x = decryptBlock(hop.ivKey, out.slice(4, 20)); // 1. X = D(ivKey, IV')
  let prev = x; // 2. CBC decrypt, IV = X
  for (let b = 0; b < 63; b++) {
    const at = 20 + b * 16;
    const c = out.slice(at, at + 16);
    out.set(xor16(decryptBlock(hop.layerKey, c), prev), at);
    prev = c;
  }
  out.set(decryptBlock(hop.ivKey, x), 4); // 3. IV = D(ivKey, X)
  return out;
}

/** A participant: P, then bytes 0..3 := nextTunnelId (big-endian). */
export function refParticipant(body: Uint8Array, hop: RefHop, nextTunnelId: number): Uint8Array {
  const out = refHopEncrypt(body, hop);
  new DataView(out.buffer).setUint32(0, nextTunnelId);
  return out;
}

/** The creator's strip: P^-1 of the last hop first, hop 1 last (hops in forwarding order). */
export function refStrip(body: Uint8Array, hops: readonly RefHop[]): Uint8Array {
  let out = body;
  for (let i = hops.length - 1; i >= 0; i--) out = refHopDecrypt(out, hops[i]!);
  return Uint8Array.from(out);
}

/** The replay entry: received IV XOR the first 16 data bytes. */
export function refReplayEntry(body: Uint8Array): Uint8Array {
  return xor16(body.slice(4, 20), body.slice(20, 36));
}

// --- ChaCha profile (docs/chacha-layer.md) ---

function nonce12(domain: number, nonce8: Uint8Array): Uint8Array {
  const n = new Uint8Array(12);
  n[0] = domain; // domain as a 32-bit little-endian word, then the 8-byte nonce
  n.set(nonce8, 4);
  return n;
}

function xorInto(dst: Uint8Array, at: number, ks: Uint8Array): void {
  for (let i = 0; i < ks.length; i++) dst[at + i]! ^= ks[i]!;
}

function keystream(key: Uint8Array, domain: number, nonce8: Uint8Array, len: number): Uint8Array {
  return chacha20(key, nonce12(domain, nonce8), new Uint8Array(len));
}

/** Forward ChaCha layer of one hop (keys: layerKey, ivKey = nonceKey) on a copy. */
export function refChachaForward(body: Uint8Array, hop: RefHop): Uint8Array {
  const out = Uint8Array.from(body);
  xorInto(out, 4, keystream(hop.ivKey, 1, out.slice(12, 20), 8)); // tunnelNonce' (with obfsNonce)
  xorInto(out, 20, keystream(hop.layerKey, 0, out.slice(4, 12), 992)); // frame (with tunnelNonce')
  xorInto(out, 12, keystream(hop.ivKey, 2, out.slice(4, 12), 8)); // obfsNonce' (with tunnelNonce')
  return out;
}

export function refChachaInverse(body: Uint8Array, hop: RefHop): Uint8Array {
  const out = Uint8Array.from(body);
  xorInto(out, 12, keystream(hop.ivKey, 2, out.slice(4, 12), 8));
  xorInto(out, 20, keystream(hop.layerKey, 0, out.slice(4, 12), 992));
  xorInto(out, 4, keystream(hop.ivKey, 1, out.slice(12, 20), 8));
  return out;
}

export function refAeadSeal(body: Uint8Array, key: Uint8Array): Uint8Array {
  const out = Uint8Array.from(body);
  const sealed = chacha20poly1305(key, nonce12(0, out.slice(4, 12)), out.slice(0, 20)).encrypt(out.slice(20, 1012));
  out.set(sealed, 20); // 992 bytes of ciphertext, then the 16-byte tag at 1012
  return out;
}

/** Returns null when the tag does not verify. */
export function refAeadOpen(body: Uint8Array, key: Uint8Array): Uint8Array | null {
  const out = Uint8Array.from(body);
  try {
    const plain = chacha20poly1305(key, nonce12(0, out.slice(4, 12)), out.slice(0, 20)).decrypt(out.slice(20, 1028));
    out.set(plain, 20);
    out.fill(0, 1012);
    return out;
  } catch {
    return null;
  }
}

export interface RefChachaHop extends RefHop {
  inAeadKey?: Uint8Array;
  outAeadKey?: Uint8Array;
}

export function refChachaHop(body: Uint8Array, hop: RefChachaHop, nextTunnelId: number): Uint8Array | null {
  let out: Uint8Array | null = Uint8Array.from(body);
  if (hop.inAeadKey) out = refAeadOpen(out, hop.inAeadKey);
  if (!out) return null;
  out = refChachaForward(out, hop);
  new DataView(out.buffer).setUint32(0, nextTunnelId);
  if (hop.outAeadKey) out = refAeadSeal(out, hop.outAeadKey);
  return out;
}

export function refChachaStrip(
  body: Uint8Array,
  hops: readonly RefHop[],
  aead: { inAeadKey?: Uint8Array; outAeadKey?: Uint8Array } = {},
): Uint8Array | null {
  let out: Uint8Array | null = Uint8Array.from(body);
  if (aead.inAeadKey) out = refAeadOpen(out, aead.inAeadKey);
  if (!out) return null;
  for (let i = hops.length - 1; i >= 0; i--) out = refChachaInverse(out, hops[i]!);
  if (aead.outAeadKey) out = refAeadSeal(out, aead.outAeadKey);
  return out;
}
