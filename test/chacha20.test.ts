import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chacha20 as nobleChaCha } from '@noble/ciphers/chacha.js';
import { createChaCha20, type ChaCha20 } from '../src/crypto/chacha20.js';
import type { ChaChaBatch } from '../src/crypto/types.js';
import { CHACHA_KEY_SLOTS, MAX_BATCH, STATUS_BAD_LENGTH, STATUS_OK, TUNNEL_DATA_SIZE } from '../src/constants.js';
import { createInstance, type WasmInstance } from '../src/wasm/loader.js';
import { FLAVORS, Rng, containsAnyWindow, fromHex, hex, testSeed, vectors } from './helpers/chacha-rng.js';

const seed = testSeed('chacha20');

interface Impl {
  name: string;
  make: () => ChaCha20;
  inst?: WasmInstance;
}
function impls(): Impl[] {
  const out: Impl[] = [];
  for (const flavor of FLAVORS) {
    const inst = createInstance({ flavor });
    out.push({ name: `wasm/${flavor}`, make: () => createChaCha20({ backend: 'wasm', instance: inst }), inst });
  }
  out.push({ name: 'node', make: () => createChaCha20({ backend: 'node' }) });
  return out;
}

/** Reference: OpenSSL through node:crypto (valid for any block counter up to 0xffffffff, no carry involved). */
function nodeRef(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter: number): Uint8Array {
  const iv = Buffer.alloc(16);
  iv.writeUInt32LE(counter, 0);
  iv.set(nonce, 4);
  return new Uint8Array(createCipheriv('chacha20', key, iv).update(data));
}

interface ChaChaVector {
  key: string;
  nonce: string;
  initial_counter: number;
  plaintext: string;
  ciphertext: string;
}

