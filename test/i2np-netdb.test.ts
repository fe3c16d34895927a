// I2NP bodies of the netDb and tunnel building (src/i2np/database-*.ts, tunnel-build.ts, garlic.ts,
// router-info-gzip.ts): layouts built by hand from the tables of netdb-floodfill.md §2.1, §3.1, §3.3 and i2np.md §4.9,
// round trips, and hostile bytes (every truncation, random bytes) refused without an exception.
import { gzipSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeDatabaseStore, encodeDatabaseStore } from '../src/i2np/database-store.js';
import { decodeDatabaseLookup, encodeDatabaseLookup } from '../src/i2np/database-lookup.js';
import { decodeDatabaseSearchReply, encodeDatabaseSearchReply } from '../src/i2np/database-search-reply.js';
import { decodeBuildRecords, encodeBuildRecords } from '../src/i2np/tunnel-build.js';
import { decodeGarlic, encodeGarlic } from '../src/i2np/garlic.js';
import { gunzipRouterInfo, gzipRouterInfo } from '../src/i2np/router-info-gzip.js';
import { Rng, hex, testSeed } from './helpers/chacha-rng.js';
import { refConcat } from './reference/build-reference.js';

const seed = testSeed('i2np-netdb');
const u32 = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
};
const u16 = (n: number) => Uint8Array.of(n >> 8, n & 0xff);

function allPrefixesRefused(full: Uint8Array, decode: (b: Uint8Array) => { ok: boolean }): void {
  for (let i = 0; i < full.length; i++) expect(decode(full.subarray(0, i)).ok, `prefix ${i}`).toBe(false);
}

describe('DatabaseStore (§2.1)', () => {
  const rng = new Rng(seed);
  it('RouterInfo with a reply token: the table layout, both ways', () => {
    const key = rng.bytes(32),
      gw = rng.bytes(32),
      gz = rng.bytes(300);
    const wire = refConcat(key, Uint8Array.of(0), u32(0xdeadbeef), u32(77), gw, u16(300), gz);
    expect(
      hex(encodeDatabaseStore({ key, type: 0, replyToken: 0xdeadbeef, replyTunnelId: 77, replyGateway: gw, data: gz })),
    ).toBe(hex(wire));
    const d = decodeDatabaseStore(wire);
    if (!d.ok) throw new Error(d.error);
    expect(d.value).toMatchObject({ type: 0, replyToken: 0xdeadbeef, replyTunnelId: 77 });
    expect([hex(d.value.key), hex(d.value.replyGateway!), hex(d.value.data)]).toEqual([hex(key), hex(gw), hex(gz)]);
    allPrefixesRefused(wire, decodeDatabaseStore);
    expect(decodeDatabaseStore(refConcat(wire, Uint8Array.of(0))).ok).toBe(false);
  });
  it('LeaseSet2 without a token; unknown types refused', () => {
    const key = rng.bytes(32),
      ls = rng.bytes(500);
    const wire = refConcat(key, Uint8Array.of(3), u32(0), ls);
    expect(hex(encodeDatabaseStore({ key, type: 3, data: ls }))).toBe(hex(wire));
    const d = decodeDatabaseStore(wire);
    expect(d.ok && hex(d.value.data)).toBe(hex(ls));
    expect(d.ok && d.value.replyGateway).toBeUndefined();
    for (const t of [2, 4, 6, 8, 255]) {
      const w = wire.slice();
      w[32] = t;
      expect(decodeDatabaseStore(w).ok).toBe(false);
    }
  });
});

