// Primitives of ECIES tunnel building (src/router/tunnel-build/primitives.ts, noise-n.ts, hop-keys.ts): known answers
// where they exist (Noise N initial state, RFC 5869, RFC 7539) and @noble cross-checks on random inputs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chacha20 as nobleChaCha, chacha20poly1305 as nobleAead } from '@noble/ciphers/chacha.js';
import { x25519 as nobleX25519 } from '@noble/curves/ed25519.js';
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import {
  aeadOpen,
  aeadSeal,
  chacha20XorInPlace,
  hkdf64,
  x25519,
  x25519PrivateKeyObject,
} from '../src/router/tunnel-build/primitives.js';
import { NOISE_N_CK0, NOISE_N_H0, NoiseNResponder, noiseNSeal } from '../src/router/tunnel-build/noise-n.js';
import { deriveShortHopKeys } from '../src/router/tunnel-build/hop-keys.js';
import { Rng, fromHex, hex, testSeed, vectors } from './helpers/chacha-rng.js';
import { refKeys, refNoiseOpen, refNoiseSeal } from './reference/build-reference.js';

const seed = testSeed('tunnel-build-primitives');

describe('Noise N initial state', () => {
  it('matches vectors/noise-n-protocol-init.json', () => {
    const v = JSON.parse(
      readFileSync(new URL('../../shared/spec/vectors/noise-n-protocol-init.json', import.meta.url), 'utf8'),
    ) as {
      ck_initial: string;
      h_after_prologue: string;
    };
    expect(hex(NOISE_N_CK0)).toBe(v.ck_initial);
    expect(hex(NOISE_N_H0)).toBe(v.h_after_prologue);
  });
});

describe('HKDF-SHA256', () => {
  it('RFC 5869 test case 1 (first 42 of the 64 bytes)', () => {
    const [a, b] = hkdf64(
      fromHex('000102030405060708090a0b0c'),
      new Uint8Array(22).fill(0x0b),
      fromHex('f0f1f2f3f4f5f6f7f8f9'),
    );
    expect(hex(new Uint8Array([...a, ...b])).slice(0, 84)).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });
  it('matches @noble/hashes on random salts, IKMs (including empty) and infos', () => {
    const rng = new Rng(seed);
    for (let i = 0; i < 200; i++) {
      const salt = rng.bytes(32);
      const ikm = rng.bytes(i % 3 === 0 ? 0 : rng.int(80));
      const info = rng.bytes(rng.int(20));
      const [a, b] = hkdf64(salt, ikm, info);
      expect(hex(new Uint8Array([...a, ...b]))).toBe(hex(nobleHkdf(nobleSha256, ikm, salt, info, 64)));
    }
  });
});

describe('ChaCha20 stream and AEAD with the I2P nonce', () => {
  it('RFC 7539 §2.4.2 (its nonce is 4 zero bytes then the LE counter 0x4a000000)', () => {
    const v = vectors<{ key: string; nonce: string; initial_counter: number; plaintext: string; ciphertext: string }>(
      'chacha20-rfc7539.json',
    )[0]!;
    expect(v.nonce).toBe('000000000000004a00000000');
    expect(v.initial_counter).toBe(1);
    const data = fromHex(v.plaintext);
    chacha20XorInPlace(fromHex(v.key), 0x4a000000, data);
    expect(hex(data)).toBe(v.ciphertext);
  });
  it('match @noble/ciphers on random keys, counters and lengths; a flipped bit fails the tag', () => {
    const rng = new Rng(seed ^ 1);
    for (let i = 0; i < 200; i++) {
      const key = rng.bytes(32);
      const n = rng.int(8) === 0 ? rng.u32() * 0x10000 + rng.int(0x10000) : rng.int(8);
      const data = rng.bytes(rng.int(600));
      const ad = rng.bytes(rng.int(40));
      const x = data.slice();
      chacha20XorInPlace(key, n, x);
      expect(hex(x)).toBe(hex(nobleChaCha(key, refNonce8(n), data, undefined, 1)));
      const sealed = aeadSeal(key, n, data, ad);
      expect(hex(sealed)).toBe(hex(nobleAead(key, refNonce8(n), ad).encrypt(data)));
      expect(hex(aeadOpen(key, n, sealed, ad)!)).toBe(hex(data));
      sealed[rng.int(sealed.length)]! ^= 1 << rng.int(8);
      expect(aeadOpen(key, n, sealed, ad)).toBeUndefined();
    }
  });
});

/** 4 zero bytes then n as 8 LE bytes (n may exceed 32 bits). */
function refNonce8(n: number): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  v.setUint32(4, n >>> 0, true);
  v.setUint32(8, Math.floor(n / 0x100000000), true);
  return b;
}

describe('X25519 and Noise N against @noble', () => {
  it('X25519 agrees; a low-order peer key gives undefined, not an exception', () => {
    const rng = new Rng(seed ^ 2);
    for (let i = 0; i < 20; i++) {
      const a = rng.bytes(32);
      const b = rng.bytes(32);
      const bp = nobleX25519.getPublicKey(b);
      expect(hex(x25519(x25519PrivateKeyObject(a), bp)!)).toBe(hex(nobleX25519.getSharedSecret(a, bp)));
    }
    expect(x25519(x25519PrivateKeyObject(rng.bytes(32)), new Uint8Array(32))).toBeUndefined();
    expect(x25519(x25519PrivateKeyObject(rng.bytes(32)), new Uint8Array(31))).toBeUndefined();
  });
  it('our seal opens with the reference, the reference seal opens with ours, same ck and h', () => {
    const rng = new Rng(seed ^ 3);
    for (let i = 0; i < 20; i++) {
      const priv = rng.bytes(32);
      const pub = nobleX25519.getPublicKey(priv);
      const payload = rng.bytes(rng.int(300));
      const eph = rng.bytes(32);
      const ours = noiseNSeal(pub, payload, () => eph.slice());
      const ref = refNoiseSeal(pub, payload, eph);
      expect(hex(ours.epk)).toBe(hex(ref.epk));
      expect(hex(ours.sealed)).toBe(hex(ref.sealed));
      expect(hex(ours.ck)).toBe(hex(ref.ck));
      expect(hex(ours.h)).toBe(hex(ref.h));
      const opened = refNoiseOpen(priv, ours.epk, ours.sealed);
      expect(hex(opened.payload)).toBe(hex(payload));
      const responder = new NoiseNResponder(priv);
      const back = responder.open(ref.epk, ref.sealed)!;
      expect(hex(back.payload)).toBe(hex(payload));
      expect(hex(back.ck)).toBe(hex(ref.ck));
      expect(hex(back.h)).toBe(hex(ref.h));
      const bad = ref.sealed.slice();
      bad[0]! ^= 0x80;
      expect(responder.open(ref.epk, bad)).toBeUndefined();
    }
  });
  it('short hop keys match the reference schedule for both roles', () => {
    const rng = new Rng(seed ^ 4);
    for (let i = 0; i < 20; i++) {
      const ck = rng.bytes(32);
      for (const obep of [false, true]) {
        const k = deriveShortHopKeys(ck, obep);
        const r = refKeys(ck, obep);
        expect([hex(k.replyKey), hex(k.layerKey), hex(k.ivKey)]).toEqual([
          hex(r.replyKey),
          hex(r.layerKey),
          hex(r.ivKey),
        ]);
        expect(k.garlicReplyKey && hex(k.garlicReplyKey)).toBe(r.garlicKey && hex(r.garlicKey));
        expect(k.garlicReplyTag && hex(k.garlicReplyTag)).toBe(r.garlicTag && hex(r.garlicTag));
      }
    }
  });
});
