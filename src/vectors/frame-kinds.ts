import type { KindHandler } from './kinds.js';

export const FRAME_KINDS: Record<string, KindHandler> = {};
