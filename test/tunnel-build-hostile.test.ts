// Hostile build messages (tunnel-build-ecies.md; issue checks "malformed, truncated and oversized build messages,
// records for unknown keys"): every one refused with a typed reason and no exception, on the hop side and on the
// creator's reply side. Records that decrypt but carry random cleartext too. The replay filter stays bounded.
import { describe, expect, it } from 'vitest';
import { x25519 as nobleX25519 } from '@noble/curves/ed25519.js';
import { TunnelBuildHop } from '../src/router/tunnel-build/hop.js';
import {
  createShortTunnelBuild,
  processGarlicBuildReply,
  processShortBuildReply,
} from '../src/router/tunnel-build/creator.js';
import { EphemeralKeyFilter } from '../src/router/tunnel-build/ephemeral-key-filter.js';
import { Rng, testSeed } from './helpers/chacha-rng.js';
import { refConcat, refLongCleartext, refShortCleartext, refShortRecord } from './reference/build-reference.js';

const seed = testSeed('tunnel-build-hostile');
const NOW = 1_796_000_000_000;
const MINUTE = Math.floor(NOW / 60_000);
const REASONS = new Set(['malformed', 'no-record', 'decrypt-failed', 'bad-record', 'expired', 'future', 'replay']);

function setup(rng: Rng) {
  const priv = rng.bytes(32);
  const me = { priv, pub: nobleX25519.getPublicKey(priv), hash: rng.bytes(32) };
  const hop = new TunnelBuildHop({ staticPrivateKey: priv, identHash: me.hash, now: () => NOW, replayFilter: null });
  return { me, hop };
}

function body(records: Uint8Array[]): Uint8Array {
  return refConcat(Uint8Array.of(records.length), ...records);
}

function expectRefused(r: ReturnType<TunnelBuildHop['open']>): void {
  expect(r.ok).toBe(false);
  if (!r.ok) {
    expect(REASONS.has(r.reason)).toBe(true);
    expect(typeof r.error).toBe('string');
  }
}

describe('hop: hostile build messages', () => {
  it('truncated, oversized, miscounted and wrong-type bodies: malformed', () => {
    const rng = new Rng(seed);
    const { me, hop } = setup(rng);
    const f = {
      receiveTunnelId: 1,
      nextTunnelId: 2,
      nextIdent: rng.bytes(32),
      flags: 0,
      requestTimeMinutes: MINUTE,
      nextMsgId: 3,
    };
    const good = body([
      refShortRecord(me.hash, me.pub, refShortCleartext(f), rng.bytes(32)).record,
      rng.bytes(218),
      rng.bytes(218),
      rng.bytes(218),
    ]);
    const check = hop.open(25, good);
    expect(check.ok).toBe(true);
    if (check.ok) check.value.discard();
    for (let cut = 0; cut < good.length; cut += 1 + rng.int(20))
      expect(reasonOf(hop.open(25, good.subarray(0, cut)))).toBe('malformed');
    expect(reasonOf(hop.open(25, refConcat(good, rng.bytes(1 + rng.int(300)))))).toBe('malformed');
    for (const num of [0, 3, 5, 9, 255]) {
      const b = good.slice();
      b[0] = num;
      expect(reasonOf(hop.open(25, b))).toBe('malformed');
    }
    expect(reasonOf(hop.open(23, good))).toBe('malformed');
    for (const t of [0, 21, 22, 24, 26, 300]) expect(reasonOf(hop.open(t, good))).toBe('malformed');
    expect(reasonOf(hop.open(25, new Uint8Array(0)))).toBe('malformed');
    expect(reasonOf(hop.open(25, body(Array.from({ length: 8 }, () => rng.bytes(218)))))).toBe('no-record');
  });

  it('every single-bit change inside our record is refused (prefix, key, ciphertext or tag)', () => {
    const rng = new Rng(seed ^ 1);
    const { me, hop } = setup(rng);
    const f = {
      receiveTunnelId: 1,
      nextTunnelId: 2,
      nextIdent: rng.bytes(32),
      flags: 0x40,
      requestTimeMinutes: MINUTE,
      nextMsgId: 3,
    };
    const idx = rng.int(4);
    const records = Array.from({ length: 4 }, (_, i) =>
      i === idx ? refShortRecord(me.hash, me.pub, refShortCleartext(f), rng.bytes(32)).record : rng.bytes(218),
    );
    const good = body(records);
    for (let bit = 0; bit < 218 * 8; bit += 1 + rng.int(3)) {
      const b = good.slice();
      b[1 + idx * 218 + (bit >> 3)]! ^= 1 << (bit & 7);
      const r = hop.open(25, b);
      expectRefused(r);
      if (!r.ok) expect(['no-record', 'decrypt-failed']).toContain(r.reason);
    }
  });

  it('records that decrypt but hold random cleartext: refused as bad-record (or, rarely, valid), never thrown', () => {
    const rng = new Rng(seed ^ 2);
    const { me, hop } = setup(rng);
    let refused = 0;
    for (let k = 0; k < 200; k++) {
      const clear = rng.bytes(154);
      if (k % 2) {
        // keep the fields that usually fail valid, so the options mapping and padding paths are reached
        const v = new DataView(clear.buffer);
        clear[40] = [0, 0x40, 0x80][k % 3]!;
        clear[41] = 0;
        clear[42] = 0;
        clear[43] = 0;
        v.setUint32(44, MINUTE);
        v.setUint32(48, 600);
        if (k % 4 === 1) v.setUint16(56, rng.int(120));
      }
      const r = hop.open(25, body([refShortRecord(me.hash, me.pub, clear, rng.bytes(32)).record]));
      if (!r.ok) {
        refused++;
        expect(['bad-record', 'expired', 'future']).toContain(r.reason);
      } else r.value.discard();
    }
    expect(refused).toBeGreaterThan(100);
  });

  it('long records: hostile cleartext and mutations refused', () => {
    const rng = new Rng(seed ^ 3);
    const { me, hop } = setup(rng);
    const lf = {
      receiveTunnelId: 1,
      nextTunnelId: 2,
      nextIdent: rng.bytes(32),
      flags: 0x80,
      requestTimeMinutes: MINUTE,
      nextMsgId: 3,
      layerKey: rng.bytes(32),
      ivKey: rng.bytes(32),
      replyKey: rng.bytes(32),
      replyIv: rng.bytes(16),
    };
    const good = body([refShortRecord(me.hash, me.pub, refLongCleartext(lf), rng.bytes(32)).record]);
    const ok = hop.open(23, good);
    expect(ok.ok).toBe(true);
    if (ok.ok) ok.value.discard();
    expect(
      reasonOf(
        hop.open(
          23,
          body([refShortRecord(me.hash, me.pub, refLongCleartext({ ...lf, flags: 0xc0 }), rng.bytes(32)).record]),
        ),
      ),
    ).toBe('bad-record');
    expect(
      reasonOf(
        hop.open(
          23,
          body([refShortRecord(me.hash, me.pub, refLongCleartext({ ...lf, nextTunnelId: 0 }), rng.bytes(32)).record]),
        ),
      ),
    ).toBe('bad-record');
    expect(
      reasonOf(
        hop.open(
          23,
          body([
            refShortRecord(me.hash, me.pub, refLongCleartext({ ...lf, options: Uint8Array.of(1, 40) }), rng.bytes(32))
              .record,
          ]),
        ),
      ),
    ).toBe('bad-record');
    for (let k = 0; k < 300; k++) {
      const b = good.slice();
      b[1 + rng.int(528)]! ^= 1 << rng.int(8);
      expectRefused(hop.open(23, b));
    }
    for (let k = 0; k < 100; k++) {
      const r = hop.open(23, body([refShortRecord(me.hash, me.pub, rng.bytes(464), rng.bytes(32)).record]));
      expectRefused(r);
    }
  });

  it('random bytes of random types and lengths never throw', () => {
    const rng = new Rng(seed ^ 4);
    const { me, hop } = setup(rng);
    for (let k = 0; k < 3000; k++) {
      const b = rng.bytes(rng.int(2200));
      if (b.length > 0 && rng.int(2)) b[0] = 1 + rng.int(8);
      if (b.length > 17 && rng.int(2)) b.set(me.hash.subarray(0, 16), 1);
      const t = [23, 25, rng.int(256)][rng.int(3)]!;
      expect(() => expectRefused(hop.open(t, b))).not.toThrow();
    }
  });
});

