import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { createSha256, type Sha256 } from '../src/crypto/sha256.js';
import {
  IO_SIZE,
  IV_OFFSET,
  IV_SIZE,
  MAX_BATCH,
  STATUS_BAD_LENGTH,
  STATUS_OK,
  TUNNEL_DATA_SIZE,
} from '../src/constants.js';
import { createInstance, type WasmInstance } from '../src/wasm/loader.js';
import { FLAVORS, Rng, hex, testSeed } from './helpers/chacha-rng.js';

const seed = testSeed('sha256');

interface Impl {
  name: string;
  h: Sha256;
  inst?: WasmInstance;
}
function impls(): Impl[] {
  const out: Impl[] = FLAVORS.map((flavor) => {
    const inst = createInstance({ flavor });
    return { name: `wasm/${flavor}`, h: createSha256({ backend: 'wasm', instance: inst }), inst };
  });
  out.push({ name: 'node', h: createSha256({ backend: 'node' }) });
  return out;
}

const ref = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

describe('SHA-256', () => {
  for (const impl of impls()) {
    const { h } = impl;
    describe(impl.name, () => {
      it('FIPS 180-4 examples', () => {
        const enc = (s: string) => new TextEncoder().encode(s);
        expect(hex(h.hash(enc('')))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
        expect(hex(h.hash(enc('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
        expect(hex(h.hash(enc('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe(
          '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
        );
      });

      it('matches node:crypto and @noble/hashes on every length 0..300 and random lengths; suffix form', () => {
        const rng = new Rng(seed ^ 0xabab);
        for (let t = 0; t < 450; t++) {
          const len = t <= 300 ? t : rng.int(t % 20 === 0 ? 200_000 : 5000);
          const data = rng.bytes(len);
          expect(hex(h.hash(data)), `len ${len}`).toBe(hex(nobleSha256(data)));
          const suffix = rng.bytes(rng.int(80));
          expect(hex(h.hash(data, suffix))).toBe(ref(data, suffix));
        }
      });

      it('streams inputs larger than the IO region', () => {
        const rng = new Rng(seed ^ 0xcdcd);
        const big = rng.bytes(IO_SIZE + 1000),
          suffix = rng.bytes(16);
        expect(hex(h.hash(big))).toBe(ref(big));
        expect(hex(h.hash(big, suffix))).toBe(ref(big, suffix));
      });

      it('batches: random sizes, strides, offsets and lengths', () => {
        const rng = new Rng(seed ^ 0xefef);
        for (let t = 0; t < 16; t++) {
          const count = t === 0 ? 0 : t === 1 ? MAX_BATCH + 9 : [1, 16, 64, 256][t % 4]! + rng.int(4);
          const length = t % 3 === 0 ? 1008 : rng.int(t === 1 ? 500 : 3000);
          const offset = rng.int(30);
          const stride = offset + length + rng.int(20);
          const data = rng.bytes(count * stride);
          const out = h.hashBatch({ count, data, stride, offset, length });
          expect(out.length).toBe(32 * count);
          for (let i = 0; i < count; i++) {
            const at = i * stride + offset;
            expect(hex(out.subarray(32 * i, 32 * i + 32)), `batch ${t} message ${i}`).toBe(
              ref(data.subarray(at, at + length)),
            );
          }
        }
      });

      it('rejects bad inputs at the edge', () => {
        expect(() => h.hash('abc' as unknown as Uint8Array)).toThrow(TypeError);
        expect(() => h.hash(new Uint8Array(1), [1] as unknown as Uint8Array)).toThrow(TypeError);
        expect(() => h.hashBatch({ count: 2, data: new Uint8Array(10), stride: 8, offset: 0, length: 8 })).toThrow(
          RangeError,
        );
        expect(() => h.hashBatch({ count: -1, data: new Uint8Array(10), stride: 8, offset: 0, length: 8 })).toThrow(
          RangeError,
        );
        expect(() =>
          h.hashBatch({ count: 1, data: new Uint8Array(10), stride: 8, offset: 0, length: 8 }, new Uint8Array(31)),
        ).toThrow(RangeError);
      });

      if (impl.inst) {
        const inst = impl.inst;
        it('hashes in place on a view of the MSG region', () => {
          const rng = new Rng(seed ^ 0x1357);
          const count = 100;
          const view = inst.u8.subarray(inst.regions.MSG, inst.regions.MSG + count * TUNNEL_DATA_SIZE);
          view.set(rng.bytes(view.length));
          const out = h.hashBatch({ count, data: view, stride: TUNNEL_DATA_SIZE, offset: 20, length: 1008 });
          for (let i = 0; i < count; i++) {
            const at = i * TUNNEL_DATA_SIZE + 20;
            expect(hex(out.subarray(32 * i, 32 * i + 32))).toBe(ref(view.subarray(at, at + 1008)));
          }
        });

        it('AS kernel sha256BatchSuffix: the tunnel endpoint checksum layout (tail of the body || IV)', () => {
          const rng = new Rng(seed ^ 0x2468);
          const x = inst.exports as unknown as Record<string, (...a: number[]) => number>;
          const { u8, u32, regions } = inst;
          const count = 50;
          u8.set(rng.bytes(count * TUNNEL_DATA_SIZE), regions.MSG);
          const lens: number[] = [];
          for (let i = 0; i < count; i++) {
            const pad = rng.int(1004); // P in 0..1003
            lens.push(i === 7 ? TUNNEL_DATA_SIZE + 1 : 1003 - pad);
            u32[(regions.MSG_LEN >>> 2) + i] = lens[i]!;
          }
          expect(x.sha256BatchSuffix!(count, 0, TUNNEL_DATA_SIZE, TUNNEL_DATA_SIZE, IV_OFFSET, IV_SIZE)).toBe(
            count - 1,
          );
          for (let i = 0; i < count; i++) {
            if (i === 7) {
              expect(u8[regions.MSG_STATUS + i]).toBe(STATUS_BAD_LENGTH);
              continue;
            }
            expect(u8[regions.MSG_STATUS + i]).toBe(STATUS_OK);
            const m = regions.MSG + i * TUNNEL_DATA_SIZE;
            const exp = ref(
              u8.subarray(m + TUNNEL_DATA_SIZE - lens[i]!, m + TUNNEL_DATA_SIZE),
              u8.subarray(m + IV_OFFSET, m + IV_OFFSET + IV_SIZE),
            );
            expect(hex(u8.subarray(regions.MSG_OUT + 32 * i, regions.MSG_OUT + 32 * i + 32))).toBe(exp);
          }
          expect(x.sha256BatchSuffix!(MAX_BATCH + 1, 0, TUNNEL_DATA_SIZE, TUNNEL_DATA_SIZE, 4, 16)).toBe(-1);
          expect(x.sha256BatchSuffix!(MAX_BATCH, 0, TUNNEL_DATA_SIZE, TUNNEL_DATA_SIZE + 1, 4, 16)).toBe(-1); // last message past MSG
        });

        it('memory does not grow over 100 000 batches', () => {
          const before = inst.memory.buffer.byteLength;
          const batch = { count: 2, data: new Uint8Array(200), stride: 100, offset: 3, length: 90 };
          const out = new Uint8Array(64);
          for (let i = 0; i < 100_000; i++) h.hashBatch(batch, out);
          expect(inst.memory.buffer.byteLength).toBe(before);
          expect(hex(out.subarray(0, 32))).toBe(ref(new Uint8Array(90)));
        });
      }
    });
  }

  it('backend choice: node by default (faster for ~1 KB), overridable', () => {
    const saved = process.env.TUNNELPLANE_BACKEND;
    try {
      delete process.env.TUNNELPLANE_BACKEND;
      expect(createSha256().backend).toBe('node');
      process.env.TUNNELPLANE_BACKEND = 'wasm';
      expect(createSha256().backend).toBe('wasm');
      expect(createSha256({ backend: 'node' }).backend).toBe('node');
    } finally {
      if (saved === undefined) delete process.env.TUNNELPLANE_BACKEND;
      else process.env.TUNNELPLANE_BACKEND = saved;
    }
  });
});
