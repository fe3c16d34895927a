// Router identity and RouterInfo files against real i2pd 2.45.1 (ntcp2-routerinfo.md §2.5, §6 steps 2-5), each on a
// fresh throwaway i2pd on 127.0.0.1:
// (a) i2pd's own router.info, router.keys and ntcp2.keys load here: its RouterInfo verifies, its ident hash is the
//     one its console shows, its keys match its published identity, `s` and `i`;
// (b) i2pd loads our router.info from its netDb (console counts it, no "invalid" log line) and dials our NTCP2
//     address: the first 64 bytes it sends open with our ident hash (AES key), our `i` (IV) and our `s` (Noise
//     responder key), which only decrypt if i2pd read all three from our file;
// (c) i2pd started with our router.keys, ntcp2.keys and router.info runs as our router: same ident hash, same `s`
//     and `i`, its RouterInfo signed with our key;
// (d) i2pd checks our signature: netDb files are loaded unverified (§3.1), but RouterInfos from a reseed ZIP go through
//     NetDb::AddRouterInfo, which verifies them (i2pd 2.45.1 Reseed.cpp ProcessZIPStream, RouterInfo.cpp
//     ReadFromBuffer(true)). Ours is added; the same kind of RouterInfo with one signature bit flipped is refused.
import { afterAll, describe, expect, it } from 'vitest';
import { createDecipheriv, createHash, createHmac } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { equalBytes, hex } from '../src/common/bytes.js';
import {
  buildLocalRouterInfo,
  decodeNtcp2Keys,
  decodeRouterKeys,
  identHashBase64,
  listNetDbFiles,
  loadOrCreateRouterSecrets,
  netDbRelativePath,
  ntcp2Addresses,
  parseRouterInfo,
  readPeerRouterInfo,
  readRouterInfoFile,
  routerInfoProblem,
  verifyRouterInfo,
  writeRouterInfoFile,
  type RouterSecrets,
} from '../src/router/index.js';
import {
  consolePage,
  i2pdGate,
  localRouter,
  readLog,
  startI2pd,
  stopRouter,
  waitFor,
  type LocalRouter,
} from './helpers/i2pd.js';

const runs = i2pdGate('[router-i2pd]');
const BASE_DIR = '/tmp/tunnelplane-test-router-i2pd';
const PORTS = { i2cp: 22754, http: 22170, transport: 42200 };
/** Our (never accepting a handshake) NTCP2 listener for test (b). */
const OUR_PORT = 42290;

const datadir = (r: LocalRouter) => `${r.dir}/r0`;

/** The "Router Ident" i2pd's console home page shows: I2P Base64 of its ident hash. */
async function consoleIdent(r: LocalRouter): Promise<string> {
  const page = await consolePage(r, '');
  return /Router Ident:<\/b>\s*([A-Za-z0-9\-~=]{44})/.exec(page)?.[1] ?? `(not found in: ${page.slice(0, 200)})`;
}

