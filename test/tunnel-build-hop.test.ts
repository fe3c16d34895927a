// The hop side of tunnel building (src/router/tunnel-build/hop.ts) against records written by the independent
// reference encoder (test/reference/build-reference.ts, @noble only): decrypt, checks, keys, reply slot, the layers on
// the other slots, and what is forwarded where (tunnel-build-ecies.md §5-§7.2, §10; netdb-floodfill.md §4.3, §7.4).
import { describe, expect, it } from 'vitest';
import { x25519 as nobleX25519 } from '@noble/curves/ed25519.js';
import {
  TunnelBuildHop,
  transitTunnelConfig,
  wipeTransitTunnelKeys,
  type HopAnswer,
} from '../src/router/tunnel-build/hop.js';
import fc from 'fast-check';
import {
  encodeShortRequest,
  parseShortRequest,
  type HopRole,
  type LongBuildRequest,
} from '../src/router/tunnel-build/request-record.js';
import { mappingBytes } from '../src/common/mapping.js';
import { decodeI2np } from '../src/i2np/header.js';
import { decodeTunnelGateway } from '../src/i2np/bodies.js';
import { decodeBuildRecords } from '../src/i2np/tunnel-build.js';
import { Rng, hex, testSeed } from './helpers/chacha-rng.js';
import {
  refAesSlot,
  refChaChaSlot,
  refKeys,
  refLongCleartext,
  refLongRecord,
  refOpenLongReply,
  refOpenShortReply,
  refOpenTagGarlic,
  refShortCleartext,
  refShortRecord,
  type RefFields,
} from './reference/build-reference.js';

const seed = testSeed('tunnel-build-hop');
const NOW = 1_796_000_000_000;
const MINUTE = Math.floor(NOW / 60_000);

function router(rng: Rng) {
  const priv = rng.bytes(32);
  return { priv, pub: nobleX25519.getPublicKey(priv), hash: rng.bytes(32) };
}

function makeHop(r: ReturnType<typeof router>, rng: Rng, now = () => NOW) {
  return new TunnelBuildHop({ staticPrivateKey: r.priv, identHash: r.hash, now, random: (n) => rng.bytes(n) });
}

function assemble(records: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(1 + records.length * records[0]!.length);
  out[0] = records.length;
  records.forEach((r, i) => out.set(r, 1 + i * r.length));
  return out;
}

function fields(rng: Rng, flags: number, nextIdent = rng.bytes(32)): RefFields {
  return {
    receiveTunnelId: rng.u32() || 1,
    nextTunnelId: rng.u32() || 2,
    nextIdent,
    flags,
    requestTimeMinutes: MINUTE,
    nextMsgId: rng.u32(),
  };
}

