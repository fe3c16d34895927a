// Kind handlers of the conformance runner. Each kind validates a case (throwing VectorsFormatError for malformed
// input) and runs it, returning the runner's own verdict. Layer kinds (hop, strip) live in layer-kinds.ts, framing
// kinds (reassemble, gateway) in frame-kinds.ts.
import type { KindHandler } from './format.js';
import { LAYER_KINDS } from './layer-kinds.js';
import { FRAME_KINDS } from './frame-kinds.js';

export const KIND_HANDLERS: Record<string, KindHandler> = { ...LAYER_KINDS, ...FRAME_KINDS };
