// AES-256: known answers, seeded random cross-checks of every backend and both WASM flavors against node:crypto,
// @noble/ciphers and a readable reference, the pointer kernels other kernels compose, memory hygiene, bad input.
// Seed: TUNNELPLANE_SEED (decimal) or random; printed so that a failure can be replayed (test/helpers/seed.ts).
import { readFileSync } from 'node:fs';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { cbc as nobleCbc, ecb as nobleEcb } from '@noble/ciphers/aes.js';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AES_KEY_SLOTS,
  AES_SLOT_SIZE,
  DATA_OFFSET,
  DATA_SIZE,
  IV_OFFSET,
  MAX_BATCH,
  TUNNEL_DATA_SIZE,
} from '../src/constants.js';
import { cpuHasAes, createAes256 } from '../src/crypto/aes.js';
import { resolveBackend } from '../src/crypto/backend.js';
import type { Aes256, CbcBatch } from '../src/crypto/types.js';
import { createInstance, type WasmInstance } from '../src/wasm/loader.js';
import * as ref from './reference/aes-reference.js';
import { testSeed } from './helpers/seed.js';

const SEED = testSeed('aes');

/** splitmix32: small, seedable. */
function rng(seed: number) {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  return {
    int: (n: number): number => next() % n,
    bytes: (n: number): Uint8Array => {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = next() & 0xff;
      return b;
    },
  };
}

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function nodeCbc(decrypt: boolean, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const c = decrypt ? createDecipheriv('aes-256-cbc', key, iv) : createCipheriv('aes-256-cbc', key, iv);
  c.setAutoPadding(false);
  return Uint8Array.from(c.update(data));
}

function nodeEcb(decrypt: boolean, key: Uint8Array, data: Uint8Array): Uint8Array {
  const c = decrypt ? createDecipheriv('aes-256-ecb', key, null) : createCipheriv('aes-256-ecb', key, null);
  c.setAutoPadding(false);
  return Uint8Array.from(c.update(data));
}

interface Subject {
  name: string;
  make: () => { aes: Aes256; inst?: WasmInstance };
}

const SUBJECTS: Subject[] = [
  {
    name: 'wasm simd',
    make: () => {
      const inst = createInstance({ flavor: 'simd' });
      return { aes: createAes256({ backend: 'wasm', instance: inst }), inst };
    },
  },
  {
    name: 'wasm plain',
    make: () => {
      const inst = createInstance({ flavor: 'plain' });
      return { aes: createAes256({ backend: 'wasm', instance: inst }), inst };
    },
  },
  {
    name: 'wasm debug',
    make: () => {
      const inst = createInstance({ flavor: 'debug' });
      return { aes: createAes256({ backend: 'wasm', instance: inst }), inst };
    },
  },
  { name: 'node', make: () => ({ aes: createAes256({ backend: 'node' }) }) },
];

const vectors = JSON.parse(
  readFileSync(new URL('../../shared/spec/vectors/aes256-ecb-cbc.json', import.meta.url), 'utf8'),
) as {
  ecb_encrypt: { key: string; plaintext: string; ciphertext: string }[];
  cbc_encrypt_no_padding: { key: string; iv: string; plaintext: string; ciphertext: string }[];
};

describe('readable reference', () => {
  it('matches the known answers and node:crypto', () => {
    for (const v of vectors.ecb_encrypt) {
      const rk = ref.expandKey(hex(v.key));
      expect(toHex(ref.encryptBlock(rk, hex(v.plaintext)))).toBe(v.ciphertext);
      expect(toHex(ref.decryptBlock(rk, hex(v.ciphertext)))).toBe(v.plaintext);
    }
    const r = rng(SEED ^ 1);
    for (let i = 0; i < 8; i++) {
      const key = r.bytes(32),
        iv = r.bytes(16),
        data = r.bytes(16 * (1 + r.int(8)));
      expect(toHex(ref.cbcEncrypt(key, iv, data))).toBe(toHex(nodeCbc(false, key, iv, data)));
      expect(toHex(ref.cbcDecrypt(key, iv, data))).toBe(toHex(nodeCbc(true, key, iv, data)));
    }
  });
});

