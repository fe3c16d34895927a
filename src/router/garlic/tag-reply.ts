// Single-use key+tag "existing session" garlic (netdb-floodfill.md §4.2): the form i2pd accepts for encrypted lookup
// replies and for the OBEP's build reply (§4.3, key/tag from HKDF "RGarlicKeyAndTag"). Garlic body:
// `length(4) | tag(8) | ChaCha20-Poly1305(key, n = 0, ad = tag, payload) | MAC(16)`; the payload's first block must be
// the clove (i2pd drops a message that starts with anything else and reads only that clove).
import { encodeGarlic, decodeGarlic } from '../../i2np/garlic.js';
import { aeadOpen, aeadSeal, AEAD_TAG_SIZE } from '../tunnel-build/primitives.js';
import {
  encodeCloveBlock,
  encodePaddingBlock,
  parseGarlicPayload,
  type CloveInput,
  type GarlicPayload,
  type BlockResult,
  BLOCK_GARLIC_CLOVE,
} from './blocks.js';

export const GARLIC_TAG_SIZE = 8;
export const GARLIC_KEY_SIZE = 32;

/**
 * The Garlic (11) body of a single-tag reply carrying one clove (LOCAL by default), optionally followed by a padding
 * block of `paddingBytes` zeros. `tag` is written exactly as given. Throws RangeError on caller bugs.
 */
export function wrapTagReply(key: Uint8Array, tag: Uint8Array, clove: CloveInput, paddingBytes = 0): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== GARLIC_KEY_SIZE)
    throw new RangeError('reply key must be 32 bytes');
  if (!(tag instanceof Uint8Array) || tag.length !== GARLIC_TAG_SIZE) throw new RangeError('reply tag must be 8 bytes');
  const cloveBlock = encodeCloveBlock(clove);
  const pad = paddingBytes > 0 ? encodePaddingBlock(paddingBytes) : new Uint8Array(0);
  const plain = new Uint8Array(cloveBlock.length + pad.length);
  plain.set(cloveBlock, 0);
  plain.set(pad, cloveBlock.length);
  const data = new Uint8Array(GARLIC_TAG_SIZE + plain.length + AEAD_TAG_SIZE);
  data.set(tag, 0);
  aeadSeal(key, 0, plain, tag, data.subarray(GARLIC_TAG_SIZE));
  plain.fill(0);
  return encodeGarlic(data);
}

/** The 8-byte tag of a Garlic body (a view), for looking up which pending key it belongs to. Never throws. */
export function garlicTagOf(garlicBody: Uint8Array): Uint8Array | undefined {
  const d = decodeGarlic(garlicBody);
  if (!d.ok || d.value.length < GARLIC_TAG_SIZE + AEAD_TAG_SIZE) return undefined;
  return d.value.subarray(0, GARLIC_TAG_SIZE);
}

/**
 * Opens a single-tag reply with `key`: checks the tag equals `tag`, the MAC, and that the first block is a clove
 * (as i2pd requires). Never throws.
 */
export function openTagReply(key: Uint8Array, tag: Uint8Array, garlicBody: Uint8Array): BlockResult<GarlicPayload> {
  const d = decodeGarlic(garlicBody);
  if (!d.ok) return d;
  const data = d.value;
  if (data.length < GARLIC_TAG_SIZE + AEAD_TAG_SIZE) return { ok: false, error: 'garlic shorter than tag and MAC' };
  const t = data.subarray(0, GARLIC_TAG_SIZE);
  let diff = tag.length ^ GARLIC_TAG_SIZE;
  for (let i = 0; i < GARLIC_TAG_SIZE; i++) diff |= t[i]! ^ (tag[i] ?? 0);
  if (diff !== 0) return { ok: false, error: 'tag mismatch' };
  const plain = aeadOpen(key, 0, data.subarray(GARLIC_TAG_SIZE), t);
  if (plain === undefined) return { ok: false, error: 'AEAD authentication failed' };
  if (plain.length < 1 || plain[0] !== BLOCK_GARLIC_CLOVE) return { ok: false, error: 'first block is not a clove' };
  return parseGarlicPayload(plain);
}
