// NTCP2 handshake: the digest's computed vector (ntcp2-routerinfo.md §7) reproduced exactly by our Initiator and
// Responder -- every intermediate ck / k / h, all three messages, the data-phase keys and the first frame each way --
// then random handshakes between the two, and every parser failure path.
import { describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Initiator, Responder, ntcp2Seconds, withinSkew } from '../src/transport/ntcp2/handshake.js';
import { dataPhaseKeys, hkdf64, x25519FromPrivate } from '../src/transport/ntcp2/noise.js';
import { FrameOpener, FrameSealer, coreFrameAead, nodeFrameAead } from '../src/transport/ntcp2/frames.js';
import { siphash24 } from '../src/transport/ntcp2/siphash.js';
import { parseSessionConfirmedPayload } from '../src/transport/ntcp2/blocks.js';
import {
  TERM_INCOMPATIBLE_OPTIONS,
  TERM_MSG1_ERROR,
  TERM_MSG2_ERROR,
  TERM_MSG3_ERROR,
} from '../src/transport/ntcp2/constants.js';

const V = JSON.parse(readFileSync(new URL('./fixtures/ntcp2-handshake-vector.json', import.meta.url), 'utf8'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const labelKey = (label: string) => new Uint8Array(createHash('sha256').update(label, 'ascii').digest());

function vectorParties(traceA: Map<string, string>, traceB: Map<string, string>) {
  const bobStatic = x25519FromPrivate(labelKey(V.labels.bobStatic));
  const aliceStatic = x25519FromPrivate(labelKey(V.labels.aliceStatic));
  const rh = labelKey(V.labels.bobRouterHash);
  const iv = unhex(V.iv);
  const alice = new Initiator(
    aliceStatic,
    { identHash: rh, staticKey: bobStatic.publicKey, iv },
    {
      ephemeral: x25519FromPrivate(labelKey(V.labels.aliceEphemeral)),
      trace: (l, v) => traceA.set(l, hex(v)),
    },
  );
  const bob = new Responder(
    { staticKey: bobStatic, identHash: rh, iv },
    {},
    {
      ephemeral: x25519FromPrivate(labelKey(V.labels.bobEphemeral)),
      trace: (l, v) => traceB.set(l, hex(v)),
    },
  );
  return { bobStatic, aliceStatic, rh, alice, bob };
}

describe('NTCP2 handshake vector (§7)', () => {
  it('derives the stated keys from the labels', () => {
    const v = V.values;
    expect(hex(labelKey(V.labels.bobStatic))).toBe(v.bob_static_priv);
    expect(hex(labelKey(V.labels.aliceEphemeral))).toBe(v.alice_eph_priv);
    expect(hex(labelKey(V.labels.bobEphemeral))).toBe(v.bob_eph_priv);
    expect(hex(labelKey(V.labels.aliceStatic))).toBe(v.alice_static_priv);
    expect(hex(labelKey(V.labels.bobRouterHash))).toBe(v.RH_B);
    expect(hex(x25519FromPrivate(labelKey(V.labels.bobStatic)).publicKey)).toBe(v.rs);
    expect(hex(x25519FromPrivate(labelKey(V.labels.aliceEphemeral)).publicKey)).toBe(v.X);
    expect(hex(x25519FromPrivate(labelKey(V.labels.bobEphemeral)).publicKey)).toBe(v.Y);
    expect(hex(x25519FromPrivate(labelKey(V.labels.aliceStatic)).publicKey)).toBe(v.S_A);
  });

  it('reproduces every intermediate value, the three messages, the keys and the first frames', () => {
    const v = V.values;
    const ta = new Map<string, string>(),
      tb = new Map<string, string>();
    const { alice, bob, aliceStatic } = vectorParties(ta, tb);
    const m3p2 = unhex(V.m3p2Plaintext);

    const msg1 = alice.createSessionRequest({ m3p2Len: m3p2.length + 16, tsA: V.tsA, padding: unhex(V.msg1Padding) });
    expect(hex(msg1)).toBe(v.msg1);
    const r1 = bob.readSessionRequest(msg1.subarray(0, 64));
    expect(r1.ok).toBe(true);
    if (!r1.ok) return;
    expect(r1.value).toMatchObject({ netId: 2, version: 2, padLen: 5, m3p2Len: 24, tsA: V.tsA });
    expect(hex(r1.value.x)).toBe(v.X);
    bob.sessionRequestPadding(msg1.subarray(64));

    const msg2 = bob.createSessionCreated({ tsB: V.tsB, padding: unhex(V.msg2Padding) });
    expect(hex(msg2)).toBe(v.msg2);
    const r2 = alice.readSessionCreated(msg2.subarray(0, 64));
    expect(r2.ok).toBe(true);
    if (!r2.ok) return;
    expect(r2.value).toEqual({ padLen: 2, tsB: V.tsB });
    alice.sessionCreatedPadding(msg2.subarray(64, 64 + r2.value.padLen));

    const { message: msg3, keys: ka } = alice.createSessionConfirmed(m3p2);
    expect(hex(msg3)).toBe(v.part1 + v.part2);
    expect(bob.sessionConfirmedLength).toBe(msg3.length);
    const r3 = bob.readSessionConfirmed(msg3);
    expect(r3.ok).toBe(true);
    if (!r3.ok) return;
    expect(hex(r3.value.remoteStaticKey)).toBe(hex(aliceStatic.publicKey));
    expect(hex(r3.value.payload)).toBe(V.m3p2Plaintext);

    // Every intermediate the digest lists, from both sides where both compute it.
    for (const label of [
      'h:rs',
      'h:X',
      'ck1',
      'k1',
      'options1',
      'h:msg1',
      'h:Y',
      'ck2',
      'k2',
      'options2',
      'h:msg2',
      'h:part1',
      'ck3',
      'k3',
      'h:final',
    ]) {
      expect(ta.get(label), `Alice ${label}`).toBe(v[label]);
      expect(tb.get(label), `Bob ${label}`).toBe(v[label]);
    }
    expect(ta.get('part1')).toBe(v.part1);
    expect(ta.get('part2')).toBe(v.part2);

    for (const keys of [ka, r3.value.keys]) {
      expect(hex(keys.kAB)).toBe(v.k_ab);
      expect(hex(keys.kBA)).toBe(v.k_ba);
      expect(hex(keys.sipAB)).toBe(v.sipkeys_ab);
      expect(hex(keys.sipBA)).toBe(v.sipkeys_ba);
    }
    expect(hex(siphash24(ka.sipAB.subarray(0, 16), ka.sipAB.subarray(16, 24)))).toBe(v.frameAB0_iv1);
    expect(hex(siphash24(ka.sipBA.subarray(0, 16), ka.sipBA.subarray(16, 24)))).toBe(v.frameBA0_iv1);

    for (const aead of [nodeFrameAead, coreFrameAead('wasm'), coreFrameAead('node')]) {
      const ab = new FrameSealer(ka.kAB, ka.sipAB, aead);
      expect(hex(ab.seal(unhex(v.frameAB0_plaintext))), aead.name).toBe(v.frameAB0_wire);
      const ba = new FrameSealer(ka.kBA, ka.sipBA, aead);
      expect(hex(ba.seal(unhex(v.frameBA0_plaintext))), aead.name).toBe(v.frameBA0_wire);
      // and Bob opens Alice's frame
      const open = new FrameOpener(ka.kAB, ka.sipAB, aead);
      const wire = unhex(v.frameAB0_wire);
      const len = open.readLength(wire[0]!, wire[1]!);
      expect(len).toBe(19);
      const out = new Uint8Array(len - 16);
      expect(open.open(wire.subarray(2), out)).toBe(true);
      expect(hex(out)).toBe(v.frameAB0_plaintext);
    }
  });

  it('reproduces the standalone data-phase KDF example', () => {
    const k = dataPhaseKeys(unhex(V.kdfOnly.ck), unhex(V.kdfOnly.h));
    expect(hex(k.kAB).startsWith(V.kdfOnly.k_ab_prefix)).toBe(true);
    expect(hex(k.kAB).endsWith(V.kdfOnly.k_ab_suffix)).toBe(true);
    expect(hex(k.sipAB)).toBe(V.kdfOnly.sipkeys_ab);
  });

  it('HKDF matches RFC 5869 test case 1 (first 42 bytes of the 64)', () => {
    const okm = hkdf64(unhex('000102030405060708090a0b0c'), unhex('0b'.repeat(22)), unhex('f0f1f2f3f4f5f6f7f8f9'));
    expect(hex(okm.subarray(0, 42))).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });
});

function randomPair() {
  const bobStatic = x25519FromPrivate(randomBytes(32));
  const aliceStatic = x25519FromPrivate(randomBytes(32));
  const rh = new Uint8Array(randomBytes(32));
  const iv = new Uint8Array(randomBytes(16));
  return {
    bobStatic,
    aliceStatic,
    rh,
    iv,
    alice: () => new Initiator(aliceStatic, { identHash: rh, staticKey: bobStatic.publicKey, iv }),
    bob: (limits = {}) => new Responder({ staticKey: bobStatic, identHash: rh, iv }, limits),
  };
}

describe('NTCP2 handshake between our Initiator and Responder', () => {
  it('completes with random keys, paddings and payloads, both sides agreeing on the keys', () => {
    for (let i = 0; i < 30; i++) {
      const p = randomPair();
      const a = p.alice(),
        b = p.bob();
      const payload = new Uint8Array(randomBytes(1 + ((i * 37) % 300)));
      const pad1 = new Uint8Array(randomBytes(i % 7 === 0 ? 0 : (i * 13) % 224));
      const msg1 = a.createSessionRequest({
        m3p2Len: payload.length + 16,
        tsA: ntcp2Seconds(Date.now()),
        padding: pad1,
      });
      const r1 = b.readSessionRequest(msg1.subarray(0, 64));
      expect(r1.ok).toBe(true);
      if (!r1.ok) return;
      expect(r1.value.padLen).toBe(pad1.length);
      b.sessionRequestPadding(msg1.subarray(64));
      const msg2 = b.createSessionCreated({
        tsB: ntcp2Seconds(Date.now()),
        padding: new Uint8Array(randomBytes(i % 5)),
      });
      const r2 = a.readSessionCreated(msg2.subarray(0, 64));
      expect(r2.ok).toBe(true);
      if (!r2.ok) return;
      a.sessionCreatedPadding(msg2.subarray(64));
      const { message, keys } = a.createSessionConfirmed(payload);
      const r3 = b.readSessionConfirmed(message);
      expect(r3.ok).toBe(true);
      if (!r3.ok) return;
      expect(hex(r3.value.payload)).toBe(hex(payload));
      expect(hex(r3.value.keys.kAB)).toBe(hex(keys.kAB));
      expect(hex(r3.value.keys.sipBA)).toBe(hex(keys.sipBA));
    }
  });

  it('refuses msg1 for the wrong router hash, IV or static key (AEAD failure, reason 11)', () => {
    const p = randomPair();
    const msg1 = p.alice().createSessionRequest({ m3p2Len: 100, tsA: 1 });
    for (const b of [
      new Responder({ staticKey: p.bobStatic, identHash: new Uint8Array(32), iv: p.iv }),
      new Responder({ staticKey: p.bobStatic, identHash: p.rh, iv: new Uint8Array(16) }),
      new Responder({ staticKey: x25519FromPrivate(randomBytes(32)), identHash: p.rh, iv: p.iv }),
    ]) {
      const r = b.readSessionRequest(msg1.subarray(0, 64));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toBe(TERM_MSG1_ERROR);
    }
  });

  it('checks netId, version, m3p2Len and the padding limit of msg1', () => {
    const p = randomPair();
    const cases: Array<[object, number, object]> = [
      [{ netId: 3 }, TERM_INCOMPATIBLE_OPTIONS, {}],
      [{ netId: 0 }, -1, {}], // 0 = not set: accepted
      [{ m3p2Len: 16, padding: new Uint8Array(224) }, TERM_MSG1_ERROR, { maxPadding: 223 }],
      [{ m3p2Len: 5000 }, TERM_MSG1_ERROR, { maxM3p2Len: 4096 }],
    ];
    for (const [opts, reason, limits] of cases) {
      const msg1 = p.alice().createSessionRequest({ m3p2Len: 100, tsA: 1, ...opts });
      const r = p.bob(limits).readSessionRequest(msg1.subarray(0, 64));
      if (reason < 0) expect(r.ok).toBe(true);
      else {
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.reason).toBe(reason);
      }
    }
  });

  it('refuses a tampered msg2 and msg3, and a msg3 of the wrong length', () => {
    const p = randomPair();
    for (const target of ['msg2', 'msg3', 'msg3len']) {
      const a = p.alice(),
        b = p.bob();
      const payload = new Uint8Array(40);
      const msg1 = a.createSessionRequest({ m3p2Len: 56, tsA: 1 });
      expect(b.readSessionRequest(msg1).ok).toBe(true);
      const msg2 = b.createSessionCreated({ tsB: 2 });
      if (target === 'msg2') {
        msg2[40] ^= 1;
        const r = a.readSessionCreated(msg2);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.reason).toBe(TERM_MSG2_ERROR);
        continue;
      }
      expect(a.readSessionCreated(msg2).ok).toBe(true);
      const { message } = a.createSessionConfirmed(payload);
      const m =
        target === 'msg3'
          ? Uint8Array.from(message, (x, i) => (i === 70 ? x ^ 0x80 : x))
          : message.subarray(0, message.length - 1);
      const r = b.readSessionConfirmed(m);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toBe(TERM_MSG3_ERROR);
    }
  });

  it('clock skew is ±60 s inclusive (§4.8)', () => {
    expect(withinSkew(1000, 1060)).toBe(true);
    expect(withinSkew(1000, 940)).toBe(true);
    expect(withinSkew(1000, 1061)).toBe(false);
    expect(withinSkew(1000, 939)).toBe(false);
    expect(ntcp2Seconds(1499)).toBe(1);
    expect(ntcp2Seconds(1500)).toBe(2);
  });

  it('msg3 payload: RouterInfo first, then only Options and Padding', () => {
    const ok = parseSessionConfirmedPayload(
      unhex('020004' + '00aabbcc' + '01000c' + '00'.repeat(12) + 'fe0002' + '0000'),
    );
    expect(ok.ok).toBe(true);
    if (ok.ok) expect(hex(ok.value.routerInfo)).toBe('aabbcc');
    for (const bad of [
      'fe0000',
      '0100000200020000',
      '020002000103000900000000000000000000',
      '0200020001e00000',
      '020005000102',
    ]) {
      expect(parseSessionConfirmedPayload(unhex(bad)).ok, bad).toBe(false);
    }
  });
});