describe('DatabaseLookup (§3.1)', () => {
  const rng = new Rng(seed ^ 1);
  it("i2pd's LS lookup 0x15: tunnel, excluded list including the recipient, key + 01 + 8-byte tag", () => {
    const key = rng.bytes(32),
      from = rng.bytes(32),
      ex = [rng.bytes(32), rng.bytes(32)],
      rk = rng.bytes(32),
      tag = rng.bytes(8);
    const wire = refConcat(key, from, Uint8Array.of(0x15), u32(1234), u16(2), ...ex, rk, Uint8Array.of(1), tag);
    expect(
      hex(
        encodeDatabaseLookup({
          key,
          from,
          lookupType: 'leaseset',
          replyTunnelId: 1234,
          excluded: ex,
          replyKey: rk,
          replyTags: [tag],
        }),
      ),
    ).toBe(hex(wire));
    const d = decodeDatabaseLookup(wire);
    if (!d.ok) throw new Error(d.error);
    expect(d.value).toMatchObject({ flags: 0x15, lookupType: 'leaseset', replyTunnelId: 1234, encryption: 'ecies' });
    expect(d.value.excluded.map(hex)).toEqual(ex.map(hex));
    expect([hex(d.value.replyKey!), hex(d.value.replyTags![0]!)]).toEqual([hex(rk), hex(tag)]);
    allPrefixesRefused(wire, decodeDatabaseLookup);
  });
  it('RI lookups 0x08 / 0x09, exploration 0x0D, ElGamal 0x07 with 32-byte tags; bad flags and sizes refused', () => {
    const key = rng.bytes(32),
      from = rng.bytes(32);
    const direct = refConcat(key, from, Uint8Array.of(0x08), u16(0));
    expect(hex(encodeDatabaseLookup({ key, from, lookupType: 'routerinfo' }))).toBe(hex(direct));
    expect(decodeDatabaseLookup(direct)).toMatchObject({
      ok: true,
      value: { lookupType: 'routerinfo', encryption: 'none' },
    });
    const tun = refConcat(key, from, Uint8Array.of(0x0d), u32(9), u16(0));
    expect(decodeDatabaseLookup(tun)).toMatchObject({
      ok: true,
      value: { lookupType: 'exploration', replyTunnelId: 9 },
    });
    const eg = refConcat(
      key,
      from,
      Uint8Array.of(0x07),
      u32(9),
      u16(0),
      rng.bytes(32),
      Uint8Array.of(1),
      rng.bytes(32),
    );
    const e = decodeDatabaseLookup(eg);
    expect(e.ok && e.value.replyTags![0]!.length).toBe(32);
    expect(decodeDatabaseLookup(refConcat(key, from, Uint8Array.of(0x12), u16(0), rng.bytes(33))).ok).toBe(false);
    expect(decodeDatabaseLookup(refConcat(key, from, Uint8Array.of(0x28), u16(0))).ok).toBe(false);
    expect(decodeDatabaseLookup(refConcat(key, from, Uint8Array.of(0x08), u16(513), new Uint8Array(513 * 32))).ok).toBe(
      false,
    );
    expect(decodeDatabaseLookup(refConcat(direct, Uint8Array.of(0))).ok).toBe(false);
  });
});

describe('DatabaseSearchReply (§3.3), build records (i2np.md §4.9), Garlic', () => {
  const rng = new Rng(seed ^ 2);
  it('layouts, round trips, truncations', () => {
    const key = rng.bytes(32),
      from = rng.bytes(32),
      peers = [rng.bytes(32), rng.bytes(32), rng.bytes(32)];
    const wire = refConcat(key, Uint8Array.of(3), ...peers, from);
    expect(hex(encodeDatabaseSearchReply(key, peers, from))).toBe(hex(wire));
    const d = decodeDatabaseSearchReply(wire);
    expect(d.ok && d.value.peers.map(hex)).toEqual(peers.map(hex));
    expect(d.ok && hex(d.value.from)).toBe(hex(from));
    allPrefixesRefused(wire, decodeDatabaseSearchReply);
    const recs = [rng.bytes(218), rng.bytes(218), rng.bytes(218), rng.bytes(218)];
    const stbm = encodeBuildRecords(recs);
    expect(stbm.length).toBe(873);
    allPrefixesRefused(stbm, (b) => decodeBuildRecords(b, 218));
    expect(decodeBuildRecords(stbm, 528).ok).toBe(false);
    const g = encodeGarlic(rng.bytes(100));
    expect(hex(g.subarray(0, 4))).toBe('00000064');
    allPrefixesRefused(g, decodeGarlic);
  });
  it('random bytes never throw', () => {
    for (let k = 0; k < 3000; k++) {
      const b = rng.bytes(rng.int(400));
      expect(() => {
        decodeDatabaseStore(b);
        decodeDatabaseLookup(b);
        decodeDatabaseSearchReply(b);
        decodeBuildRecords(b, 218);
        decodeGarlic(b);
      }).not.toThrow();
    }
  });
});

describe('RouterInfo gzip (§2.1)', () => {
  const rng = new Rng(seed ^ 3);
  it("the stored form is i2pd's exactly and inflates with zlib", () => {
    const ri = rng.bytes(900);
    const gz = gzipRouterInfo(ri);
    expect(gz.length).toBe(923);
    expect(hex(gz.subarray(0, 15))).toBe(
      `1f8b08000000000002ff01${hex(Uint8Array.of(900 & 0xff, 900 >> 8))}${hex(Uint8Array.of(~900 & 0xff, (~900 >> 8) & 0xff))}`,
    );
    expect(hex(new Uint8Array(gunzipSync(gz)))).toBe(hex(ri));
    const back = gunzipRouterInfo(gzipSync(ri));
    expect(back.ok && hex(back.value)).toBe(hex(ri));
  });
  it('a bomb, a too-large RouterInfo and garbage are refused', () => {
    expect(gunzipRouterInfo(gzipSync(new Uint8Array(10_000_000))).ok).toBe(false);
    expect(gunzipRouterInfo(gzipRouterInfo(rng.bytes(3072))).ok).toBe(false);
    expect(gunzipRouterInfo(rng.bytes(100)).ok).toBe(false);
    const gz = gzipRouterInfo(rng.bytes(100));
    gz[gz.length - 6]! ^= 1; // CRC
    expect(gunzipRouterInfo(gz).ok).toBe(false);
  });
});
