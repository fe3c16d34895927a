// Router identity and its files (ntcp2-routerinfo.md §1, §2.5): the 391-byte X25519 + Ed25519 RouterIdentity against
// bytes laid out by hand from the spec table, the ident hash, i2pd's router.keys (455 bytes) and ntcp2.keys (80 bytes)
// layouts, and the data directory (created once with mode 0600, the same identity on every later load, a damaged
// key file reported and left alone).
import { describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { equalBytes, fromHex, hex } from '../src/common/bytes.js';
import {
  NTCP2_KEYS_FILE,
  ROUTER_KEYS_FILE,
  buildRouterIdentity,
  decodeNtcp2Keys,
  decodeRouterKeys,
  encodeNtcp2Keys,
  encodeRouterKeys,
  generateNtcp2Keys,
  generateRouterKeys,
  identHash,
  identHashBase64,
  loadOrCreateRouterSecrets,
  nextPublished,
  parseRouterIdentity,
  readRouterInfoFile,
  verifyRouterInfo,
  wipeRouterKeys,
  writeLocalRouterInfo,
} from '../src/router/index.js';
import { encodeKeyFile, generatePrivateKeys } from '../src/keys/index.js';

// fixed keys: RFC 7748 §6.1 Alice (X25519) and RFC 8032 TEST 1 (Ed25519)
const X_PRIV = fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
const X_PUB = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
const ED_SEED = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
const ED_PUB = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const PAD = fromHex('a5'.repeat(16) + '3c'.repeat(16));

/** The identity as §1's table lays it out, written independently of the code under test. */
function handIdentity(): string {
  const pad = hex(PAD);
  return X_PUB + pad.repeat(7) + pad.repeat(3) + ED_PUB + '05' + '0004' + '0007' + '0004';
}

describe('RouterIdentity (§1)', () => {
  it('is the 391-byte layout of the spec table: X25519 left, Ed25519 right, key certificate 05 0004 0007 0004', () => {
    expect(hex(x25519.getPublicKey(X_PRIV))).toBe(X_PUB);
    expect(hex(ed25519.getPublicKey(ED_SEED))).toBe(ED_PUB);
    const id = buildRouterIdentity(fromHex(ED_PUB), fromHex(X_PUB), PAD);
    expect(id.bytes.length).toBe(391);
    expect(hex(id.bytes)).toBe(handIdentity());
    const parsed = parseRouterIdentity(fromHex(handIdentity()));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect([
      parsed.value.sigType,
      parsed.value.cryptoType,
      hex(parsed.value.encryptionPublicKey),
      hex(parsed.value.signingPublicKey),
    ]).toEqual([7, 4, X_PUB, ED_PUB]);
  });

  it('hash is SHA-256 of all 391 bytes (padding included), in I2P Base64 with = padding', () => {
    const id = buildRouterIdentity(fromHex(ED_PUB), fromHex(X_PUB), PAD);
    const h = identHash(id);
    expect(hex(h)).toBe(createHash('sha256').update(fromHex(handIdentity())).digest('hex'));
    const b64 = identHashBase64(h);
    expect(b64).toHaveLength(44);
    expect(b64.endsWith('=')).toBe(true);
    expect(b64).toBe(Buffer.from(h).toString('base64').replace(/\+/g, '-').replace(/\//g, '~'));
    // a different padding block is a different router
    const other = buildRouterIdentity(fromHex(ED_PUB), fromHex(X_PUB), new Uint8Array(32));
    expect(hex(identHash(other))).not.toBe(hex(h));
  });

  it('new identities repeat one random 32-byte block over the 320 padding bytes, as i2pd does', () => {
    const k = generateRouterKeys();
    const pad = k.identity.bytes.subarray(32, 352);
    for (let i = 32; i < 320; i += 32) expect(hex(pad.subarray(i, i + 32))).toBe(hex(pad.subarray(0, 32)));
    expect(hex(generateRouterKeys().identity.bytes.subarray(32, 64))).not.toBe(hex(pad.subarray(0, 32)));
  });

  it('parser rejects truncations and bad certificates without throwing', () => {
    const good = fromHex(handIdentity());
    for (let n = 0; n < good.length; n++) expect(parseRouterIdentity(good.subarray(0, n)).ok).toBe(false);
    const badCert = good.slice();
    badCert[384] = 9;
    expect(parseRouterIdentity(badCert)).toMatchObject({
      ok: false,
      error: expect.stringContaining('certificate type'),
    });
    const badSig = good.slice();
    badSig[388] = 99;
    expect(parseRouterIdentity(badSig)).toMatchObject({
      ok: false,
      error: expect.stringContaining('signature type 99'),
    });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 500 }), (b) => void parseRouterIdentity(b)),
      { numRuns: 2000 },
    );
  });
});

