// Batched NTCP2 frame crypto (ntcp2-routerinfo.md §5.1) on the WASM core: FrameBatch equals frame-by-frame sealing
// and an independent @noble/ciphers computation byte for byte on random sizes (0..65519) across interleaved
// sessions; a tampered frame fails only itself and breaks only its own stream.
import { describe, expect, it } from 'vitest';
import { chacha20poly1305 as nobleAead } from '@noble/ciphers/chacha.js';
import {
  FRAME_STREAM_BROKEN,
  FrameBatch,
  FrameOpener,
  FrameSealer,
  coreFrameAead,
} from '../src/transport/ntcp2/frames.js';
import { siphash24 } from '../src/transport/ntcp2/siphash.js';
import { IO_SIZE, MAX_BATCH, STATUS_BAD_MAC, STATUS_OK } from '../src/constants.js';
import { createInstance } from '../src/wasm/loader.js';
import { seededRandom, testSeed } from './helpers/seed.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Independent reference of one direction: SipHash IV chain, masked big-endian length, noble AEAD, nonce LE at 4. */
class RefDirection {
  private iv: Uint8Array;
  n = 0;
  constructor(
    readonly key: Uint8Array,
    readonly sip: Uint8Array,
  ) {
    this.iv = sip.slice(16, 24);
  }
  seal(p: Uint8Array): Uint8Array {
    this.iv = siphash24(this.sip.subarray(0, 16), this.iv);
    const len = (p.length + 16) ^ (this.iv[0]! | (this.iv[1]! << 8));
    const nonce = new Uint8Array(12);
    new DataView(nonce.buffer).setBigUint64(4, BigInt(this.n++), true);
    const sealed = nobleAead(this.key, nonce).encrypt(p);
    const out = new Uint8Array(2 + sealed.length);
    out[0] = (len >>> 8) & 0xff;
    out[1] = len & 0xff;
    out.set(sealed, 2);
    return out;
  }
}

interface Session {
  ref: RefDirection;
  batchS: FrameSealer;
  oneS: FrameSealer;
  batchO: FrameOpener;
  oneO: FrameOpener;
}

function sessions(rnd: (n: number) => Uint8Array, count: number): Session[] {
  return Array.from({ length: count }, () => {
    const key = rnd(32),
      sip = rnd(32);
    const aead = coreFrameAead('wasm');
    return {
      ref: new RefDirection(key, sip),
      batchS: new FrameSealer(key, sip, aead),
      oneS: new FrameSealer(key, sip, aead),
      batchO: new FrameOpener(key, sip, aead),
      oneO: new FrameOpener(key, sip, aead),
    };
  });
}

/** Random size in 0..65519, biased to the edges and the small sizes TunnelData frames have. */
function randomSize(rnd: (n: number) => Uint8Array): number {
  const r = rnd(3);
  const v = (r[0]! << 8) | r[1]!;
  switch (r[2]! & 3) {
    case 0:
      return v % 65520;
    case 1:
      return v % 2100;
    case 2:
      return [0, 1, 15, 16, 17, 63, 64, 65, 1024, 1043, 16384, 65519][v % 12]!;
    default:
      return v & 0xff;
  }
}

