export * from '../common/bytes.js';
export * from '../common/mapping.js';
export * from './messages.js';
export * from './framing.js';
export * from './payload.js';
export * from './transport.js';
export * from './client.js';
