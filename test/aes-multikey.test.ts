// The multi-key AES-NI kernel (native/aes_multikey.c through the addon's keyring calls and the native backend)
// byte for byte against node:crypto (aes-hop-reference.ts) and the @noble-based readable reference on seeded random
// batches: 1-256 messages, any mix of tunnels and keys, unaligned offsets, ordinary and shared memory; the public
// AES sample vectors; the engine with every role, single- and many-message tunnels, with the kernel on (its
// counter proves it ran) and off (same bytes); argument checks; and, through the test build, its round keys gone
// from process memory once a slot is wiped or the ring closed.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cpuHasAes } from '../src/crypto/aes.js';
import { multiKeyKernel, nativeAes, type NativeAesBinding } from '../src/tunnel/aes-native.js';
import { creatorStrip, hopDecrypt, hopEncrypt } from '../src/tunnel/aes-hop-reference.js';
import { MULTI_KEY_MAX_MESSAGES, setMultiKeyDefault } from '../src/tunnel/backends/native-aes.js';
import { STATUS_OK } from '../src/constants.js';
import { LayerEngine, type TunnelConfig } from '../src/tunnel/engine.js';
import { bodyOf, hex, makeBatch, withId } from './helpers/batch.js';
import { nativeTestAddon, trackedKey } from './helpers/native-test-addon.js';
import { randomHop, seededRandom, testSeed } from './helpers/seed.js';
import { refHopDecrypt, refHopEncrypt, refParticipant, refStrip, type RefHop } from './reference/layer-reference.js';

const BODY = 1028;
const SAMPLE = new URL('../../shared/spec/vectors/tunnel-aes-sample.json', import.meta.url);
const h = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
/** The addon runs the kernel on this CPU (the direct tests); KERNEL: and the engine uses it (not turned off). */
const HW = nativeAes !== null && nativeAes.multiKeyKernel() !== '';
const KERNEL = HW && multiKeyKernel !== '';
if (!KERNEL)
  console.warn(
    `multi-key AES kernel tests SKIPPED: ${!nativeAes ? 'native addon not loaded' : !HW ? 'no AES-NI kernel on this CPU' : 'TUNNELPLANE_NO_MULTIKEY=1 (engine tests only)'}`,
  );

describe('multi-key kernel availability', () => {
  it('runs wherever the addon loaded on an x86-64 CPU with AES instructions', (ctx) => {
    if (!nativeAes) ctx.skip('native addon not loaded (aes-native.test.ts says why, and fails under CI)');
    if (process.arch !== 'x64' || !cpuHasAes()) ctx.skip(`no AES-NI here (${process.arch})`);
    expect(nativeAes!.multiKeyKernel()).toBe('aesni');
    if (process.env.TUNNELPLANE_NO_MULTIKEY !== '1') expect(multiKeyKernel).toBe('aesni');
  });
});

/** `n` bodies at unaligned, shuffled, non-overlapping offsets of one buffer (ordinary or shared memory). */
function layout(n: number, rnd: (n: number) => Uint8Array, shared: boolean): { buf: Uint8Array; at: Int32Array } {
  const gap = rnd(1)[0]! % 9;
  const base = rnd(1)[0]! % 16;
  const len = base + n * (BODY + gap) + 7;
  const buf = shared ? new Uint8Array(new SharedArrayBuffer(len)) : new Uint8Array(len);
  buf.set(rnd(len));
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = (rnd(2)[0]! | (rnd(1)[0]! << 8)) % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return { buf, at: Int32Array.from(order, (k) => base + k * (BODY + gap)) };
}

/** Sizes every run covers (groups of 8, 4, 2, 1 and their tails), then random ones. */
const SIZES = [1, 2, 3, 7, 8, 9, 15, 16, 63, 64, 255, 256];

