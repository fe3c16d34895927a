// src/crypto/x25519.ts against @noble/curves (an independent X25519) on seeded random keys: the JWK import with a
// placeholder public half, the derived public keys, shared secrets both ways, and refusal of unusable peer keys.
// Also many generate-then-export cycles under GC pressure, the pattern that deadlocked Node 20 when keys came from
// generateKeyPairSync.
import { describe, expect, it } from 'vitest';
import { x25519 as noble } from '@noble/curves/ed25519.js';
import {
  x25519GenerateKeyPair,
  x25519PrivateKeyObject,
  x25519PublicKey,
  x25519RawPublic,
  x25519SharedSecret,
} from '../src/crypto/x25519.js';
import { seededRandom, testSeed } from './helpers/seed.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('X25519 over node:crypto', () => {
  it('derives the public key noble derives, whatever the placeholder, and agrees on shared secrets', () => {
    const rnd = seededRandom(testSeed('x25519 vs noble'));
    for (let i = 0; i < 200; i++) {
      const a = rnd(32),
        b = rnd(32);
      const pa = x25519PublicKey(a);
      expect(hex(pa)).toBe(hex(noble.getPublicKey(a)));
      const pb = noble.getPublicKey(b);
      expect(hex(x25519SharedSecret(x25519PrivateKeyObject(a), pb)!)).toBe(hex(noble.getSharedSecret(b, pa)));
    }
  });

  it('RFC 7748 section 6.1', () => {
    const alice = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex');
    const bobPub = Buffer.from('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f', 'hex');
    expect(hex(x25519PublicKey(alice))).toBe('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    expect(hex(x25519SharedSecret(x25519PrivateKeyObject(alice), bobPub)!)).toBe(
      '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
    );
  });

  it('refuses bad sizes at the edge and low-order peer keys without throwing', () => {
    expect(() => x25519PrivateKeyObject(new Uint8Array(31))).toThrow(RangeError);
    const k = x25519PrivateKeyObject(new Uint8Array(32).fill(7));
    expect(x25519SharedSecret(k, new Uint8Array(31))).toBeUndefined();
    expect(x25519SharedSecret(k, new Uint8Array(32))).toBeUndefined(); // the zero point: all-zero secret
  });

  it('generates fresh pairs whose parts match, many times under GC pressure', () => {
    let garbage: Uint8Array[] = [];
    for (let i = 0; i < 3000; i++) {
      const p = x25519GenerateKeyPair();
      if (i % 100 === 0) expect(hex(p.publicKey)).toBe(hex(noble.getPublicKey(p.privateKey)));
      expect(hex(x25519RawPublic(p.keyObject))).toBe(hex(p.publicKey));
      garbage.push(new Uint8Array(4096));
      if (garbage.length > 256) garbage = [];
    }
  });
});
