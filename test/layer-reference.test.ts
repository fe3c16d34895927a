// The readable reference against the public sample vectors, and the per-message building blocks (aes-hop-reference.ts,
// chacha-layer.ts) against the reference on seeded random input.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyHops, creatorStrip, hopDecrypt, hopEncrypt } from '../src/tunnel/aes-hop-reference.js';
import { chachaHop, chachaStrip } from '../src/tunnel/chacha-layer.js';
import { refChachaHop, refChachaStrip, refHopDecrypt, refParticipant, refStrip } from './reference/layer-reference.js';
import { randomHop, seededRandom, testSeed } from './helpers/seed.js';
import { hex } from './helpers/batch.js';

const SAMPLE = new URL('../../shared/spec/vectors/tunnel-aes-sample.json', import.meta.url);
const h = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

describe('layer reference', () => {
  const file = JSON.parse(readFileSync(SAMPLE, 'utf8')) as { cases: Record<string, any>[] };

  it('reproduces the hop and strip cases of the public sample', () => {
    let n = 0;
    for (const c of file.cases) {
      if (c.kind === 'hop') {
        const out = refParticipant(h(c.input), { layerKey: h(c.layerKey), ivKey: h(c.ivKey) }, c.nextTunnelId);
        expect(hex(out), c.name).toBe(c.expect);
        n++;
      } else if (c.kind === 'strip') {
        const hops = c.hops.map((x: any) => ({ layerKey: h(x.layerKey), ivKey: h(x.ivKey) }));
        expect(hex(refStrip(h(c.input), hops)), c.name).toBe(c.expect);
        n++;
      }
    }
    expect(n).toBeGreaterThanOrEqual(6);
  });

  it('aes-hop-reference.ts agrees with the reference (P, P^-1, N-hop strip)', () => {
    const rnd = seededRandom(testSeed('aes-hop-reference vs reference'));
    for (let t = 0; t < 20; t++) {
      const hop = randomHop(rnd);
      const body = rnd(1028);
      const a = Uint8Array.from(body);
      hopEncrypt(a, hop);
      const ref = refParticipant(body, hop, new DataView(body.buffer).getUint32(0));
      expect(hex(a)).toBe(hex(ref));
      hopDecrypt(a, hop);
      expect(hex(a)).toBe(hex(body));
      expect(hex(refHopDecrypt(ref, hop))).toBe(hex(body));
      const hops = Array.from({ length: 1 + (t % 8) }, () => randomHop(rnd));
      const b = Uint8Array.from(body);
      creatorStrip(b, hops);
      expect(hex(b)).toBe(hex(refStrip(body, hops)));
      applyHops(b, hops);
      expect(hex(b)).toBe(hex(body));
    }
  });

  it('chacha-layer.ts agrees with the reference (hop with and without AEAD keys, strip)', () => {
    const rnd = seededRandom(testSeed('chacha-layer vs reference'));
    for (let t = 0; t < 12; t++) {
      const keys = {
        ...randomHop(rnd),
        inAeadKey: t % 3 === 0 ? undefined : rnd(32),
        outAeadKey: t % 4 === 1 ? undefined : rnd(32),
      };
      let body = rnd(1028);
      if (keys.inAeadKey) {
        // A validly sealed input from the previous hop.
        body = refChachaStrip(body, [], { outAeadKey: keys.inAeadKey })!;
      }
      const ours = Uint8Array.from(body);
      expect(chachaHop(ours, keys, 0x01020304 + t)).toBe(true);
      expect(hex(ours)).toBe(hex(refChachaHop(body, keys, 0x01020304 + t)!));
      const hops = Array.from({ length: 1 + (t % 8) }, () => randomHop(rnd));
      const aead = { inAeadKey: keys.inAeadKey, outAeadKey: keys.outAeadKey };
      const s = Uint8Array.from(body);
      expect(chachaStrip(s, hops, aead)).toBe(true);
      expect(hex(s)).toBe(hex(refChachaStrip(body, hops, aead)!));
    }
  });

  it('a ChaCha hop rejects a bad MAC and leaves the body untouched', () => {
    const rnd = seededRandom(7);
    const keys = { ...randomHop(rnd), inAeadKey: rnd(32), outAeadKey: rnd(32) };
    const body = refChachaStrip(rnd(1028), [], { outAeadKey: keys.inAeadKey })!;
    body[500]! ^= 1;
    const ours = Uint8Array.from(body);
    expect(chachaHop(ours, keys, 1)).toBe(false);
    expect(hex(ours)).toBe(hex(body));
    expect(refChachaHop(body, keys, 1)).toBeNull();
  });
});
