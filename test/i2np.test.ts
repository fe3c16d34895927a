// I2NP codec: standard header and the TunnelData, TunnelGateway, Data, DeliveryStatus bodies. Round trips, exact
// layouts, and hostile bytes (decoders return an error value, never throw).
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeData,
  decodeDeliveryStatus,
  decodeTunnelData,
  decodeTunnelGateway,
  encodeData,
  encodeDeliveryStatus,
  encodeTunnelData,
  encodeTunnelGateway,
} from '../src/i2np/bodies.js';
import { decodeI2np, encodeI2np } from '../src/i2np/header.js';
import { testSeed } from './helpers/seed.js';

const seed = testSeed('i2np');

describe('I2NP standard header', () => {
  it('encodes the exact layout with a correct chks', () => {
    const payload = Uint8Array.from([1, 2, 3]);
    const m = encodeI2np(20, 0xdeadbeef, 0x0102030405, payload);
    expect(Buffer.from(m.subarray(0, 15)).toString('hex')).toBe('14' + 'deadbeef' + '0000000102030405' + '0003');
    expect(m[15]).toBe(createHash('sha256').update(payload).digest()[0]);
    expect([...m.subarray(16)]).toEqual([1, 2, 3]);
  });

  it('round-trips', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 2 ** 53 - 1 }),
        fc.uint8Array({ maxLength: 2000 }),
        (type, id, exp, payload) => {
          const d = decodeI2np(encodeI2np(type, id, exp, payload), { verifyChecksum: true });
          expect(d.ok).toBe(true);
          if (!d.ok) return;
          expect(d.value.header).toEqual({
            type,
            msgId: id,
            expiration: exp,
            size: payload.length,
            chks: d.value.header.chks,
          });
          expect([...d.value.payload]).toEqual([...payload]);
        },
      ),
      { seed, numRuns: 200 },
    );
  });

  it('rejects short, overrunning, trailing and bad-checksum input with an error value', () => {
    const m = encodeI2np(1, 2, 3, new Uint8Array(10));
    expect(decodeI2np(m.subarray(0, 15))).toEqual({ ok: false, error: 'shorter than the 16-byte header' });
    expect(decodeI2np(m.subarray(0, 25)).ok).toBe(false);
    expect(decodeI2np(Uint8Array.from([...m, 0])).ok).toBe(false);
    expect(decodeI2np(Uint8Array.from([...m, 0]), { exact: false }).ok).toBe(true);
    const bad = m.slice();
    bad[15] ^= 1;
    expect(decodeI2np(bad).ok).toBe(true);
    expect(decodeI2np(bad, { verifyChecksum: true })).toEqual({ ok: false, error: 'header checksum mismatch' });
    expect(decodeI2np('x' as never).ok).toBe(false);
  });

  it('encoder validates arguments', () => {
    expect(() => encodeI2np(256, 0, 0, new Uint8Array(0))).toThrow(RangeError);
    expect(() => encodeI2np(1, 2 ** 32, 0, new Uint8Array(0))).toThrow(RangeError);
    expect(() => encodeI2np(1, 0, -1, new Uint8Array(0))).toThrow(RangeError);
    expect(() => encodeI2np(1, 0, 0, new Uint8Array(65536))).toThrow(RangeError);
    expect(() => encodeI2np(1, 0, 0, [] as never)).toThrow(TypeError);
  });
});

describe('bodies', () => {
  it('TunnelData: tunnelId(4) | data(1024)', () => {
    const data = new Uint8Array(1024).fill(9);
    const b = encodeTunnelData(0x01020304, data);
    expect(b.length).toBe(1028);
    const d = decodeTunnelData(b);
    expect(d.ok && d.value.tunnelId === 0x01020304 && d.value.data.length === 1024).toBe(true);
    expect(decodeTunnelData(new Uint8Array(1027)).ok).toBe(false);
    expect(decodeTunnelData(new Uint8Array(1028))).toEqual({ ok: false, error: 'tunnel id 0' });
    expect(() => encodeTunnelData(1, new Uint8Array(1000))).toThrow(RangeError);
  });

  it('TunnelGateway: tunnelId(4) | length(2) | message', () => {
    const msg = encodeI2np(20, 5, 6, new Uint8Array(4));
    const b = encodeTunnelGateway(77, msg);
    expect(Buffer.from(b.subarray(0, 6)).toString('hex')).toBe('0000004d0014');
    const d = decodeTunnelGateway(b);
    expect(d.ok && d.value.tunnelId === 77 && d.value.message.length === 20).toBe(true);
    expect(decodeTunnelGateway(b.subarray(0, 10)).ok).toBe(false);
    expect(decodeTunnelGateway(Uint8Array.from([...b, 1])).ok).toBe(false);
    expect(decodeTunnelGateway(encodeTunnelGateway(0, msg)).ok).toBe(false);
    expect(decodeTunnelGateway(encodeTunnelGateway(1, new Uint8Array(3))).ok).toBe(false);
  });

  it('Data: length(4) | data', () => {
    const b = encodeData(Uint8Array.from([7, 8]));
    expect([...b]).toEqual([0, 0, 0, 2, 7, 8]);
    const d = decodeData(b);
    expect(d.ok && [...d.value]).toEqual([7, 8]);
    expect(decodeData(b.subarray(0, 5)).ok).toBe(false);
    expect(decodeData(new Uint8Array(3)).ok).toBe(false);
  });

  it('DeliveryStatus: msg_id(4) | time_stamp(8)', () => {
    const b = encodeDeliveryStatus(0xcafebabe, 1_700_000_000_123);
    expect(b.length).toBe(12);
    expect(decodeDeliveryStatus(b)).toEqual({ ok: true, value: { msgId: 0xcafebabe, timestamp: 1_700_000_000_123 } });
    expect(decodeDeliveryStatus(b.subarray(0, 11)).ok).toBe(false);
  });

  it('no decoder throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1100 }), (bytes) => {
        for (const dec of [decodeI2np, decodeTunnelData, decodeTunnelGateway, decodeData, decodeDeliveryStatus]) {
          const r = dec(bytes);
          expect(typeof r.ok).toBe('boolean');
        }
      }),
      { seed, numRuns: 2000 },
    );
  });
});