for (const subject of SUBJECTS) {
  describe(`AES-256 ${subject.name}`, () => {
    it('known answers (NIST SP 800-38A F.1.5, F.2.5)', () => {
      const { aes } = subject.make();
      for (const v of vectors.ecb_encrypt) {
        aes.setKey(3, hex(v.key));
        expect(toHex(aes.encryptBlock(3, hex(v.plaintext)))).toBe(v.ciphertext);
        expect(toHex(aes.decryptBlock(3, hex(v.ciphertext)))).toBe(v.plaintext);
      }
      for (const v of vectors.cbc_encrypt_no_padding) {
        aes.setKey(AES_KEY_SLOTS - 1, hex(v.key));
        expect(toHex(aes.cbcEncrypt(AES_KEY_SLOTS - 1, hex(v.iv), hex(v.plaintext)))).toBe(v.ciphertext);
        expect(toHex(aes.cbcDecrypt(AES_KEY_SLOTS - 1, hex(v.iv), hex(v.ciphertext)))).toBe(v.plaintext);
      }
    });

    it('every byte value meets the first-round S-box on the one-block path (all-zero key)', () => {
      const { aes } = subject.make();
      const key = new Uint8Array(32);
      aes.setKey(9, key);
      for (let v = 0; v < 256; v++) {
        const block = Uint8Array.from({ length: 16 }, (_, j) => (v + 17 * j) & 0xff);
        expect(toHex(aes.encryptBlock(9, block))).toBe(toHex(nodeEcb(false, key, block)));
        expect(toHex(aes.cbcEncrypt(9, block, block))).toBe(toHex(nodeCbc(false, key, block, block)));
      }
    });

    it('single messages and ECB runs match node:crypto, noble and the reference (random keys, IVs, lengths)', () => {
      const r = rng(SEED ^ 2);
      const { aes } = subject.make();
      for (let t = 0; t < 40; t++) {
        const slot = r.int(AES_KEY_SLOTS),
          key = r.bytes(32),
          iv = r.bytes(16);
        const data = r.bytes(16 * r.int(t < 36 ? 70 : 2000));
        aes.setKey(slot, key);
        const ct = aes.cbcEncrypt(slot, iv, data);
        expect(toHex(ct)).toBe(toHex(nodeCbc(false, key, iv, data)));
        if (data.length <= 512) {
          expect(toHex(ct)).toBe(toHex(nobleCbc(key, iv, { disablePadding: true }).encrypt(data)));
          expect(toHex(ct)).toBe(toHex(ref.cbcEncrypt(key, iv, data)));
        }
        expect(toHex(aes.cbcDecrypt(slot, iv, ct))).toBe(toHex(data));
        const e = aes.ecbEncrypt(slot, data);
        expect(toHex(e)).toBe(toHex(nodeEcb(false, key, data)));
        if (data.length > 0 && data.length <= 512) {
          expect(toHex(e)).toBe(toHex(nobleEcb(key, { disablePadding: true }).encrypt(data)));
        }
        // in place
        const copy = Uint8Array.from(e);
        expect(aes.ecbDecrypt(slot, copy, copy)).toBe(copy);
        expect(toHex(copy)).toBe(toHex(data));
      }
    });

    it('calls on one slot interleave without state leaking between them', () => {
      const r = rng(SEED ^ 9);
      const { aes } = subject.make();
      const key = r.bytes(32),
        iv = r.bytes(16),
        m = r.bytes(1008);
      aes.setKey(4, key);
      const first = aes.cbcEncrypt(4, iv, m);
      const data = r.bytes(3 * 64),
        ivs = r.bytes(48),
        orig = Uint8Array.from(data);
      const batch: CbcBatch = {
        count: 3,
        data,
        stride: 64,
        offset: 0,
        length: 64,
        slots: Uint32Array.of(4, 4, 4),
        ivs,
      };
      aes.cbcEncryptBatch(batch);
      expect(() => aes.cbcEncrypt(4, iv, new Uint8Array(17))).toThrow(RangeError);
      aes.cbcDecrypt(4, r.bytes(16), r.bytes(64));
      aes.ecbEncrypt(4, r.bytes(32));
      expect(toHex(aes.cbcEncrypt(4, iv, m))).toBe(toHex(first));
      expect(toHex(aes.cbcDecrypt(4, iv, first))).toBe(toHex(m));
      aes.cbcDecryptBatch(batch);
      expect(toHex(data)).toBe(toHex(orig));
      aes.setKey(4, key); // re-keying the slot starts over cleanly
      expect(toHex(aes.cbcEncrypt(4, iv, m))).toBe(toHex(first));
    });

    it('a message longer than the IO region chains across chunks', () => {
      const r = rng(SEED ^ 3);
      const { aes } = subject.make();
      const key = r.bytes(32),
        iv = r.bytes(16),
        data = r.bytes(1114112 + 48);
      aes.setKey(0, key);
      const ct = aes.cbcEncrypt(0, iv, data);
      expect(Buffer.from(ct).equals(nodeCbc(false, key, iv, data))).toBe(true);
      const pt = aes.cbcDecrypt(0, iv, ct, ct);
      expect(Buffer.from(pt).equals(data)).toBe(true);
    });

    it('batches: random sizes 1..MAX_BATCH (odd ones too), mixed slots, strides and offsets', () => {
      const r = rng(SEED ^ 4);
      const { aes } = subject.make();
      const keys = new Map<number, Uint8Array>();
      const pool: number[] = [];
      for (let i = 0; i < 24; i++) {
        const slot = r.int(AES_KEY_SLOTS),
          key = r.bytes(32);
        aes.setKey(slot, key);
        keys.set(slot, key);
        pool.push(slot);
      }
      const counts = [
        1,
        2,
        3,
        4,
        5,
        7,
        8,
        9,
        13,
        15,
        16,
        17,
        31,
        33,
        63,
        65,
        MAX_BATCH,
        1 + r.int(MAX_BATCH),
        1 + r.int(300),
      ];
      for (const count of counts) {
        const length = count > 300 ? 16 * (1 + r.int(4)) : [16, 32, 1008, 16 * (1 + r.int(40))][r.int(4)]!;
        const offset = r.int(24),
          stride = offset + length + r.int(40);
        const data = r.bytes(count * stride);
        const orig = Uint8Array.from(data);
        const slots = new Uint32Array(count);
        const same = r.int(4) === 0; // sometimes one key for the whole batch
        for (let i = 0; i < count; i++) slots[i] = same ? pool[0]! : pool[r.int(pool.length)]!;
        const ivs = r.bytes(16 * count);
        const batch: CbcBatch = { count, data, stride, offset, length, slots, ivs };
        aes.cbcEncryptBatch(batch);
        for (let i = 0; i < count; i++) {
          const at = i * stride + offset;
          const key = keys.get(slots[i]!)!,
            iv = ivs.subarray(16 * i, 16 * i + 16);
          expect(toHex(data.subarray(at, at + length))).toBe(
            toHex(nodeCbc(false, key, iv, orig.subarray(at, at + length))),
          );
          // bytes outside the messages are untouched
          expect(toHex(data.subarray(i * stride, at))).toBe(toHex(orig.subarray(i * stride, at)));
          expect(toHex(data.subarray(at + length, (i + 1) * stride))).toBe(
            toHex(orig.subarray(at + length, (i + 1) * stride)),
          );
        }
        aes.cbcDecryptBatch(batch);
        expect(toHex(data)).toBe(toHex(orig));
      }
    });

    if (subject.name.startsWith('wasm')) {
      it('batches on views of WASM memory run in place (MSG region, TunnelData geometry)', () => {
        const r = rng(SEED ^ 5);
        const { aes, inst } = subject.make();
        const keys: Uint8Array[] = [];
        for (let i = 0; i < 10; i++) {
          keys.push(r.bytes(32));
          aes.setKey(100 + i, keys[i]!);
        }
        for (const count of [1, 5, 8, 11, 64, 257]) {
          const view = inst!.u8.subarray(inst!.regions.MSG, inst!.regions.MSG + count * TUNNEL_DATA_SIZE);
          view.set(r.bytes(view.length));
          const orig = Uint8Array.from(view);
          const slots = Uint32Array.from({ length: count }, () => 100 + r.int(10));
          const ivs = r.bytes(16 * count);
          const batch: CbcBatch = {
            count,
            data: view,
            stride: TUNNEL_DATA_SIZE,
            offset: DATA_OFFSET,
            length: DATA_SIZE,
            slots,
            ivs,
          };
          aes.cbcEncryptBatch(batch);
          for (let i = 0; i < count; i++) {
            const at = i * TUNNEL_DATA_SIZE + DATA_OFFSET;
            const exp = nodeCbc(
              false,
              keys[slots[i]! - 100]!,
              ivs.subarray(16 * i, 16 * i + 16),
              orig.subarray(at, at + DATA_SIZE),
            );
            expect(toHex(view.subarray(at, at + DATA_SIZE))).toBe(toHex(exp));
          }
          aes.cbcDecryptBatch(batch);
          expect(toHex(view)).toBe(toHex(orig));
        }
      });

      it('aesEcbIoTwice gives E(b) in place and E(E(b)) beside it, each block with its own slot', () => {
        const r = rng(SEED ^ 12);
        const { aes, inst } = subject.make();
        const e = inst!.exports as unknown as Record<string, (...a: number[]) => number>;
        const { u8, u32, regions } = inst!;
        const keys: Uint8Array[] = [];
        for (let i = 0; i < 12; i++) {
          keys.push(r.bytes(32));
          aes.setKey(200 + i, keys[i]!);
        }
        const second = regions.IO + 16 * MAX_BATCH;
        // 1..4: the SIMD few-lane path (odd and even); 5..17: full and partial groups; 300: many groups.
        for (const count of [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 300]) {
          const blocks = r.bytes(16 * count);
          u8.set(blocks, regions.IO);
          const slots = Array.from({ length: count }, () => 200 + r.int(12));
          slots.forEach((s, i) => {
            u32[(regions.MSG_SLOT_A >>> 2) + i] = s;
          });
          expect(e.aesEcbIoTwice!(count)).toBe(0);
          for (let i = 0; i < count; i++) {
            const key = keys[slots[i]! - 200]!;
            const x = nodeEcb(false, key, blocks.subarray(16 * i, 16 * i + 16));
            expect(toHex(u8.subarray(regions.IO + 16 * i, regions.IO + 16 * i + 16)), `count ${count} block ${i}`).toBe(
              toHex(x),
            );
            expect(toHex(u8.subarray(second + 16 * i, second + 16 * i + 16)), `count ${count} block ${i}`).toBe(
              toHex(nodeEcb(false, key, x)),
            );
          }
        }
        u32[regions.MSG_SLOT_A >>> 2] = AES_KEY_SLOTS;
        expect(e.aesEcbIoTwice!(1)).toBe(-2);
        expect(e.aesEcbIoTwice!(MAX_BATCH + 1)).toBe(-1);
      });

      it('pointer kernels compose like the tunnel layer: ECB the IV, CBC under it (IV inside the message), ECB again', () => {
        const r = rng(SEED ^ 6);
        const { aes, inst } = subject.make();
        const e = inst!.exports as unknown as Record<string, (...a: number[]) => number>;
        const { u8, u32, regions } = inst!;
        for (const count of [1, 3, 8, 9, 30]) {
          const layerKeys: Uint8Array[] = [],
            ivKeys: Uint8Array[] = [];
          for (let i = 0; i < count; i++) {
            layerKeys.push(r.bytes(32));
            ivKeys.push(r.bytes(32));
            aes.setKey(2 * i, layerKeys[i]!);
            aes.setKey(2 * i + 1, ivKeys[i]!); // (stages through MSG_SLOT_A[0])
          }
          for (let i = 0; i < count; i++) {
            u32[(regions.MSG_SLOT_A >>> 2) + i] = 2 * i;
            u32[(regions.MSG_SLOT_B >>> 2) + i] = 2 * i + 1;
          }
          const body = r.bytes(count * TUNNEL_DATA_SIZE);
          u8.set(body, regions.MSG);
          const ivAt = regions.MSG + IV_OFFSET,
            dataAt = regions.MSG;
          const ecb = (): number =>
            e.ecbEncryptBlocks!(count, ivAt, TUNNEL_DATA_SIZE, ivAt, TUNNEL_DATA_SIZE, regions.MSG_SLOT_B, 4);
          ecb();
          e.cbcEncryptLanes!(
            count,
            dataAt,
            TUNNEL_DATA_SIZE,
            DATA_OFFSET,
            DATA_SIZE,
            ivAt,
            TUNNEL_DATA_SIZE,
            regions.MSG_SLOT_A,
            4,
          );
          ecb();
          for (let i = 0; i < count; i++) {
            const b = body.subarray(i * TUNNEL_DATA_SIZE, (i + 1) * TUNNEL_DATA_SIZE);
            const x = nodeEcb(false, ivKeys[i]!, b.subarray(IV_OFFSET, DATA_OFFSET));
            const d = nodeCbc(false, layerKeys[i]!, x, b.subarray(DATA_OFFSET));
            const y = nodeEcb(false, ivKeys[i]!, x);
            const got = u8.subarray(regions.MSG + i * TUNNEL_DATA_SIZE, regions.MSG + (i + 1) * TUNNEL_DATA_SIZE);
            expect(toHex(got.subarray(0, IV_OFFSET))).toBe(toHex(b.subarray(0, IV_OFFSET)));
            expect(toHex(got.subarray(IV_OFFSET, DATA_OFFSET))).toBe(toHex(y));
            expect(toHex(got.subarray(DATA_OFFSET))).toBe(toHex(d));
          }
          // and back: ECB-decrypt the IV, CBC-decrypt under it, ECB-decrypt again
          const ecbd = (): number =>
            e.ecbDecryptBlocks!(count, ivAt, TUNNEL_DATA_SIZE, ivAt, TUNNEL_DATA_SIZE, regions.MSG_SLOT_B, 4);
          ecbd();
          e.cbcDecryptLanes!(
            count,
            dataAt,
            TUNNEL_DATA_SIZE,
            DATA_OFFSET,
            DATA_SIZE,
            ivAt,
            TUNNEL_DATA_SIZE,
            regions.MSG_SLOT_A,
            4,
          );
          ecbd();
          expect(toHex(u8.subarray(regions.MSG, regions.MSG + count * TUNNEL_DATA_SIZE))).toBe(toHex(body));
        }
      });

      it('region kernels validate their arguments and process nothing on bad ones', () => {
        const { inst } = subject.make();
        const e = inst!.exports as unknown as Record<string, (...a: number[]) => number>;
        const { u8, u32, regions } = inst!;
        u8.fill(7, regions.KEY_IN, regions.KEY_IN + 64);
        u32[regions.MSG_SLOT_A >>> 2] = 1;
        u32[(regions.MSG_SLOT_A >>> 2) + 1] = AES_KEY_SLOTS; // out of range
        expect(e.aesSetKeys!(2)).toBe(-2);
        expect(u8.subarray(regions.KEY_IN, regions.KEY_IN + 64).every((b) => b === 0)).toBe(true); // zeroed anyway
        expect(e.aesSetKeys!(-1)).toBe(-1);
        expect(e.aesSetKeys!(MAX_BATCH + 1)).toBe(-1);
        u8.fill(9, regions.IO, regions.IO + 64);
        expect(e.aesCbcIo!(2, 32, 0)).toBe(-2);
        expect(e.aesCbcIo!(1, 24, 0)).toBe(-1);
        expect(e.aesCbcIo!(MAX_BATCH + 1, 16, 0)).toBe(-1);
        expect(e.aesCbcIo!(2, 1114112, 0)).toBe(-1); // 2 x IO_SIZE does not fit
        expect(e.aesCbcMsg!(1, 20, 1024, 0)).toBe(-1); // runs past the 1028-byte message
        expect(e.aesEcbIo!(2, 0)).toBe(-2);
        expect(e.aesEcbIoOneSlot!(1, AES_KEY_SLOTS, 0)).toBe(-2);
        expect(e.aesEcbIoOneSlot!(1114112 / 16 + 1, 1, 0)).toBe(-1);
        expect(e.aesClearSlots!(2)).toBe(-2);
        expect(u8.subarray(regions.IO, regions.IO + 64).every((b) => b === 9)).toBe(true); // untouched
        u32[(regions.MSG_SLOT_A >>> 2) + 1] = 2;
        expect(e.aesCbcIo!(2, 32, 0)).toBe(0);
        expect(u8.subarray(regions.MSG_STATUS, regions.MSG_STATUS + 2).every((b) => b === 0)).toBe(true);
      });

      it('memory does not grow over 100 000 batches', () => {
        const r = rng(SEED ^ 7);
        const { aes, inst } = subject.make();
        const before = inst!.memory.buffer.byteLength;
        for (let i = 0; i < 8; i++) aes.setKey(i, r.bytes(32));
        const data = r.bytes(9 * 32);
        const batch: CbcBatch = {
          count: 9,
          data,
          stride: 32,
          offset: 0,
          length: 32,
          slots: Uint32Array.from({ length: 9 }, (_, i) => i % 8),
          ivs: r.bytes(9 * 16),
        };
        const block = r.bytes(16);
        for (let i = 0; i < 100_000; i++) {
          if (i & 1) aes.cbcEncryptBatch(batch);
          else aes.cbcDecryptBatch(batch);
          if (i % 10 === 0) aes.encryptBlock(i & 7, block, block);
        }
        expect(inst!.memory.buffer.byteLength).toBe(before);
      });

      it('clearing a slot leaves none of its key or round-key bytes in WASM memory', () => {
        const r = rng(SEED ^ 8);
        const { aes, inst } = subject.make();
        const key = r.bytes(32),
          other = r.bytes(32);
        aes.setKey(77, key);
        aes.setKey(78, other);
        const data = r.bytes(64 * 1008);
        const slots = Uint32Array.from({ length: 64 }, (_, i) => (i % 3 ? 77 : 78));
        aes.cbcEncryptBatch({ count: 64, data, stride: 1008, offset: 0, length: 1008, slots, ivs: r.bytes(64 * 16) });
        aes.cbcDecrypt(77, r.bytes(16), data.subarray(0, 1008));
        aes.encryptBlock(77, r.bytes(16));
        inst!.u32[inst!.regions.MSG_SLOT_A >>> 2] = 77; // the tunnel layer's double IV step, few-lane path
        expect((inst!.exports.aesEcbIoTwice as (n: number) => number)(1)).toBe(0);
        const mem = Buffer.from(inst!.memory.buffer);
        const rk = ref.expandKey(key);
        expect(mem.indexOf(Buffer.from(rk.subarray(32, 48)))).toBeGreaterThanOrEqual(0); // the scan can see round keys
        aes.clearKey(77);
        expect(aes.hasKey(77)).toBe(false);
        expect(mem.indexOf(Buffer.from(key))).toBe(-1);
        for (let i = 0; i + 16 <= 240; i += 4) {
          expect(mem.indexOf(Buffer.from(rk.subarray(i, i + 16)))).toBe(-1);
          expect(mem.indexOf(Buffer.from(rk.subarray(i, i + 16).map((b) => b ^ 0x63)))).toBe(-1); // few-lane form
        }
        expect(mem.subarray(inst!.regions.KEY_IN, inst!.regions.KEY_IN + 32 * MAX_BATCH).every((b) => b === 0)).toBe(
          true,
        );
        const slot = (inst!.exports.aesSlotPtr as (s: number) => number)(77);
        expect(mem.subarray(slot, slot + AES_SLOT_SIZE).every((b) => b === 0)).toBe(true);
        // the other key still works
        const b = r.bytes(16);
        expect(toHex(aes.encryptBlock(78, b))).toBe(toHex(nodeEcb(false, other, b)));
      });
    }

    it('bad input: TypeError / RangeError at the edge, never a trap', () => {
      const { aes } = subject.make();
      const key = new Uint8Array(32);
      expect(() => aes.setKey(0, new Uint8Array(31))).toThrow(RangeError);
      expect(() => aes.setKey(0, new Uint8Array(33))).toThrow(RangeError);
      expect(() => aes.setKey(0, [1, 2] as unknown as Uint8Array)).toThrow(TypeError);
      expect(() => aes.setKey(-1, key)).toThrow(RangeError);
      expect(() => aes.setKey(AES_KEY_SLOTS, key)).toThrow(RangeError);
      expect(() => aes.setKey(1.5, key)).toThrow(TypeError);
      expect(() => aes.setKey('1' as unknown as number, key)).toThrow(TypeError);
      expect(() => aes.encryptBlock(5, new Uint8Array(16))).toThrow(/has no key/);
      aes.setKey(5, key);
      expect(() => aes.encryptBlock(5, new Uint8Array(15))).toThrow(RangeError);
      expect(() => aes.encryptBlock(5, new Uint8Array(32))).toThrow(RangeError);
      expect(() => aes.encryptBlock(5, new Uint8Array(16), new Uint8Array(8))).toThrow(RangeError);
      expect(() => aes.ecbEncrypt(5, new Uint8Array(17))).toThrow(RangeError);
      expect(() => aes.cbcEncrypt(5, new Uint8Array(15), new Uint8Array(16))).toThrow(RangeError);
      expect(() => aes.cbcEncrypt(5, new Uint8Array(16), new Uint8Array(20))).toThrow(RangeError);
      expect(() => aes.cbcEncrypt(5, 'iv' as unknown as Uint8Array, new Uint8Array(16))).toThrow(TypeError);
      expect(() => aes.cbcDecrypt(AES_KEY_SLOTS + 1, new Uint8Array(16), new Uint8Array(16))).toThrow(RangeError);
      const good = (): CbcBatch => ({
        count: 2,
        data: new Uint8Array(64),
        stride: 32,
        offset: 0,
        length: 32,
        slots: Uint32Array.of(5, 5),
        ivs: new Uint8Array(32),
      });
      expect(() => aes.cbcEncryptBatch(good())).not.toThrow();
      expect(() => aes.cbcEncryptBatch({ ...good(), count: 3 })).toThrow(RangeError); // does not fit, slots/ivs short
      expect(() => aes.cbcEncryptBatch({ ...good(), count: -1 })).toThrow(RangeError);
      expect(() => aes.cbcEncryptBatch({ ...good(), count: 1.5 })).toThrow(TypeError);
      expect(() => aes.cbcEncryptBatch({ ...good(), length: 24 })).toThrow(RangeError);
      expect(() => aes.cbcEncryptBatch({ ...good(), stride: 16 })).toThrow(RangeError); // overlap
      expect(() => aes.cbcEncryptBatch({ ...good(), offset: 8 })).toThrow(RangeError); // overlap / does not fit
      expect(() => aes.cbcEncryptBatch({ ...good(), slots: Uint32Array.of(5) })).toThrow(RangeError);
      expect(() => aes.cbcEncryptBatch({ ...good(), slots: [5, 5] as unknown as Uint32Array })).toThrow(TypeError);
      expect(() => aes.cbcEncryptBatch({ ...good(), slots: Uint32Array.of(5, AES_KEY_SLOTS) })).toThrow(RangeError);
      expect(() => aes.cbcEncryptBatch({ ...good(), slots: Uint32Array.of(5, 6) })).toThrow(/has no key/);
      expect(() => aes.cbcEncryptBatch({ ...good(), ivs: new Uint8Array(31) })).toThrow(RangeError);
      expect(() => aes.cbcEncryptBatch(null as unknown as CbcBatch)).toThrow(TypeError);
      aes.clearKey(5);
      expect(() => aes.encryptBlock(5, new Uint8Array(16))).toThrow(/has no key/);
    });
  });
}

