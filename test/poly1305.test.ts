import { describe, expect, it } from 'vitest';
import { chacha20poly1305 as nobleAead } from '@noble/ciphers/chacha.js';
import { poly1305 as noblePoly } from '@noble/ciphers/_poly1305.js';
import { createChaCha20Poly1305, type AeadBatch, type ChaCha20Poly1305 } from '../src/crypto/chacha20-poly1305.js';
import { poly1305 } from '../src/crypto/poly1305.js';
import { AuthenticationError } from '../src/errors.js';
import { CHACHA_KEY_SLOTS, MAX_BATCH, STATUS_BAD_MAC, STATUS_OK, TUNNEL_DATA_SIZE } from '../src/constants.js';
import { createInstance, type WasmInstance } from '../src/wasm/loader.js';
import { FLAVORS, Rng, containsAnyWindow, fromHex, hex, testSeed, vectors } from './helpers/chacha-rng.js';

const seed = testSeed('poly1305');

interface AeadVector {
  key: string;
  nonce: string;
  aad: string;
  plaintext: string;
  ciphertext: string;
  tag: string;
}

interface Impl {
  name: string;
  aead: ChaCha20Poly1305;
  inst?: WasmInstance;
}
function impls(): Impl[] {
  const out: Impl[] = FLAVORS.map((flavor) => {
    const inst = createInstance({ flavor });
    return { name: `wasm/${flavor}`, aead: createChaCha20Poly1305({ backend: 'wasm', instance: inst }), inst };
  });
  out.push({ name: 'node', aead: createChaCha20Poly1305({ backend: 'node' }) });
  return out;
}

describe('Poly1305 (WASM)', () => {
  for (const flavor of FLAVORS) {
    const inst = createInstance({ flavor });
    it(`${flavor}: RFC 7539 §2.5.2 example`, () => {
      const key = fromHex('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b');
      const tag = poly1305(key, new TextEncoder().encode('Cryptographic Forum Research Group'), { instance: inst });
      expect(hex(tag)).toBe('a8061dc1305136c6c22b8baf0c0127a9');
    });

    it(`${flavor}: matches @noble/ciphers on random keys and lengths, and on limb/reduction edge cases`, () => {
      const rng = new Rng(seed ^ 0x1212);
      for (let t = 0; t < 400; t++) {
        const len = t < 100 ? t : rng.int(3000);
        const key = rng.bytes(32),
          msg = rng.bytes(len);
        expect(hex(poly1305(key, msg, { instance: inst })), `len ${len}`).toBe(hex(noblePoly(msg, key)));
      }
      // all-ones r (clamped), s and message push h toward and past p = 2^130 - 5
      const edgeKeys = [
        new Uint8Array(32).fill(0xff),
        new Uint8Array(32),
        Uint8Array.from({ length: 32 }, (_, i) => (i < 16 ? 0xff : 0)),
      ];
      for (const key of edgeKeys) {
        for (const len of [0, 1, 15, 16, 17, 63, 64, 1008]) {
          for (const fill of [0x00, 0xff]) {
            const msg = new Uint8Array(len).fill(fill);
            expect(hex(poly1305(key, msg, { instance: inst }))).toBe(hex(noblePoly(msg, key)));
          }
        }
      }
    });
  }
  it('rejects a bad one-time key', () => {
    expect(() => poly1305(new Uint8Array(16), new Uint8Array(1))).toThrow(RangeError);
    expect(() => poly1305('k' as unknown as Uint8Array, new Uint8Array(1))).toThrow(TypeError);
  });
});

