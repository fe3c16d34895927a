// Keys: Ed25519 against RFC 8032 TEST 1024, the i2pd .dat key file layout, Destination parsing, .b32.i2p addresses.
import { describe, expect, it } from 'vitest';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { fromHex, hex } from '../src/common/bytes.js';
import {
  b32Address,
  base32,
  checkKeyPair,
  decodeKeyFile,
  destinationHash,
  encodeKeyFile,
  fromI2pBase64,
  generatePrivateKeys,
  i2pBase64,
  leaseSetEncryptionKey,
  loadKeyFile,
  parseDestination,
  saveKeyFile,
} from '../src/keys/index.js';
import { ed25519PublicKey, ed25519Sign, ed25519Verify, x25519PublicKey } from '../src/keys/ed25519.js';

const vec = JSON.parse(
  readFileSync(new URL('../../shared/spec/vectors/ed25519-rfc8032-test1024.json', import.meta.url), 'utf8'),
).vectors[0] as Record<string, string>;

// i2pd key file, built by hand from Identity.cpp PrivateKeys::ToBuffer: Destination | crypto priv | signing priv
const x25519Priv = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'; // RFC 7748 §6.1 Alice
const x25519Pub = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
function handDest(cryptoType: number, encField: string): string {
  return (
    encField +
    '5a'.repeat(384 - 32 - encField.length / 2) +
    vec.public_key +
    '05' +
    '0004' +
    '0007' +
    cryptoType.toString(16).padStart(4, '0')
  );
}

describe('Ed25519 (sig type 7)', () => {
  it('matches RFC 8032 TEST 1024', () => {
    const seed = fromHex(vec.secret_key!);
    expect(hex(ed25519PublicKey(seed))).toBe(vec.public_key);
    const msg = fromHex(vec.message!);
    expect(msg.length).toBe(1023);
    expect(hex(ed25519Sign(seed, msg))).toBe(vec.signature);
    expect(ed25519Verify(fromHex(vec.public_key!), msg, fromHex(vec.signature!))).toBe(true);
    const bad = fromHex(vec.signature!);
    bad[0]! ^= 1;
    expect(ed25519Verify(fromHex(vec.public_key!), msg, bad)).toBe(false);
    expect(ed25519Verify(new Uint8Array(5), msg, bad)).toBe(false);
  });
  it('derives X25519 public keys as RFC 7748 §6.1', () => {
    expect(hex(x25519PublicKey(fromHex(x25519Priv)))).toBe(x25519Pub);
  });
});

