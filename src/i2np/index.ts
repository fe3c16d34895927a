// I2NP codec: standard header and the bodies the data plane touches (i2np.md).
export * from './header.js';
export * from './bodies.js';
export * from './message-types.js';
export * from './tunnel-build.js';
export * from './garlic.js';
export * from './database-store.js';
export * from './database-lookup.js';
export * from './database-search-reply.js';
export * from './router-info-gzip.js';
