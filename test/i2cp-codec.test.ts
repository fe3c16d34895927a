// I2CP codecs against byte strings built by hand from the spec tables (../shared/spec/i2cp.md), plus fuzzing.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  FrameDecoder,
  MessageType,
  PROTOCOL_BYTE,
  SendFlags,
  decodeMapping,
  decodeMessage,
  decodePayload,
  encodeMapping,
  encodeMessage,
  encodePayload,
  fromHex,
  hex,
  mappingBytes,
  sessionConfigSignedBytes,
  type I2cpMessage,
} from '../src/i2cp/index.js';
import { buildDestination, generatePrivateKeys } from '../src/keys/index.js';
import { ed25519Verify } from '../src/keys/ed25519.js';
import { buildLeaseSet2 } from '../src/leaseset/index.js';

/** frame = length(4) | type(1) | body */
function frame(type: number, bodyHex: string): string {
  const body = bodyHex.replace(/\s+/g, '');
  return (body.length / 2).toString(16).padStart(8, '0') + type.toString(16).padStart(2, '0') + body;
}
const str = (s: string) => Buffer.from([s.length]).toString('hex') + Buffer.from(s).toString('hex');
const gw = 'aa'.repeat(32);
// a fixed Ed25519/X25519 Destination: X25519 key 0x11.., padding 0x22.., Ed25519 key 0x33.., cert 05 0004 0007 0004
const destHex = '11'.repeat(32) + '22'.repeat(320) + '33'.repeat(32) + '05' + '0004' + '0007' + '0004';
const dest = fromHex(destHex);

function roundTrip(m: I2cpMessage, expectedHex: string) {
  const bytes = encodeMessage(m);
  expect(hex(bytes)).toBe(expectedHex);
  const res = decodeMessage(bytes[4]!, bytes.subarray(5));
  expect(res.ok, res.ok ? '' : res.error).toBe(true);
  if (res.ok) expect(hex(encodeMessage(res.value))).toBe(expectedHex);
  return res.ok ? res.value : undefined;
}

describe('framing', () => {
  it('numbers the message types as the spec table does', () => {
    expect(MessageType).toMatchObject({
      CreateSession: 1,
      ReconfigureSession: 2,
      DestroySession: 3,
      SendMessage: 5,
      GetBandwidthLimits: 8,
      SessionStatus: 20,
      MessageStatus: 22,
      BandwidthLimits: 23,
      Disconnect: 30,
      MessagePayload: 31,
      GetDate: 32,
      SetDate: 33,
      SendMessageExpires: 36,
      RequestVariableLeaseSet: 37,
      HostLookup: 38,
      HostReply: 39,
      CreateLeaseSet2: 41,
    });
    expect(PROTOCOL_BYTE).toBe(0x2a);
  });

  it('splits frames across arbitrary chunk boundaries', () => {
    const a = encodeMessage({ type: 'SessionStatus', sessionId: 0x1234, status: 1 });
    const b = encodeMessage({ type: 'Disconnect', reason: 'bye' });
    const all = new Uint8Array([...a, ...b]);
    for (let cut = 0; cut <= all.length; cut++) {
      const d = new FrameDecoder();
      const frames = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
      expect(frames.map((f) => f.type)).toEqual([20, 30]);
      expect(d.pending).toBe(0);
    }
  });

  it('copies each byte once however slowly it arrives (linear, not quadratic, in the frame size)', () => {
    // Count the bytes the decoder copies through Uint8Array set/slice (the only copies it makes) while a largest
    // frame and a small one arrive one byte at a time: each push may copy at most the byte it brings.
    const big = encodeMessage({
      type: 'MessagePayload',
      sessionId: 1,
      messageId: 2,
      payload: new Uint8Array(0xffff - 10).fill(7),
    });
    const small = encodeMessage({ type: 'Disconnect', reason: 'bye' });
    const stream = new Uint8Array([...big, ...small]);
    const proto = Object.getPrototypeOf(Uint8Array.prototype) as {
      set: (...a: any[]) => void;
      slice: (...a: any[]) => Uint8Array;
    };
    const { set, slice } = proto;
    let copied = 0;
    let worstPush = 0;
    const d = new FrameDecoder();
    const frames: { type: number; body: Uint8Array }[] = [];
    const views = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1)); // made before counting
    proto.set = function (this: Uint8Array, src: ArrayLike<number>, off?: number) {
      copied += src.length;
      return set.call(this, src, off);
    };
    proto.slice = function (this: Uint8Array, start?: number, end?: number) {
      const out = slice.call(this, start, end);
      copied += out.length;
      return out;
    };
    try {
      for (const v of views) {
        const before = copied;
        frames.push(...d.push(v));
        worstPush = Math.max(worstPush, copied - before);
      }
    } finally {
      proto.set = set;
      proto.slice = slice;
    }
    expect(frames.map((f) => [f.type, f.body.length])).toEqual([
      [31, 0xffff],
      [30, small.length - 5],
    ]);
    expect(Buffer.from(frames[0]!.body).equals(Buffer.from(big.subarray(5)))).toBe(true);
    expect(d.pending).toBe(0);
    expect(worstPush).toBeLessThanOrEqual(1);
    expect(copied).toBeLessThanOrEqual(stream.length);
  });

  it('rejects a frame longer than 65535 bytes and stays failed', () => {
    const d = new FrameDecoder();
    expect(d.push(fromHex('0001000014'))).toEqual([]);
    expect(d.error).toMatch(/exceeds 65535/);
    expect(d.push(encodeMessage({ type: 'GetBandwidthLimits' }))).toEqual([]);
  });

  it('refuses to encode a body over 65535 bytes', () => {
    expect(() =>
      encodeMessage({ type: 'MessagePayload', sessionId: 1, messageId: 1, payload: new Uint8Array(70000) }),
    ).toThrow(RangeError);
  });
});

