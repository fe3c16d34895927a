// The native AES layer (native/aes_layer.c through src/tunnel/aes-native.ts) against the slow readable reference
// (@noble/ciphers single blocks, CBC by hand) and node:crypto (hop-node.ts) on seeded random input: P and P^-1 in
// place, in ordinary and shared memory, at any offsets, across many calls on one hop (the CBC contexts chain from
// call to call), and its argument checks and wipe. The addon is optional on a developer machine (no C compiler:
// the engine falls back to node:crypto) but must be built in CI.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NATIVE_SIDEWAYS_MIN, NativeAesHop, nativeAes, nativeAesProblem } from '../src/tunnel/aes-native.js';
import { hopDecrypt, hopEncrypt } from '../src/tunnel/hop-node.js';
import { LayerEngine } from '../src/tunnel/engine.js';
import { randomHop, refHopDecrypt, refHopEncrypt, seededRandom, testSeed } from './helpers/layer-reference.js';

const BODY = 1028;
const SAMPLE = new URL('../../shared/spec/vectors/tunnel-aes-sample.json', import.meta.url);

describe('native AES layer availability', () => {
  it('is built in CI (TUNNELPLANE_REQUIRE_NATIVE / CI set)', () => {
    if (!process.env.CI) {
      console.log(`native AES layer: ${nativeAes ? 'loaded' : `not available (${nativeAesProblem})`}`);
      return;
    }
    expect(nativeAesProblem).toBeUndefined();
    expect(nativeAes).not.toBeNull();
  });

  it("'auto' picks native exactly when the addon loaded; 'native' without it is a clear error", () => {
    expect(new LayerEngine().aesBackend).toBe(nativeAes ? 'native' : 'hybrid');
    expect(new LayerEngine().chachaBackend).toBe('wasm');
    if (!nativeAes) expect(() => new LayerEngine({ backend: 'native' })).toThrow(/native/);
  });
});