describe.skipIf(!runs)('router identity and RouterInfo files against i2pd 2.45.1', () => {
  const routers = [0, 1, 2, 3].map((i) => localRouter(BASE_DIR, i, PORTS));
  let server: Server | undefined;
  afterAll(async () => {
    server?.close();
    await Promise.all(routers.map((r) => stopRouter(r)));
  }, 60_000);

  it("(a) reads i2pd's router.info, router.keys and ntcp2.keys", async () => {
    const r = routers[0]!;
    await startI2pd(r, ['--loglevel', 'info']);
    const dd = datadir(r);
    await waitFor('router.info', 10_000, () => (existsSync(`${dd}/router.info`) ? true : undefined));
    const ri = readRouterInfoFile(`${dd}/router.info`);
    expect(ri.ok, ri.ok ? '' : ri.error).toBe(true);
    if (!ri.ok) return;
    expect(verifyRouterInfo(ri.value)).toBe(true);
    expect(
      ed25519.verify(
        ri.value.signature,
        ri.value.bytes.subarray(0, ri.value.signedLength),
        ri.value.identity.signingPublicKey,
      ),
    ).toBe(true);
    expect(routerInfoProblem(ri.value)).toBeUndefined();
    expect([ri.value.identity.cryptoType, ri.value.identity.sigType, ri.value.identity.bytes.length]).toEqual([
      4, 7, 391,
    ]);
    expect(await consoleIdent(r)).toBe(identHashBase64(ri.value.identHash));

    const keys = decodeRouterKeys(new Uint8Array(readFileSync(`${dd}/router.keys`)));
    expect(keys.ok, keys.ok ? '' : keys.error).toBe(true);
    if (!keys.ok) return;
    expect(hex(keys.value.identity.bytes)).toBe(hex(ri.value.identity.bytes));
    // the signing key i2pd stored signs what its identity says
    const msg = new TextEncoder().encode('tunnelplane');
    expect(
      ed25519.verify(ed25519.sign(msg, keys.value.signingPrivateKey), msg, ri.value.identity.signingPublicKey),
    ).toBe(true);
    expect(hex(x25519.getPublicKey(keys.value.cryptoPrivateKey))).toBe(hex(ri.value.identity.encryptionPublicKey));

    const n2 = decodeNtcp2Keys(new Uint8Array(readFileSync(`${dd}/ntcp2.keys`)));
    expect(n2.ok, n2.ok ? '' : n2.error).toBe(true);
    if (!n2.ok) return;
    const [addr] = ntcp2Addresses(ri.value);
    expect(addr && [addr.host, addr.port, hex(addr.staticKey), hex(addr.iv!)]).toEqual([
      '127.0.0.1',
      PORTS.transport,
      hex(n2.value.staticPublicKey),
      hex(n2.value.iv),
    ]);
    // i2pd keeps no netDb file for itself: report what is there rather than assume
    const own = listNetDbFiles(dd).filter((p) => p.endsWith(netDbRelativePath(ri.value.identHash)));
    console.log(`i2pd ident ${identHashBase64(ri.value.identHash)}; own netDb file: ${own.length ? own[0] : 'none'}`);
    await stopRouter(r);
  }, 60_000);

  it('(b) i2pd loads our router.info from its netDb and dials our NTCP2 address with our hash, s and i', async () => {
    const r = routers[1]!;
    const ours = `${BASE_DIR}/ours-b`;
    rmSync(ours, { recursive: true, force: true });
    const secrets = loadOrCreateRouterSecrets(ours);
    if (!secrets.ok) throw new Error(secrets.error);
    const bytes = buildLocalRouterInfo(secrets.value.keys, secrets.value.ntcp2, {
      host: '127.0.0.1',
      port: OUR_PORT,
      caps: { bandwidth: ['X'], floodfill: true, reachable: true },
    });
    writeRouterInfoFile(`${ours}/router.info`, bytes);
    const me = parseRouterInfo(bytes);
    if (!me.ok) throw new Error(me.error);
    const myB64 = identHashBase64(me.value.identHash);

    // listen before i2pd starts (§6 step 1); record the first bytes of each connection, then close it
    const firsts: Buffer[] = [];
    server = createServer((sock: Socket) => {
      let buf = Buffer.alloc(0);
      sock.setTimeout(5000, () => sock.destroy());
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]).subarray(0, 4096);
        if (buf.length >= 64) {
          firsts.push(buf);
          sock.destroy();
        }
      });
      sock.on('error', () => undefined);
    });
    await new Promise<void>((res, rej) => server!.once('error', rej).listen(OUR_PORT, '127.0.0.1', () => res()));

    await startI2pd(r, [
      '--loglevel',
      'debug',
      '--peer',
      `${ours}/router.info`,
      '--set',
      'exploratory.inbound.length=1',
      '--set',
      'exploratory.outbound.length=1',
    ]);
    const dd = datadir(r);
    // i2pd-local named the copy with a shell computation: it agrees with ours
    expect(existsSync(join(dd, netDbRelativePath(me.value.identHash)))).toBe(true);

    const first = await waitFor('a connection from i2pd', 40_000, () => firsts[0]);
    const log = readLog(r);
    expect(log).toMatch(/NetDb: 1 routers loaded \(1 floodfils\)/);
    expect(log).not.toMatch(/is invalid or too old/);
    expect(log).toContain(`NTCP2: Connecting to 127.0.0.1:${OUR_PORT}`);
    const home = await consolePage(r, '');
    expect(home).toMatch(/Routers:<\/b> 2\b/);
    expect(home).toMatch(/Floodfills:<\/b> 1\b/);
    // the file is still there (i2pd deletes invalid netDb files)
    expect(existsSync(join(dd, netDbRelativePath(me.value.identHash)))).toBe(true);

    const opts = openSessionRequest(first, me.value.identHash, secrets.value);
    expect(opts.netId).toBe(2);
    expect(opts.version).toBe(2);
    expect(Math.abs(opts.tsA - Date.now() / 1000)).toBeLessThan(60);
    expect(opts.padLen).toBeLessThanOrEqual(223);
    console.log(
      `i2pd dialled ${myB64.slice(0, 4)}… at 127.0.0.1:${OUR_PORT}: SessionRequest opened with our hash, i and s (padLen ${opts.padLen}, m3p2Len ${opts.m3p2Len})`,
    );
    await new Promise<void>((res) => server!.close(() => res()));
    server = undefined;
    await stopRouter(r);
  }, 90_000);

  it('(c) i2pd started with our router.keys, ntcp2.keys and router.info is our router', async () => {
    const r = routers[2]!;
    const ours = `${BASE_DIR}/ours-c`;
    rmSync(ours, { recursive: true, force: true });
    mkdirSync(ours, { recursive: true });
    const secrets = loadOrCreateRouterSecrets(ours);
    if (!secrets.ok) throw new Error(secrets.error);
    const transport = PORTS.transport + r.index;
    writeRouterInfoFile(
      `${ours}/router.info`,
      buildLocalRouterInfo(secrets.value.keys, secrets.value.ntcp2, { host: '127.0.0.1', port: transport }),
    );
    const keysBefore = readFileSync(`${ours}/router.keys`);
    await startI2pd(r, [
      '--loglevel',
      'info',
      ...['router.keys', 'ntcp2.keys', 'router.info'].flatMap((f) => ['--datafile', `0=${ours}/${f}`]),
    ]);
    const dd = datadir(r);
    const myHash = identHashBase64(createHash('sha256').update(secrets.value.keys.identity.bytes).digest());
    expect(await consoleIdent(r)).toBe(myHash);
    const log = readLog(r);
    expect(log).not.toMatch(/malformed|obsolete/);
    expect(hex(readFileSync(`${dd}/router.keys`))).toBe(hex(keysBefore));
    // the router.info i2pd writes for itself (at start) carries our identity and NTCP2 keys, signed with our key
    const ri = await waitFor('router.info', 10_000, () => {
      const res = readRouterInfoFile(`${dd}/router.info`);
      return res.ok ? res.value : undefined;
    });
    expect(hex(ri.identity.bytes)).toBe(hex(secrets.value.keys.identity.bytes));
    expect(verifyRouterInfo(ri)).toBe(true);
    const peer = readPeerRouterInfo(ri.bytes);
    expect(peer.ok, peer.ok ? '' : peer.error).toBe(true);
    if (!peer.ok) return;
    expect(equalBytes(peer.value.ntcp2!.staticKey, secrets.value.ntcp2.staticPublicKey)).toBe(true);
    expect(equalBytes(peer.value.ntcp2!.iv!, secrets.value.ntcp2.iv)).toBe(true);
    await stopRouter(r);
  }, 60_000);

  it('(d) i2pd verifies our RouterInfo signature (reseed ZIP): ours is added, a flipped signature bit is refused', async () => {
    const r = routers[3]!;
    const make = (name: string) => {
      const dir = `${BASE_DIR}/ours-d-${name}`;
      rmSync(dir, { recursive: true, force: true });
      const s = loadOrCreateRouterSecrets(dir);
      if (!s.ok) throw new Error(s.error);
      const bytes = buildLocalRouterInfo(s.value.keys, s.value.ntcp2, {
        host: '127.0.0.1',
        port: OUR_PORT + 1,
        caps: { bandwidth: ['X'], reachable: true },
      });
      const ri = parseRouterInfo(bytes);
      if (!ri.ok) throw new Error(ri.error);
      return { bytes, b64: identHashBase64(ri.value.identHash) };
    };
    const good = make('good');
    const bad = make('bad');
    const badBytes = bad.bytes.slice();
    badBytes[badBytes.length - 10] ^= 0x01;
    const zip = `${BASE_DIR}/reseed-d.zip`;
    writeFileSync(
      zip,
      storedZip([
        [`routerInfo-${good.b64}.dat`, good.bytes],
        [`routerInfo-${bad.b64}.dat`, badBytes],
      ]),
    );
    await startI2pd(r, ['--loglevel', 'debug', '--set', `reseed.zipfile=${zip}`]);
    const log = await waitFor('both reseed entries processed', 15_000, () => {
      const l = readLog(r);
      return /RouterInfo added: /.test(l) && /Signature verification failed/.test(l) ? l : undefined;
    });
    expect(log).toContain(`NetDb: RouterInfo added: ${good.b64}`);
    expect(log).not.toContain(`RouterInfo added: ${bad.b64}`);
    expect(log.match(/RouterInfo: Signature verification failed/g)).toHaveLength(1);
    expect(await consolePage(r, '')).toMatch(/Routers:<\/b> 2\b/);
    await stopRouter(r);
  }, 60_000);
});

