// NTCP2 data phase without sockets (ntcp2-routerinfo.md §5): frames sealed by every AEAD backend equal a slow
// reference built from @noble/ciphers + the reference-checked SipHash; the opener reverses them; bad tags and short
// lengths are refused; every block type round-trips; hostile payloads never make the block parser throw.
import { describe, expect, it } from 'vitest';
import { chacha20poly1305 as nobleAead } from '@noble/ciphers/chacha.js';
import {
  FrameOpener,
  FrameSealer,
  coreFrameAead,
  defaultFrameAead,
  nodeFrameAead,
  sizedFrameAead,
  wasmFrameAead,
} from '../src/transport/ntcp2/frames.js';
import { BlockWriter, parseBlocks } from '../src/transport/ntcp2/blocks.js';
import { siphash24 } from '../src/transport/ntcp2/siphash.js';
import { TERM_PADDING_VIOLATION, TERM_PAYLOAD_FORMAT_ERROR } from '../src/transport/ntcp2/constants.js';
import { seededRandom, testSeed } from './helpers/seed.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Slow readable reference of §5.1: IV chain, mask, big-endian length, AEAD with LE nonce at offset 4. */
function refFrames(key: Uint8Array, sipkeys: Uint8Array, payloads: Uint8Array[]): Uint8Array[] {
  let iv: Uint8Array = sipkeys.slice(16, 24);
  return payloads.map((p, n) => {
    iv = siphash24(sipkeys.subarray(0, 16), iv);
    const mask = iv[0]! | (iv[1]! << 8);
    const len = p.length + 16;
    const nonce = new Uint8Array(12);
    new DataView(nonce.buffer).setBigUint64(4, BigInt(n), true);
    const sealed = nobleAead(key, nonce).encrypt(p);
    const out = new Uint8Array(2 + sealed.length);
    out[0] = ((len ^ mask) >>> 8) & 0xff;
    out[1] = (len ^ mask) & 0xff;
    out.set(sealed, 2);
    return out;
  });
}

const backends = [
  nodeFrameAead,
  coreFrameAead('wasm'),
  coreFrameAead('node'),
  wasmFrameAead(),
  defaultFrameAead(),
  sizedFrameAead(wasmFrameAead(), nodeFrameAead, 100), // switches inside the test's sizes
];

