// ECIES tunnel building (tunnel-build-ecies.md): hop and creator sides, records, keys, Noise N. Socket-free.
// The primitives (primitives.ts) and slot-level reply crypto stay internal.
export {
  NOISE_N_CK0,
  NOISE_N_H0,
  NoiseNResponder,
  noiseNSeal,
  noiseNStaticHash,
  type NoiseNResult,
} from './noise-n.js';
export * from './request-record.js';
export {
  REPLY_ACCEPT,
  REPLY_REJECT_BANDWIDTH,
  SHORT_REPLY_CLEARTEXT_SIZE,
  LONG_REPLY_CLEARTEXT_SIZE,
  type ReplyContent,
} from './reply-record.js';
export { deriveShortHopKeys, wipeShortHopKeys, type ShortHopKeys } from './hop-keys.js';
export * from './ephemeral-key-filter.js';
export * from './hop.js';
export * from './creator.js';
