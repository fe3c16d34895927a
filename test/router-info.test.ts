// RouterInfo (ntcp2-routerinfo.md §2, §3.1): our builder against bytes laid out by hand from the spec (signed with
// @noble/curves), i2pd 2.45.1's own router.info (test/fixtures, verified here with our code and with noble), random
// round trips, every single-byte corruption, fuzzed and mutated input (never throws), the NTCP2 address options,
// caps, the peer check the NTCP2 transport uses, and the netDb file names and files.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ed25519 } from '@noble/curves/ed25519.js';
import { fromHex, hex } from '../src/common/bytes.js';
import {
  MAX_ROUTER_INFO_SIZE,
  bandwidthClass,
  buildLocalRouterInfo,
  buildRouterIdentity,
  buildRouterInfo,
  decodeKeyBase64,
  formatCaps,
  generateNtcp2Keys,
  generateRouterKeys,
  identHashBase64,
  listNetDbFiles,
  netDbRelativePath,
  ntcp2AddressOptions,
  ntcp2Addresses,
  parseCaps,
  parseRouterInfo,
  peerHasStaticKey,
  readPeerRouterInfo,
  readRouterInfoFile,
  routerInfoProblem,
  verifyRouterInfo,
  writeNetDbEntry,
  writeRouterInfoFile,
  type RouterKeys,
} from '../src/router/index.js';
import { Rng, testSeed } from './helpers/chacha-rng.js';

const I2PD_RI = new Uint8Array(readFileSync(new URL('./fixtures/i2pd-2.45.1-router.info', import.meta.url)));