describe('creator: hostile replies', () => {
  it('truncated, oversized, miscounted, random and mutated replies: refused, no exception, keys wiped', () => {
    const rng = new Rng(seed ^ 5);
    for (let k = 0; k < 120; k++) {
      const n = 1 + rng.int(8);
      const hops = Array.from({ length: n }, () => ({
        identHash: rng.bytes(32),
        encryptionKey: nobleX25519.getPublicKey(rng.bytes(32)),
      }));
      const req = createShortTunnelBuild({
        direction: k % 2 ? 'inbound' : 'outbound',
        hops,
        replyIdent: rng.bytes(32),
        now: NOW,
      });
      const b = req.message.body;
      let input: Uint8Array;
      switch (k % 5) {
        case 0:
          input = b.subarray(0, rng.int(b.length));
          break;
        case 1:
          input = refConcat(b, rng.bytes(1 + rng.int(400)));
          break;
        case 2:
          input = (() => {
            const x = b.slice();
            x[0] = rng.int(256);
            return x;
          })();
          break;
        case 3:
          input = rng.bytes(b.length);
          break;
        default:
          input = (() => {
            const x = b.slice();
            x[1 + rng.int(x.length - 1)]! ^= 1;
            return x;
          })();
      }
      let res: ReturnType<typeof processShortBuildReply> | undefined;
      if (k % 2 === 0 && k % 4 === 0) {
        expect(() => (res = processGarlicBuildReply(req.pending, input))).not.toThrow();
        expect(res!.ok).toBe(false);
        req.pending.discard();
      } else {
        expect(() => (res = processShortBuildReply(req.pending, input))).not.toThrow();
        expect(res!.ok).toBe(false);
      }
      // the layer keys are gone either way
      expect(req.pending.isFinished).toBe(true);
    }
  });
});

describe('replay filter', () => {
  it('remembers within the window, forgets after it, and never holds more than its capacity', () => {
    const rng = new Rng(seed ^ 6);
    const f = new EphemeralKeyFilter({ windowMs: 1000, capacity: 100 });
    const k = rng.bytes(32);
    expect(f.checkAndAdd(k, 0)).toBe(false);
    expect(f.checkAndAdd(k, 999)).toBe(true);
    expect(f.checkAndAdd(k, 1000)).toBe(false);
    for (let i = 0; i < 1000; i++) f.checkAndAdd(rng.bytes(32), 1001);
    expect(f.size).toBe(100);
  });
});

function reasonOf(r: ReturnType<TunnelBuildHop['open']>): string {
  if (r.ok) {
    r.value.discard();
    return 'ok';
  }
  return r.reason;
}
