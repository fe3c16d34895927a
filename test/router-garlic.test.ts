// Garlic a router needs (src/router/garlic/): the one-shot Noise-N garlic to a router (netdb-floodfill.md §4.1) and the
// single-tag reply (§4.2), each sealed by us and opened by the @noble reference and the other way round; the
// payload blocks as i2pd sends them; a garlic-wrapped ShortTunnelBuild opened by the hop; hostile bytes refused.
import { describe, expect, it } from 'vitest';
import { x25519 as nobleX25519 } from '@noble/curves/ed25519.js';
import { openRouterGarlic, sealRouterGarlic } from '../src/router/garlic/router-garlic.js';
import { garlicTagOf, openTagReply, wrapTagReply } from '../src/router/garlic/tag-reply.js';
import { parseGarlicPayload } from '../src/router/garlic/blocks.js';
import { NoiseNResponder } from '../src/router/tunnel-build/noise-n.js';
import { TunnelBuildHop } from '../src/router/tunnel-build/hop.js';
import { createShortTunnelBuild, processShortBuildReply } from '../src/router/tunnel-build/creator.js';
import { Rng, hex, testSeed } from './helpers/chacha-rng.js';
import {
  refBlock,
  refConcat,
  refLocalClove,
  refOpenRouterGarlic,
  refOpenTagGarlic,
  refSealRouterGarlic,
  refSealTagGarlic,
} from './reference/build-reference.js';

const seed = testSeed('router-garlic');
const NOW = 1_796_000_000_000;

describe('one-shot garlic to a router (§4.1)', () => {
  it('what i2pd sends (DateTime, one LOCAL clove, zero padding), sealed by the reference, opens with ours', () => {
    const rng = new Rng(seed);
    for (let k = 0; k < 20; k++) {
      const priv = rng.bytes(32);
      const body = rng.bytes(rng.int(1200));
      const msgId = rng.u32();
      const plain = refConcat(
        refBlock(0, Uint8Array.of(0x6a, 0xe2, 0x5f, 0x00)),
        refLocalClove(25, msgId, 1_796_000_008, body),
        refBlock(254, new Uint8Array(rng.int(4))),
      );
      const garlic = refSealRouterGarlic(nobleX25519.getPublicKey(priv), plain, rng.bytes(32));
      const r = openRouterGarlic(new NoiseNResponder(priv), garlic);
      if (!r.ok) throw new Error(r.error);
      expect(r.value.payload.dateTime).toBe(0x6ae25f00);
      expect(r.value.payload.cloves.length).toBe(1);
      const c = r.value.payload.cloves[0]!;
      expect([c.delivery, c.type, c.msgId, c.expiration]).toEqual(['local', 25, msgId, 1_796_000_008_000]);
      expect(hex(c.body)).toBe(hex(body));
      expect(hex(r.value.ephemeralKey)).toBe(hex(garlic.subarray(4, 36)));
    }
  });

  it('ours opens with the reference, block by block as §4.1 lays them out', () => {
    const rng = new Rng(seed ^ 1);
    const priv = rng.bytes(32);
    const body = rng.bytes(500);
    const garlic = sealRouterGarlic(
      nobleX25519.getPublicKey(priv),
      [
        { type: 1, msgId: 0x01020304, expiration: NOW + 8000, body },
        {
          delivery: 'tunnel',
          toHash: new Uint8Array(32).fill(7),
          tunnelId: 99,
          type: 10,
          msgId: 5,
          expiration: NOW,
          body: new Uint8Array(12),
        },
      ],
      { now: NOW, paddingBytes: 3 },
    );
    expect(new DataView(garlic.buffer).getUint32(0)).toBe(garlic.length - 4);
    const plain = refOpenRouterGarlic(priv, garlic);
    const expected = refConcat(
      refBlock(
        0,
        (() => {
          const b = new Uint8Array(4);
          new DataView(b.buffer).setUint32(0, Math.floor(NOW / 1000));
          return b;
        })(),
      ),
      refLocalClove(1, 0x01020304, Math.floor((NOW + 8000) / 1000), body),
      refBlock(
        11,
        refConcat(
          Uint8Array.of(0x60),
          new Uint8Array(32).fill(7),
          Uint8Array.of(0, 0, 0, 99, 10, 0, 0, 0, 5),
          (() => {
            const b = new Uint8Array(4);
            new DataView(b.buffer).setUint32(0, Math.floor(NOW / 1000));
            return b;
          })(),
          new Uint8Array(12),
        ),
      ),
      refBlock(254, new Uint8Array(3)),
    );
    expect(hex(plain)).toBe(hex(expected));
  });

  it('an inbound build wrapped for the IBGW (§7.1) is opened and processed by the hop', () => {
    const rng = new Rng(seed ^ 2);
    const ibgw = { priv: rng.bytes(32), hash: rng.bytes(32) };
    const me = rng.bytes(32);
    const req = createShortTunnelBuild({
      direction: 'inbound',
      hops: [{ identHash: ibgw.hash, encryptionKey: nobleX25519.getPublicKey(ibgw.priv) }],
      replyIdent: me,
      now: NOW,
    });
    const garlic = sealRouterGarlic(
      nobleX25519.getPublicKey(ibgw.priv),
      [{ type: 25, msgId: req.message.msgId, expiration: req.message.expiration, body: req.message.body }],
      { now: NOW },
    );
    const hop = new TunnelBuildHop({ staticPrivateKey: ibgw.priv, identHash: ibgw.hash, now: () => NOW });
    const g = openRouterGarlic(hop.noise, garlic);
    if (!g.ok) throw new Error(g.error);
    const clove = g.value.payload.cloves[0]!;
    const opened = hop.open(clove.type, clove.body);
    if (!opened.ok) throw new Error(opened.error);
    expect(opened.value.request.role).toBe('ibgw');
    const ans = hop.answer(opened.value, 0);
    if (ans.forward.kind !== 'build') throw new Error(ans.forward.kind);
    expect(hex(ans.forward.to)).toBe(hex(me));
    expect(ans.forward.message.msgId).toBe(req.pending.replyMsgId);
    expect(processShortBuildReply(req.pending, ans.forward.message.body).ok).toBe(true);
  });

  it('tampered, truncated, wrong-key and low-order-key garlic is refused without an exception', () => {
    const rng = new Rng(seed ^ 3);
    const priv = rng.bytes(32);
    const responder = new NoiseNResponder(priv);
    const good = sealRouterGarlic(
      nobleX25519.getPublicKey(priv),
      [{ type: 1, msgId: 1, expiration: NOW, body: rng.bytes(100) }],
      { now: NOW },
    );
    expect(openRouterGarlic(responder, good).ok).toBe(true);
    for (let k = 0; k < 300; k++) {
      const bad = good.slice();
      const mode = k % 4;
      let input: Uint8Array = bad;
      if (mode === 0) bad[4 + rng.int(bad.length - 4)]! ^= 1 << rng.int(8);
      else if (mode === 1) input = bad.subarray(0, rng.int(bad.length));
      else if (mode === 2) input = refConcat(bad, rng.bytes(1 + rng.int(10)));
      else {
        new DataView(bad.buffer).setUint32(0, rng.u32());
      }
      const r = openRouterGarlic(responder, input);
      expect(r.ok).toBe(false);
    }
    const lowOrder = good.slice();
    lowOrder.fill(0, 4, 36);
    expect(openRouterGarlic(responder, lowOrder)).toMatchObject({ ok: false });
    const other = new NoiseNResponder(rng.bytes(32));
    expect(openRouterGarlic(other, good)).toMatchObject({ ok: false, error: 'Noise N decryption failed' });
  });
});