describe('router.keys and ntcp2.keys (§2.5)', () => {
  it('router.keys is identity || X25519 private || Ed25519 seed = 455 bytes, built by hand', () => {
    const keys = {
      identity: buildRouterIdentity(fromHex(ED_PUB), fromHex(X_PUB), PAD),
      cryptoPrivateKey: X_PRIV.slice(),
      signingPrivateKey: ED_SEED.slice(),
    };
    const file = encodeRouterKeys(keys);
    expect(hex(file)).toBe(handIdentity() + hex(X_PRIV) + hex(ED_SEED));
    const back = decodeRouterKeys(file);
    expect(back.ok).toBe(true);
    if (back.ok) expect(hex(back.value.identity.bytes)).toBe(handIdentity());
  });

  it('refuses files whose private keys do not match, of the wrong size, or of an old key type', () => {
    const k = generateRouterKeys();
    const file = encodeRouterKeys(k);
    const wrongX = file.slice();
    wrongX[391 + 5] ^= 1; // not byte 0: X25519 clamping ignores its low 3 bits
    expect(decodeRouterKeys(wrongX)).toMatchObject({ ok: false, error: expect.stringContaining('X25519') });
    const wrongEd = file.slice();
    wrongEd[454] ^= 1;
    expect(decodeRouterKeys(wrongEd)).toMatchObject({ ok: false, error: expect.stringContaining('Ed25519') });
    expect(decodeRouterKeys(file.subarray(0, 454)).ok).toBe(false);
    expect(decodeRouterKeys(new Uint8Array([...file, 0])).ok).toBe(false);
    // an ElGamal (type 0) key file, as i2pd writes for destinations by default, is not a router key file here
    const eg = encodeKeyFile({ ...generatePrivateKeys(), cryptoPrivateKey: new Uint8Array(256) });
    const elg = new Uint8Array(eg);
    elg[390] = 0; // crypto type 0 → 256-byte crypto private key expected: the length matches the 256 zero bytes
    expect(decodeRouterKeys(elg).ok).toBe(false);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (b) => void decodeRouterKeys(b)),
      { numRuns: 1000 },
    );
  });

  it('ntcp2.keys is static public || static private || IV = 80 bytes', () => {
    const iv = fromHex('000102030405060708090a0b0c0d0e0f');
    const file = encodeNtcp2Keys({ staticPublicKey: fromHex(X_PUB), staticPrivateKey: X_PRIV, iv });
    expect(hex(file)).toBe(X_PUB + hex(X_PRIV) + hex(iv));
    const back = decodeNtcp2Keys(file);
    expect(back.ok && hex(back.value.iv)).toBe(hex(iv));
    const bad = file.slice();
    bad[0] ^= 1;
    expect(decodeNtcp2Keys(bad).ok).toBe(false);
    expect(decodeNtcp2Keys(file.subarray(0, 79)).ok).toBe(false);
    const g = generateNtcp2Keys();
    expect(hex(x25519.getPublicKey(g.staticPrivateKey))).toBe(hex(g.staticPublicKey));
  });

  it('wipe zeroes the private halves', () => {
    const k = generateRouterKeys();
    wipeRouterKeys(k);
    expect(k.cryptoPrivateKey.every((b) => b === 0) && k.signingPrivateKey.every((b) => b === 0)).toBe(true);
  });
});

