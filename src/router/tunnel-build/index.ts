// ECIES tunnel building (tunnel-build-ecies.md): hop and creator sides, records, keys, Noise N. Socket-free.
export * from './primitives.js';
export * from './noise-n.js';
export * from './request-record.js';
export * from './reply-record.js';
export * from './hop-keys.js';
export * from './ephemeral-key-filter.js';
export * from './hop.js';
export * from './creator.js';