describe('single-tag "existing session" reply (§4.2)', () => {
  it('ours opens with the reference: tag in clear, ad = tag, the clove block first and LOCAL', () => {
    const rng = new Rng(seed ^ 4);
    for (let k = 0; k < 20; k++) {
      const key = rng.bytes(32);
      const tag = rng.bytes(8);
      const body = rng.bytes(rng.int(900));
      const msgId = rng.u32();
      const garlic = wrapTagReply(key, tag, { type: 3, msgId, expiration: NOW + 8000, body }, k % 3);
      expect(new DataView(garlic.buffer).getUint32(0)).toBe(8 + (13 + body.length + (k % 3 ? 3 + (k % 3) : 0)) + 16);
      expect(hex(garlicTagOf(garlic)!)).toBe(hex(tag));
      const plain = refOpenTagGarlic(key, tag, garlic);
      const pad = k % 3 ? refBlock(254, new Uint8Array(k % 3)) : new Uint8Array(0);
      expect(hex(plain)).toBe(hex(refConcat(refLocalClove(3, msgId, Math.floor((NOW + 8000) / 1000), body), pad)));
    }
  });
  it('the reference opens with ours; a wrong tag, key or a leading DateTime block is refused', () => {
    const rng = new Rng(seed ^ 5);
    const key = rng.bytes(32);
    const tag = rng.bytes(8);
    const body = rng.bytes(50);
    const g = refSealTagGarlic(key, tag, refLocalClove(26, 42, 1000, body));
    const r = openTagReply(key, tag, g);
    if (!r.ok) throw new Error(r.error);
    expect(r.value.cloves[0]).toMatchObject({ type: 26, msgId: 42, expiration: 1_000_000 });
    expect(hex(r.value.cloves[0]!.body)).toBe(hex(body));
    expect(openTagReply(key, rng.bytes(8), g)).toMatchObject({ ok: false, error: 'tag mismatch' });
    expect(openTagReply(rng.bytes(32), tag, g)).toMatchObject({ ok: false });
    const dt = refSealTagGarlic(key, tag, refConcat(refBlock(0, new Uint8Array(4)), refLocalClove(26, 42, 1000, body)));
    expect(openTagReply(key, tag, dt)).toMatchObject({ ok: false, error: 'first block is not a clove' });
  });
});

describe('payload blocks', () => {
  it('hostile block sequences are refused or skipped, never thrown', () => {
    const rng = new Rng(seed ^ 6);
    expect(parseGarlicPayload(refBlock(77, rng.bytes(5)))).toMatchObject({ ok: true, value: { unknownBlocks: 1 } });
    expect(parseGarlicPayload(Uint8Array.of(11, 0))).toMatchObject({ ok: false });
    expect(parseGarlicPayload(refBlock(11, Uint8Array.of(0x00, 1, 2)))).toMatchObject({
      ok: false,
      error: 'clove I2NP header truncated',
    });
    expect(parseGarlicPayload(refBlock(11, Uint8Array.of(0x80)))).toMatchObject({ ok: false });
    expect(parseGarlicPayload(refBlock(11, refConcat(Uint8Array.of(0x60), new Uint8Array(33))))).toMatchObject({
      ok: false,
      error: 'clove tunnel id truncated',
    });
    expect(parseGarlicPayload(refBlock(0, new Uint8Array(5)))).toMatchObject({ ok: false });
    expect(
      parseGarlicPayload(refConcat(...Array.from({ length: 17 }, () => refLocalClove(1, 1, 1, new Uint8Array(0))))),
    ).toMatchObject({ ok: false });
    for (let k = 0; k < 2000; k++) {
      const b = rng.bytes(rng.int(60));
      if (rng.int(2)) b[0] = [0, 11, 254][rng.int(3)]!;
      expect(() => parseGarlicPayload(b)).not.toThrow();
    }
  });
});