describe('Mapping (§2.1)', () => {
  it('encodes sorted by key with size prefix, = and ;', () => {
    const b = mappingBytes({ b: '2', a: '1' });
    expect(hex(b)).toBe('000c' + str('a') + '3d' + str('1') + '3b' + str('b') + '3d' + str('2') + '3b');
    expect(hex(mappingBytes({}))).toBe('0000');
  });
  it('sorts in Java String.compareTo order (UTF-16 code units, uppercase before lowercase)', () => {
    const m = decodeMapping(mappingBytes({ inbound: 'x', Zeta: 'y', 'i2cp.a': 'z', 'inbound.length': '0' }));
    expect(m.ok && [...m.value.keys()]).toEqual(['Zeta', 'i2cp.a', 'inbound', 'inbound.length']);
  });
  it('rejects duplicates, missing separators and overruns', () => {
    const dup = '000c' + str('a') + '3d' + str('1') + '3b' + str('a') + '3d' + str('2') + '3b';
    expect(decodeMapping(fromHex(dup))).toMatchObject({ ok: false });
    expect(decodeMapping(fromHex('0006' + str('a') + '3e' + str('1') + '3b'))).toMatchObject({ ok: false });
    expect(decodeMapping(fromHex('0010' + str('a')))).toMatchObject({ ok: false });
    expect(() => encodeMapping({ ['k'.repeat(256)]: 'v' })).toThrow(RangeError);
  });
});