describe('short records (ShortTunnelBuild, 25)', () => {
  const rng = new Rng(seed);
  for (const [name, flags] of [
    ['participant', 0x00],
    ['IBGW', 0x80],
    ['OBEP', 0x40],
  ] as const) {
    it(`${name}: decrypts the reference record at any slot, derives the reference keys, replies and layers as §7.2 says`, () => {
      for (let round = 0; round < 6; round++) {
        const me = router(rng);
        const hop = makeHop(me, rng);
        const num = 1 + rng.int(8);
        const index = rng.int(num);
        const f = fields(rng, flags);
        const eph = rng.bytes(32);
        const ref = refShortRecord(me.hash, me.pub, refShortCleartext(f), eph);
        const records = Array.from({ length: num }, (_, i) => (i === index ? ref.record : rng.bytes(218)));
        const opened = hop.open(25, assemble(records));
        expect(opened.ok, opened.ok ? '' : opened.error).toBe(true);
        if (!opened.ok) return;
        expect(opened.value.index).toBe(index);
        const req = opened.value.request;
        expect(req.role).toBe(name === 'IBGW' ? 'ibgw' : name === 'OBEP' ? 'obep' : 'participant');
        expect([req.receiveTunnelId, req.nextTunnelId, req.nextMsgId, hex(req.nextIdent)]).toEqual([
          f.receiveTunnelId,
          f.nextTunnelId,
          f.nextMsgId,
          hex(f.nextIdent),
        ]);

        const ans = hop.answer(opened.value, 0);
        const keys = refKeys(ref.ck, flags === 0x40);
        expect(hex(ans.tunnel!.layerKey)).toBe(hex(keys.layerKey));
        expect(hex(ans.tunnel!.ivKey)).toBe(hex(keys.ivKey));
        expect(ans.tunnel!.expiresAt).toBe(NOW + 600_000);
        const out = forwardedRecords(ans, keys, f, flags, 25, 26);
        expect(out.length).toBe(num);
        const clear = refOpenShortReply(keys.replyKey, index, ref.h, out[index]!);
        expect(clear.length).toBe(202);
        expect([clear[0], clear[1], clear[201]]).toEqual([0, 0, 0]);
        for (let j = 0; j < num; j++)
          if (j !== index) expect(hex(out[j]!)).toBe(hex(refChaChaSlot(keys.replyKey, j, records[j]!)));
      }
    });
  }

  it('a refusal (code 30) still replies and forwards, and returns no tunnel', () => {
    const me = router(rng);
    const hop = makeHop(me, rng);
    const f = fields(rng, 0);
    const ref = refShortRecord(me.hash, me.pub, refShortCleartext(f), rng.bytes(32));
    const opened = hop.open(25, assemble([rng.bytes(218), ref.record, rng.bytes(218), rng.bytes(218)]));
    if (!opened.ok) throw new Error(opened.error);
    const ans = hop.answer(opened.value, 30);
    expect(ans.tunnel).toBeUndefined();
    const keys = refKeys(ref.ck, false);
    const out = forwardedRecords(ans, keys, f, 0, 25, 26);
    expect(refOpenShortReply(keys.replyKey, 1, ref.h, out[1]!)[201]).toBe(30);
    expect(() => hop.answer(opened.value, 0)).toThrow(/already answered/);
  });

  it('OBEP whose reply gateway is this router: plain reply for local injection into our IBGW (§4.3 item 2)', () => {
    const me = router(rng);
    const hop = makeHop(me, rng);
    const f = fields(rng, 0x40, me.hash);
    const ref = refShortRecord(me.hash, me.pub, refShortCleartext(f), rng.bytes(32));
    const opened = hop.open(25, assemble([ref.record, rng.bytes(218), rng.bytes(218), rng.bytes(218)]));
    if (!opened.ok) throw new Error(opened.error);
    const ans = hop.answer(opened.value, 0);
    expect(ans.forward.kind).toBe('reply-local');
    if (ans.forward.kind !== 'reply-local') return;
    expect(ans.forward.tunnelId).toBe(f.nextTunnelId);
    expect(ans.forward.message.type).toBe(26);
    expect(ans.forward.message.msgId).toBe(f.nextMsgId);
    const keys = refKeys(ref.ck, true);
    expect(refOpenShortReply(keys.replyKey, 0, ref.h, ans.forward.message.body.subarray(1, 219))[201]).toBe(0);
  });

  it('join config: role, ids, keys and the previous hop of the session it came on', () => {
    const me = router(rng);
    const hop = makeHop(me, rng);
    const f = fields(rng, 0x80);
    const ref = refShortRecord(me.hash, me.pub, refShortCleartext(f), rng.bytes(32));
    const opened = hop.open(25, assemble([ref.record]));
    if (!opened.ok) throw new Error(opened.error);
    const t = hop.answer(opened.value, 0).tunnel!;
    const cfg = transitTunnelConfig(t, { nextHop: 7, previousHop: 3 });
    expect(cfg).toMatchObject({
      role: 'ibgw',
      layer: 'aes',
      receiveTunnelId: f.receiveTunnelId,
      nextTunnelId: f.nextTunnelId,
      nextHop: 7,
      previousHop: 3,
    });
    expect(hex(cfg.layerKey)).toBe(hex(refKeys(ref.ck, false).layerKey));
  });
});

