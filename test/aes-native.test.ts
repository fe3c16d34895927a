// The native AES layer (native/aes_layer.c through src/tunnel/aes-native.ts) against the slow readable reference
// (@noble/ciphers single blocks, CBC by hand) and node:crypto (aes-hop-reference.ts) on seeded random input: P and P^-1 in
// place, in ordinary and shared memory, at any offsets, across many calls on one hop (the CBC contexts chain from
// call to call), and its argument checks and wipe. With the test build of the addon (test/helpers/native-test-addon.ts)
// it is checked from C: its key schedules leave process memory on wipe, a failed EVP call leaves bodies untouched,
// offsets are read once, foreign externals are refused. The addon is optional on a developer machine (no C
// compiler: the engine falls back to node:crypto), but wherever it is built these tests run, and CI must build it.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cpuHasAes } from '../src/crypto/aes.js';
import {
  NATIVE_SIDEWAYS_MIN,
  NativeAesHop,
  nativeAes,
  nativeAesProblem,
  type NativeAesFailure,
} from '../src/tunnel/aes-native.js';
import { hopDecrypt, hopEncrypt } from '../src/tunnel/aes-hop-reference.js';
import { LayerEngine } from '../src/tunnel/engine.js';
import { nativeTestAddon, trackedKey } from './helpers/native-test-addon.js';
import { refHopDecrypt, refHopEncrypt } from './reference/layer-reference.js';
import { randomHop, seededRandom, testSeed } from './helpers/seed.js';

const BODY = 1028;
const SAMPLE = new URL('../../shared/spec/vectors/tunnel-aes-sample.json', import.meta.url);
const BUILT = existsSync(new URL('../native/build/Release/tunnelplane_aes.node', import.meta.url));
const DISABLED = process.env.TUNNELPLANE_NO_NATIVE === '1';
if (!nativeAes)
  console.warn(`native AES layer tests SKIPPED: ${nativeAesProblem}${process.env.CI ? ' (CI: failing)' : ''}`);

describe('native AES layer availability', () => {
  it('loads wherever it was built, and is built in CI', (ctx) => {
    if (!process.env.CI && (DISABLED || !BUILT)) ctx.skip(`native AES layer not here: ${nativeAesProblem}`);
    expect(nativeAesProblem).toBeUndefined();
    expect(nativeAes).not.toBeNull();
  });

  it("'native' without the addon is a clear error", (ctx) => {
    if (nativeAes) ctx.skip('the addon is loaded here');
    expect(() => new LayerEngine({ backend: 'native' })).toThrow(/native/);
  });
});