describe.skipIf(!HW)('multi-key kernel against node:crypto and the readable reference', () => {
  const lib = nativeAes as NativeAesBinding;

  it('P over random batches: 1-256 messages, any mix of tunnels and keys, unaligned, ordinary and shared memory', () => {
    const seed = testSeed('multikey encrypt');
    const rnd = seededRandom(seed);
    const ring = lib.createKeyring();
    try {
      for (let round = 0; round < SIZES.length + 8; round++) {
        const n = round < SIZES.length ? SIZES[round]! : 1 + (rnd(1)[0]! % 256);
        // 1..n tunnels: several bodies may share a tunnel (the kernel treats each body as its own chain).
        const tunnels = 1 + (rnd(2)[0]! % n);
        const hops = Array.from({ length: tunnels }, () => randomHop(rnd));
        const slots = hops.map((k) => lib.keyringAdd(ring, k.layerKey, k.ivKey));
        const { buf, at } = layout(n, rnd, round % 2 === 1);
        const of = Int32Array.from({ length: n }, () => rnd(1)[0]! % tunnels);
        const want = buf.slice();
        for (let i = 0; i < n; i++) hopEncrypt(want.subarray(at[i]!, at[i]! + BODY), hops[of[i]!]!);
        const input = buf.slice();
        lib.multiEncrypt(
          ring,
          buf,
          at,
          Int32Array.from(of, (t) => slots[t]!),
          n,
        );
        // Every byte of the buffer: the bodies transformed, tunnel ids, gaps and the tail untouched.
        expect(hex(buf), `seed ${seed} round ${round} n ${n}`).toBe(hex(want));
        // The independent reference (noble single blocks, CBC by hand) on a few of them.
        for (let i = 0; i < Math.min(n, 3); i++) {
          const o = at[i]!;
          expect(hex(buf.subarray(o, o + BODY))).toBe(hex(refHopEncrypt(input.subarray(o, o + BODY), hops[of[i]!]!)));
        }
        for (const s of slots) lib.keyringWipe(ring, s);
      }
    } finally {
      lib.keyringClose(ring);
    }
  });

  it('P^-1 records in order: creator strips of 1-8 hops over random batches, unaligned, ordinary and shared memory', () => {
    const seed = testSeed('multikey decrypt');
    const rnd = seededRandom(seed);
    const ring = lib.createKeyring();
    try {
      for (let round = 0; round < SIZES.length + 4; round++) {
        const n = round < SIZES.length ? SIZES[round]! : 1 + (rnd(1)[0]! % 256);
        const tunnels = 1 + (rnd(2)[0]! % n);
        const chains = Array.from({ length: tunnels }, () =>
          Array.from({ length: 1 + (rnd(1)[0]! % (round % 3 === 0 ? 8 : 3)) }, () => randomHop(rnd)),
        );
        const slots = chains.map((c) => c.map((k) => lib.keyringAdd(ring, k.layerKey, k.ivKey)));
        const { buf, at } = layout(n, rnd, round % 2 === 0);
        const of = Array.from({ length: n }, () => rnd(1)[0]! % tunnels);
        const want = buf.slice();
        const recAt: number[] = [];
        const recSlot: number[] = [];
        for (let i = 0; i < n; i++) {
          creatorStrip(want.subarray(at[i]!, at[i]! + BODY), chains[of[i]!]!);
          const s = slots[of[i]!]!;
          for (let k = s.length - 1; k >= 0; k--) {
            recAt.push(at[i]!);
            recSlot.push(s[k]!);
          }
        }
        const input = buf.slice();
        lib.multiDecrypt(ring, buf, Int32Array.from(recAt), Int32Array.from(recSlot), recAt.length);
        expect(hex(buf), `seed ${seed} round ${round} n ${n}`).toBe(hex(want));
        const o = at[0]!;
        expect(hex(buf.subarray(o, o + BODY))).toBe(hex(refStrip(input.subarray(o, o + BODY), chains[of[0]!]!)));
        for (const s of slots.flat()) lib.keyringWipe(ring, s);
      }
    } finally {
      lib.keyringClose(ring);
    }
  });

  it('P then P^-1 with the same slot is the identity; one hop of P^-1 matches hopDecrypt and the reference', () => {
    const seed = testSeed('multikey roundtrip');
    const rnd = seededRandom(seed);
    const ring = lib.createKeyring();
    try {
      const k = randomHop(rnd);
      const s = lib.keyringAdd(ring, k.layerKey, k.ivKey);
      const { buf, at } = layout(5, rnd, false);
      const orig = buf.slice();
      const slots = new Int32Array(5).fill(s);
      lib.multiEncrypt(ring, buf, at, slots, 5);
      expect(hex(buf)).not.toBe(hex(orig));
      const once = buf.slice();
      lib.multiDecrypt(ring, buf, at, slots, 5);
      expect(hex(buf)).toBe(hex(orig));
      const o = at[2]!;
      const want = once.slice(o, o + BODY);
      hopDecrypt(want, k);
      expect(hex(want)).toBe(hex(orig.subarray(o, o + BODY)));
      expect(hex(refHopDecrypt(once.subarray(o, o + BODY), k))).toBe(hex(orig.subarray(o, o + BODY)));
      // The OpenSSL hop made from the slot has the slot's keys.
      const evp = lib.createHopFromSlot(ring, s);
      lib.encrypt(evp, buf, at, 5);
      expect(hex(buf)).toBe(hex(once));
      lib.wipeHop(evp);
    } finally {
      lib.keyringClose(ring);
    }
  });

  it('the public AES sample vectors (hop and strip cases), all in one call each', () => {
    const file = JSON.parse(readFileSync(SAMPLE, 'utf8')) as {
      cases: { kind: string; name: string; layer: string; [k: string]: unknown }[];
    };
    const ring = lib.createKeyring();
    try {
      const hops = file.cases.filter((c) => c.kind === 'hop' && c.layer === 'aes');
      const strips = file.cases.filter((c) => c.kind === 'strip' && c.layer === 'aes');
      expect(hops.length).toBeGreaterThan(0);
      expect(strips.length).toBeGreaterThan(0);
      const buf = new Uint8Array(hops.length * BODY + 3);
      const at = Int32Array.from(hops, (_, i) => 3 + i * BODY);
      const slots = Int32Array.from(hops, (c) => lib.keyringAdd(ring, h(c.layerKey as string), h(c.ivKey as string)));
      hops.forEach((c, i) => buf.set(h(c.input as string), at[i]!));
      lib.multiEncrypt(ring, buf, at, slots, hops.length);
      hops.forEach((c, i) => {
        const out = withId(buf.subarray(at[i]!, at[i]! + BODY), c.nextTunnelId as number);
        expect(hex(out), c.name).toBe(c.expect as string);
      });
      const sbuf = new Uint8Array(strips.length * BODY + 1);
      const recAt: number[] = [];
      const recSlot: number[] = [];
      strips.forEach((c, i) => {
        const o = 1 + i * BODY;
        sbuf.set(h(c.input as string), o);
        const keys = (c.hops as { layerKey: string; ivKey: string }[]).map((k) =>
          lib.keyringAdd(ring, h(k.layerKey), h(k.ivKey)),
        );
        for (let k = keys.length - 1; k >= 0; k--) {
          recAt.push(o);
          recSlot.push(keys[k]!);
        }
      });
      lib.multiDecrypt(ring, sbuf, Int32Array.from(recAt), Int32Array.from(recSlot), recAt.length);
      strips.forEach((c, i) => expect(hex(sbuf.subarray(1 + i * BODY, 1 + (i + 1) * BODY)), c.name).toBe(c.expect));
    } finally {
      lib.keyringClose(ring);
    }
  });

  it('refuses bad arguments before touching anything', () => {
    const ring = lib.createKeyring();
    const k = randomHop(seededRandom(7));
    const s = lib.keyringAdd(ring, k.layerKey, k.ivKey);
    const buf = new Uint8Array(2 * BODY);
    const slots = Int32Array.of(s, s);
    const at = Int32Array.of(0, BODY);
    const touched = (): boolean => buf.some((b) => b !== 0);
    expect(() => lib.multiEncrypt(ring, buf, Int32Array.of(0, BODY + 1), slots, 2)).toThrow(RangeError);
    expect(() => lib.multiEncrypt(ring, buf, Int32Array.of(-1, 0), slots, 2)).toThrow(RangeError);
    expect(() => lib.multiEncrypt(ring, buf, at, Int32Array.of(s, s + 1), 2)).toThrow(RangeError); // not in use
    expect(() => lib.multiDecrypt(ring, buf, at, Int32Array.of(s, -1), 2)).toThrow(RangeError);
    expect(() => lib.multiEncrypt(ring, buf, at, slots, 3)).toThrow(RangeError);
    expect(() => lib.multiEncrypt(ring, buf, at, Int32Array.of(s), 2)).toThrow(RangeError);
    expect(() => lib.multiEncrypt(ring, buf, Uint32Array.of(0, 0) as never, slots, 2)).toThrow(TypeError);
    expect(() => lib.multiEncrypt({} as never, buf, at, slots, 2)).toThrow(TypeError);
    expect(() => lib.keyringAdd(ring, new Uint8Array(31), k.ivKey)).toThrow(RangeError);
    expect(() => lib.createHopFromSlot(ring, s + 1)).toThrow(RangeError);
    expect(touched()).toBe(false);
    lib.keyringWipe(ring, s);
    expect(() => lib.multiEncrypt(ring, buf, at, slots, 2)).toThrow(RangeError); // wiped
    lib.keyringWipe(ring, s); // idempotent
    lib.keyringClose(ring);
    lib.keyringClose(ring); // idempotent
    expect(() => lib.multiEncrypt(ring, buf, at, slots, 0)).toThrow(TypeError); // closed
    expect(() => lib.keyringAdd(ring, k.layerKey, k.ivKey)).toThrow(TypeError);
    expect(touched()).toBe(false);
  });

  it('a keyring holds at most 65536 hops, and a wiped slot is reused', () => {
    const ring = lib.createKeyring();
    try {
      const k = randomHop(seededRandom(11));
      let last = -1;
      for (let i = 0; i < 65536; i++) last = lib.keyringAdd(ring, k.layerKey, k.ivKey);
      expect(last).toBe(65535);
      expect(() => lib.keyringAdd(ring, k.layerKey, k.ivKey)).toThrow(RangeError);
      lib.keyringWipe(ring, 4242);
      expect(lib.keyringAdd(ring, k.layerKey, k.ivKey)).toBe(4242);
    } finally {
      lib.keyringClose(ring);
    }
  });
});

