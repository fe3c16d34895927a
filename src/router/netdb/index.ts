// The netDb: routing keys, the verified tables and the floodfill / lookup / publish logic (netdb-floodfill.md §1-§6).
export * from './routing-key.js';
export * from './store.js';
export * from './netdb.js';