describe('messages against the spec layouts', () => {
  it('GetDate (32): version String [+ auth Mapping]', () => {
    roundTrip({ type: 'GetDate', version: '0.9.62' }, frame(32, str('0.9.62')));
    roundTrip(
      {
        type: 'GetDate',
        version: '0.9.62',
        auth: new Map([
          ['i2cp.password', 'p'],
          ['i2cp.username', 'u'],
        ]),
      },
      frame(
        32,
        str('0.9.62') +
          '0024' +
          str('i2cp.password') +
          '3d' +
          str('p') +
          '3b' +
          str('i2cp.username') +
          '3d' +
          str('u') +
          '3b',
      ),
    );
  });
  it('SetDate (33): Date(8) | String', () => {
    roundTrip(
      { type: 'SetDate', date: 0x0000018b_12345678, version: '0.9.57' },
      frame(33, '0000018b12345678' + str('0.9.57')),
    );
  });
  it('SessionStatus (20): sessionId(2) | status(1)', () => {
    roundTrip({ type: 'SessionStatus', sessionId: 0xbeef, status: 1 }, frame(20, 'beef01'));
  });
  it('DestroySession (3) and GetBandwidthLimits (8)', () => {
    roundTrip({ type: 'DestroySession', sessionId: 7 }, frame(3, '0007'));
    roundTrip({ type: 'GetBandwidthLimits' }, frame(8, ''));
  });
  it('BandwidthLimits (23): sixteen 4-byte integers', () => {
    const limits = Array.from({ length: 16 }, (_, i) => i * 1000);
    roundTrip(
      { type: 'BandwidthLimits', limits },
      frame(23, limits.map((v) => v.toString(16).padStart(8, '0')).join('')),
    );
  });
  it('CreateSession (1): Destination | Mapping | Date | Signature over the three', () => {
    const keys = generatePrivateKeys();
    const opts = { 'inbound.length': '0', 'i2cp.leaseSetType': '3' };
    const date = 1_700_000_000_123;
    const signed = sessionConfigSignedBytes(keys.destination.bytes, opts, date);
    const expectedSigned = hex(keys.destination.bytes) + hex(mappingBytes(opts)) + '0000018bcfe5687b';
    expect(hex(signed)).toBe(expectedSigned);
    expect(signed.length).toBe(391 + 2 + 41 + 8);
    const sig = new Uint8Array(64).fill(9);
    const m = roundTrip(
      {
        type: 'CreateSession',
        config: { destination: keys.destination.bytes, options: new Map(Object.entries(opts)), date, signature: sig },
      },
      frame(1, expectedSigned + '09'.repeat(64)),
    );
    expect(m?.type === 'CreateSession' && [...m.config.options.keys()]).toEqual([
      'i2cp.leaseSetType',
      'inbound.length',
    ]);
  });
  it('ReconfigureSession (2): sessionId | SessionConfig', () => {
    const cfgHex = destHex + '0000' + '0000000000000001' + '44'.repeat(64);
    roundTrip(
      {
        type: 'ReconfigureSession',
        sessionId: 0x0102,
        config: { destination: dest, options: new Map(), date: 1, signature: fromHex('44'.repeat(64)) },
      },
      frame(2, '0102' + cfgHex),
    );
  });
  it('RequestVariableLeaseSet (37): sessionId | num | num × (gateway(32) tunnelId(4) end Date(8))', () => {
    roundTrip(
      {
        type: 'RequestVariableLeaseSet',
        sessionId: 0x0a0b,
        leases: [{ gateway: fromHex(gw), tunnelId: 0xdeadbeef, end: 0x18b00000000 }],
      },
      frame(37, '0a0b' + '01' + gw + 'deadbeef' + '0000018b00000000'),
    );
  });
  it('CreateLeaseSet2 (41): sessionId | type 3 | LS2 | numPrivKeys | (encType keyLen key)', () => {
    const keys = generatePrivateKeys();
    const ls = buildLeaseSet2({
      keys,
      published: 1000,
      leases: [{ gateway: fromHex(gw), tunnelId: 5, end: 1600 }],
      encryptionKeys: [{ type: 4, key: fromHex('55'.repeat(32)) }],
    });
    roundTrip(
      {
        type: 'CreateLeaseSet2',
        sessionId: 3,
        lsType: 3,
        leaseSet: ls,
        privateKeys: [{ type: 4, key: fromHex('66'.repeat(32)) }],
      },
      frame(41, '0003' + '03' + hex(ls) + '01' + '0004' + '0020' + '66'.repeat(32)),
    );
  });
  it('SendMessage (5): sessionId | Destination | Payload(4+n) | nonce', () => {
    roundTrip(
      { type: 'SendMessage', sessionId: 1, destination: dest, payload: fromHex('c0ffee'), nonce: 42 },
      frame(5, '0001' + destHex + '00000003c0ffee' + '0000002a'),
    );
  });
  it('SendMessageExpires (36): … nonce | flags(2) | expiration(6); bit 15 = SWITCH_OUTBOUND_TUNNEL', () => {
    expect(SendFlags.SWITCH_OUTBOUND_TUNNEL).toBe(0x8000);
    const m = roundTrip(
      {
        type: 'SendMessageExpires',
        sessionId: 1,
        destination: dest,
        payload: fromHex('00'),
        nonce: 1,
        flags: 0x8000 | 0x0100 | 0x0023,
        expiration: 0x018b_cfe5_687b,
      },
      frame(36, '0001' + destHex + '0000000100' + '00000001' + '8123' + '018bcfe5687b'),
    );
    // the same 8 bytes read as one big-endian long are (flags << 48) | expiration (Java DateAndFlags)
    const enc = encodeMessage(m!);
    const tail = Buffer.from(enc.subarray(enc.length - 8)).readBigUInt64BE();
    expect(tail).toBe((0x8123n << 48n) | 0x018bcfe5687bn);
    expect(() =>
      encodeMessage({ ...(m as Extract<I2cpMessage, { type: 'SendMessageExpires' }>), flags: 0x10000 }),
    ).toThrow(RangeError);
  });
  it('MessageStatus (22): sessionId | messageId | status | size | nonce (15 bytes)', () => {
    roundTrip(
      { type: 'MessageStatus', sessionId: 2, messageId: 0x01020304, status: 21, size: 0, nonce: 7 },
      frame(22, '0002' + '01020304' + '15' + '00000000' + '00000007'),
    );
  });
  it('MessagePayload (31): sessionId | messageId | Payload', () => {
    roundTrip(
      { type: 'MessagePayload', sessionId: 2, messageId: 9, payload: fromHex('1f8b08') },
      frame(31, '0002' + '00000009' + '00000003' + '1f8b08'),
    );
  });
  it('HostLookup (38): sessionId | requestId | timeout | type | Hash or String', () => {
    roundTrip(
      { type: 'HostLookup', sessionId: 0xffff, requestId: 1, timeout: 10000, lookupType: 0, hash: fromHex(gw) },
      frame(38, 'ffff' + '00000001' + '00002710' + '00' + gw),
    );
    roundTrip(
      { type: 'HostLookup', sessionId: 5, requestId: 2, timeout: 10000, lookupType: 1, hostname: 'zzz.i2p' },
      frame(38, '0005' + '00000002' + '00002710' + '01' + str('zzz.i2p')),
    );
  });
  it('HostReply (39): sessionId | requestId | result [| Destination]', () => {
    roundTrip({ type: 'HostReply', sessionId: 5, requestId: 2, result: 1 }, frame(39, '0005' + '00000002' + '01'));
    roundTrip(
      { type: 'HostReply', sessionId: 5, requestId: 2, result: 0, destination: dest },
      frame(39, '0005' + '00000002' + '00' + destHex),
    );
  });
  it('Disconnect (30): String reason', () => {
    roundTrip({ type: 'Disconnect', reason: 'bye' }, frame(30, str('bye')));
  });
});