describe('NTCP2 frames', () => {
  it('every backend seals exactly what the reference seals, and opens it back', () => {
    const seed = testSeed('ntcp2 frames');
    const rnd = seededRandom(seed);
    const key = rnd(32),
      sip = rnd(32);
    const sizes = [0, 1, 3, 15, 16, 17, 100, 1024, 1037, 4096, 16384, 65519];
    const payloads = sizes
      .concat(Array.from({ length: 40 }, () => (rnd(2)[0]! << 4) | (rnd(1)[0]! & 0xf)))
      .map((n) => rnd(n));
    const ref = refFrames(key, sip, payloads);
    for (const aead of backends) {
      const sealer = new FrameSealer(key, sip, aead);
      const opener = new FrameOpener(key, sip, aead);
      payloads.forEach((p, i) => {
        const wire = sealer.seal(p);
        expect(hex(wire), `${aead.name} frame ${i} seed ${seed}`).toBe(hex(ref[i]!));
        const len = opener.readLength(wire[0]!, wire[1]!);
        expect(len).toBe(p.length + 16);
        const out = new Uint8Array(len - 16);
        expect(opener.open(wire.subarray(2), out)).toBe(true);
        expect(hex(out)).toBe(hex(p));
      });
      expect(sealer.n).toBe(payloads.length);
    }
  });

  it('refuses a frame with any single bit flipped, and the nonce still advances', () => {
    const seed = testSeed('ntcp2 bad mac');
    const rnd = seededRandom(seed);
    for (const aead of backends) {
      const key = rnd(32),
        sip = rnd(32);
      const sealer = new FrameSealer(key, sip, aead);
      const opener = new FrameOpener(key, sip, aead);
      for (let i = 0; i < 30; i++) {
        const p = rnd(1 + ((i * 31) % 200));
        const wire = sealer.seal(p);
        const len = opener.readLength(wire[0]!, wire[1]!);
        const body = wire.slice(2);
        const bit = rnd(4);
        const pos = ((bit[0]! << 8) | bit[1]!) % body.length;
        body[pos] ^= 1 << (bit[2]! & 7);
        expect(opener.open(body, new Uint8Array(len - 16)), `${aead.name} seed ${seed}`).toBe(false);
      }
      expect(opener.n).toBe(30);
    }
  });

  it('after a frame fails to open, the opener refuses every later frame, valid ones included', () => {
    const seed = testSeed('ntcp2 broken stream');
    const rnd = seededRandom(seed);
    for (const aead of backends) {
      const key = rnd(32),
        sip = rnd(32);
      const sealer = new FrameSealer(key, sip, aead);
      const opener = new FrameOpener(key, sip, aead);
      const frames = [rnd(50), rnd(60), rnd(70)].map((p) => sealer.seal(p));
      frames[0]![2 + (rnd(1)[0]! % 66)] ^= 0x80;
      expect(opener.failed).toBe(false);
      for (const f of frames) {
        const len = opener.readLength(f[0]!, f[1]!);
        expect(opener.open(f.subarray(2), new Uint8Array(len - 16)), `${aead.name} seed ${seed}`).toBe(false);
      }
      expect(opener.failed).toBe(true);
      expect(opener.n).toBe(3);
    }
  });

  it('reports lengths below 16 as -1 and rejects oversized plaintexts when sealing', () => {
    const key = new Uint8Array(32).fill(1),
      sip = new Uint8Array(32).fill(2);
    const probe = new FrameOpener(key, sip);
    const mask0 = (() => {
      const iv = siphash24(sip.subarray(0, 16), sip.subarray(16, 24));
      return iv[0]! | (iv[1]! << 8);
    })();
    const w = 15 ^ mask0;
    expect(probe.readLength(w >>> 8, w & 0xff)).toBe(-1);
    expect(() => new FrameSealer(key, sip).seal(new Uint8Array(65520))).toThrow(RangeError);
  });

  it('wipe() zeroes the keys', () => {
    const key = new Uint8Array(32).fill(9),
      sip = new Uint8Array(32).fill(3);
    const s = new FrameSealer(key, sip, nodeFrameAead);
    const before = s.seal(new Uint8Array(4));
    s.wipe();
    const zero = new FrameSealer(new Uint8Array(32), new Uint8Array(32), nodeFrameAead);
    zero.seal(new Uint8Array(4));
    expect(hex(s.seal(new Uint8Array(4)).subarray(2))).toBe(hex(zero.seal(new Uint8Array(4)).subarray(2)));
    expect(hex(before)).not.toBe(hex(zero.seal(new Uint8Array(4))));
  });
});