describe.skipIf(!nativeAes)(`native AES layer${nativeAes ? '' : ` (skipped: ${nativeAesProblem})`}`, () => {
  it('P (one CBC call per message, and sideways) and P^-1 match the reference and node:crypto at random offsets, in ordinary and shared memory', () => {
    const seed = testSeed('native aes layer');
    const rnd = seededRandom(seed);
    for (const [shared, sidewaysMin] of [
      [false, NATIVE_SIDEWAYS_MIN],
      [true, NATIVE_SIDEWAYS_MIN],
      [false, 1e9],
      [true, 1e9],
    ] as const) {
      for (let round = 0; round < 20; round++) {
        const hop = randomHop(rnd);
        const n = 1 + (rnd(1)[0]! % 40); // sideways groups are 16 messages: up to three groups
        // Bodies at odd, unaligned and non-consecutive offsets, in a random order.
        const size = n * (BODY + 7) + 3;
        const buf = shared ? new Uint8Array(new SharedArrayBuffer(size)) : new Uint8Array(size);
        buf.set(rnd(size));
        const at = new Int32Array(n);
        for (let i = 0; i < n; i++) at[i] = 3 + (n - 1 - i) * (BODY + 7) + (i % 3);
        const before = buf.slice();
        const native = new NativeAesHop(hop.layerKey, hop.ivKey);
        native.setSidewaysMin(sidewaysMin);
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
        const hops = (c.hops as { layerKey: string; ivKey: string }[]).map(
          (h) => new NativeAesHop(hx(h.layerKey), hx(h.ivKey)),
        );
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
    expect(() => lib.setSidewaysMin(hop, 0)).toThrow(RangeError);
    expect(() => (lib.setSidewaysMin as unknown as (n: number) => void)(2)).toThrow(TypeError);
    expect(buf.every((b) => b === 0)).toBe(true);
    lib.encrypt(hop, buf, Int32Array.of(BODY), 1);
    expect(buf.subarray(0, BODY).every((b) => b === 0)).toBe(true);
    expect(buf.subarray(BODY + 4).some((b) => b !== 0)).toBe(true);
  });

  it('a wiped hop refuses further use', () => {
    const rnd = seededRandom(7);
    const h = randomHop(rnd);
    const native = new NativeAesHop(h.layerKey, h.ivKey);
    native.wipe();
    expect(() => native.encrypt(new Uint8Array(BODY), Int32Array.of(0), 1)).toThrow(/wiped/);
    expect(() =>
      nativeAes!.encrypt(nativeAes!.createHop(h.layerKey, h.ivKey), new Uint8Array(BODY), Int32Array.of(0), 1),
    ).not.toThrow();
    const lib = nativeAes!;
    const handle = lib.createHop(h.layerKey, h.ivKey);
    lib.wipeHop(handle);
    expect(() => lib.encrypt(handle, new Uint8Array(BODY), Int32Array.of(0), 1)).toThrow(/wiped/);
  });

  it('a hop made for one direction runs that transform like a two-way hop and refuses the other', () => {
    const seed = testSeed('native one-direction hops');
    const rnd = seededRandom(seed);
    const lib = nativeAes!;
    for (let round = 0; round < 12; round++) {
      const h = randomHop(rnd);
      const enc = new NativeAesHop(h.layerKey, h.ivKey, 'encrypt');
      const dec = new NativeAesHop(h.layerKey, h.ivKey, 'decrypt');
      if (round % 2 === 1) enc.setSidewaysMin(1e9); // the serial path as well as the sideways one
      const n = 1 + (rnd(1)[0]! % 20);
      const before = rnd(n * BODY);
      const buf = before.slice();
      const at = Int32Array.from({ length: n }, (_, i) => i * BODY);
      enc.encrypt(buf, at, n);
      for (let i = 0; i < n; i++) {
        const want = refHopEncrypt(before.subarray(i * BODY, (i + 1) * BODY), h);
        expect(Buffer.from(buf.subarray(i * BODY, (i + 1) * BODY)).equals(Buffer.from(want)), `P, seed ${seed}`).toBe(
          true,
        );
      }
      dec.decrypt(buf, at, n);
      expect(Buffer.from(buf).equals(Buffer.from(before)), `P^-1 undoes P, seed ${seed}`).toBe(true);
      const untouched = buf.slice();
      expect(() => enc.decrypt(buf, at, n)).toThrow(/other direction/);
      expect(() => dec.encrypt(buf, at, n)).toThrow(/other direction/);
      expect(Buffer.from(buf).equals(Buffer.from(untouched))).toBe(true);
      enc.wipe();
      dec.wipe();
    }
    expect(() => lib.createHop(new Uint8Array(32), new Uint8Array(32), 3)).toThrow(RangeError);
    expect(() => lib.createHop(new Uint8Array(32), new Uint8Array(32), -1)).toThrow(RangeError);
    // The engine makes its transit hops encrypt-only and its OBGW / IBEP hops decrypt-only: a wrong choice would
    // throw on the first message of the round trips in tunnel-engine.test.ts.
  });

  it('copyBlocks copies blocks between ordinary and shared memory at any offsets, like TypedArray set', () => {
    const seed = testSeed('native copyBlocks');
    const rnd = seededRandom(seed);
    const lib = nativeAes!;
    for (let round = 0; round < 40; round++) {
      const size = 1 + ((rnd(2)[0]! | (rnd(1)[0]! << 8)) % 2000);
      const n = 1 + (rnd(1)[0]! % 8);
      const srcLen = n * size + 17;
      const dstLen = n * size + 29;
      const src = round & 1 ? new Uint8Array(new SharedArrayBuffer(srcLen)) : new Uint8Array(srcLen);
      src.set(rnd(srcLen));
      const dst = round & 2 ? new Uint8Array(new SharedArrayBuffer(dstLen)) : new Uint8Array(dstLen);
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

// From C, through the test build. Skipped (with the reason) only where the production addon is not available
// either; where it is, the test build must build and load.
const testBuild = nativeAes ? nativeTestAddon() : { addon: null, problem: 'the production addon is not available' };
describe.skipIf(!nativeAes)('native AES layer, checked from C (test build)', () => {
  const addon = (): NonNullable<typeof testBuild.addon> => {
    expect(testBuild.problem).toBeUndefined();
    return testBuild.addon!;
  };
  const hopRef = (rnd: (n: number) => Uint8Array) => randomHop(rnd);
  const bodiesAt = (n: number, rnd: (n: number) => Uint8Array): { buf: Uint8Array; at: Int32Array } => {
    const buf = rnd(n * (BODY + 5) + 11);
    const at = Int32Array.from({ length: n }, (_, i) => 11 + (n - 1 - i) * (BODY + 5)); // reverse order, unaligned
    return { buf, at };
  };
  const expectBody = (buf: Uint8Array, o: number, want: Uint8Array, what: string): void => {
    expect(Buffer.from(buf.subarray(o, o + BODY)).equals(Buffer.from(want)), what).toBe(true);
  };

  it("a hop's OpenSSL key schedules are in process memory while it lives and gone once it is wiped", (ctx) => {
    const lib = addon();
    if (!cpuHasAes())
      ctx.skip(
        "no AES instructions: OpenSSL's vector-permutation schedules do not hold the key bytes this scan looks for",
      );
    const layer = trackedKey(lib);
    const iv = trackedKey(lib);
    const hop = lib.createHop(layer.key, iv.key);
    layer.key.fill(0);
    iv.key.fill(0);
    // ECB encrypt, CBC encrypt and decrypt, ECB with the layer key: the layer key's first 16 bytes are in all three
    // of its encryption schedules (and the decryption one's last round key); likewise the IV key's.
    expect(layer.count()).toBeGreaterThanOrEqual(3);
    expect(iv.count()).toBeGreaterThanOrEqual(2);
    lib.wipeHop(hop);
    expect(layer.count()).toBe(0);
    expect(iv.count()).toBe(0);
  });

  it("a one-direction hop holds only that direction's schedules, and none once wiped", (ctx) => {
    const lib = addon();
    if (!cpuHasAes())
      ctx.skip(
        "no AES instructions: OpenSSL's vector-permutation schedules do not hold the key bytes this scan looks for",
      );
    // Copies of each key's first 16 bytes in process memory for a hop of direction `dir` (0: both), and after wipe.
    const copies = (dir: number): [number, number, number, number] => {
      const layer = trackedKey(lib);
      const iv = trackedKey(lib);
      const hop = lib.createHop(layer.key, iv.key, dir);
      layer.key.fill(0);
      iv.key.fill(0);
      const live: [number, number] = [layer.count(), iv.count()];
      lib.wipeHop(hop);
      return [...live, layer.count(), iv.count()];
    };
    const both = copies(0);
    expect(both.slice(2)).toEqual([0, 0]);
    // encrypt: CBC-E and ECB-E with the layer key, ECB-E with the IV key; decrypt: CBC-D, ECB-D with the IV key.
    for (const dir of [1, 2]) {
      const [layer, iv, layerAfter, ivAfter] = copies(dir);
      expect(layer).toBeGreaterThanOrEqual(1);
      expect(iv).toBeGreaterThanOrEqual(1);
      expect(layer, `direction ${dir}: fewer layer-key schedules than a two-way hop`).toBeLessThan(both[0]);
      expect(iv, `direction ${dir}: fewer IV-key schedules than a two-way hop`).toBeLessThan(both[1]);
      expect([layerAfter, ivAfter]).toEqual([0, 0]);
    }
  });

  it("the engine's native hops leave memory when their tunnel ends (engine.end), not when the collector runs", (ctx) => {
    const lib = addon();
    if (!cpuHasAes())
      ctx.skip(
        "no AES instructions: OpenSSL's vector-permutation schedules do not hold the key bytes this scan looks for",
      );
    const engine = new LayerEngine({ backend: 'native' });
    const layer = trackedKey(lib);
    const iv = trackedKey(lib);
    engine.join({
      role: 'participant',
      layer: 'aes',
      receiveTunnelId: 9,
      nextTunnelId: 10,
      nextHop: 1,
      layerKey: layer.key,
      ivKey: iv.key,
    });
    layer.key.fill(0);
    iv.key.fill(0);
    expect(layer.count()).toBeGreaterThan(0);
    expect(iv.count()).toBeGreaterThan(0);
    engine.end(9);
    expect(layer.count()).toBe(0);
    expect(iv.count()).toBe(0);
  });

  it('an EVP failure at any call of the serial path leaves the failed body and the later ones untouched', () => {
    const lib = addon();
    const seed = testSeed('native evp failure serial');
    const rnd = seededRandom(seed);
    const n = 3;
    // Three EVP updates per body: IV step, CBC step, IV step. A failed CBC step retires the hop (its chain value is
    // unknown); after a failed IV step the hop goes on, and its next call must still match the reference.
    for (const enc of [true, false]) {
      for (let failAt = 1; failAt <= 3 * n; failAt++) {
        const h = hopRef(rnd);
        const hop = lib.createHop(h.layerKey, h.ivKey);
        lib.setSidewaysMin(hop, 1e9);
        const { buf, at } = bodiesAt(n, rnd);
        const before = buf.slice();
        lib.debugFailUpdate(failAt);
        let err: NativeAesFailure | undefined;
        try {
          (enc ? lib.encrypt : lib.decrypt)(hop, buf, at, n);
        } catch (e) {
          err = e as NativeAesFailure;
        } finally {
          lib.debugFailUpdate(0);
        }
        const what = `seed ${seed} ${enc ? 'P' : 'P^-1'} failing update ${failAt}`;
        const done = Math.floor((failAt - 1) / 3);
        expect(err?.message, what).toMatch(/OpenSSL AES-256 update failed/);
        expect(err!.completed, what).toBe(done);
        const ref = enc ? refHopEncrypt : refHopDecrypt;
        for (let i = 0; i < n; i++) {
          const o = at[i]!;
          expectBody(
            buf,
            o,
            i < done ? ref(before.subarray(o, o + BODY), h) : before.subarray(o, o + BODY),
            `${what} body ${i}`,
          );
        }
        const next = bodiesAt(2, rnd);
        const nextBefore = next.buf.slice();
        if ((failAt - 1) % 3 === 1) {
          expect(() => lib.encrypt(hop, next.buf, next.at, 2), what).toThrow(/retired/);
          expect(Buffer.from(next.buf).equals(Buffer.from(nextBefore)), what).toBe(true);
        } else {
          (enc ? lib.encrypt : lib.decrypt)(hop, next.buf, next.at, 2);
          for (let i = 0; i < 2; i++) {
            const o = next.at[i]!;
            expectBody(next.buf, o, ref(nextBefore.subarray(o, o + BODY), h), `${what}, next call, body ${i}`);
          }
          lib.wipeHop(hop);
        }
      }
    }
  });

  it('an EVP failure in the sideways path leaves the failed group and the later ones untouched', () => {
    const lib = addon();
    const seed = testSeed('native evp failure sideways');
    const rnd = seededRandom(seed);
    const n = 20; // a group of 16 and a group of 4
    const perGroup = 1 + 63 + 1; // X for the group, 63 block positions, IV' for the group
    for (const failAt of [1, 2, 40, 64, 65, perGroup + 1, perGroup + 30, 2 * perGroup]) {
      const h = hopRef(rnd);
      const hop = lib.createHop(h.layerKey, h.ivKey);
      const { buf, at } = bodiesAt(n, rnd);
      const before = buf.slice();
      lib.debugFailUpdate(failAt);
      let err: NativeAesFailure | undefined;
      try {
        lib.encrypt(hop, buf, at, n);
      } catch (e) {
        err = e as NativeAesFailure;
      } finally {
        lib.debugFailUpdate(0);
      }
      const what = `seed ${seed} failing update ${failAt}`;
      const done = failAt <= perGroup ? 0 : 16;
      expect(err?.completed, what).toBe(done);
      for (let i = 0; i < n; i++) {
        const o = at[i]!;
        expectBody(
          buf,
          o,
          i < done ? refHopEncrypt(before.subarray(o, o + BODY), h) : before.subarray(o, o + BODY),
          `${what} body ${i}`,
        );
      }
      // Only ECB contexts ran: the hop goes on.
      const again = before.slice();
      lib.encrypt(hop, again, at, n);
      for (let i = 0; i < n; i++)
        expectBody(
          again,
          at[i]!,
          refHopEncrypt(before.subarray(at[i]!, at[i]! + BODY), h),
          `${what}, retry, body ${i}`,
        );
      lib.wipeHop(hop);
    }
  });

  it('reads each offset once: a write to `at` after the check (a racing thread) does not redirect the transform', () => {
    const lib = addon();
    const rnd = seededRandom(testSeed('native offset race'));
    const h = hopRef(rnd);
    for (const [enc, sideways] of [
      [true, true],
      [true, false],
      [false, false],
    ] as const) {
      const hop = lib.createHop(h.layerKey, h.ivKey);
      if (!sideways) lib.setSidewaysMin(hop, 1e9);
      const buf = rnd(4 * BODY);
      const at = Int32Array.of(0, BODY);
      const before = buf.slice();
      lib.debugRaceOffset(1, 2 * BODY); // in bounds, but not what was checked
      (enc ? lib.encrypt : lib.decrypt)(hop, buf, at, 2);
      expect(at[1]).toBe(2 * BODY); // the hook did write
      const ref = enc ? refHopEncrypt : refHopDecrypt;
      expectBody(buf, 0, ref(before.subarray(0, BODY), h), 'body 0');
      expectBody(buf, BODY, ref(before.subarray(BODY, 2 * BODY), h), 'body 1 (the checked offset)');
      expect(
        Buffer.from(buf.subarray(2 * BODY)).equals(Buffer.from(before.subarray(2 * BODY))),
        'bytes at the raced offset',
      ).toBe(true);
      lib.wipeHop(hop);
    }
    // copyBlocks likewise, on dstAt.
    const src = rnd(64);
    const dst = new Uint8Array(64);
    const dstAt = Uint32Array.of(0, 16);
    lib.debugRaceOffset(1, 48);
    lib.copyBlocks(dst, dstAt, src, Uint32Array.of(0, 16), 0, 2, 16);
    expect(dstAt[1]).toBe(48);
    expect(Buffer.from(dst.subarray(0, 32)).equals(Buffer.from(src.subarray(0, 32)))).toBe(true);
    expect(dst.subarray(32).every((b) => b === 0)).toBe(true);
  });

  it('refuses an external it did not make (type tag), without touching memory', () => {
    const lib = addon();
    const foreign = lib.debugForeignExternal();
    const buf = new Uint8Array(BODY);
    expect(() => lib.encrypt(foreign, buf, Int32Array.of(0), 1)).toThrow(/must come from createHop/);
    expect(() => lib.decrypt(foreign, buf, Int32Array.of(0), 1)).toThrow(/must come from createHop/);
    expect(() => lib.wipeHop(foreign)).toThrow(/must come from createHop/);
    expect(() => lib.setSidewaysMin(foreign, 1)).toThrow(/must come from createHop/);
    expect(buf.every((b) => b === 0)).toBe(true);
    // The production addon's hops carry the same tag (same source): accepted by the test build and back.
    const h = randomHop(seededRandom(3));
    const prod = nativeAes!.createHop(h.layerKey, h.ivKey);
    expect(() => lib.encrypt(prod, buf, Int32Array.of(0), 1)).not.toThrow();
    expectBody(buf, 0, refHopEncrypt(new Uint8Array(BODY), h), 'cross-build hop');
  });

  it('sidewaysMin is per hop: setting it on one hop leaves another on its own path', () => {
    const lib = addon();
    const rnd = seededRandom(testSeed('native sideways per hop'));
    const a = lib.createHop(rnd(32), rnd(32));
    const b = lib.createHop(rnd(32), rnd(32));
    lib.setSidewaysMin(b, 1e9);
    // Two messages: 6 EVP updates one CBC call each, 65 sideways; so a failure at update 7 shows which path ran.
    const run = (hop: typeof a): boolean => {
      const buf = rnd(2 * BODY);
      lib.debugFailUpdate(7);
      try {
        lib.encrypt(hop, buf, Int32Array.of(0, BODY), 2);
        return false;
      } catch {
        return true;
      } finally {
        lib.debugFailUpdate(0);
      }
    };
    expect(run(b)).toBe(false); // serial
    expect(run(a)).toBe(true); // still sideways (the default), whatever b was set to
    lib.setSidewaysMin(a, 3);
    expect(run(a)).toBe(false);
  });
});
