// Garlic a router needs without the ECIES ratchet (netdb-floodfill.md §4): one-shot Noise-N garlic to a router and the
// single-tag "existing session" reply.
export * from './blocks.js';
export * from './router-garlic.js';
export * from './tag-reply.js';