describe('decoding hostile bytes', () => {
  it('reports truncation, trailing bytes and unknown types as errors', () => {
    expect(decodeMessage(20, fromHex('0001'))).toMatchObject({ ok: false });
    expect(decodeMessage(20, fromHex('00010100'))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/trailing/),
    });
    expect(decodeMessage(99, new Uint8Array(0))).toMatchObject({ ok: false, error: expect.stringMatching(/unknown/) });
    expect(decodeMessage(37, fromHex('000102' + gw))).toMatchObject({ ok: false });
    expect(decodeMessage(33, fromHex('ffffffffffffffff00'))).toMatchObject({ ok: false });
    expect(decodeMessage(30, fromHex('02c328'))).toMatchObject({ ok: false, error: expect.stringMatching(/UTF-8/) });
  });

  it('never throws on random bodies for any type (fuzz)', () => {
    const types = [...Object.values(MessageType), 0, 4, 99, 255];
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.uint8Array({ maxLength: 600 }), (t, body) => {
        const r = decodeMessage(t, body);
        expect(typeof r.ok).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws on mutated valid messages (fuzz)', () => {
    const keys = generatePrivateKeys();
    const samples = [
      encodeMessage({
        type: 'SendMessageExpires',
        sessionId: 1,
        destination: keys.destination.bytes,
        payload: fromHex('0102'),
        nonce: 1,
        flags: 0x8000,
        expiration: 5,
      }),
      encodeMessage({
        type: 'RequestVariableLeaseSet',
        sessionId: 1,
        leases: [{ gateway: fromHex(gw), tunnelId: 1, end: 2 }],
      }),
      encodeMessage({
        type: 'CreateLeaseSet2',
        sessionId: 1,
        lsType: 3,
        privateKeys: [{ type: 4, key: new Uint8Array(32) }],
        leaseSet: buildLeaseSet2({
          keys,
          published: 1,
          leases: [],
          encryptionKeys: [{ type: 4, key: new Uint8Array(32) }],
        }),
      }),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...samples),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat(),
        (s, edits, cut) => {
          const b = s.slice(5);
          for (const [i, v] of edits) b[i % b.length] = v;
          expect(typeof decodeMessage(s[4]!, b.subarray(0, cut % (b.length + 1))).ok).toBe('boolean');
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('the frame decoder never throws on random streams (fuzz)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 10 }), (chunks) => {
        const d = new FrameDecoder();
        for (const c of chunks) d.push(c);
      }),
    );
  });
});

