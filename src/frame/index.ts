// Fragmentation and reassembly: gateway packing, endpoint reassembly, delivery instructions.
export { GatewayPacker, packMessages, applyCreatorStrip, DEFAULT_FLUSH_DELAY_MS } from './gateway.js';
export type { GatewayOptions, GatewayItem, FlushTimer } from './gateway.js';
export { OutboundEndpointReassembler, InboundEndpointReassembler, DEFAULT_DUPLICATE_WINDOW } from './endpoint.js';
export type {
  OutboundEndpointReassemblerOptions,
  OutboundEndpointHandlers,
  InboundEndpointReassemblerOptions,
  EndpointLimits,
  EndpointDropReason,
} from './endpoint.js';
export {
  Reassembler,
  ReassemblyPool,
  sharedReassemblyPool,
  BODY_DROP_REASONS,
  MESSAGE_DROP_REASONS,
  DEFAULT_EXPIRY_MS,
  DEFAULT_MAX_MESSAGES_PER_TUNNEL,
  DEFAULT_MAX_BYTES_PER_TUNNEL,
  DEFAULT_MAX_MESSAGES_GLOBAL,
  DEFAULT_MAX_BYTES_GLOBAL,
} from './reassembler.js';
export type {
  ReassemblerOptions,
  PoolLimits,
  PushResult,
  BodyDropReason,
  MessageDropReason,
  ReassemblyDropReason,
} from './reassembler.js';
export type { Delivery, DeliveryType, DeliveredMessage } from './delivery.js';
export { BufferedRandom, systemRandom } from './random.js';
export { SlabAllocator, SLAB_MAX, sharedAllocator } from './alloc.js';
export type { RandomSource } from './random.js';
export { judgeGateway, reassembleAll, maxBodiesFor } from './judge.js';
export type { JudgeResult } from './judge.js';