/** Checks the forward of a hop's answer and returns the slots as sent. */
function forwardedRecords(
  ans: HopAnswer,
  keys: ReturnType<typeof refKeys>,
  f: RefFields,
  flags: number,
  buildType: number,
  replyType: number,
): Uint8Array[] {
  const size = buildType === 25 ? 218 : 528;
  const fw = ans.forward;
  if (flags !== 0x40) {
    expect(fw.kind).toBe('build');
    if (fw.kind !== 'build') throw new Error();
    expect(hex(fw.to)).toBe(hex(f.nextIdent));
    expect(fw.message.type).toBe(buildType);
    expect(fw.message.msgId).toBe(f.nextMsgId);
    return recordsOf(fw.message.body, size);
  }
  expect(fw.kind).toBe('reply-gateway');
  if (fw.kind !== 'reply-gateway') throw new Error();
  expect(hex(fw.to)).toBe(hex(f.nextIdent));
  expect(fw.message.type).toBe(19);
  const tg = decodeTunnelGateway(fw.message.body);
  if (!tg.ok) throw new Error(tg.error);
  expect(tg.value.tunnelId).toBe(f.nextTunnelId);
  const inner = decodeI2np(tg.value.message, { verifyChecksum: true });
  if (!inner.ok) throw new Error(inner.error);
  if (buildType === 23) {
    // netdb-floodfill.md §7.4: long replies are never wrapped.
    expect(inner.value.header.type).toBe(replyType);
    expect(inner.value.header.msgId).toBe(f.nextMsgId);
    return recordsOf(inner.value.payload, size);
  }
  expect(inner.value.header.type).toBe(11);
  const plain = refOpenTagGarlic(keys.garlicKey!, keys.garlicTag!, inner.value.payload);
  // §4.2: the clove block comes first, LOCAL, with the reply's type and message id.
  expect(plain[0]).toBe(11);
  const size2 = (plain[1]! << 8) | plain[2]!;
  expect(plain[3]).toBe(0);
  expect(plain[4]).toBe(replyType);
  const dv = new DataView(plain.buffer, plain.byteOffset);
  expect(dv.getUint32(5)).toBe(f.nextMsgId);
  expect(dv.getUint32(9)).toBe(Math.floor((NOW + 8000) / 1000));
  return recordsOf(plain.subarray(13, 3 + size2), size);
}

function recordsOf(body: Uint8Array, size: number): Uint8Array[] {
  const d = decodeBuildRecords(body, size);
  if (!d.ok) throw new Error(d.error);
  return d.value.records;
}

describe('key material is wiped', () => {
  const rng = new Rng(seed ^ 0x11);
  const zero = (b: Uint8Array | undefined) => b !== undefined && b.every((x) => x === 0);
  it('short: reply-only keys after answering; layer keys too after a refusal; everything after discard()', () => {
    for (const [code, flags] of [
      [0, 0x40],
      [30, 0x40],
      [0, 0x00],
    ] as const) {
      const me = router(rng);
      const hop = makeHop(me, rng);
      const ref = refShortRecord(me.hash, me.pub, refShortCleartext(fields(rng, flags)), rng.bytes(32));
      const o = hop.open(25, assemble([ref.record]));
      if (!o.ok) throw new Error(o.error);
      const k = o.value.keys!;
      const ans = hop.answer(o.value, code);
      expect([zero(o.value.ck), zero(o.value.h), zero(k.replyKey)]).toEqual([true, true, true]);
      if (flags === 0x40) expect([zero(k.garlicReplyKey), zero(k.garlicReplyTag)]).toEqual([true, true]);
      expect([zero(k.layerKey), zero(k.ivKey)]).toEqual(code === 0 ? [false, false] : [true, true]);
      if (ans.tunnel) {
        wipeTransitTunnelKeys(ans.tunnel);
        expect(zero(k.layerKey)).toBe(true);
      }
    }
    const me = router(rng);
    const hop = makeHop(me, rng);
    const o = hop.open(
      25,
      assemble([refShortRecord(me.hash, me.pub, refShortCleartext(fields(rng, 0)), rng.bytes(32)).record]),
    );
    if (!o.ok) throw new Error(o.error);
    o.value.discard();
    expect([
      zero(o.value.ck),
      zero(o.value.keys!.layerKey),
      zero(o.value.keys!.ivKey),
      zero(o.value.keys!.replyKey),
    ]).toEqual([true, true, true, true]);
  });
  it('long: the reply key and IV after answering, the layer keys after a refusal', () => {
    const me = router(rng);
    const hop = makeHop(me, rng);
    const lf = {
      ...fields(rng, 0),
      layerKey: rng.bytes(32),
      ivKey: rng.bytes(32),
      replyKey: rng.bytes(32),
      replyIv: rng.bytes(16),
    };
    const o = hop.open(23, assemble([refLongRecord(me.hash, me.pub, refLongCleartext(lf), rng.bytes(32)).record]));
    if (!o.ok) throw new Error(o.error);
    const r = o.value.request as LongBuildRequest;
    hop.answer(o.value, 30);
    expect([zero(r.replyKey), zero(r.replyIv), zero(r.layerKey), zero(r.ivKey), zero(o.value.ck)]).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
  });
});