// fixed keys: RFC 8032 TEST 1 (Ed25519), RFC 7748 §6.1 Alice / Bob (X25519 identity key / NTCP2 static key)
const ED_SEED = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
const ED_PUB = fromHex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
const X_PRIV = fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
const X_PUB = fromHex('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
const S_PRIV = fromHex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
const S_PUB = fromHex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
const IV = fromHex('000102030405060708090a0b0c0d0e0f');
const PAD = new Uint8Array(32).fill(0x42);
const KEYS: RouterKeys = {
  identity: buildRouterIdentity(ED_PUB, X_PUB, PAD),
  cryptoPrivateKey: X_PRIV,
  signingPrivateKey: ED_SEED,
};
const NTCP2 = { staticPublicKey: S_PUB, staticPrivateKey: S_PRIV, iv: IV };
const PUBLISHED = 1_796_600_000_123;

const ascii = (s: string) => Buffer.from(s, 'ascii');
const str = (s: string) => Buffer.concat([Buffer.from([s.length]), ascii(s)]);
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const entry = (k: string, v: string) => Buffer.concat([str(k), ascii('='), str(v), ascii(';')]);
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64').replace(/\+/g, '-').replace(/\//g, '~');

/** §2.1 / §2.2 byte by byte, independent of src/: identity, published, one NTCP2 address, peer_size 0, options. */
function handRouterInfo(): Uint8Array {
  const addrOpts = Buffer.concat([
    entry('host', '127.0.0.1'),
    entry('i', b64(IV)),
    entry('port', '27100'),
    entry('s', b64(S_PUB)),
    entry('v', '2'),
  ]);
  const routerOpts = Buffer.concat([entry('caps', 'XfR'), entry('netId', '2'), entry('router.version', '0.9.57')]);
  const published = Buffer.alloc(8);
  published.writeBigUInt64BE(BigInt(PUBLISHED));
  const signed = Buffer.concat([
    KEYS.identity.bytes,
    published,
    Buffer.from([1]),
    Buffer.from([3]),
    Buffer.alloc(8),
    str('NTCP2'),
    u16(addrOpts.length),
    addrOpts,
    Buffer.from([0]),
    u16(routerOpts.length),
    routerOpts,
  ]);
  return new Uint8Array(Buffer.concat([signed, ed25519.sign(signed, ED_SEED)]));
}

describe('RouterInfo layout (§2.1, §2.2)', () => {
  it('our signed RouterInfo equals the hand-laid spec bytes signed by @noble/curves', () => {
    const hand = handRouterInfo();
    // the spec's example: the five NTCP2 options take 114 bytes for a 5-digit port
    expect(Buffer.from(hand).readUInt16BE(391 + 8 + 1 + 1 + 8 + 6)).toBe(114);
    const ours = buildLocalRouterInfo(KEYS, NTCP2, {
      host: '127.0.0.1',
      port: 27100,
      caps: { bandwidth: ['X'], floodfill: true, reachable: true },
      published: PUBLISHED,
    });
    expect(hex(ours)).toBe(hex(hand));
  });

  it('parses the hand-laid bytes field by field and verifies the signature', () => {
    const res = parseRouterInfo(handRouterInfo());
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    const ri = res.value;
    expect(ri.published).toBe(PUBLISHED);
    expect(ri.addresses).toHaveLength(1);
    expect([ri.addresses[0]!.cost, ri.addresses[0]!.style]).toEqual([3, 'NTCP2']);
    expect(Object.fromEntries(ri.addresses[0]!.options)).toEqual({
      host: '127.0.0.1',
      i: b64(IV),
      port: '27100',
      s: b64(S_PUB),
      v: '2',
    });
    expect(Object.fromEntries(ri.options)).toEqual({ caps: 'XfR', netId: '2', 'router.version': '0.9.57' });
    expect(ri.signedLength).toBe(ri.bytes.length - 64);
    expect(verifyRouterInfo(ri)).toBe(true);
    expect(routerInfoProblem(ri, { now: PUBLISHED })).toBeUndefined();
    const [a] = ntcp2Addresses(ri);
    expect(a && [a.host, a.port, hex(a.staticKey), hex(a.iv!), a.dialable]).toEqual([
      '127.0.0.1',
      27100,
      hex(S_PUB),
      hex(IV),
      true,
    ]);
  });

  it("reads i2pd 2.45.1's own router.info: signature valid for our code and for noble, NTCP2 s / i / host / port", () => {
    const res = parseRouterInfo(I2PD_RI);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    const ri = res.value;
    expect([ri.identity.sigType, ri.identity.cryptoType, ri.identity.bytes.length]).toEqual([7, 4, 391]);
    expect(verifyRouterInfo(ri)).toBe(true);
    expect(ed25519.verify(ri.signature, I2PD_RI.subarray(0, I2PD_RI.length - 64), ri.identity.signingPublicKey)).toBe(
      true,
    );
    expect(ri.addresses.map((a) => a.style)).toEqual(['NTCP2', 'SSU2']);
    expect(ri.options.get('router.version')).toBe('0.9.57');
    expect(routerInfoProblem(ri, { now: ri.published })).toBeUndefined();
    const peer = readPeerRouterInfo(I2PD_RI, { now: ri.published });
    expect(peer.ok).toBe(true);
    if (!peer.ok) return;
    expect(peer.value.ntcp2?.dialable).toBe(true);
    expect(peer.value.ntcp2?.host).toBe('127.0.0.1');
    expect(hex(peer.value.identHash)).toBe(hex(ri.identHash));
    expect(peerHasStaticKey(peer.value, peer.value.ntcp2!.staticKey)).toBe(true);
    expect(peerHasStaticKey(peer.value, S_PUB)).toBe(false);
    // i2pd's padding: one 32-byte block, 7 copies in the crypto field and 3 in the signing field (§1)
    const pad = ri.identity.bytes.subarray(32, 64);
    for (let i = 32; i < 352; i += 32) expect(hex(ri.identity.bytes.subarray(i, i + 32))).toBe(hex(pad));
  });

  it('every single-byte change of a signed RouterInfo fails parsing or verification', () => {
    for (const ri of [I2PD_RI, handRouterInfo()]) {
      for (let i = 0; i < ri.length; i++) {
        const bad = ri.slice();
        bad[i] ^= 0x01;
        const res = parseRouterInfo(bad);
        if (res.ok) expect(verifyRouterInfo(res.value), `byte ${i}`).toBe(false);
      }
    }
  });

  it('refuses trailing bytes, truncation and anything over 3072 bytes', () => {
    const ri = handRouterInfo();
    expect(parseRouterInfo(new Uint8Array([...ri, 0])).ok).toBe(false);
    for (let n = 0; n < ri.length; n++) expect(parseRouterInfo(ri.subarray(0, n)).ok).toBe(false);
    expect(parseRouterInfo(new Uint8Array(MAX_ROUTER_INFO_SIZE + 1))).toMatchObject({
      ok: false,
      error: expect.stringContaining('3072'),
    });
    const big = {
      published: PUBLISHED,
      addresses: [],
      options: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v'.repeat(200)])),
    };
    expect(() => buildRouterInfo(KEYS, big)).toThrow(RangeError);
  });
});

describe('RouterInfo round trips and hostile input', () => {
  const seed = testSeed('router-info');

  it('random content: build, parse, same fields, signature valid for noble', () => {
    const keyArb = fc.stringMatching(/^[a-zA-Z0-9.]{1,20}$/);
    const mapArb = fc.dictionary(keyArb, fc.string({ maxLength: 30 }), { maxKeys: 6 });
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            style: fc.constantFrom('NTCP2', 'SSU2', 'X'),
            cost: fc.integer({ min: 0, max: 255 }),
            options: mapArb,
          }),
          { maxLength: 3 },
        ),
        mapArb,
        fc.integer({ min: 0, max: 2 ** 53 - 1 }),
        (addresses, options, published) => {
          const bytes = buildRouterInfo(KEYS, { published, addresses, options });
          const res = parseRouterInfo(bytes);
          expect(res.ok).toBe(true);
          if (!res.ok) return;
          expect(res.value.published).toBe(published);
          expect(res.value.addresses.map((a) => [a.style, a.cost, Object.fromEntries(a.options)])).toEqual(
            addresses.map((a) => [a.style, a.cost, { ...a.options }]),
          );
          expect(Object.fromEntries(res.value.options)).toEqual({ ...options });
          expect([...res.value.options.keys()]).toEqual(
            Object.keys(options).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)),
          );
          expect(verifyRouterInfo(res.value)).toBe(true);
          expect(ed25519.verify(res.value.signature, bytes.subarray(0, res.value.signedLength), ED_PUB)).toBe(true);
        },
      ),
      { seed, numRuns: 200 },
    );
  });

  it('fresh keys: our signature verifies with noble, a signature by another key does not', () => {
    const a = generateRouterKeys();
    const b = generateRouterKeys();
    const bytes = buildLocalRouterInfo(a, generateNtcp2Keys(), { host: '127.0.0.2', port: 1234 });
    const ri = parseRouterInfo(bytes);
    expect(
      ri.ok &&
        ed25519.verify(ri.value.signature, bytes.subarray(0, ri.value.signedLength), a.identity.signingPublicKey),
    ).toBe(true);
    const forged = buildRouterInfo({ ...b, identity: a.identity }, { published: 1, addresses: [], options: {} });
    const fr = parseRouterInfo(forged);
    expect(fr.ok).toBe(true);
    if (fr.ok) expect(verifyRouterInfo(fr.value)).toBe(false);
    expect(readPeerRouterInfo(forged)).toMatchObject({ ok: false, kind: 'signature' });
  });

  it('random bytes and mutated RouterInfos never throw: a value or an error string', () => {
    const rng = new Rng(seed);
    const samples = [I2PD_RI, handRouterInfo()];
    let parsed = 0;
    for (let i = 0; i < 20_000; i++) {
      let input: Uint8Array;
      if (i % 4 === 0) input = rng.bytes(rng.int(1200));
      else {
        input = samples[i % 2]!.slice();
        const edits = 1 + rng.int(4);
        for (let e = 0; e < edits; e++) input[rng.int(input.length)] = rng.int(256);
        if (i % 3 === 0) input = input.subarray(0, rng.int(input.length + 1));
      }
      const res = parseRouterInfo(input);
      if (res.ok) {
        parsed++;
        verifyRouterInfo(res.value);
        routerInfoProblem(res.value);
        ntcp2Addresses(res.value);
      } else expect(typeof res.error).toBe('string');
      const peer = readPeerRouterInfo(input);
      if (!peer.ok) expect(['malformed', 'signature', 'invalid', 'no-ntcp2']).toContain(peer.kind);
    }
    console.log(`router-info fuzz: ${parsed} of 20000 inputs parsed as RouterInfo structure`);
  });
});