describe('payload gzip framing (§10)', () => {
  it('puts ports in MTIME and the protocol in OS, XFL 2, and round-trips', () => {
    const data = new TextEncoder().encode('hello i2p');
    const p = encodePayload({ data, fromPort: 0x1234, toPort: 80, protocol: 18 });
    expect(hex(p.subarray(0, 10))).toBe('1f8b0800' + '1234' + '0050' + '02' + '12');
    const back = decodePayload(p);
    expect(back.ok && { ...back.value, data: Buffer.from(back.value.data).toString() }).toEqual({
      data: 'hello i2p',
      fromPort: 0x1234,
      toPort: 80,
      protocol: 18,
    });
  });
  it('rejects a corrupted CRC, non-gzip data and oversize output', () => {
    const p = encodePayload({ data: new Uint8Array(100), fromPort: 0, toPort: 0, protocol: 6 }, 6);
    const bad = p.slice();
    bad[bad.length - 5]! ^= 1;
    expect(decodePayload(bad).ok).toBe(false);
    expect(decodePayload(new Uint8Array(20)).ok).toBe(false);
    expect(
      decodePayload(encodePayload({ data: new Uint8Array(5000), fromPort: 0, toPort: 0, protocol: 6 }, 9), 1000).ok,
    ).toBe(false);
  });
  it('never throws on random payloads (fuzz)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 100 }),
        (b) => void decodePayload(new Uint8Array([0x1f, 0x8b, 0x08, ...b])),
      ),
      { numRuns: 1000 },
    );
  });
});

describe('SessionConfig signature', () => {
  it('is Ed25519 over Destination ‖ Mapping ‖ Date and verifies with the Destination key', async () => {
    const { I2cpClient } = await import('../src/i2cp/client.js');
    const keys = generatePrivateKeys();
    const cfg = (I2cpClient.prototype.sessionConfig as unknown as (...a: unknown[]) => { signature: Uint8Array }).call(
      { clock: { now: () => 5 } },
      keys,
      { b: '1', a: '2' },
    );
    expect(
      ed25519Verify(
        keys.destination.signingPublicKey,
        sessionConfigSignedBytes(keys.destination.bytes, { a: '2', b: '1' }, 5),
        cfg.signature,
      ),
    ).toBe(true);
  });
  it('builds the Destination layout with a key certificate of 05 0004 0007 0004', () => {
    const d = buildDestination(fromHex('33'.repeat(32)), fromHex('11'.repeat(32)), 4);
    expect(d.bytes.length).toBe(391);
    expect(hex(d.bytes.subarray(0, 32))).toBe('11'.repeat(32));
    expect(hex(d.bytes.subarray(352, 384))).toBe('33'.repeat(32));
    expect(hex(d.bytes.subarray(384))).toBe('05000400070004');
  });
});