describe('long records (VariableTunnelBuild, 23, §10)', () => {
  const rng = new Rng(seed ^ 0x55);
  for (const [name, flags] of [
    ['participant', 0x00],
    ['IBGW', 0x80],
    ['OBEP', 0x40],
  ] as const) {
    it(`${name}: explicit keys, reply sealed with ck (n = 0), other slots AES-CBC each from the reply IV`, () => {
      for (let round = 0; round < 3; round++) {
        const me = router(rng);
        const hop = makeHop(me, rng);
        const num = 1 + rng.int(8);
        const index = rng.int(num);
        const lf = {
          ...fields(rng, flags),
          layerKey: rng.bytes(32),
          ivKey: rng.bytes(32),
          replyKey: rng.bytes(32),
          replyIv: rng.bytes(16),
        };
        const ref = refLongRecord(me.hash, me.pub, refLongCleartext(lf), rng.bytes(32));
        const records = Array.from({ length: num }, (_, i) => (i === index ? ref.record : rng.bytes(528)));
        const opened = hop.open(23, assemble(records));
        if (!opened.ok) throw new Error(opened.error);
        expect(opened.value.format).toBe('long');
        const ans = hop.answer(opened.value, 0);
        expect(hex(ans.tunnel!.layerKey)).toBe(hex(lf.layerKey));
        expect(hex(ans.tunnel!.ivKey)).toBe(hex(lf.ivKey));
        const out = forwardedRecords(ans, refKeys(ref.ck, false), lf, flags, 23, 24);
        const clear = refOpenLongReply(ref.ck, ref.h, out[index]!);
        expect(clear.length).toBe(512);
        expect([clear[0], clear[1], clear[511]]).toEqual([0, 0, 0]);
        for (let j = 0; j < num; j++)
          if (j !== index) expect(hex(out[j]!)).toBe(hex(refAesSlot(lf.replyKey, lf.replyIv, records[j]!)));
      }
    });
  }
});