describe('what i2pd requires of a RouterInfo (§3.1)', () => {
  const make = (
    options: Record<string, string>,
    addresses = [
      {
        style: 'NTCP2',
        cost: 3,
        options: ntcp2AddressOptions({ host: '127.0.0.1', port: 9, staticKey: S_PUB, iv: IV }),
      },
    ],
    published = PUBLISHED,
  ) => {
    const res = parseRouterInfo(buildRouterInfo(KEYS, { published, addresses, options }));
    if (!res.ok) throw new Error(res.error);
    return res.value;
  };
  const base = { caps: 'LR', netId: '2', 'router.version': '0.9.57' };

  it('names the first problem, or none', () => {
    expect(routerInfoProblem(make(base), { now: PUBLISHED })).toBeUndefined();
    expect(routerInfoProblem(make({ ...base, netId: '3' }), { now: PUBLISHED })).toMatch(/netId 3/);
    expect(routerInfoProblem(make({ ...base, netId: '3' }), { now: PUBLISHED, netId: 3 })).toBeUndefined();
    expect(routerInfoProblem(make({ caps: 'L', 'router.version': '0.9.57' }), { now: PUBLISHED })).toBe('no netId');
    expect(routerInfoProblem(make({ caps: 'L', netId: '2' }), { now: PUBLISHED })).toBe('no router.version');
    expect(routerInfoProblem(make({ ...base, 'router.version': '0.0.0' }), { now: PUBLISHED })).toMatch(
      /version digits/,
    );
    expect(routerInfoProblem(make(base, []), { now: PUBLISHED })).toMatch(/no supported transport/);
    expect(
      routerInfoProblem(make(base, [{ style: 'SSU2', cost: 8, options: { v: '2' } }]), { now: PUBLISHED }),
    ).toBeUndefined();
    expect(routerInfoProblem(make(base), { now: PUBLISHED - 121_000 })).toMatch(/future/);
    expect(routerInfoProblem(make(base), { now: PUBLISHED - 119_000 })).toBeUndefined();
  });

  it('peer check kinds: invalid content and no NTCP2 address are told apart from bad signatures', () => {
    expect(readPeerRouterInfo(make({ ...base, netId: '7' }).bytes, { now: PUBLISHED })).toMatchObject({
      ok: false,
      kind: 'invalid',
    });
    expect(
      readPeerRouterInfo(make(base, [{ style: 'SSU2', cost: 8, options: { v: '2' } }]).bytes, { now: PUBLISHED }),
    ).toMatchObject({ ok: false, kind: 'no-ntcp2' });
    expect(readPeerRouterInfo(new Uint8Array(10))).toMatchObject({ ok: false, kind: 'malformed' });
    const sigBad = make(base).bytes.slice();
    sigBad[sigBad.length - 1] ^= 0x40;
    expect(readPeerRouterInfo(sigBad, { now: PUBLISHED })).toMatchObject({ ok: false, kind: 'signature' });
  });
});

