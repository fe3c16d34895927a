// Per-hop keys of a short build record, derived from the Noise N chaining key by HKDF with the exact 16-byte labels of
// tunnel-build-ecies.md §6. Creator and hop run the same function; the OBEP takes the extra "TunnelLayerIVKey" step
// for its IV key even when its reply is not garlic-wrapped, and an IBGW counts as a non-OBEP hop.
import { hkdf64, wipe, ZEROLEN } from './primitives.js';

const label = (s: string) => new TextEncoder().encode(s);
export const LABEL_REPLY_KEY = label('SMTunnelReplyKey');
export const LABEL_LAYER_KEY = label('SMTunnelLayerKey');
export const LABEL_IV_KEY = label('TunnelLayerIVKey');
export const LABEL_GARLIC_KEY_TAG = label('RGarlicKeyAndTag');

export interface ShortHopKeys {
  /** ChaCha20 / ChaCha20-Poly1305 key of the reply slots (§7). */
  replyKey: Uint8Array;
  /** AES-256 layer key for the data plane. */
  layerKey: Uint8Array;
  /** AES-256 IV key for the data plane. */
  ivKey: Uint8Array;
  /** OBEP only: key and 8-byte tag of the single-use garlic that wraps the build reply (netdb-floodfill.md §4.3). */
  garlicReplyKey?: Uint8Array;
  garlicReplyTag?: Uint8Array;
}

/** Derives the keys of §6 from `ck` (not modified). Every intermediate chaining key is wiped. */
export function deriveShortHopKeys(ck: Uint8Array, isObep: boolean): ShortHopKeys {
  const [ck1, replyKey] = hkdf64(ck, ZEROLEN, LABEL_REPLY_KEY);
  const [ck2, layerKey] = hkdf64(ck1, ZEROLEN, LABEL_LAYER_KEY);
  wipe(ck1);
  if (!isObep) return { replyKey, layerKey, ivKey: ck2 };
  const [ck3, ivKey] = hkdf64(ck2, ZEROLEN, LABEL_IV_KEY);
  wipe(ck2);
  const [tagBlock, garlicReplyKey] = hkdf64(ck3, ZEROLEN, LABEL_GARLIC_KEY_TAG);
  wipe(ck3);
  const garlicReplyTag = tagBlock.slice(0, 8);
  wipe(tagBlock);
  return { replyKey, layerKey, ivKey, garlicReplyKey, garlicReplyTag };
}

export function wipeShortHopKeys(k: ShortHopKeys): void {
  wipe(k.replyKey, k.layerKey, k.ivKey, k.garlicReplyKey, k.garlicReplyTag);
}