describe('i2pd key file format', () => {
  it('reads a hand-built Ed25519 + X25519 (crypto 4) file', () => {
    const file = fromHex(handDest(4, x25519Pub) + x25519Priv + vec.secret_key);
    expect(file.length).toBe(391 + 32 + 32);
    const r = decodeKeyFile(file);
    expect(r.ok, r.ok ? '' : r.error).toBe(true);
    if (!r.ok) return;
    expect(r.value.destination.sigType).toBe(7);
    expect(r.value.destination.cryptoType).toBe(4);
    expect(hex(r.value.destination.signingPublicKey)).toBe(vec.public_key);
    expect(hex(r.value.cryptoPrivateKey)).toBe(x25519Priv);
    expect(hex(encodeKeyFile(r.value))).toBe(hex(file));
    expect(hex(leaseSetEncryptionKey(r.value).publicKey)).toBe(x25519Pub);
  });
  it("reads i2pd's default Ed25519 + ElGamal (crypto 0) layout with a 256-byte private key", () => {
    const file = fromHex(handDest(0, '') + '42'.repeat(256) + vec.secret_key);
    expect(file.length).toBe(391 + 256 + 32);
    const r = decodeKeyFile(file);
    expect(r.ok, r.ok ? '' : r.error).toBe(true);
    if (!r.ok) return;
    expect(r.value.cryptoPrivateKey.length).toBe(256);
    // a stable X25519 key is derived for the LeaseSet2
    const a = leaseSetEncryptionKey(r.value);
    expect(hex(leaseSetEncryptionKey(r.value).privateKey)).toBe(hex(a.privateKey));
    expect(hex(a.publicKey)).toBe(hex(x25519PublicKey(a.privateKey)));
  });
  it('rejects truncated files, wrong keys, offline keys and other signature types with clear messages', () => {
    const good = handDest(4, x25519Pub) + x25519Priv + vec.secret_key;
    expect(decodeKeyFile(fromHex(good.slice(0, -2)))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/truncated/),
    });
    expect(decodeKeyFile(fromHex(good + '00'))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/unexpected bytes/),
    });
    expect(decodeKeyFile(fromHex(handDest(4, x25519Pub) + x25519Priv + '01'.repeat(32)))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/does not match/),
    });
    expect(decodeKeyFile(fromHex(handDest(4, x25519Pub) + '01'.repeat(32) + vec.secret_key))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/X25519/),
    });
    expect(
      decodeKeyFile(fromHex(handDest(4, x25519Pub) + x25519Priv + '00'.repeat(32) + '00'.repeat(80))),
    ).toMatchObject({ ok: false, error: expect.stringMatching(/offline/) });
    const dsa = '00'.repeat(384) + '000000' + '00'.repeat(256 + 20);
    expect(decodeKeyFile(fromHex(dsa))).toMatchObject({ ok: false, error: expect.stringMatching(/signature type 0/) });
    expect(decodeKeyFile(new TextEncoder().encode('hello'))).toMatchObject({ ok: false });
  });
  it('never throws on random or mutated files (fuzz)', () => {
    const good = fromHex(handDest(4, x25519Pub) + x25519Priv + vec.secret_key);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 800 }), (b) => void decodeKeyFile(b)),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(), (i, v, cut) => {
        const b = good.slice();
        b[i] = v;
        expect(typeof decodeKeyFile(b.subarray(0, cut % (b.length + 1))).ok).toBe('boolean');
      }),
      { numRuns: 500 },
    );
  });
  it('saves and loads (mode 0600, no silent overwrite)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-keys-'));
    const keys = generatePrivateKeys();
    const path = join(dir, 'k.dat');
    saveKeyFile(path, keys);
    expect(() => saveKeyFile(path, keys)).toThrow(/EEXIST/);
    const r = loadKeyFile(path);
    expect(r.ok && b32Address(r.value.destination)).toBe(b32Address(keys.destination));
    expect(loadKeyFile(join(dir, 'missing'))).toMatchObject({ ok: false, error: expect.stringMatching(/ENOENT/) });
    writeFileSync(join(dir, 'bad'), 'garbage');
    expect(loadKeyFile(join(dir, 'bad'))).toMatchObject({ ok: false, error: expect.stringMatching(/bad/) });
  });
});

describe('Destination and addresses', () => {
  it('generates sig 7 / crypto 4 Destinations of 391 bytes with repeated 32-byte padding', () => {
    const k = generatePrivateKeys();
    const d = k.destination.bytes;
    expect(d.length).toBe(391);
    expect(hex(d.subarray(384))).toBe('05000400070004');
    expect(hex(d.subarray(32, 64))).toBe(hex(d.subarray(320, 352)));
    expect(checkKeyPair(k)).toBeUndefined();
    const p = parseDestination(d);
    expect(p.ok && [p.value.sigType, p.value.cryptoType]).toEqual([7, 4]);
  });
  it('parses NULL-certificate (DSA/ElGamal, 387 bytes) destinations and rejects bad certificates', () => {
    expect(parseDestination(new Uint8Array(387))).toMatchObject({ ok: true, value: { sigType: 0, cryptoType: 0 } });
    expect(parseDestination(fromHex('00'.repeat(384) + '050002' + '0007'))).toMatchObject({ ok: false });
    expect(parseDestination(fromHex('00'.repeat(384) + '050004' + '00630000'))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/signature type 99/),
    });
  });
  it('b32 = lowercase unpadded base32 of SHA-256(Destination)', () => {
    expect(base32(new TextEncoder().encode('foobar'))).toBe('mzxw6ytboi'); // RFC 4648 §10
    const k = generatePrivateKeys();
    const h = createHash('sha256').update(k.destination.bytes).digest();
    expect(hex(destinationHash(k.destination))).toBe(h.toString('hex'));
    expect(b32Address(k.destination)).toMatch(/^[a-z2-7]{52}\.b32\.i2p$/);
  });
  it("uses I2P's Base64 alphabet (- and ~)", () => {
    expect(i2pBase64(fromHex('fbff'))).toBe('-~8=');
    expect(hex(fromI2pBase64('-~8=')!)).toBe('fbff');
    expect(fromI2pBase64('+/8=')).toBeUndefined();
  });
});
