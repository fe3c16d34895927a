// SipHash-2-4 against the reference vectors of the SipHash paper's code (veorq/SipHash vectors.h, all 64 lengths),
// and the NTCP2 length mask chain against a slow BigInt reference on seeded random keys (ntcp2-routerinfo.md §5.1, §7).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { SipHashLengthMask, siphash24 } from '../src/transport/ntcp2/siphash.js';
import { seededRandom, testSeed } from './helpers/seed.js';

const vectors = JSON.parse(readFileSync(new URL('./fixtures/siphash-vectors.json', import.meta.url), 'utf8')) as {
  key: string;
  outputs: string[];
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Readable SipHash-2-4 on BigInt, written straight from the paper (§2), as an oracle. */
function refSiphash(key: Uint8Array, msg: Uint8Array): Uint8Array {
  const M = (1n << 64n) - 1n;
  const rotl = (x: bigint, b: bigint) => ((x << b) | (x >> (64n - b))) & M;
  const le = (b: Uint8Array, o: number) => {
    let x = 0n;
    for (let i = 7; i >= 0; i--) x = (x << 8n) | BigInt(b[o + i]!);
    return x;
  };
  const k0 = le(key, 0),
    k1 = le(key, 8);
  let v0 = k0 ^ 0x736f6d6570736575n,
    v1 = k1 ^ 0x646f72616e646f6dn,
    v2 = k0 ^ 0x6c7967656e657261n,
    v3 = k1 ^ 0x7465646279746573n;
  const round = () => {
    v0 = (v0 + v1) & M;
    v1 = rotl(v1, 13n);
    v1 ^= v0;
    v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M;
    v3 = rotl(v3, 16n);
    v3 ^= v2;
    v0 = (v0 + v3) & M;
    v3 = rotl(v3, 21n);
    v3 ^= v0;
    v2 = (v2 + v1) & M;
    v1 = rotl(v1, 17n);
    v1 ^= v2;
    v2 = rotl(v2, 32n);
  };
  const padded = new Uint8Array(Math.floor(msg.length / 8) * 8 + 8);
  padded.set(msg);
  padded[padded.length - 1] = msg.length & 0xff;
  for (let i = 0; i < padded.length; i += 8) {
    const m = le(padded, i);
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  v2 ^= 0xffn;
  round();
  round();
  round();
  round();
  const r = v0 ^ v1 ^ v2 ^ v3;
  const out = new Uint8Array(8);
  for (let i = 0; i < 8; i++) out[i] = Number((r >> BigInt(8 * i)) & 0xffn);
  return out;
}

describe('SipHash-2-4', () => {
  it('matches all 64 reference vectors (key 00..0f, message 00..len-1)', () => {
    const key = Buffer.from(vectors.key, 'hex');
    expect(vectors.outputs.length).toBe(64);
    vectors.outputs.forEach((expected, len) => {
      const msg = Uint8Array.from({ length: len }, (_, i) => i);
      expect(hex(siphash24(key, msg)), `length ${len}`).toBe(expected);
      expect(hex(refSiphash(key, msg)), `reference, length ${len}`).toBe(expected);
    });
  });

  it('agrees with the BigInt reference on random keys and messages', () => {
    const seed = testSeed('siphash random');
    const rnd = seededRandom(seed);
    for (let i = 0; i < 2000; i++) {
      const key = rnd(16);
      const msg = rnd(rnd(1)[0]! % 40);
      expect(hex(siphash24(key, msg)), `seed ${seed} case ${i}`).toBe(hex(refSiphash(key, msg)));
    }
  });

  it('length mask chains IV = SipHash(key, IV) and returns its low 16 bits (§5.1)', () => {
    const seed = testSeed('siphash mask');
    const rnd = seededRandom(seed);
    for (let k = 0; k < 50; k++) {
      const sipkeys = rnd(32);
      const mask = new SipHashLengthMask(sipkeys);
      let iv: Uint8Array = sipkeys.slice(16, 24);
      for (let i = 0; i < 20; i++) {
        iv = refSiphash(sipkeys.subarray(0, 16), iv);
        expect(mask.next(), `seed ${seed}`).toBe(iv[0]! | (iv[1]! << 8));
      }
    }
  });

  it('gives the digest mask for the standalone data-phase KDF example (length 23 sent as 34 56)', () => {
    // §7: sipkeys_ab 5feab5b6...; first A->B IV 4134d30556dab8c5, so 23 ^ 0x3441 = 0x3456.
    const mask = new SipHashLengthMask(
      Buffer.from('5feab5b6e9c9875ce8b4ee9c401871a728c68ef2944d8a3be72144b4e82b20d5', 'hex'),
    );
    const m = mask.next();
    expect(m).toBe(0x3441);
    expect((23 ^ m).toString(16)).toBe('3456');
  });

  it('wipe() zeroes the key and IV', () => {
    const mask = new SipHashLengthMask(new Uint8Array(32).fill(7));
    mask.wipe();
    const fresh = new SipHashLengthMask(new Uint8Array(32));
    expect(mask.next()).toBe(fresh.next());
  });
});