describe('ChaCha20-Poly1305 AEAD', () => {
  for (const impl of impls()) {
    const { aead } = impl;
    describe(impl.name, () => {
      it('RFC 7539 §2.8.2 known answer (shared/spec/vectors)', () => {
        for (const v of vectors<AeadVector>('chacha20-poly1305-rfc7539.json')) {
          const sealed = aead.seal(fromHex(v.key), fromHex(v.nonce), fromHex(v.plaintext), fromHex(v.aad));
          expect(hex(sealed)).toBe(v.ciphertext + v.tag);
          expect(hex(aead.open(fromHex(v.key), fromHex(v.nonce), sealed, fromHex(v.aad)))).toBe(v.plaintext);
        }
      });

      it('matches @noble/ciphers on random keys, nonces, AAD and lengths; rejects tampering', () => {
        const rng = new Rng(seed ^ 0x3434);
        for (let t = 0; t < 200; t++) {
          const key = rng.bytes(32),
            nonce = rng.bytes(12);
          const len = t < 70 ? t : rng.int(4000);
          const aad = t % 3 === 0 ? undefined : rng.bytes(rng.int(80));
          const pt = rng.bytes(len);
          const sealed = aead.seal(key, nonce, pt, aad);
          expect(hex(sealed), `len ${len}`).toBe(hex(nobleAead(key, nonce, aad).encrypt(pt)));
          expect(hex(aead.open(key, nonce, sealed, aad))).toBe(hex(pt));
          const into = new Uint8Array(len + 16);
          expect(aead.seal(key, nonce, pt, aad, into)).toBe(into);
          expect(hex(into)).toBe(hex(sealed));
          const back = new Uint8Array(len);
          expect(aead.open(key, nonce, sealed, aad, back)).toBe(back);
          expect(hex(back)).toBe(hex(pt));
          // one flipped bit anywhere in ciphertext or tag, in the AAD, the nonce or the key: AuthenticationError
          const bad = Uint8Array.from(sealed);
          bad[rng.int(bad.length)]! ^= 1 << rng.int(8);
          expect(() => aead.open(key, nonce, bad, aad)).toThrow(AuthenticationError);
          if (aad && aad.length > 0) {
            const badAad = Uint8Array.from(aad);
            badAad[rng.int(aad.length)]! ^= 0x80;
            expect(() => aead.open(key, nonce, sealed, badAad)).toThrow(AuthenticationError);
          }
          const extraAad = new Uint8Array((aad?.length ?? 0) + 1);
          expect(() => aead.open(key, nonce, sealed, extraAad)).toThrow(AuthenticationError);
          const badNonce = Uint8Array.from(nonce);
          badNonce[rng.int(12)]! ^= 4;
          expect(() => aead.open(key, badNonce, sealed, aad)).toThrow(AuthenticationError);
        }
      });

      it('rejects bad inputs at the edge', () => {
        const key = new Uint8Array(32),
          nonce = new Uint8Array(12);
        expect(() => aead.seal(new Uint8Array(33), nonce, new Uint8Array(1))).toThrow(RangeError);
        expect(() => aead.seal(key, new Uint8Array(8), new Uint8Array(1))).toThrow(RangeError);
        expect(() => aead.seal(key, nonce, null as unknown as Uint8Array)).toThrow(TypeError);
        expect(() => aead.seal(key, nonce, new Uint8Array(1), 'aad' as unknown as Uint8Array)).toThrow(TypeError);
        expect(() => aead.open(key, nonce, new Uint8Array(15))).toThrow(RangeError);
        expect(() => aead.seal(key, nonce, new Uint8Array(10), undefined, new Uint8Array(25))).toThrow(RangeError);
        expect(() => aead.open(key, nonce, new Uint8Array(26), undefined, new Uint8Array(11))).toThrow(RangeError);
        if (impl.inst) {
          // one-shot WASM AEAD is bounded by the IO region: a clear RangeError, not a trap or truncation
          expect(() => aead.seal(key, nonce, new Uint8Array(1_200_000))).toThrow(RangeError);
        } else {
          const big = new Uint8Array(1_200_000);
          expect(aead.open(key, nonce, aead.seal(key, nonce, big)).length).toBe(big.length);
        }
        expect(() => aead.setKey(CHACHA_KEY_SLOTS, key)).toThrow(RangeError);
        expect(() =>
          aead.sealBatch({
            count: 1,
            data: new Uint8Array(10),
            stride: 10,
            offset: 0,
            length: 10,
            slots: Uint32Array.of(0),
            nonces: new Uint8Array(12),
          }),
        ).toThrow(RangeError);
      });

      it('batches: seal matches noble, open restores, tampered messages get STATUS_BAD_MAC and stay untouched', () => {
        const rng = new Rng(seed ^ 0x5656);
        const keys = Array.from({ length: 8 }, () => rng.bytes(32));
        keys.forEach((k, i) => aead.setKey(2000 + i, k));
        for (let t = 0; t < 12; t++) {
          const count = t === 0 ? 0 : t === 1 ? MAX_BATCH + 5 : [1, 16, 64, 256][t % 4]! + rng.int(3);
          const length = t % 2 === 0 ? 992 : rng.int(1500);
          const aadLength = t % 3 === 0 ? 0 : rng.int(40);
          // layout per message: AAD, gap, data, tag, slack (and once AAD after the data)
          const aadAfter = t === 5;
          const aadOffset = aadAfter ? 16 + length + 16 : rng.int(8);
          const offset = aadAfter ? 16 : aadOffset + aadLength + rng.int(8);
          const stride = Math.max(offset + length + 16, aadOffset + aadLength) + rng.int(8);
          const data = rng.bytes(count * stride);
          const slots = new Uint32Array(count),
            nonces = rng.bytes(12 * count),
            which: number[] = [];
          for (let i = 0; i < count; i++) {
            which.push(rng.int(8));
            slots[i] = 2000 + which[i]!;
          }
          const plain = Uint8Array.from(data);
          const batch: AeadBatch = { count, data, stride, offset, length, slots, nonces, aadOffset, aadLength };
          aead.sealBatch(batch);
          for (let i = 0; i < count; i++) {
            const m = i * stride;
            const exp = nobleAead(
              keys[which[i]!]!,
              nonces.subarray(12 * i, 12 * i + 12),
              plain.subarray(m + aadOffset, m + aadOffset + aadLength),
            ).encrypt(plain.subarray(m + offset, m + offset + length));
            expect(hex(data.subarray(m + offset, m + offset + length + 16)), `batch ${t} message ${i}`).toBe(hex(exp));
          }
          const tampered = new Set<number>();
          for (let i = 0; i < count; i += 1 + rng.int(4)) {
            tampered.add(i);
            data[i * stride + offset + rng.int(length + 16)]! ^= 1;
          }
          const sealedCopy = Uint8Array.from(data);
          const status = aead.openBatch(batch);
          expect(status.length).toBe(count);
          for (let i = 0; i < count; i++) {
            const m = i * stride;
            const region = [m + offset, m + offset + length] as const;
            if (tampered.has(i)) {
              expect(status[i]).toBe(STATUS_BAD_MAC);
              expect(hex(data.subarray(...region))).toBe(hex(sealedCopy.subarray(...region)));
            } else {
              expect(status[i]).toBe(STATUS_OK);
              expect(hex(data.subarray(...region))).toBe(hex(plain.subarray(...region)));
            }
          }
        }
      });

      if (impl.inst) {
        const inst = impl.inst;
        it('one-shot inputs that are views of the WASM IO region are staged without clobbering', () => {
          const rng = new Rng(seed ^ 0xbcbc);
          const key = rng.bytes(32),
            nonce = rng.bytes(12);
          const io = inst.u8.subarray(inst.regions.IO, inst.regions.IO + 3000);
          io.set(rng.bytes(3000));
          const aad = io.subarray(2000, 2040),
            pt = io.subarray(7, 1900);
          const exp = nobleAead(key, nonce, Uint8Array.from(aad)).encrypt(Uint8Array.from(pt));
          expect(hex(aead.seal(key, nonce, pt, aad))).toBe(hex(exp));
        });

        it('works in place on a view of the MSG region (Proposal 153 shape: 992 data + 16 MAC at body offset 20)', () => {
          const rng = new Rng(seed ^ 0x7878);
          const key = rng.bytes(32);
          aead.setKey(77, key);
          const count = 32;
          const view = inst.u8.subarray(inst.regions.MSG, inst.regions.MSG + count * TUNNEL_DATA_SIZE);
          view.set(rng.bytes(view.length));
          const before = Uint8Array.from(view);
          const nonces = rng.bytes(12 * count);
          const batch: AeadBatch = {
            count,
            data: view,
            stride: TUNNEL_DATA_SIZE,
            offset: 20,
            length: 992,
            slots: new Uint32Array(count).fill(77),
            nonces,
            aadOffset: 0,
            aadLength: 4,
          };
          aead.sealBatch(batch);
          for (let i = 0; i < count; i++) {
            const m = i * TUNNEL_DATA_SIZE;
            const exp = nobleAead(key, nonces.subarray(12 * i, 12 * i + 12), before.subarray(m, m + 4)).encrypt(
              before.subarray(m + 20, m + 1012),
            );
            expect(hex(view.subarray(m + 20, m + 1028))).toBe(hex(exp));
          }
          const status = aead.openBatch(batch);
          expect([...status].every((s) => s === STATUS_OK)).toBe(true);
          for (let i = 0; i < count; i++) {
            const m = i * TUNNEL_DATA_SIZE;
            expect(hex(view.subarray(m, m + 1012))).toBe(hex(before.subarray(m, m + 1012)));
          }
        });
      }
    });
  }

  describe('WASM memory', () => {
    for (const flavor of FLAVORS) {
      it(`${flavor}: does not grow over 100 000 batches; clearing a slot and one-shot use leave no key bytes`, () => {
        const inst = createInstance({ flavor });
        const aead = createChaCha20Poly1305({ backend: 'wasm', instance: inst });
        const rng = new Rng(seed ^ 0x9a9a);
        const key = rng.bytes(32),
          oneShotKey = rng.bytes(32);
        const before = inst.memory.buffer.byteLength;
        aead.setKey(8191, key);
        const batch: AeadBatch = {
          count: 2,
          data: new Uint8Array(2 * 64),
          stride: 64,
          offset: 8,
          length: 32,
          slots: Uint32Array.of(8191, 8191),
          nonces: rng.bytes(24),
          aadOffset: 0,
          aadLength: 8,
        };
        const status = new Uint8Array(2);
        for (let i = 0; i < 50_000; i++) {
          aead.sealBatch(batch);
          aead.openBatch(batch, status);
        }
        expect(status[0]).toBe(STATUS_OK);
        expect(inst.memory.buffer.byteLength).toBe(before);
        const sealed = aead.seal(oneShotKey, rng.bytes(12), rng.bytes(500), rng.bytes(10));
        expect(sealed.length).toBe(516);
        expect(() => aead.open(oneShotKey, new Uint8Array(12), sealed)).toThrow(AuthenticationError);
        expect(containsAnyWindow(inst.u8, key)).toBe(true);
        aead.clearKey(8191);
        expect(containsAnyWindow(inst.u8, key)).toBe(false);
        expect(containsAnyWindow(inst.u8, oneShotKey)).toBe(false);
      });
    }
  });
});