describe('data directory', () => {
  it('creates router.keys and ntcp2.keys with mode 0600 once, then loads the same identity', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tp-router-')), 'data');
    const first = loadOrCreateRouterSecrets(dir);
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    expect(first.value.created).toEqual([ROUTER_KEYS_FILE, NTCP2_KEYS_FILE]);
    for (const f of [ROUTER_KEYS_FILE, NTCP2_KEYS_FILE])
      expect((statSync(join(dir, f)).mode & 0o777).toString(8)).toBe('600');
    expect(statSync(join(dir, ROUTER_KEYS_FILE)).size).toBe(455);
    expect(statSync(join(dir, NTCP2_KEYS_FILE)).size).toBe(80);
    const again = loadOrCreateRouterSecrets(dir);
    expect(again.ok).toBe(true);
    if (!again.ok) return;
    expect(again.value.created).toEqual([]);
    expect(hex(again.value.keys.identity.bytes)).toBe(hex(first.value.keys.identity.bytes));
    expect(hex(again.value.keys.signingPrivateKey)).toBe(hex(first.value.keys.signingPrivateKey));
    expect(hex(again.value.ntcp2.staticPrivateKey)).toBe(hex(first.value.ntcp2.staticPrivateKey));
    expect(hex(again.value.ntcp2.iv)).toBe(hex(first.value.ntcp2.iv));
  });

  it('tightens a key file written with a wider mode, and recreates only a missing ntcp2.keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-router-'));
    const k = generateRouterKeys();
    writeFileSync(join(dir, ROUTER_KEYS_FILE), encodeRouterKeys(k));
    chmodSync(join(dir, ROUTER_KEYS_FILE), 0o644);
    const res = loadOrCreateRouterSecrets(dir);
    expect(res.ok && res.value.created).toEqual([NTCP2_KEYS_FILE]);
    expect(res.ok && equalBytes(res.value.keys.identity.bytes, k.identity.bytes)).toBe(true);
    expect(statSync(join(dir, ROUTER_KEYS_FILE)).mode & 0o777).toBe(0o600);
  });

  it('reports a damaged key file and does not replace it (new keys would be a new router)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-router-'));
    const damaged = new Uint8Array(455).fill(7);
    writeFileSync(join(dir, ROUTER_KEYS_FILE), damaged, { mode: 0o600 });
    const res = loadOrCreateRouterSecrets(dir);
    expect(res).toMatchObject({ ok: false, error: expect.stringContaining(ROUTER_KEYS_FILE) });
    expect(hex(new Uint8Array(readFileSync(join(dir, ROUTER_KEYS_FILE))))).toBe(hex(damaged));
    expect(existsSync(join(dir, NTCP2_KEYS_FILE))).toBe(false);
    writeFileSync(join(dir, ROUTER_KEYS_FILE), new Uint8Array(100_000));
    expect(loadOrCreateRouterSecrets(dir)).toMatchObject({ ok: false, error: expect.stringContaining('more than') });
    const odd = mkdtempSync(join(tmpdir(), 'tp-router-'));
    mkdirSync(join(odd, ROUTER_KEYS_FILE));
    expect(loadOrCreateRouterSecrets(odd)).toMatchObject({
      ok: false,
      error: expect.stringContaining('not a regular file'),
    });
  });

  it('writes router.info on every run, each strictly newer than the last one of this router', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-router-'));
    const secrets = loadOrCreateRouterSecrets(dir);
    if (!secrets.ok) throw new Error(secrets.error);
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      const w = writeLocalRouterInfo(dir, secrets.value, { host: '127.0.0.1', port: 27100 + i });
      const back = readRouterInfoFile(w.path);
      expect(back.ok && verifyRouterInfo(back.value) && back.value.published).toBe(w.routerInfo.published);
      seen.push(w.routerInfo.published);
    }
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]!);
    expect(nextPublished(undefined, 5)).toBe(5);
    expect(nextPublished(10, 5)).toBe(11);
    expect(nextPublished(10, 10)).toBe(11);
    expect(nextPublished(10, 12)).toBe(12);
  });
});