describe.skipIf(!nativeAes)(`native AES layer${nativeAes ? '' : ` (skipped: ${nativeAesProblem})`}`, () => {
  it('P (one CBC call per message, and sideways) and P^-1 match the reference and node:crypto at random offsets, in ordinary and shared memory', () => {
    const seed = testSeed('native aes layer');
    const rnd = seededRandom(seed);
    try {
    for (const [shared, sidewaysMin] of [[false, NATIVE_SIDEWAYS_MIN], [true, NATIVE_SIDEWAYS_MIN], [false, 1e9], [true, 1e9]] as const) {
      nativeAes!.setSidewaysMin(sidewaysMin);
      for (let round = 0; round < 20; round++) {
        const hop = randomHop(rnd);
        const n = 1 + (rnd(1)[0]! % 12);
        // Bodies at odd, unaligned and non-consecutive offsets, in a random order.
        const size = n * (BODY + 7) + 3;
        const buf = shared ? new Uint8Array(new SharedArrayBuffer(size)) : new Uint8Array(size);
        buf.set(rnd(size));
        const at = new Int32Array(n);
        for (let i = 0; i < n; i++) at[i] = 3 + (n - 1 - i) * (BODY + 7) + (i % 3);
        const before = buf.slice();
        const native = new NativeAesHop(hop.layerKey, hop.ivKey);
        native.encrypt(buf, at, n);
        for (let i = 0; i < n; i++) {
          const o = at[i]!;
          const ref = refHopEncrypt(before.subarray(o, o + BODY), hop);
          expect(Buffer.from(buf.subarray(o, o + BODY)).equals(Buffer.from(ref))).toBe(true);
          const viaNode = before.slice(o, o + BODY);
          hopEncrypt(viaNode, hop);
          expect(Buffer.from(viaNode).equals(Buffer.from(ref))).toBe(true);
        }
        // Bytes outside the bodies are untouched.
        const touched = new Uint8Array(size);
        for (let i = 0; i < n; i++) touched.fill(1, at[i]! + 4, at[i]! + BODY);
        for (let b = 0; b < size; b++) if (!touched[b]) expect(buf[b]).toBe(before[b]);
        const enc = buf.slice();
        native.decrypt(buf, at, n);
        expect(Buffer.from(buf).equals(Buffer.from(before))).toBe(true);
        for (let i = 0; i < n; i++) {
          const o = at[i]!;
          const ref = refHopDecrypt(enc.subarray(o, o + BODY), hop);
          const viaNode = enc.slice(o, o + BODY);
          hopDecrypt(viaNode, hop);
          expect(Buffer.from(viaNode).equals(Buffer.from(ref))).toBe(true);
        }
        native.wipe();
      }
    }
    } finally {
      nativeAes!.setSidewaysMin(NATIVE_SIDEWAYS_MIN);
    }
  });

  it("passes the public AES sample's hop and strip cases (an independent implementation's known answers)", () => {
    const file = JSON.parse(readFileSync(SAMPLE, 'utf8')) as { cases: Record<string, any>[] };
    const cases = file.cases.filter((c) => c.kind === 'hop' || c.kind === 'strip');
    expect(cases.length).toBeGreaterThan(0);
    const hx = (v: string): Uint8Array => Uint8Array.from(Buffer.from(v, 'hex'));
    for (const c of cases) {
      const body = hx(c.input as string);
      const at = Int32Array.of(0);
      if (c.kind === 'hop') {
        const hop = new NativeAesHop(hx(c.layerKey), hx(c.ivKey));
        hop.encrypt(body, at, 1);
        new DataView(body.buffer).setUint32(0, c.nextTunnelId as number);
        hop.wipe();
      } else {
        const hops = (c.hops as { layerKey: string; ivKey: string }[]).map((h) => new NativeAesHop(hx(h.layerKey), hx(h.ivKey)));
        for (let i = hops.length - 1; i >= 0; i--) hops[i]!.decrypt(body, at, 1);
        for (const h of hops) h.wipe();
      }
      expect(Buffer.from(body).toString('hex'), c.name as string).toBe(c.expect);
    }
  });

  it('a hop stays correct over many calls (its CBC contexts chain from one call into the next)', () => {
    const rnd = seededRandom(testSeed('native aes chaining'));
    const hop = randomHop(rnd);
    const native = new NativeAesHop(hop.layerKey, hop.ivKey);
    for (let call = 0; call < 50; call++) {
      const n = 1 + (call % 5);
      const buf = rnd(n * BODY);
      const at = Int32Array.from({ length: n }, (_, i) => i * BODY);
      const before = buf.slice();
      if (call % 2 === 0) native.encrypt(buf, at, n);
      else native.decrypt(buf, at, n);
      for (let i = 0; i < n; i++) {
        const ref = (call % 2 === 0 ? refHopEncrypt : refHopDecrypt)(before.subarray(i * BODY, (i + 1) * BODY), hop);
        expect(Buffer.from(buf.subarray(i * BODY, (i + 1) * BODY)).equals(Buffer.from(ref))).toBe(true);
      }
    }
  });

  it('refuses bad arguments with errors instead of touching memory out of bounds', () => {
    const lib = nativeAes!;
    const hop = lib.createHop(new Uint8Array(32), new Uint8Array(32));
    const buf = new Uint8Array(2 * BODY);
    expect(() => lib.createHop(new Uint8Array(31), new Uint8Array(32))).toThrow(RangeError);
    expect(() => lib.createHop([] as unknown as Uint8Array, new Uint8Array(32))).toThrow(TypeError);
    expect(() => lib.encrypt({} as never, buf, Int32Array.of(0), 1)).toThrow(TypeError);
    expect(() => lib.encrypt(hop, buf, Int32Array.of(BODY + 1), 1)).toThrow(RangeError);
    expect(() => lib.encrypt(hop, buf, Int32Array.of(-1), 1)).toThrow(RangeError);
    expect(() => lib.encrypt(hop, buf, Int32Array.of(0), 2)).toThrow(RangeError);
    expect(() => lib.decrypt(hop, buf, Uint32Array.of(0) as unknown as Int32Array, 1)).toThrow(TypeError);
    expect(() => lib.setSidewaysMin(0)).toThrow(RangeError);
    expect(buf.every((b) => b === 0)).toBe(true);
    lib.encrypt(hop, buf, Int32Array.of(BODY), 1);
    expect(buf.subarray(0, BODY).every((b) => b === 0)).toBe(true);
    expect(buf.subarray(BODY + 4).some((b) => b !== 0)).toBe(true);
  });

  it('a wiped hop refuses further use, and an engine wipes its hops when a tunnel ends', () => {
    const rnd = seededRandom(7);
    const h = randomHop(rnd);
    const native = new NativeAesHop(h.layerKey, h.ivKey);
    native.wipe();
    expect(native.wiped).toBe(true);
    expect(() => native.encrypt(new Uint8Array(BODY), Int32Array.of(0), 1)).toThrow(/wiped/);
    expect(() => nativeAes!.encrypt(nativeAes!.createHop(h.layerKey, h.ivKey), new Uint8Array(BODY), Int32Array.of(0), 1)).not.toThrow();
    const lib = nativeAes!;
    const handle = lib.createHop(h.layerKey, h.ivKey);
    lib.wipeHop(handle);
    expect(() => lib.encrypt(handle, new Uint8Array(BODY), Int32Array.of(0), 1)).toThrow(/wiped/);

    const engine = new LayerEngine({ backend: 'native' });
    engine.join({ role: 'participant', layer: 'aes', receiveTunnelId: 9, nextTunnelId: 10, nextHop: 1, ...h });
    const hops = (engine as unknown as { received: Map<number, { hops: { nat: NativeAesHop }[] }> }).received.get(9)!.hops;
    expect(hops[0]!.nat.wiped).toBe(false);
    engine.end(9);
    expect(hops[0]!.nat.wiped).toBe(true);
  });

  it('copyBlocks copies blocks between ordinary and shared memory at any offsets, like TypedArray set', () => {
    const seed = testSeed('native copyBlocks');
    const rnd = seededRandom(seed);
    const lib = nativeAes!;
    for (let round = 0; round < 40; round++) {
      const size = 1 + (rnd(2)[0]! | (rnd(1)[0]! << 8)) % 2000;
      const n = 1 + (rnd(1)[0]! % 8);
      const srcLen = n * size + 17;
      const dstLen = n * size + 29;
      const src = (round & 1 ? new Uint8Array(new SharedArrayBuffer(srcLen)) : new Uint8Array(srcLen));
      src.set(rnd(srcLen));
      const dst = (round & 2 ? new Uint8Array(new SharedArrayBuffer(dstLen)) : new Uint8Array(dstLen));
      dst.set(rnd(dstLen));
      // Non-overlapping destinations in a shuffled order, sources at arbitrary (possibly repeated) offsets.
      const srcAt = new Uint32Array(n);
      const dstAt = new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        srcAt[i] = rnd(2)[0]! % (srcLen - size + 1);
        dstAt[i] = ((i * 5 + round) % n) * size + (round % 7);
      }
      const from = rnd(1)[0]! % n;
      const expected = dst.slice();
      for (let i = from; i < n; i++) expected.set(src.subarray(srcAt[i]!, srcAt[i]! + size), dstAt[i]!);
      lib.copyBlocks(dst, dstAt, src, srcAt, from, n, size);
      expect(Buffer.from(dst).equals(Buffer.from(expected)), `seed ${seed} round ${round}`).toBe(true);
    }
    const buf = new Uint8Array(100);
    expect(() => lib.copyBlocks(buf, Uint32Array.of(90), buf, Uint32Array.of(0), 0, 1, 11)).toThrow(RangeError);
    expect(() => lib.copyBlocks(buf, Uint32Array.of(0), buf, Uint32Array.of(95), 0, 1, 6)).toThrow(RangeError);
    expect(() => lib.copyBlocks(buf, Uint32Array.of(0), buf, Uint32Array.of(0), 0, 2, 1)).toThrow(RangeError);
    expect(() => lib.copyBlocks(buf, Uint32Array.of(0), buf, Uint32Array.of(0), 1, 0, 1)).toThrow(RangeError);
    expect(() => lib.copyBlocks(buf, Int32Array.of(0) as never, buf, Uint32Array.of(0), 0, 1, 1)).toThrow(TypeError);
  });
});
