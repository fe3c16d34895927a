// An independent, readable reference of ECIES tunnel build records and router garlic, written from the spec digests
// (tunnel-build-ecies.md §4-§7, §10; netdb-floodfill.md §4) with @noble primitives only, so the tests do not check
// src/router against itself. Slow and allocation-happy on purpose.
import { cbc } from '@noble/ciphers/aes.js';
import { chacha20, chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';

const enc = new TextEncoder();
export const REF_CK0 = (() => {
  const b = new Uint8Array(32);
  b.set(enc.encode('Noise_N_25519_ChaChaPoly_SHA256'));
  return b;
})();

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function refNonce(n: number): Uint8Array {
  const b = new Uint8Array(12);
  new DataView(b.buffer).setUint32(4, n, true);
  return b;
}

function hk(ck: Uint8Array, ikm: Uint8Array, info: string): [Uint8Array, Uint8Array] {
  const out = hkdf(sha256, ikm, ck, enc.encode(info), 64);
  return [out.slice(0, 32), out.slice(32)];
}

export interface RefNoise {
  epk: Uint8Array;
  sealed: Uint8Array;
  ck: Uint8Array;
  h: Uint8Array;
}

/** Noise N initiator, spec §5 step by step. */
export function refNoiseSeal(staticPub: Uint8Array, payload: Uint8Array, ephPriv: Uint8Array): RefNoise {
  let h = sha256(REF_CK0);
  h = sha256(cat(h, staticPub));
  const epk = x25519.getPublicKey(ephPriv);
  h = sha256(cat(h, epk));
  const ss = x25519.getSharedSecret(ephPriv, staticPub);
  const [ck, k] = hk(REF_CK0, ss, '');
  const sealed = chacha20poly1305(k, refNonce(0), h).encrypt(payload);
  h = sha256(cat(h, sealed));
  return { epk, sealed, ck, h };
}

/** Noise N responder; throws on a bad tag (reference only). */
export function refNoiseOpen(
  staticPriv: Uint8Array,
  epk: Uint8Array,
  sealed: Uint8Array,
): { payload: Uint8Array; ck: Uint8Array; h: Uint8Array } {
  let h = sha256(REF_CK0);
  h = sha256(cat(h, x25519.getPublicKey(staticPriv)));
  h = sha256(cat(h, epk));
  const ss = x25519.getSharedSecret(staticPriv, epk);
  const [ck, k] = hk(REF_CK0, ss, '');
  const payload = chacha20poly1305(k, refNonce(0), h).decrypt(sealed);
  h = sha256(cat(h, sealed));
  return { payload, ck, h };
}

export interface RefFields {
  receiveTunnelId: number;
  nextTunnelId: number;
  nextIdent: Uint8Array;
  flags: number;
  layerType?: number;
  moreFlags?: number;
  requestTimeMinutes: number;
  expiration?: number;
  nextMsgId: number;
  /** Raw options bytes (default 00 00). */
  options?: Uint8Array;
}

/** Short cleartext per the §4.1 table. */
export function refShortCleartext(f: RefFields): Uint8Array {
  const b = new Uint8Array(154);
  const v = new DataView(b.buffer);
  v.setUint32(0, f.receiveTunnelId);
  v.setUint32(4, f.nextTunnelId);
  b.set(f.nextIdent, 8);
  b[40] = f.flags;
  v.setUint16(41, f.moreFlags ?? 0);
  b[43] = f.layerType ?? 0;
  v.setUint32(44, f.requestTimeMinutes);
  v.setUint32(48, f.expiration ?? 600);
  v.setUint32(52, f.nextMsgId);
  b.set(f.options ?? new Uint8Array(2), 56);
  return b;
}

/** Parses a short cleartext (reference, for checking what our creator wrote). */
export function refParseShortCleartext(b: Uint8Array): Required<Omit<RefFields, 'options'>> & { options: Uint8Array } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    receiveTunnelId: v.getUint32(0),
    nextTunnelId: v.getUint32(4),
    nextIdent: b.slice(8, 40),
    flags: b[40]!,
    moreFlags: v.getUint16(41),
    layerType: b[43]!,
    requestTimeMinutes: v.getUint32(44),
    expiration: v.getUint32(48),
    nextMsgId: v.getUint32(52),
    options: b.slice(56),
  };
}

export interface RefKeys {
  replyKey: Uint8Array;
  layerKey: Uint8Array;
  ivKey: Uint8Array;
  garlicKey?: Uint8Array;
  garlicTag?: Uint8Array;
}

/** §6 key schedule. */
export function refKeys(ck0: Uint8Array, obep: boolean): RefKeys {
  let [ck, replyKey] = hk(ck0, new Uint8Array(0), 'SMTunnelReplyKey');
  let layerKey: Uint8Array;
  [ck, layerKey] = hk(ck, new Uint8Array(0), 'SMTunnelLayerKey');
  if (!obep) return { replyKey, layerKey, ivKey: ck };
  let ivKey: Uint8Array;
  [ck, ivKey] = hk(ck, new Uint8Array(0), 'TunnelLayerIVKey');
  const [tagPart, garlicKey] = hk(ck, new Uint8Array(0), 'RGarlicKeyAndTag');
  return { replyKey, layerKey, ivKey, garlicKey, garlicTag: tagPart.slice(0, 8) };
}