describe('ChaCha20', () => {
  const all = impls();

  for (const impl of all) {
    describe(impl.name, () => {
      const c = impl.make();

      it('RFC 7539 §2.4.2 known answer (shared/spec/vectors)', () => {
        for (const v of vectors<ChaChaVector>('chacha20-rfc7539.json')) {
          const out = c.xor(fromHex(v.key), fromHex(v.nonce), fromHex(v.plaintext), v.initial_counter);
          expect(hex(out)).toBe(v.ciphertext);
          expect(hex(c.xor(fromHex(v.key), fromHex(v.nonce), out, v.initial_counter))).toBe(v.plaintext);
        }
      });

      it('matches @noble/ciphers and node:crypto on random keys, nonces, counters and lengths', () => {
        const rng = new Rng(seed ^ 0x1111);
        for (let t = 0; t < 300; t++) {
          const key = rng.bytes(32),
            nonce = rng.bytes(12);
          const len = t < 130 ? t : rng.int(t % 10 === 0 ? 70000 : 5000);
          const blocks = Math.ceil(len / 64);
          // every fourth case ends right below the counter limit that noble accepts (its last block is 0xfffffffe)
          const counter = t % 4 === 0 ? 2 ** 32 - 2 - blocks - rng.int(3) : rng.u32() % 100000;
          const data = rng.bytes(len);
          const got = c.xor(key, nonce, data, counter);
          expect(hex(got), `len ${len} counter ${counter}`).toBe(
            hex(nobleChaCha(key, nonce, data, undefined, counter)),
          );
        }
      });

      it('uses block 0xffffffff as the last block (RFC 7539 allows 2^32 blocks) and rejects a wrap with RangeError', () => {
        const rng = new Rng(seed ^ 0x2222);
        const key = rng.bytes(32),
          nonce = rng.bytes(12);
        for (const len of [1, 64, 65, 200, 1008, 4096]) {
          const blocks = Math.ceil(len / 64);
          const counter = 2 ** 32 - blocks; // last block is exactly 0xffffffff
          const data = rng.bytes(len);
          expect(hex(c.xor(key, nonce, data, counter))).toBe(hex(nodeRef(key, nonce, data, counter)));
          expect(() => c.xor(key, nonce, data, counter + 1)).toThrow(RangeError);
        }
        expect(() => c.xor(key, nonce, new Uint8Array(0), 0xffffffff)).not.toThrow();
        expect(() => c.xor(key, nonce, new Uint8Array(1), 2 ** 32)).toThrow(RangeError);
        expect(() => c.xor(key, nonce, new Uint8Array(1), -1)).toThrow(RangeError);
        expect(() => c.xor(key, nonce, new Uint8Array(1), 1.5)).toThrow(TypeError);
      });

      it('handles inputs longer than the WASM IO region (chunked, counter carried across chunks)', () => {
        const rng = new Rng(seed ^ 0x8888);
        const key = rng.bytes(32),
          nonce = rng.bytes(12),
          data = rng.bytes(1_200_000 + rng.int(1000));
        expect(hex(c.xor(key, nonce, data, 5)) === hex(nobleChaCha(key, nonce, data, undefined, 5))).toBe(true);
      });

      it('writes into `output`, also in place', () => {
        const rng = new Rng(seed ^ 0x3333);
        const key = rng.bytes(32),
          nonce = rng.bytes(12),
          data = rng.bytes(1000);
        const expected = nobleChaCha(key, nonce, data, undefined, 7);
        const buf = Uint8Array.from(data);
        expect(c.xor(key, nonce, buf, 7, buf)).toBe(buf);
        expect(hex(buf)).toBe(hex(expected));
        expect(() => c.xor(key, nonce, data, 0, new Uint8Array(999))).toThrow(RangeError);
      });

      it('rejects bad keys, nonces, slots and batches at the edge', () => {
        const key = new Uint8Array(32),
          nonce = new Uint8Array(12),
          data = new Uint8Array(10);
        expect(() => c.xor(new Uint8Array(31), nonce, data)).toThrow(RangeError);
        expect(() => c.xor(key, new Uint8Array(8), data)).toThrow(RangeError);
        expect(() => c.xor([1, 2] as unknown as Uint8Array, nonce, data)).toThrow(TypeError);
        expect(() => c.xor(key, nonce, 'abc' as unknown as Uint8Array)).toThrow(TypeError);
        expect(() => c.setKey(CHACHA_KEY_SLOTS, key)).toThrow(RangeError);
        expect(() => c.setKey(-1, key)).toThrow(RangeError);
        expect(() => c.setKey(0.5, key)).toThrow(TypeError);
        expect(() => c.setKey(0, new Uint8Array(16))).toThrow(RangeError);
        expect(() => c.clearKey(CHACHA_KEY_SLOTS)).toThrow(RangeError);
        c.setKey(3, key);
        const ok: ChaChaBatch = {
          count: 2,
          data: new Uint8Array(200),
          stride: 100,
          offset: 0,
          length: 100,
          slots: Uint32Array.of(3, 3),
          nonces: new Uint8Array(24),
          counters: new Uint32Array(2),
        };
        expect(() => c.xorBatch(ok)).not.toThrow();
        expect(() => c.xorBatch({ ...ok, count: 3 })).toThrow(RangeError);
        expect(() => c.xorBatch({ ...ok, count: -1 })).toThrow(RangeError);
        expect(() => c.xorBatch({ ...ok, stride: 50 })).toThrow(RangeError);
        expect(() => c.xorBatch({ ...ok, slots: Uint32Array.of(3, CHACHA_KEY_SLOTS) })).toThrow(RangeError);
        expect(() => c.xorBatch({ ...ok, slots: Uint32Array.of(3, 4) })).toThrow(/no key/);
        expect(() => c.xorBatch({ ...ok, nonces: new Uint8Array(12) })).toThrow(RangeError);
        expect(() => c.xorBatch({ ...ok, counters: Uint32Array.of(0, 2 ** 32 - 1) })).toThrow(RangeError);
        expect(() => c.xorBatch({ ...ok, slots: [3, 3] as unknown as Uint32Array })).toThrow(TypeError);
        c.clearKey(3);
        expect(() => c.xorBatch(ok)).toThrow(/no key/);
      });

      it('batches: random sizes, strides, offsets, lengths and counters match @noble/ciphers', () => {
        const rng = new Rng(seed ^ 0x4444);
        const keys = Array.from({ length: 16 }, () => rng.bytes(32));
        keys.forEach((k, i) => c.setKey(100 + i * 37, k));
        for (let t = 0; t < 25; t++) {
          const count = t === 0 ? 0 : t === 1 ? MAX_BATCH + 37 : [1, 16, 64, 256][t % 4]! + rng.int(5);
          const length = t % 3 === 0 ? 1008 : rng.int(t === 1 ? 300 : 2100);
          const offset = rng.int(40);
          const stride = offset + length + rng.int(30);
          const data = rng.bytes(count * stride + rng.int(10));
          const slots = new Uint32Array(count),
            counters = new Uint32Array(count),
            nonces = rng.bytes(12 * count);
          const which: number[] = [];
          for (let i = 0; i < count; i++) {
            const k = rng.int(16);
            which.push(k);
            slots[i] = 100 + k * 37;
            const blocks = Math.ceil(length / 64);
            counters[i] = i % 5 === 0 ? 2 ** 32 - 2 - blocks : rng.u32() % 1000;
          }
          const before = Uint8Array.from(data);
          c.xorBatch({ count, data, stride, offset, length, slots, nonces, counters });
          for (let i = 0; i < count; i++) {
            const at = i * stride + offset;
            const exp = nobleChaCha(
              keys[which[i]!]!,
              nonces.subarray(12 * i, 12 * i + 12),
              before.subarray(at, at + length),
              undefined,
              counters[i]!,
            );
            expect(hex(data.subarray(at, at + length)), `batch ${t} message ${i}`).toBe(hex(exp));
            // bytes between messages untouched
            expect(hex(data.subarray(i * stride, at))).toBe(hex(before.subarray(i * stride, at)));
            expect(hex(data.subarray(at + length, (i + 1) * stride))).toBe(
              hex(before.subarray(at + length, (i + 1) * stride)),
            );
          }
        }
      });

      if (impl.inst) {
        const inst = impl.inst;
        it('inputs that are views of WASM memory outside MSG/IO placement are not clobbered by staging', () => {
          const rng = new Rng(seed ^ 0x9999);
          const key = rng.bytes(32),
            nonce = rng.bytes(12);
          c.setKey(11, key);
          // one-shot input inside IO, at an offset: staging copies onto IO[0..)
          const io = inst.u8.subarray(inst.regions.IO + 100, inst.regions.IO + 100 + 5000);
          io.set(rng.bytes(io.length));
          const plain = Uint8Array.from(io);
          expect(hex(c.xor(key, nonce, io, 3))).toBe(hex(nobleChaCha(key, nonce, plain, undefined, 3)));
          // a batch of more than MAX_BATCH small messages inside IO (cannot run in place)
          const count = MAX_BATCH + 100,
            stride = 40;
          const view = inst.u8.subarray(inst.regions.IO + 64, inst.regions.IO + 64 + count * stride);
          view.set(rng.bytes(view.length));
          const before = Uint8Array.from(view);
          const nonces = rng.bytes(12 * count);
          c.xorBatch({
            count,
            data: view,
            stride,
            offset: 4,
            length: 33,
            slots: new Uint32Array(count).fill(11),
            nonces,
            counters: new Uint32Array(count),
          });
          for (let i = 0; i < count; i++) {
            const at = i * stride + 4;
            expect(hex(view.subarray(at, at + 33))).toBe(
              hex(nobleChaCha(key, nonces.subarray(12 * i, 12 * i + 12), before.subarray(at, at + 33))),
            );
          }
        });

        it('works in place on a view of the WASM MSG region (no copies)', () => {
          const rng = new Rng(seed ^ 0x5555);
          const key = rng.bytes(32);
          c.setKey(9, key);
          const count = 64;
          const view = inst.u8.subarray(inst.regions.MSG, inst.regions.MSG + count * TUNNEL_DATA_SIZE);
          view.set(rng.bytes(view.length));
          const before = Uint8Array.from(view);
          const nonces = rng.bytes(12 * count),
            counters = new Uint32Array(count).fill(1);
          c.xorBatch({
            count,
            data: view,
            stride: TUNNEL_DATA_SIZE,
            offset: 20,
            length: 1008,
            slots: new Uint32Array(count).fill(9),
            nonces,
            counters,
          });
          for (let i = 0; i < count; i++) {
            const at = i * TUNNEL_DATA_SIZE + 20;
            expect(hex(view.subarray(at, at + 1008))).toBe(
              hex(nobleChaCha(key, nonces.subarray(12 * i, 12 * i + 12), before.subarray(at, at + 1008), undefined, 1)),
            );
          }
        });
      }
    });
  }

  describe('AS-level kernels', () => {
    for (const flavor of FLAVORS) {
      it(`${flavor}: the raw counter wraps modulo 2^32 (callers check chachaBlocksFit); the batch kernel refuses a wrap by status`, () => {
        const inst = createInstance({ flavor });
        const x = inst.exports as unknown as Record<string, (...a: number[]) => number>;
        const rng = new Rng(seed ^ 0x6666);
        const key = rng.bytes(32),
          nonce = rng.bytes(12);
        const { u8, u32, regions } = inst;
        const io = regions.IO;
        u8.set(key, io);
        u8.set(nonce, io + 32);
        u8.fill(0, io + 64, io + 64 + 512);
        x.chachaXor!(io, io + 32, 0xfffffffe, io + 64, io + 64, 512); // 8 blocks: fffffffe, ffffffff, 0, 1, ...
        const ks = u8.slice(io + 64, io + 64 + 512);
        expect(hex(ks.subarray(0, 128))).toBe(hex(nodeRef(key, nonce, new Uint8Array(128), 0xfffffffe)));
        expect(hex(ks.subarray(128))).toBe(hex(nobleChaCha(key, nonce, new Uint8Array(384), undefined, 0)));
        expect(x.chachaBlocksFit!(0xfffffffe, 128)).toBe(1);
        expect(x.chachaBlocksFit!(0xfffffffe, 129)).toBe(0);
        // batch kernel: message 1 would wrap -> STATUS_BAD_LENGTH, untouched
        u8.set(key, regions.KEY_IN);
        u32[regions.MSG_SLOT_A >>> 2] = 1;
        expect(x.chachaSetKeys!(1)).toBe(1);
        u32[(regions.MSG_SLOT_A >>> 2) + 1] = 1;
        u32[(regions.MSG_PARAM >>> 2) + 3] = 5;
        u32[(regions.MSG_PARAM >>> 2) + 7] = 0xffffffff;
        u8.fill(0, regions.MSG, regions.MSG + 2 * 128);
        expect(x.chachaXorBatch!(2, 0, 128, 0, 128)).toBe(1);
        expect(u8[regions.MSG_STATUS]).toBe(STATUS_OK);
        expect(u8[regions.MSG_STATUS + 1]).toBe(STATUS_BAD_LENGTH);
        expect(u8.subarray(regions.MSG + 128, regions.MSG + 256).every((b) => b === 0)).toBe(true);
        // geometry that does not fit its region: -1, nothing done
        expect(x.chachaXorBatch!(MAX_BATCH + 1, 0, 0, 0, 1)).toBe(-1);
        expect(x.chachaXorBatch!(2, 0, MAX_BATCH * TUNNEL_DATA_SIZE, 0, 1)).toBe(-1);
        expect(x.chachaXorBatch!(1, 2, 0, 0, 1)).toBe(-1);
        u32[regions.MSG_SLOT_A >>> 2] = CHACHA_KEY_SLOTS;
        expect(x.chachaSetKeys!(1)).toBe(-1);
        expect(u8.subarray(regions.KEY_IN, regions.KEY_IN + 32).every((b) => b === 0)).toBe(true);
      });
    }
  });

  describe('WASM memory', () => {
    for (const flavor of FLAVORS) {
      it(`${flavor}: does not grow over 100 000 batches`, () => {
        const inst = createInstance({ flavor });
        const c = createChaCha20({ backend: 'wasm', instance: inst });
        const before = inst.memory.buffer.byteLength;
        c.setKey(0, new Uint8Array(32).fill(7));
        const batch: ChaChaBatch = {
          count: 2,
          data: new Uint8Array(2 * 80),
          stride: 80,
          offset: 8,
          length: 64,
          slots: new Uint32Array(2),
          nonces: new Uint8Array(24),
          counters: Uint32Array.of(1, 2),
        };
        for (let i = 0; i < 100_000; i++) c.xorBatch(batch);
        expect(inst.memory.buffer.byteLength).toBe(before);
      });

      it(`${flavor}: clearing a key slot leaves none of the key's bytes in WASM memory`, () => {
        const inst = createInstance({ flavor });
        const c = createChaCha20({ backend: 'wasm', instance: inst });
        const rng = new Rng(seed ^ 0x7777);
        const key = rng.bytes(32),
          oneShotKey = rng.bytes(32);
        c.setKey(4242, key);
        const count = 8;
        c.xorBatch({
          count,
          data: rng.bytes(count * 1028),
          stride: 1028,
          offset: 20,
          length: 1008,
          slots: new Uint32Array(count).fill(4242),
          nonces: rng.bytes(12 * count),
          counters: new Uint32Array(count),
        });
        c.xor(oneShotKey, rng.bytes(12), rng.bytes(3000), 1);
        expect(containsAnyWindow(inst.u8, key)).toBe(true);
        c.clearKey(4242);
        expect(containsAnyWindow(inst.u8, key)).toBe(false);
        // the one-shot path leaves no copy of its key either (KEY_IN is wiped after each call)
        expect(containsAnyWindow(inst.u8, oneShotKey)).toBe(false);
      });
    }
  });

  it('backend choice: wasm by default, TUNNELPLANE_BACKEND and the option override it', () => {
    const saved = process.env.TUNNELPLANE_BACKEND;
    try {
      delete process.env.TUNNELPLANE_BACKEND;
      expect(createChaCha20().backend).toBe('wasm');
      process.env.TUNNELPLANE_BACKEND = 'node';
      expect(createChaCha20().backend).toBe('node');
      expect(createChaCha20({ backend: 'wasm' }).backend).toBe('wasm');
      expect(() => createChaCha20({ backend: 'gpu' as never })).toThrow(TypeError);
    } finally {
      if (saved === undefined) delete process.env.TUNNELPLANE_BACKEND;
      else process.env.TUNNELPLANE_BACKEND = saved;
    }
  });
});

