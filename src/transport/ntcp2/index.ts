// NTCP2 transport (ntcp2-routerinfo.md §4, §5): public pieces. Design notes: docs/ntcp2.md.
export * from './constants.js';
export {
  Ntcp2Transport,
  DEFAULT_TRANSPORT_LIMITS,
  type TransportEvents,
  type TransportLimits,
  type TransportOptions,
  type TransportStats,
} from './transport.js';
export {
  Session,
  DEFAULT_SESSION_LIMITS,
  type CloseInfo,
  type Direction,
  type SessionEvents,
  type SessionLimits,
  type SessionState,
} from './session.js';
export type { DialTarget, LocalRouter, ParsePeerRouterInfo, PeerRouterInfo } from './peer-info.js';
export {
  Initiator,
  Responder,
  ntcp2Seconds,
  withinSkew,
  type ResponderAddress,
  type ResponderIdentity,
} from './handshake.js';
export {
  FRAME_AEAD_SPLIT,
  FrameBatch,
  FrameOpener,
  FrameSealer,
  coreFrameAead,
  defaultFrameAead,
  nodeFrameAead,
  sizedFrameAead,
  wasmFrameAead,
  type FrameAead,
} from './frames.js';
export { BlockWriter, parseBlocks, parseSessionConfirmedPayload, type BlockVisitor } from './blocks.js';
export { SipHashLengthMask, siphash24, type LengthMask } from './siphash.js';
export { x25519FromPrivate, type X25519Pair } from './noise.js';