/** Splits one wire buffer back into frames with each session's opener: returns the sealed parts. */
function splitWire(wire: Uint8Array, owners: Session[], openerOf: (s: Session) => FrameOpener): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const s of owners) {
    const len = openerOf(s).readLength(wire[at]!, wire[at + 1]!);
    expect(len).toBeGreaterThanOrEqual(16);
    parts.push(wire.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  expect(at).toBe(wire.length);
  return parts;
}

describe('NTCP2 frame batches on the WASM core', () => {
  const inst = createInstance();
  const batch = new FrameBatch(inst);

  it('seal and open equal frame-by-frame and @noble byte for byte, random sizes over interleaved sessions', () => {
    const seed = testSeed('ntcp2 frame batch');
    const rnd = seededRandom(seed);
    const ss = sessions(rnd, 5);
    for (let round = 0; round < 6; round++) {
      const count = 1 + (rnd(1)[0]! % 24);
      const owners = Array.from({ length: count }, () => ss[rnd(1)[0]! % ss.length]!);
      const plains = owners.map(() => rnd(randomSize(rnd)));
      const wire = new Uint8Array(FrameBatch.wireLength(plains) + 3);
      const written = batch.seal(
        owners.map((s) => s.batchS),
        plains,
        wire,
        3,
      );
      expect(written).toBe(wire.length - 3);
      // Reference and per-frame path, in the same order.
      const refWire = Buffer.concat(owners.map((s, i) => s.ref.seal(plains[i]!)));
      const oneWire = Buffer.concat(owners.map((s, i) => s.oneS.seal(plains[i]!)));
      expect(hex(wire.subarray(3)), `seed ${seed} round ${round}`).toBe(hex(refWire));
      expect(hex(oneWire), `seed ${seed} round ${round}`).toBe(hex(refWire));
      // Open: the batch and the per-frame opener both give the plaintexts back.
      const parts = splitWire(wire.subarray(3), owners, (s) => s.batchO);
      const outs = parts.map((p) => new Uint8Array(p.length - 16));
      const status = new Uint8Array(count).fill(99);
      expect(
        batch.open(
          owners.map((s) => s.batchO),
          parts,
          outs,
          status,
        ),
      ).toBe(count);
      expect([...status]).toEqual(new Array(count).fill(STATUS_OK));
      outs.forEach((o, i) => expect(hex(o), `seed ${seed} frame ${i}`).toBe(hex(plains[i]!)));
      const oneParts = splitWire(oneWire, owners, (s) => s.oneO);
      oneParts.forEach((p, i) => {
        const o = new Uint8Array(p.length - 16);
        expect(owners[i]!.oneO.open(p, o)).toBe(true);
        expect(hex(o)).toBe(hex(plains[i]!));
      });
    }
    for (const s of ss) expect(s.batchS.n).toBe(s.ref.n);
  });

  it('a batch larger than the WASM IO area is split into calls and still matches', () => {
    const seed = testSeed('ntcp2 frame batch split');
    const rnd = seededRandom(seed);
    const [s] = sessions(rnd, 1);
    const plains = Array.from({ length: Math.ceil(IO_SIZE / 65519) + 3 }, (_, i) => rnd(i % 2 ? 65519 : 60000 + i));
    const wire = new Uint8Array(FrameBatch.wireLength(plains));
    batch.seal(
      plains.map(() => s!.batchS),
      plains,
      wire,
    );
    expect(hex(wire), `seed ${seed}`).toBe(hex(Buffer.concat(plains.map((p) => s!.ref.seal(p)))));
  });

  it('a tampered frame fails only itself: its later frames are withheld, other sessions open', () => {
    const seed = testSeed('ntcp2 frame batch tamper');
    const rnd = seededRandom(seed);
    const ss = sessions(rnd, 3);
    const owners = [ss[0]!, ss[1]!, ss[0]!, ss[2]!, ss[1]!, ss[0]!, ss[2]!];
    const plains = owners.map(() => rnd(1 + (randomSize(rnd) % 3000)));
    const wire = new Uint8Array(FrameBatch.wireLength(plains));
    batch.seal(
      owners.map((s) => s.batchS),
      plains,
      wire,
    );
    const parts = splitWire(wire, owners, (s) => s.batchO).map((p) => p.slice());
    // Flip one bit of session 1's first frame (index 1).
    const pos = ((rnd(2)[0]! << 8) | rnd(1)[0]!) % parts[1]!.length;
    parts[1]![pos] ^= 1 << (rnd(1)[0]! & 7);
    const outs = parts.map((p) => new Uint8Array(p.length - 16).fill(0xee));
    const status = new Uint8Array(owners.length);
    inst.u8.fill(0, inst.regions.IO, inst.regions.IO + 20000); // sealing leaves (public) ciphertext there
    expect(
      batch.open(
        owners.map((s) => s.batchO),
        parts,
        outs,
        status,
      ),
    ).toBe(5);
    expect([...status], `seed ${seed}`).toEqual([
      STATUS_OK,
      STATUS_BAD_MAC,
      STATUS_OK,
      STATUS_OK,
      FRAME_STREAM_BROKEN,
      STATUS_OK,
      STATUS_OK,
    ]);
    for (const i of [0, 2, 3, 5, 6]) expect(hex(outs[i]!)).toBe(hex(plains[i]!));
    for (const i of [1, 4]) expect(outs[i]!.every((b) => b === 0xee)).toBe(true);
    expect(ss[1]!.batchO.failed).toBe(true);
    expect(ss[0]!.batchO.failed).toBe(false);
    // The broken stream stays closed, also on the per-frame path; the others go on.
    const next = [ss[1]!, ss[0]!].map((s) => s.batchS.seal(rnd(40)));
    expect(ss[1]!.batchO.readLength(next[0]![0]!, next[0]![1]!)).toBe(56);
    expect(ss[1]!.batchO.open(next[0]!.subarray(2), new Uint8Array(40))).toBe(false);
    const st = new Uint8Array(1);
    expect(ss[0]!.batchO.readLength(next[1]![0]!, next[1]![1]!)).toBe(56);
    expect(batch.open([ss[0]!.batchO], [next[1]!.subarray(2)], [new Uint8Array(40)], st)).toBe(1);
    // No plaintext left behind in the shared IO area.
    expect(inst.u8.subarray(inst.regions.IO, inst.regions.IO + 20000).every((b) => b === 0)).toBe(true);
    // Keys are wiped from the kernel's staging area.
    expect(inst.u8.subarray(inst.regions.KEY_IN, inst.regions.KEY_IN + 32 * 8).every((b) => b === 0)).toBe(true);
  });

  it('refuses an oversized plaintext or a short output before taking any nonce', () => {
    const rnd = seededRandom(7);
    const [s] = sessions(rnd, 1);
    expect(() => batch.seal([s!.batchS, s!.batchS], [rnd(10), rnd(65520)], new Uint8Array(70000))).toThrow(RangeError);
    expect(() => batch.seal([s!.batchS], [rnd(10)], new Uint8Array(27))).toThrow(RangeError);
    expect(s!.batchS.n).toBe(0);
  });
});

describe('NTCP2 frame kernels at their bounds', () => {
  const inst = createInstance();
  const x = inst.exports as unknown as Record<string, (n: number) => number>;
  const { u8, u32, regions } = inst;
  const keyIn = () => u8.subarray(regions.KEY_IN, regions.KEY_IN + 64);

  it('refuse a count outside 0..MAX_BATCH and frames that do not fit IO, and wipe the staged keys', () => {
    for (const fn of ['ntcp2SealFrames', 'ntcp2OpenFrames']) {
      expect(x[fn]!(-1)).toBe(-1);
      expect(x[fn]!(MAX_BATCH + 1)).toBe(-1);
      expect(x[fn]!(0)).toBe(0);
      for (const len of [IO_SIZE - 17, 0xffffffff]) {
        keyIn().fill(0xaa);
        u32[regions.MSG_LEN >>> 2] = 0;
        u32[(regions.MSG_LEN >>> 2) + 1] = len;
        expect(x[fn]!(2), `${fn} ${len}`).toBe(-1);
        expect(keyIn().every((b) => b === 0)).toBe(true);
      }
      // The last frame that fits ends exactly at the end of IO (the open verifies the frame the seal just left there,
      // same key and nonce).
      keyIn().fill(0xaa);
      u32[regions.MSG_LEN >>> 2] = IO_SIZE - 18;
      expect(x[fn]!(1)).toBe(1);
      expect(
        keyIn()
          .subarray(0, 32)
          .every((b) => b === 0),
      ).toBe(true); // one frame: its key only
      expect(
        keyIn()
          .subarray(32)
          .every((b) => b === 0xaa),
      ).toBe(true);
    }
  });
});
