// Public pieces of the tunnel layer (re-exported from the package root).
export { LayerEngine } from './engine.js';
export * from './types.js';
export {
  createReplayFilterBuffer,
  replayFilterBytes,
  ReplayFilter,
  REPLAY_WINDOW_MS,
  REPLAY_FRESH,
  REPLAY_SEEN,
  REPLAY_FULL,
  type ReplayFilterSizing,
  type ReplayVerdict,
} from './replay-filter.js';
export { hopEncrypt, hopDecrypt, creatorStrip, applyHops, type HopKeys } from './aes-hop-reference.js';
export {
  chachaHop,
  chachaStrip,
  chachaLayerForward,
  chachaLayerInverse,
  chachaAeadSeal,
  chachaAeadOpen,
  CHACHA_TUNNEL_NONCE_OFFSET,
  CHACHA_OBFS_NONCE_OFFSET,
  CHACHA_FRAME_OFFSET,
  CHACHA_FRAME_SIZE,
  CHACHA_MAC_OFFSET,
  type ChaChaHopKeys,
} from './chacha-layer.js';