interface Case {
  config: TunnelConfig;
  gateway: boolean;
  /** Messages of this tunnel in the batch. */
  messages: number;
  hops: RefHop[];
  id: number;
  next: number;
}

/** Tunnels of every role, each with 1 or 2-8 messages (the kernel up to MULTI_KEY_MAX_MESSAGES, then OpenSSL). */
function engineCases(rnd: (n: number) => Uint8Array): Case[] {
  const roles = ['participant', 'obep', 'ibgw', 'obgw', 'ibep'] as const;
  const cases: Case[] = [];
  for (let t = 0; t < 40; t++) {
    const role = roles[t % roles.length]!;
    // 1 message (most), 2-4 (still the kernel), 5-8 (OpenSSL, sideways).
    const messages = t % 8 === 3 ? 2 + (rnd(1)[0]! % 3) : t % 8 === 7 ? 5 + (rnd(1)[0]! % 4) : 1;
    const id = 1000 + t;
    const next = 5000 + t;
    if (role === 'obgw' || role === 'ibep') {
      const hops = Array.from({ length: 1 + (rnd(1)[0]! % 3) }, () => randomHop(rnd));
      const config: TunnelConfig =
        role === 'obgw'
          ? { role, layer: 'aes', gatewayTunnelId: id, firstHopTunnelId: next, firstHop: 3, hops }
          : { role, layer: 'aes', receiveTunnelId: id, hops };
      cases.push({ config, gateway: role === 'obgw', messages, hops, id, next: role === 'ibep' ? id : next });
    } else {
      const k = randomHop(rnd);
      const config: TunnelConfig = { role, layer: 'aes', receiveTunnelId: id, nextTunnelId: next, nextHop: 3, ...k };
      cases.push({ config, gateway: role === 'ibgw', messages, hops: [k], id, next: role === 'obep' ? id : next });
    }
  }
  return cases;
}