/** A 218-byte record for `hopHash`/`hopPub` (§4.2). */
export function refShortRecord(
  hopHash: Uint8Array,
  hopPub: Uint8Array,
  clear: Uint8Array,
  ephPriv: Uint8Array,
): { record: Uint8Array; ck: Uint8Array; h: Uint8Array } {
  const n = refNoiseSeal(hopPub, clear, ephPriv);
  return { record: cat(hopHash.subarray(0, 16), n.epk, n.sealed), ck: n.ck, h: n.h };
}

export interface RefLongFields extends RefFields {
  layerKey: Uint8Array;
  ivKey: Uint8Array;
  replyKey: Uint8Array;
  replyIv: Uint8Array;
}

/** Long cleartext per §10. */
export function refLongCleartext(f: RefLongFields): Uint8Array {
  const b = new Uint8Array(464);
  const v = new DataView(b.buffer);
  v.setUint32(0, f.receiveTunnelId);
  v.setUint32(4, f.nextTunnelId);
  b.set(f.nextIdent, 8);
  b.set(f.layerKey, 40);
  b.set(f.ivKey, 72);
  b.set(f.replyKey, 104);
  b.set(f.replyIv, 136);
  b[152] = f.flags;
  v.setUint32(156, f.requestTimeMinutes);
  v.setUint32(160, f.expiration ?? 600);
  v.setUint32(164, f.nextMsgId);
  b.set(f.options ?? new Uint8Array(2), 168);
  return b;
}

export function refLongRecord(
  hopHash: Uint8Array,
  hopPub: Uint8Array,
  clear: Uint8Array,
  ephPriv: Uint8Array,
): { record: Uint8Array; ck: Uint8Array; h: Uint8Array } {
  return refShortRecord(hopHash, hopPub, clear, ephPriv);
}

/** Opens a hop's short reply slot (§7.2 step 1): returns the 202-byte cleartext; throws when tampered. */
export function refOpenShortReply(replyKey: Uint8Array, index: number, h: Uint8Array, slot: Uint8Array): Uint8Array {
  return chacha20poly1305(replyKey, refNonce(index), h).decrypt(slot);
}

export function refSealShortReply(replyKey: Uint8Array, index: number, h: Uint8Array, clear: Uint8Array): Uint8Array {
  return chacha20poly1305(replyKey, refNonce(index), h).encrypt(clear);
}

export function refOpenLongReply(ck: Uint8Array, h: Uint8Array, slot: Uint8Array): Uint8Array {
  return chacha20poly1305(ck, refNonce(0), h).decrypt(slot);
}

/** §7.2 step 2 layer on slot j. */
export function refChaChaSlot(replyKey: Uint8Array, j: number, slot: Uint8Array): Uint8Array {
  return chacha20(replyKey, refNonce(j), slot, undefined, 1);
}

/** §10 per-slot AES-256-CBC, IV restarting per slot, no padding. */
export function refAesSlot(replyKey: Uint8Array, replyIv: Uint8Array, slot: Uint8Array): Uint8Array {
  return cbc(replyKey, replyIv, { disablePadding: true }).encrypt(slot);
}

/** netdb-floodfill.md §4.2: opens a key+tag garlic (Garlic body with its 4-byte length) into its plaintext blocks. */
export function refOpenTagGarlic(key: Uint8Array, tag: Uint8Array, body: Uint8Array): Uint8Array {
  const len = new DataView(body.buffer, body.byteOffset).getUint32(0);
  if (len !== body.length - 4) throw new Error('garlic length');
  const t = body.subarray(4, 12);
  if (Buffer.compare(Buffer.from(t), Buffer.from(tag)) !== 0) throw new Error('tag');
  return chacha20poly1305(key, refNonce(0), t).decrypt(body.subarray(12));
}

export function refSealTagGarlic(key: Uint8Array, tag: Uint8Array, plain: Uint8Array): Uint8Array {
  const ct = chacha20poly1305(key, refNonce(0), tag).encrypt(plain);
  const out = new Uint8Array(4 + 8 + ct.length);
  new DataView(out.buffer).setUint32(0, 8 + ct.length);
  out.set(tag, 4);
  out.set(ct, 12);
  return out;
}

/** netdb-floodfill.md §4.1: a one-shot garlic to a router, from raw plaintext blocks. */
export function refSealRouterGarlic(routerPub: Uint8Array, plain: Uint8Array, ephPriv: Uint8Array): Uint8Array {
  const n = refNoiseSeal(routerPub, plain, ephPriv);
  const out = new Uint8Array(4 + 32 + n.sealed.length);
  new DataView(out.buffer).setUint32(0, 32 + n.sealed.length);
  out.set(n.epk, 4);
  out.set(n.sealed, 36);
  return out;
}

export function refOpenRouterGarlic(routerPriv: Uint8Array, body: Uint8Array): Uint8Array {
  const len = new DataView(body.buffer, body.byteOffset).getUint32(0);
  if (len !== body.length - 4) throw new Error('garlic length');
  return refNoiseOpen(routerPriv, body.subarray(4, 36), body.subarray(36)).payload;
}

/** Block `type | size(2) | data`. */
export function refBlock(type: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(3 + data.length);
  out[0] = type;
  new DataView(out.buffer).setUint16(1, data.length);
  out.set(data, 3);
  return out;
}

/** LOCAL clove block data: `00 | type | msgId | exp(s) | body`. */
export function refLocalClove(type: number, msgId: number, expSeconds: number, body: Uint8Array): Uint8Array {
  const d = new Uint8Array(10 + body.length);
  const v = new DataView(d.buffer);
  d[0] = 0;
  d[1] = type;
  v.setUint32(2, msgId);
  v.setUint32(6, expSeconds);
  d.set(body, 10);
  return refBlock(11, d);
}

export { cat as refConcat };
