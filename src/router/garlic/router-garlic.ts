// One-shot ECIES-X25519 garlic to a router ("ECIES-routers", netdb-floodfill.md §4.1): Garlic (11) body
// `length(4) | epk(32) | ChaCha20-Poly1305 ciphertext | MAC(16)` sealed with Noise N to the router's static X25519 key
// (the build-record KDF, tunnel-build-ecies.md §5), plain X25519 ephemeral key (no Elligator2). i2pd wraps LeaseSet
// stores and lookups this way, and pool inbound build requests sent through an outbound tunnel.
import { decodeGarlic, encodeGarlic } from '../../i2np/garlic.js';
import { type NoiseNResponder, noiseNSeal } from '../tunnel-build/noise-n.js';
import { AEAD_TAG_SIZE, wipe, X25519_KEY_SIZE } from '../tunnel-build/primitives.js';
import {
  encodeCloveBlock,
  encodeDateTimeBlock,
  encodePaddingBlock,
  parseGarlicPayload,
  type BlockResult,
  type CloveInput,
  type GarlicPayload,
} from './blocks.js';

/** Smallest data: epk + MAC around an empty payload. */
export const ROUTER_GARLIC_MIN = X25519_KEY_SIZE + AEAD_TAG_SIZE;

export interface OpenedRouterGarlic {
  payload: GarlicPayload;
  /** The sender's ephemeral key (a copy): what a replay filter remembers. */
  ephemeralKey: Uint8Array;
}

/**
 * Decrypts and parses a Noise-N garlic addressed to our router. Never throws; the caller applies its recency (DateTime)
 * and replay policy and handles only LOCAL cloves (i2pd sends nothing else).
 */
export function openRouterGarlic(responder: NoiseNResponder, garlicBody: Uint8Array): BlockResult<OpenedRouterGarlic> {
  const d = decodeGarlic(garlicBody);
  if (!d.ok) return d;
  const data = d.value;
  if (data.length < ROUTER_GARLIC_MIN) return { ok: false, error: 'garlic shorter than ephemeral key and MAC' };
  const epk = data.slice(0, X25519_KEY_SIZE);
  const res = responder.open(epk, data.subarray(X25519_KEY_SIZE));
  if (res === undefined) return { ok: false, error: 'Noise N decryption failed' };
  wipe(res.ck);
  const p = parseGarlicPayload(res.payload);
  if (!p.ok) return p;
  return { ok: true, value: { payload: p.value, ephemeralKey: epk } };
}

export interface SealRouterGarlicOptions {
  /** Epoch ms written in the DateTime block (i2pd sends one first). */
  now: number;
  /** Zero bytes of padding at the end (i2pd: 0..3 seen live); 0 = no padding block. */
  paddingBytes?: number;
  /** Test hook: source of the ephemeral private key. */
  random?: (n: number) => Uint8Array;
}

/**
 * The Garlic (11) body of a one-shot message to a router: DateTime, the cloves in order, optional padding, sealed to
 * `recipientKey` (its RouterIdentity's X25519 key). Throws RangeError on caller bugs.
 */
export function sealRouterGarlic(
  recipientKey: Uint8Array,
  cloves: readonly CloveInput[],
  opts: SealRouterGarlicOptions,
): Uint8Array {
  if (cloves.length < 1) throw new RangeError('at least one clove');
  const blocks = [encodeDateTimeBlock(opts.now), ...cloves.map(encodeCloveBlock)];
  if (opts.paddingBytes) blocks.push(encodePaddingBlock(opts.paddingBytes));
  const total = blocks.reduce((n, b) => n + b.length, 0);
  const plain = new Uint8Array(total);
  let p = 0;
  for (const b of blocks) {
    plain.set(b, p);
    p += b.length;
  }
  const { epk, sealed, ck } = noiseNSeal(recipientKey, plain, opts.random);
  plain.fill(0);
  wipe(ck);
  const data = new Uint8Array(X25519_KEY_SIZE + sealed.length);
  data.set(epk, 0);
  data.set(sealed, X25519_KEY_SIZE);
  return encodeGarlic(data);
}