describe('NTCP2 address options (§2.2)', () => {
  it('publishes padded I2P Base64: s = 44 chars, i = 24 chars', () => {
    const o = ntcp2AddressOptions({ host: '127.0.0.1', port: 27100, staticKey: S_PUB, iv: IV });
    expect(o.s).toHaveLength(44);
    expect(o.s!.endsWith('=')).toBe(true);
    expect(o.i).toHaveLength(24);
    expect(o.i!.endsWith('==')).toBe(true);
    expect(o.v).toBe('2');
  });

  it('refuses hostnames, bad ports and wrong lengths when building', () => {
    const ok = { host: '127.0.0.1', port: 1, staticKey: S_PUB, iv: IV };
    expect(() => ntcp2AddressOptions({ ...ok, host: 'localhost' })).toThrow(RangeError);
    expect(() => ntcp2AddressOptions({ ...ok, port: 0 })).toThrow(RangeError);
    expect(() => ntcp2AddressOptions({ ...ok, port: 65536 })).toThrow(RangeError);
    expect(() => ntcp2AddressOptions({ ...ok, staticKey: S_PUB.subarray(1) })).toThrow(RangeError);
    expect(() => ntcp2AddressOptions({ ...ok, iv: IV.subarray(1) })).toThrow(RangeError);
    expect(Object.keys(ntcp2AddressOptions({ ...ok, host: '::1' }))).toEqual(['host', 'i', 'port', 's', 'v']);
  });

  it('reads s and i only in canonical padded form, as i2pd decodes them', () => {
    const s = b64(S_PUB);
    expect(hex(decodeKeyBase64(s, 32)!)).toBe(hex(S_PUB));
    expect(decodeKeyBase64(s.slice(0, 43), 32)).toBeUndefined(); // unpadded
    expect(decodeKeyBase64(s.replace(/.=$/, 'B='), 32)).toBeUndefined(); // stray low bits in the last character
    expect(decodeKeyBase64(s.replace(/^./, '+'), 32)).toBeUndefined(); // standard alphabet
    expect(decodeKeyBase64(b64(IV), 32)).toBeUndefined();
    expect(decodeKeyBase64(undefined, 32)).toBeUndefined();
  });

  it('orders addresses dialable IPv4 first; unpublished (no i / host) ones are kept but not dialable', () => {
    const ri = parseRouterInfo(
      buildRouterInfo(KEYS, {
        published: PUBLISHED,
        options: {},
        addresses: [
          { style: 'NTCP2', cost: 14, options: { caps: '4', s: b64(S_PUB), v: '2' } },
          { style: 'NTCP2', cost: 3, options: ntcp2AddressOptions({ host: '::1', port: 5, staticKey: S_PUB, iv: IV }) },
          {
            style: 'NTCP2',
            cost: 3,
            options: ntcp2AddressOptions({ host: '127.0.0.1', port: 6, staticKey: S_PUB, iv: IV }),
          },
          { style: 'NTCP2', cost: 3, options: { host: 'example.org', port: '7', i: b64(IV), s: b64(S_PUB) } },
          { style: 'NTCP2', cost: 3, options: { s: 'short' } },
        ],
      }),
    );
    expect(ri.ok).toBe(true);
    if (!ri.ok) return;
    expect(ntcp2Addresses(ri.value).map((a) => [a.host ?? '-', a.port ?? 0, a.dialable])).toEqual([
      ['127.0.0.1', 6, true],
      ['::1', 5, true],
      ['-', 7, false], // the hostname one: cost 3
      ['-', 0, false], // unpublished: cost 14
    ]);
  });
});