/** What the reference says each message becomes (bodies in batch order). */
function expected(c: Case, body: Uint8Array): Uint8Array {
  if (c.config.role === 'obgw' || c.config.role === 'ibep') {
    const out = refStrip(body, c.hops);
    return c.config.role === 'obgw' ? withId(out, c.next) : out;
  }
  return c.config.role === 'obep' ? refHopEncrypt(body, c.hops[0]!) : refParticipant(body, c.hops[0]!, c.next);
}

describe.skipIf(!KERNEL)('the engine routes tunnels with few messages in a batch to the kernel', () => {
  const run = (kernel: boolean, seed: number): { outputs: string[]; kernelRecords: number; expectRecords: number } => {
    const rnd = seededRandom(seed);
    const cases = engineCases(rnd);
    const was = setMultiKeyDefault(kernel);
    let engine: LayerEngine;
    try {
      engine = new LayerEngine({ backend: 'native' });
    } finally {
      setMultiKeyDefault(was);
    }
    const outputs: string[] = [];
    let expectRecords = 0;
    const before = nativeAes!.multiKeyCount();
    try {
      for (const c of cases) engine.join(c.config);
      for (const gateway of [false, true]) {
        const mine = cases.filter((c) => c.gateway === gateway);
        // Interleaved: a tunnel's messages are spread over the batch, as traffic arrives.
        const order: Case[] = [];
        for (let round = 0; order.length < mine.reduce((a, c) => a + c.messages, 0); round++)
          for (const c of mine) if (round < c.messages) order.push(c);
        const bodies = order.map((c) => withId(rnd(BODY), c.id));
        const batch = makeBatch(bodies, 0);
        const ok = gateway ? engine.processGateway(batch) : engine.processReceived(batch);
        expect(ok, `statuses ${batch.status.join(',')}`).toBe(order.length);
        order.forEach((c, i) => {
          expect(batch.status[i]).toBe(STATUS_OK);
          const got = hex(bodyOf(batch, i));
          expect(got, `${c.config.role} tunnel ${c.id} (${c.messages} messages), seed ${seed}`).toBe(
            hex(expected(c, bodies[i]!)),
          );
          outputs.push(got);
        });
        for (const c of mine) if (c.messages <= MULTI_KEY_MAX_MESSAGES) expectRecords += c.messages * c.hops.length;
      }
    } finally {
      engine.close();
    }
    return { outputs, kernelRecords: nativeAes!.multiKeyCount() - before, expectRecords };
  };

  it('every role, with and without the kernel: the same bytes as the reference, and the kernel did the few-message tunnels', () => {
    const seed = testSeed('multikey engine');
    const on = run(true, seed);
    expect(on.expectRecords).toBeGreaterThan(10);
    // Fails if the engine bypasses the kernel (or sends it tunnels with more messages than it should).
    expect(on.kernelRecords).toBe(on.expectRecords);
    const off = run(false, seed);
    expect(off.kernelRecords).toBe(0);
    expect(off.outputs).toEqual(on.outputs);
  });

  it('the auto backend uses it wherever it runs', () => {
    const engine = new LayerEngine();
    try {
      expect(engine.aesBackend).toBe('native');
      const k = randomHop(seededRandom(3));
      engine.join({ role: 'participant', layer: 'aes', receiveTunnelId: 1, nextTunnelId: 2, nextHop: 9, ...k });
      const body = withId(seededRandom(4)(BODY), 1);
      const batch = makeBatch([body]);
      const before = nativeAes!.multiKeyCount();
      expect(engine.processReceived(batch)).toBe(1);
      expect(nativeAes!.multiKeyCount() - before).toBe(1);
      expect(hex(bodyOf(batch, 0))).toBe(hex(refParticipant(body, k, 2)));
    } finally {
      engine.close();
    }
  });
});

