// Build reply records and the layers every hop puts on the other slots (tunnel-build-ecies.md §7 short, §10 long).
// Short: own slot = ChaCha20-Poly1305(replyKey, n = slot index, ad = h) of a 202-byte cleartext, other slots XOR
// ChaCha20(replyKey, n = their index, counter 1). Long: own slot = ChaCha20-Poly1305(ck, n = 0, ad = h) of 512 bytes,
// other slots AES-256-CBC(replyKey, replyIv) each on its own, the IV restarting per slot.
import { createCipheriv, randomBytes } from 'node:crypto';
import { Reader } from '../../common/bytes.js';
import { mappingBytes, readMapping } from '../../common/mapping.js';
import { aeadOpen, aeadSeal, chacha20XorInPlace } from './primitives.js';
import { LONG_RECORD_SIZE, SHORT_RECORD_SIZE } from './request-record.js';

export const SHORT_REPLY_CLEARTEXT_SIZE = 202;
export const LONG_REPLY_CLEARTEXT_SIZE = 512;
/** Reply byte: accept (§7.1). */
export const REPLY_ACCEPT = 0;
/** Reply byte: TUNNEL_REJECT_BANDWIDTH, the code every refusal is reported as (§7.1). */
export const REPLY_REJECT_BANDWIDTH = 30;

export type Random = (n: number) => Uint8Array;
const defaultRandom: Random = (n) => new Uint8Array(randomBytes(n));

function checkCode(code: number): void {
  if (!Number.isInteger(code) || code < 0 || code > 255) throw new RangeError('reply code must be 0..255');
}

/** Reply cleartext: options Mapping (empty = 00 00), random padding, the code in the last byte (§7.1, §10). */
export function encodeReplyCleartext(
  size: number,
  code: number,
  options: ReadonlyMap<string, string> = new Map(),
  random: Random = defaultRandom,
): Uint8Array {
  checkCode(code);
  const opts = mappingBytes(options);
  if (opts.length > size - 1) throw new RangeError('reply options too large');
  const out = random(size);
  out.set(opts, 0);
  out[size - 1] = code;
  return out;
}

export interface ReplyContent {
  code: number;
  options: Map<string, string>;
}

/** Reads the code and options of a decrypted reply cleartext; bad options are reported, never thrown. */
export function parseReplyCleartext(
  clear: Uint8Array,
): { ok: true; value: ReplyContent } | { ok: false; error: string } {
  const r = new Reader(clear, 0, clear.length - 1);
  const options = readMapping(r, 'reply options');
  if (r.error !== undefined) return { ok: false, error: r.error };
  return { ok: true, value: { code: clear[clear.length - 1]!, options } };
}

/** The hop's own 218-byte short reply slot (§7.2 step 1). */
export function sealShortReply(replyKey: Uint8Array, index: number, h: Uint8Array, cleartext: Uint8Array): Uint8Array {
  if (cleartext.length !== SHORT_REPLY_CLEARTEXT_SIZE) throw new RangeError('short reply cleartext must be 202 bytes');
  return aeadSeal(replyKey, index, cleartext, h);
}

/** Opens a short reply slot (§7.4); undefined when it was tampered with. */
export function openShortReply(
  replyKey: Uint8Array,
  index: number,
  h: Uint8Array,
  slot: Uint8Array,
): Uint8Array | undefined {
  if (slot.length !== SHORT_RECORD_SIZE) return undefined;
  return aeadOpen(replyKey, index, slot, h);
}

/** XORs ChaCha20(replyKey, n = j) onto every slot j except `skip` (§7.2 step 2, §7.3, §7.4), in place. */
export function chachaLayerSlots(replyKey: Uint8Array, slots: readonly Uint8Array[], skip: number): void {
  for (let j = 0; j < slots.length; j++) if (j !== skip) chacha20XorInPlace(replyKey, j, slots[j]!);
}

/** The hop's own 528-byte long reply slot: AEAD with key = ck, n = 0 (§10). */
export function sealLongReply(ck: Uint8Array, h: Uint8Array, cleartext: Uint8Array): Uint8Array {
  if (cleartext.length !== LONG_REPLY_CLEARTEXT_SIZE) throw new RangeError('long reply cleartext must be 512 bytes');
  return aeadSeal(ck, 0, cleartext, h);
}

export function openLongReply(ck: Uint8Array, h: Uint8Array, slot: Uint8Array): Uint8Array | undefined {
  if (slot.length !== LONG_RECORD_SIZE) return undefined;
  return aeadOpen(ck, 0, slot, h);
}

/** AES-256-CBC-encrypts every slot except `skip` on its own from `replyIv`, no padding (§10), in place. */
export function aesLayerSlots(
  replyKey: Uint8Array,
  replyIv: Uint8Array,
  slots: readonly Uint8Array[],
  skip: number,
): void {
  for (let j = 0; j < slots.length; j++) {
    if (j === skip) continue;
    const c = createCipheriv('aes-256-cbc', replyKey, replyIv);
    c.setAutoPadding(false);
    const out = c.update(slots[j]!);
    c.final();
    slots[j]!.set(out);
  }
}
