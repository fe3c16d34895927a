import type { KindHandler } from './kinds.js';

export const LAYER_KINDS: Record<string, KindHandler> = {};