describe('caps (§2.4)', () => {
  it('formats in i2pd order and parses every letter', () => {
    expect(formatCaps({})).toBe('L');
    expect(formatCaps({ bandwidth: ['X'], floodfill: true, reachable: true })).toBe('XfR');
    expect(formatCaps({ bandwidth: ['P', 'O'], hidden: true, unreachable: true, congestion: 'D' })).toBe('POHUD');
    expect(() => formatCaps({ reachable: true, unreachable: true })).toThrow(RangeError);
    expect(() => formatCaps({ bandwidth: ['Q' as 'K'] })).toThrow(RangeError);
    expect(parseCaps('XfRz')).toEqual({
      bandwidth: ['X'],
      floodfill: true,
      reachable: true,
      unreachable: false,
      hidden: false,
      unknown: 'z',
    });
    expect(parseCaps('LUE')).toMatchObject({ bandwidth: ['L'], unreachable: true, congestion: 'E' });
    expect([5, 12, 48, 64, 128, 256, 2000, 2001].map(bandwidthClass).join('')).toBe('KLMNOPPX');
  });
});

describe('netDb files (§2.5)', () => {
  it('names a file netDb/r<first char>/routerInfo-<I2P Base64 hash>.dat', () => {
    const hash = fromHex('ff'.repeat(32));
    expect(netDbRelativePath(hash)).toBe(`netDb/r~/routerInfo-${'~'.repeat(42)}8=.dat`);
    const ri = parseRouterInfo(I2PD_RI);
    if (!ri.ok) throw new Error(ri.error);
    const name = identHashBase64(ri.value.identHash);
    expect(netDbRelativePath(ri.value.identHash)).toBe(`netDb/r${name[0]}/routerInfo-${name}.dat`);
  });

  it('writes and reads back raw signed bytes; refuses oversized files; lists what i2pd would load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-netdb-'));
    const parsed = parseRouterInfo(I2PD_RI);
    if (!parsed.ok) throw new Error(parsed.error);
    const path = writeNetDbEntry(dir, parsed.value);
    expect(hex(new Uint8Array(readFileSync(path)))).toBe(hex(I2PD_RI));
    const back = readRouterInfoFile(path);
    expect(back.ok && verifyRouterInfo(back.value)).toBe(true);
    writeRouterInfoFile(join(dir, 'router.info'), handRouterInfo());
    expect(readRouterInfoFile(join(dir, 'router.info')).ok).toBe(true);
    writeFileSync(join(dir, 'netDb', 'big.dat'), new Uint8Array(MAX_ROUTER_INFO_SIZE + 1));
    expect(readRouterInfoFile(join(dir, 'netDb', 'big.dat'))).toMatchObject({
      ok: false,
      error: expect.stringContaining('larger'),
    });
    expect(readRouterInfoFile(join(dir, 'missing'))).toMatchObject({
      ok: false,
      error: expect.stringContaining('ENOENT'),
    });
    expect(listNetDbFiles(dir)).toEqual([join(dir, 'netDb', 'big.dat'), path].sort());
    expect(listNetDbFiles(dir, 1)).toHaveLength(1);
  });
});