describe('time, replay and refusals before any reply', () => {
  const rng = new Rng(seed ^ 0xaa);
  function one(me: ReturnType<typeof router>, f: RefFields, eph = rng.bytes(32)) {
    return assemble([
      refShortRecord(me.hash, me.pub, refShortCleartext(f), eph).record,
      rng.bytes(218),
      rng.bytes(218),
      rng.bytes(218),
    ]);
  }
  it('expired, future, replayed, wrong expiration, layer type and flags are refused with their reason', () => {
    const me = router(rng);
    let now = NOW;
    const hop = makeHop(me, rng, () => now);
    const msg = one(me, fields(rng, 0));
    const first = hop.open(25, msg);
    expect(first.ok).toBe(true);
    if (first.ok) first.value.discard();
    const again = hop.open(25, msg);
    expect(again.ok ? 'ok' : again.reason).toBe('replay');
    // Request from 10 minutes + 2 minutes ago: past expiration plus skew.
    expect(reason(hop.open(25, one(me, { ...fields(rng, 0), requestTimeMinutes: MINUTE - 12 })))).toBe('expired');
    // 11 minutes old is still inside 600 s + rounding + 60 s skew.
    expect(reason(hop.open(25, one(me, { ...fields(rng, 0), requestTimeMinutes: MINUTE - 11 })))).toBe('ok');
    expect(reason(hop.open(25, one(me, { ...fields(rng, 0), requestTimeMinutes: MINUTE + 4 })))).toBe('future');
    expect(reason(hop.open(25, one(me, { ...fields(rng, 0), expiration: 300 })))).toBe('bad-record');
    expect(reason(hop.open(25, one(me, { ...fields(rng, 0), layerType: 1 })))).toBe('bad-record');
    expect(reason(hop.open(25, one(me, { ...fields(rng, 0xc0) })))).toBe('bad-record');
    expect(reason(hop.open(25, one(me, { ...fields(rng, 0x01) })))).toBe('bad-record');
    expect(reason(hop.open(25, one(me, { ...fields(rng, 0), moreFlags: 1 })))).toBe('bad-record');
    expect(reason(hop.open(25, one(me, { ...fields(rng, 0), receiveTunnelId: 0 })))).toBe('bad-record');
    expect(reason(hop.open(25, one(me, { ...fields(rng, 0), options: Uint8Array.of(0, 97) })))).toBe('bad-record');
    now += 13 * 60_000; // the replay filter forgets after its window
    expect(reason(hop.open(25, msg))).toBe('expired');
  });
  it('records for another router, or encrypted to another key, are not ours', () => {
    const me = router(rng);
    const other = router(rng);
    const hop = makeHop(me, rng);
    expect(reason(hop.open(25, one(other, fields(rng, 0))))).toBe('no-record');
    const wrongKey = assemble([
      refShortRecord(me.hash, other.pub, refShortCleartext(fields(rng, 0)), rng.bytes(32)).record,
    ]);
    expect(reason(hop.open(25, wrongKey))).toBe('decrypt-failed');
    expect(reason(hop.open(21, one(me, fields(rng, 0))))).toBe('malformed');
  });
});

function reason(r: ReturnType<TunnelBuildHop['open']>): string {
  if (r.ok) {
    r.value.discard();
    return 'ok';
  }
  return r.reason;
}

describe('request record codec (§4.1)', () => {
  it('encodeShortRequest -> parseShortRequest is the identity, and matches the reference layout byte for byte', () => {
    const u32 = fc.integer({ min: 1, max: 0xffffffff });
    const key = fc.stringMatching(/^[a-z0-9._]{1,8}$/);
    fc.assert(
      fc.property(
        u32,
        u32,
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.constantFrom('participant', 'ibgw', 'obep'),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.dictionary(key, key, { maxKeys: 4 }),
        (rx, next, ident, role, minutes, msgId, opts) => {
          const options = new Map(Object.entries(opts));
          const req = {
            receiveTunnelId: rx,
            nextTunnelId: next,
            nextIdent: ident,
            role: role as HopRole,
            requestTimeMinutes: minutes,
            expirationSeconds: 600,
            nextMsgId: msgId,
            options,
          };
          let bytes: Uint8Array;
          try {
            bytes = encodeShortRequest(req);
          } catch (e) {
            // only options that do not fit the record may be refused
            expect(String(e)).toMatch(/options take/);
            return;
          }
          const flags = role === 'ibgw' ? 0x80 : role === 'obep' ? 0x40 : 0;
          const ref = refShortCleartext({
            receiveTunnelId: rx,
            nextTunnelId: next,
            nextIdent: ident,
            flags,
            requestTimeMinutes: minutes,
            nextMsgId: msgId,
            options: mappingBytes(options),
          });
          expect(hex(bytes)).toBe(hex(ref));
          const back = parseShortRequest(bytes);
          if (!back.ok) throw new Error(back.error);
          expect({
            ...back.value,
            nextIdent: hex(back.value.nextIdent),
            options: [...back.value.options].sort(),
          }).toEqual({ ...req, nextIdent: hex(ident), options: [...options].sort() });
        },
      ),
      { seed, numRuns: 300 },
    );
  });
});