describe('backend choice', () => {
  const saved = process.env.TUNNELPLANE_BACKEND;
  afterEach(() => {
    if (saved === undefined) delete process.env.TUNNELPLANE_BACKEND;
    else process.env.TUNNELPLANE_BACKEND = saved;
  });

  it('option, then TUNNELPLANE_BACKEND, then the family default; typos throw', () => {
    delete process.env.TUNNELPLANE_BACKEND;
    expect(createAes256({ backend: 'node' }).backend).toBe('node');
    expect(createAes256({ backend: 'wasm', flavor: 'plain' }).flavor).toBe('plain');
    expect(createAes256().backend).toBe(cpuHasAes() ? 'node' : 'wasm'); // OpenSSL is constant time with AES instructions
    expect(createAes256({ flavor: 'simd' }).backend).toBe('wasm');
    process.env.TUNNELPLANE_BACKEND = 'node';
    expect(createAes256().backend).toBe('node');
    expect(createAes256({ backend: 'wasm' }).backend).toBe('wasm');
    process.env.TUNNELPLANE_BACKEND = 'wsam';
    expect(() => createAes256()).toThrow(TypeError);
    delete process.env.TUNNELPLANE_BACKEND;
    expect(() => createAes256({ backend: 'fast' as never })).toThrow(TypeError);
    expect(resolveBackend('x-family', 'auto', 'node')).toBe('node');
  });
});
