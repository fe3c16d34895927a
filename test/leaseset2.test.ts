// LeaseSet2 (leaseset.md §5): layout against hand-built bytes, signature over 0x03 ‖ structure checked with an
// independent Ed25519 (noble), parse/verify, limits, fuzzing.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ed25519 } from '@noble/curves/ed25519.js';
import { fromHex, hex } from '../src/common/bytes.js';
import { generatePrivateKeys } from '../src/keys/index.js';
import { buildLeaseSet2, checkLeaseSet2Times, parseLeaseSet2, verifyLeaseSet2 } from '../src/leaseset/index.js';

const keys = generatePrivateKeys();
const encKey = fromHex('55'.repeat(32));
const leases = [
  { gateway: fromHex('aa'.repeat(32)), tunnelId: 0x01020304, end: 1_700_000_600 },
  { gateway: fromHex('bb'.repeat(32)), tunnelId: 0xfffffffe, end: 1_700_000_500 },
];

describe('LeaseSet2', () => {
  it('serializes header, options, keys and Lease2s as the spec tables say', () => {
    const ls = buildLeaseSet2({ keys, published: 1_700_000_000, leases, encryptionKeys: [{ type: 4, key: encKey }] });
    const expected =
      hex(keys.destination.bytes) +
      '6553f100' + // published 1700000000 s
      '0258' + // expires = 600 (latest end − published)
      '0000' + // flags
      '0000' + // empty options
      '01' +
      '0004' +
      '0020' +
      '55'.repeat(32) +
      '02' +
      'aa'.repeat(32) +
      '01020304' +
      '6553f358' +
      'bb'.repeat(32) +
      'fffffffe' +
      '6553f2f4';
    expect(hex(ls.subarray(0, ls.length - 64))).toBe(expected);
    expect(ls.length).toBe(391 + 4 + 2 + 2 + 2 + 1 + 36 + 1 + 80 + 64);
    // independent check: Ed25519 over 0x03 ‖ structure
    const signed = fromHex('03' + expected);
    expect(ed25519.verify(ls.subarray(ls.length - 64), signed, keys.destination.signingPublicKey)).toBe(true);
  });

  it('parses and verifies what it builds; any flipped bit fails verification or parsing', () => {
    const ls = buildLeaseSet2({
      keys,
      published: 1_700_000_000,
      leases,
      encryptionKeys: [{ type: 4, key: encKey }],
      options: { z: '1', a: '2' },
    });
    const p = parseLeaseSet2(ls);
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(verifyLeaseSet2(p.value)).toBe(true);
    expect([...p.value.options.keys()]).toEqual(['a', 'z']);
    expect(p.value.leases.map((l) => l.tunnelId)).toEqual([0x01020304, 0xfffffffe]);
    expect(p.value.keys).toEqual([{ type: 4, key: encKey }]);
    for (const i of [0, 391, 400, 420, ls.length - 70, ls.length - 1]) {
      const bad = ls.slice();
      bad[i]! ^= 0x10;
      const q = parseLeaseSet2(bad);
      expect(q.ok && verifyLeaseSet2(q.value)).toBe(false);
    }
  });

  it('holds at most 16 leases', () => {
    const many = Array.from({ length: 17 }, (_, i) => ({ gateway: new Uint8Array(32), tunnelId: i, end: 2000 }));
    expect(() =>
      buildLeaseSet2({ keys, published: 1000, leases: many, encryptionKeys: [{ type: 4, key: encKey }] }),
    ).toThrow(/at most 16/);
    const ls16 = buildLeaseSet2({
      keys,
      published: 1000,
      leases: many.slice(0, 16),
      encryptionKeys: [{ type: 4, key: encKey }],
    });
    expect(parseLeaseSet2(ls16).ok).toBe(true);
    // a hand-edited count of 17 is rejected by the parser
    const bad = ls16.slice();
    bad[391 + 8 + 2 + 1 + 36] = 17; // published|expires|flags, options, numk, one key
    expect(parseLeaseSet2(bad)).toMatchObject({ ok: false, error: expect.stringMatching(/17 leases/) });
  });

  it("applies i2pd's 12-minute acceptance window", () => {
    const now = 1_700_000_000;
    const mk = (published: number, end: number) => {
      const p = parseLeaseSet2(
        buildLeaseSet2({
          keys,
          published,
          leases: [{ gateway: new Uint8Array(32), tunnelId: 1, end }],
          encryptionKeys: [{ type: 4, key: encKey }],
        }),
      );
      return p.ok ? checkLeaseSet2Times(p.value, now) : 'parse';
    };
    expect(mk(now, now + 600)).toBeUndefined();
    expect(mk(now + 800, now + 900)).toMatch(/future/);
    expect(mk(now - 800, now + 100)).toMatch(/past/);
    expect(mk(now, now + 800)).toMatch(/future/);
  });

  it('never throws on random or mutated input (fuzz)', () => {
    const ls = buildLeaseSet2({ keys, published: 1_700_000_000, leases, encryptionKeys: [{ type: 4, key: encKey }] });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (b) => void parseLeaseSet2(b)),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(ls.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(),
        (edits, cut) => {
          const b = ls.slice();
          for (const [i, v] of edits) b[i] = v;
          const p = parseLeaseSet2(b.subarray(0, cut % (b.length + 1)));
          if (p.ok) expect(typeof verifyLeaseSet2(p.value)).toBe('boolean');
        },
      ),
      { numRuns: 1000 },
    );
  });
});