/**
 * Opens the options block of an NTCP2 SessionRequest as Bob (§4.2, §4.3), written here from the digest alone:
 * X = AES-256-CBC-decrypt(key = our ident hash, IV = our `i`, first 32 bytes); Noise XK state with rs = our `s`;
 * MixHash(X); MixKey(DH(our static private, X)); ChaChaPoly(k1, nonce 0, ad = h) over bytes 32..63.
 * Throws (the AEAD fails) unless the sender used exactly our hash, `i` and `s`.
 */
function openSessionRequest(msg: Buffer, ourHash: Uint8Array, secrets: RouterSecrets) {
  const sha = (...parts: Uint8Array[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
  const hmac = (key: Uint8Array, data: Uint8Array) => createHmac('sha256', key).update(data).digest();
  let h = sha(Buffer.from('Noise_XKaesobfse+hs2+hs3_25519_ChaChaPoly_SHA256', 'ascii'));
  let ck = h;
  expect(ck.toString('hex')).toBe('72e842c545e18080d39c4493bb91d7edf228981771218c1f624e206f28d32f71');
  h = sha(h);
  expect(h.toString('hex')).toBe('49ff483fc404b9b26b11943672ff05b561270331ba89b8fc3315938757dd3d1e');
  h = sha(h, secrets.ntcp2.staticPublicKey);
  const aes = createDecipheriv('aes-256-cbc', ourHash, secrets.ntcp2.iv).setAutoPadding(false);
  const X = Buffer.concat([aes.update(msg.subarray(0, 32)), aes.final()]);
  h = sha(h, X);
  const t = hmac(ck, x25519.getSharedSecret(secrets.ntcp2.staticPrivateKey, X));
  ck = hmac(t, Buffer.from([1]));
  const k1 = hmac(t, Buffer.concat([ck, Buffer.from([2])]));
  const dec = createDecipheriv('chacha20-poly1305', k1, Buffer.alloc(12), { authTagLength: 16 });
  dec.setAAD(h, { plaintextLength: 16 });
  dec.setAuthTag(msg.subarray(48, 64));
  const o = Buffer.concat([dec.update(msg.subarray(32, 48)), dec.final()]);
  return {
    netId: o[0]!,
    version: o[1]!,
    padLen: o.readUInt16BE(2),
    m3p2Len: o.readUInt16BE(4),
    tsA: o.readUInt32BE(8),
  };
}

/** A ZIP archive of stored (uncompressed) entries with local headers only, as i2pd's reseed reader walks it. */
function storedZip(entries: [string, Uint8Array][]): Uint8Array {
  const parts: Buffer[] = [];
  for (const [name, data] of entries) {
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0); // local file header
    h.writeUInt16LE(20, 4); // version needed
    h.writeUInt16LE(0, 6); // flags: no data descriptor
    h.writeUInt16LE(0, 8); // method 0: stored
    h.writeUInt32LE(0, 14); // CRC-32: i2pd checks it only for deflated entries
    h.writeUInt32LE(data.length, 18);
    h.writeUInt32LE(data.length, 22);
    h.writeUInt16LE(name.length, 26);
    parts.push(h, Buffer.from(name, 'ascii'), Buffer.from(data));
  }
  const end = Buffer.alloc(4);
  end.writeUInt32LE(0x02014b50, 0); // central directory signature: "no more files"
  return new Uint8Array(Buffer.concat([...parts, end]));
}