describe('debug WASM flavor (assertions on): ChaCha20, AEAD, Poly1305 and SHA-256 agree with the references', () => {
  it('known answers and a random batch', async () => {
    const { createChaCha20Poly1305 } = await import('../src/crypto/chacha20-poly1305.js');
    const { poly1305 } = await import('../src/crypto/poly1305.js');
    const { createSha256 } = await import('../src/crypto/sha256.js');
    const { chacha20poly1305 } = await import('@noble/ciphers/chacha.js');
    const inst = createInstance({ flavor: 'debug' });
    const c = createChaCha20({ backend: 'wasm', instance: inst });
    for (const v of vectors<ChaChaVector>('chacha20-rfc7539.json')) {
      expect(hex(c.xor(fromHex(v.key), fromHex(v.nonce), fromHex(v.plaintext), v.initial_counter))).toBe(v.ciphertext);
    }
    const rng = new Rng(seed ^ 0xdddd);
    const key = rng.bytes(32),
      nonce = rng.bytes(12),
      data = rng.bytes(3000),
      aad = rng.bytes(20);
    expect(hex(c.xor(key, nonce, data, 9))).toBe(hex(nobleChaCha(key, nonce, data, undefined, 9)));
    const aead = createChaCha20Poly1305({ backend: 'wasm', instance: inst });
    expect(hex(aead.seal(key, nonce, data, aad))).toBe(hex(chacha20poly1305(key, nonce, aad).encrypt(data)));
    expect(
      hex(
        poly1305(
          fromHex('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b'),
          new TextEncoder().encode('Cryptographic Forum Research Group'),
          { instance: inst },
        ),
      ),
    ).toBe('a8061dc1305136c6c22b8baf0c0127a9');
    expect(hex(createSha256({ backend: 'wasm', instance: inst }).hash(new TextEncoder().encode('abc')))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    c.setKey(1, key);
    const count = 20,
      before = rng.bytes(count * 1028),
      buf = Uint8Array.from(before),
      nonces = rng.bytes(12 * count);
    c.xorBatch({
      count,
      data: buf,
      stride: 1028,
      offset: 20,
      length: 1008,
      slots: new Uint32Array(count).fill(1),
      nonces,
      counters: new Uint32Array(count),
    });
    for (let i = 0; i < count; i++) {
      const at = i * 1028 + 20;
      expect(hex(buf.subarray(at, at + 1008))).toBe(
        hex(nobleChaCha(key, nonces.subarray(12 * i, 12 * i + 12), before.subarray(at, at + 1008))),
      );
    }
  });
});