describe('NTCP2 blocks', () => {
  it('round-trips every block type, several I2NP blocks per frame, padding last', () => {
    const w = new BlockWriter();
    const ri = Uint8Array.from({ length: 700 }, (_, i) => i & 0xff);
    expect(w.dateTime(0x65000002)).toBe(true);
    expect(w.options(new Uint8Array(12).fill(5))).toBe(true);
    expect(w.routerInfo(1, ri)).toBe(true);
    for (let i = 0; i < 5; i++) expect(w.i2np(18, 1000 + i, 0x70000000 + i, new Uint8Array(1028).fill(i))).toBe(true);
    expect(w.termination(2 ** 40 + 7, 4)).toBe(true);
    expect(w.padding(9)).toBe(true);
    const seen: string[] = [];
    const err = parseBlocks(w.bytes(), {
      dateTime: (s) => seen.push(`dt ${s.toString(16)}`),
      options: (d) => seen.push(`opt ${d.length}`),
      routerInfo: (f, r) => seen.push(`ri ${f} ${r.length} ${hex(r) === hex(ri)}`),
      i2np: (t, id, exp, body) => seen.push(`i2np ${t} ${id} ${exp.toString(16)} ${body.length} ${body[0]}`),
      termination: (n, reason) => seen.push(`term ${n} ${reason}`),
      padding: (n) => seen.push(`pad ${n}`),
    });
    expect(err).toBeNull();
    expect(seen).toEqual([
      'dt 65000002',
      'opt 12',
      'ri 1 700 true',
      ...[0, 1, 2, 3, 4].map((i) => `i2np 18 ${1000 + i} ${(0x70000000 + i).toString(16)} 1028 ${i}`),
      `term ${2 ** 40 + 7} 4`,
      'pad 9',
    ]);
  });

  it('skips unknown blocks and enforces lengths and ordering', () => {
    const unknown: number[] = [];
    expect(parseBlocks(Buffer.from('e00002aabbfe0000', 'hex'), { unknown: (t) => unknown.push(t) })).toBeNull();
    expect(unknown).toEqual([0xe0]);
    const cases: Array<[string, number]> = [
      ['00', TERM_PAYLOAD_FORMAT_ERROR], // truncated header
      ['000005aabb', TERM_PAYLOAD_FORMAT_ERROR], // runs past the end
      ['00000300000000', TERM_PAYLOAD_FORMAT_ERROR], // DateTime of 3
      ['0300080100000001000000', TERM_PAYLOAD_FORMAT_ERROR], // I2NP shorter than 9
      ['040008' + '00'.repeat(8), TERM_PAYLOAD_FORMAT_ERROR], // Termination shorter than 9
      ['fe0000' + '00000400000000', TERM_PADDING_VIOLATION], // Padding not last
      ['040009' + '00'.repeat(9) + '00000400000000', TERM_PAYLOAD_FORMAT_ERROR], // block after Termination
      ['020000', TERM_PAYLOAD_FORMAT_ERROR], // empty RouterInfo
    ];
    for (const [h, reason] of cases) {
      const e = parseBlocks(Buffer.from(h, 'hex'), {});
      expect(e, h).not.toBeNull();
      expect(e!.reason, h).toBe(reason);
    }
  });

  it('never throws on 100 000 random and mutated payloads, and views stay inside the payload', () => {
    const seed = testSeed('ntcp2 block fuzz');
    const rnd = seededRandom(seed);
    const w = new BlockWriter();
    w.dateTime(1);
    w.i2np(3, 1, 2, new Uint8Array(40));
    w.routerInfo(0, new Uint8Array(50));
    w.padding(4);
    const valid = w.bytes().slice();
    let ok = 0;
    for (let i = 0; i < 100_000; i++) {
      let p: Uint8Array;
      if (i & 1) p = rnd(rnd(1)[0]! % 120);
      else {
        p = valid.slice();
        const r = rnd(3);
        p[r[0]! % p.length] = r[1]!;
        if (r[2]! & 1) p = p.subarray(0, r[2]! % p.length);
      }
      const end = p.byteOffset + p.length;
      const inside = (v: Uint8Array) => {
        if (v.buffer !== p.buffer || v.byteOffset < p.byteOffset || v.byteOffset + v.length > end)
          throw new Error(`view escapes, seed ${seed}`);
      };
      const e = parseBlocks(p, {
        options: inside,
        routerInfo: (_f, r) => inside(r),
        i2np: (_t, _i, _e, b) => inside(b),
        unknown: (_t, d) => inside(d),
      });
      if (e === null) ok++;
    }
    expect(ok).toBeGreaterThan(0);
  });

  it('writer refuses a block that does not fit and writes nothing', () => {
    const w = new BlockWriter(20);
    expect(w.i2np(1, 1, 1, new Uint8Array(9))).toBe(false);
    expect(w.length).toBe(0);
    expect(w.i2np(1, 1, 1, new Uint8Array(8))).toBe(true);
    expect(w.length).toBe(20);
    expect(w.padding(0)).toBe(false);
  });
});
