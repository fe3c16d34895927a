export * from './destination.js';
export * from './keyfile.js';
export * from './encoding.js';
export { ed25519Sign, ed25519Verify, ed25519PublicKey, x25519PublicKey } from './ed25519.js';
