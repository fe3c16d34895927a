// packKeys (src/dataplane/batch-runner.ts): the data plane's kept copy of a config holds its keys in one buffer. A
// caller may put one key array in two fields (a ChaCha hop with the same AEAD key both ways); structuredClone keeps
// that sharing, so every key must be copied before any original is zeroed.
import { describe, expect, it } from 'vitest';
import { packKeys } from '../src/dataplane/batch-runner.js';
import type { TunnelConfig } from '../src/tunnel/types.js';
import { Rng, testSeed } from './helpers/chacha-rng.js';

describe('packKeys', () => {
  it('keeps every key when fields share one array, and zeroes what it replaced', () => {
    const rng = new Rng(testSeed('pack keys'));
    const aead = rng.bytes(32);
    const both = rng.bytes(64); // layerKey and ivKey: two views of one buffer
    const config = structuredClone({
      role: 'participant',
      layer: 'chacha',
      receiveTunnelId: 1,
      nextTunnelId: 2,
      nextHop: 3,
      layerKey: both.subarray(0, 32),
      ivKey: both.subarray(32),
      inAeadKey: aead,
      outAeadKey: aead,
    });
    const before: Uint8Array[] = [config.layerKey, config.ivKey, config.inAeadKey, config.outAeadKey];
    expect(config.inAeadKey).toBe(config.outAeadKey); // the clone kept the sharing
    packKeys(config as unknown as TunnelConfig);
    expect(Array.from(config.inAeadKey)).toEqual(Array.from(aead));
    expect(Array.from(config.outAeadKey)).toEqual(Array.from(aead));
    expect(Array.from(config.layerKey)).toEqual(Array.from(both.subarray(0, 32)));
    expect(Array.from(config.ivKey)).toEqual(Array.from(both.subarray(32)));
    // One buffer behind all four, and the arrays they replaced are zero.
    expect(
      new Set([config.layerKey, config.ivKey, config.inAeadKey, config.outAeadKey].map((k) => k.buffer)).size,
    ).toBe(1);
    for (const k of before) expect(k.every((b) => b === 0)).toBe(true);
  });
});