const testBuild = HW ? nativeTestAddon() : { addon: null, problem: 'no kernel here' };
describe.skipIf(!HW)('multi-key kernel, checked from C (test build)', () => {
  const addon = (): NonNullable<typeof testBuild.addon> => {
    expect(testBuild.problem).toBeUndefined();
    return testBuild.addon!;
  };

  it("a slot's round keys are in memory while it lives and gone once wiped, after P and P^-1 ran with them", () => {
    const lib = addon();
    const layer = trackedKey(lib);
    const iv = trackedKey(lib);
    const ring = lib.createKeyring();
    try {
      const s = lib.keyringAdd(ring, layer.key, iv.key);
      layer.key.fill(0);
      iv.key.fill(0);
      const buf = new Uint8Array(3 * BODY);
      const at = Int32Array.of(0, BODY, 2 * BODY);
      lib.multiEncrypt(ring, buf, at, Int32Array.of(s, s, s), 3);
      lib.multiDecrypt(ring, buf, at, Int32Array.of(s, s, s), 3);
      // The round keys begin with the key: one copy each, in the slot (none left on the stack).
      expect(layer.count()).toBe(1);
      expect(iv.count()).toBe(1);
      // OpenSSL contexts made from the slot (a tunnel's first batch with several messages), then wiped.
      const hop = lib.createHopFromSlot(ring, s);
      lib.encrypt(hop, buf, at, 3);
      expect(layer.count()).toBeGreaterThan(1);
      lib.wipeHop(hop);
      expect(layer.count()).toBe(1);
      expect(iv.count()).toBe(1);
      lib.keyringWipe(ring, s);
      expect(layer.count()).toBe(0);
      expect(iv.count()).toBe(0);
    } finally {
      lib.keyringClose(ring);
    }
  });

  it('closing the ring wipes every slot; offsets are read once (a change after the check is not used)', () => {
    const lib = addon();
    const a = trackedKey(lib);
    const b = trackedKey(lib);
    const ring = lib.createKeyring();
    lib.keyringAdd(ring, a.key, b.key);
    const s = lib.keyringAdd(ring, b.key, a.key);
    a.key.fill(0);
    b.key.fill(0);
    expect(a.count()).toBe(2);
    const k = randomHop(seededRandom(5));
    const t = lib.keyringAdd(ring, k.layerKey, k.ivKey);
    const buf = seededRandom(6)(2 * BODY);
    const want = buf.slice();
    hopEncrypt(want.subarray(BODY), k);
    const at = Int32Array.of(BODY);
    lib.debugRaceOffset(0, 1 << 30);
    lib.multiEncrypt(ring, buf, at, Int32Array.of(t), 1);
    expect(at[0]).toBe(1 << 30);
    expect(hex(buf)).toBe(hex(want));
    expect(s).toBeGreaterThan(0);
    lib.keyringClose(ring);
    expect(a.count()).toBe(0);
    expect(b.count()).toBe(0);
  });
});
