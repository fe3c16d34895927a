// TEST-ONLY minimal RouterInfo (I2P format, ntcp2-routerinfo.md §1, §2) so the NTCP2 transport can be checked live
// against i2pd before the real codec (src/router/, src/common/) lands: builds one NTCP2-only RouterInfo for our
// side and extracts from a peer's the three facts ParsePeerRouterInfo needs, verifying its Ed25519 signature.
// Deliberately small and strict; not a general codec.
import { createHash, randomBytes } from 'node:crypto';
import { ed25519Generate, ed25519Sign, ed25519Verify } from '../../src/keys/ed25519.js';
import { fromI2pBase64, i2pBase64 } from '../../src/keys/encoding.js';
import { x25519FromPrivate, type X25519Pair } from '../../src/transport/ntcp2/noise.js';
import type { LocalRouter, ParsePeerRouterInfo } from '../../src/transport/ntcp2/peer-info.js';

function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.of(b.length), b]);
}

/** Mapping (§2.1): size(2) then `key=value;` entries sorted by key. */
function mapping(entries: Record<string, string>): Buffer {
  const body = Buffer.concat(Object.keys(entries).sort().map((k) => Buffer.concat([str(k), Buffer.from('='), str(entries[k]!), Buffer.from(';')])));
  const size = Buffer.alloc(2);
  size.writeUInt16BE(body.length);
  return Buffer.concat([size, body]);
}

export interface MinRouter {
  local: LocalRouter;
  identity: Buffer;
  /** Re-signs with a new `published` (ms). */
  build(published?: number): Uint8Array;
}

export function minRouter(host: string, port: number, caps = 'LR'): MinRouter {
  const ntcp2: X25519Pair = x25519FromPrivate(randomBytes(32));
  const enc = x25519FromPrivate(randomBytes(32));
  const sig = ed25519Generate();
  const iv = new Uint8Array(randomBytes(16));
  const block = randomBytes(32);
  const identity = Buffer.alloc(391);
  Buffer.from(enc.publicKey).copy(identity, 0);
  for (let o = 32; o < 352; o += 32) block.copy(identity, o); // §1: one random block repeated
  Buffer.from(sig.publicKey).copy(identity, 352);
  Buffer.from('05000400070004', 'hex').copy(identity, 384);
  const identHash = new Uint8Array(createHash('sha256').update(identity).digest());
  let current: Uint8Array | undefined;
  const build = (published = Date.now()) => {
    const pub = Buffer.alloc(8);
    pub.writeBigUInt64BE(BigInt(published));
    const addr = Buffer.concat([
      Buffer.of(3), Buffer.alloc(8), str('NTCP2'),
      mapping({ host, i: i2pBase64(iv), port: String(port), s: i2pBase64(ntcp2.publicKey), v: '2' }),
    ]);
    const body = Buffer.concat([identity, pub, Buffer.of(1), addr, Buffer.of(0), mapping({ caps, netId: '2', 'router.version': '0.9.57' })]);
    current = new Uint8Array(Buffer.concat([body, ed25519Sign(sig.seed, body)]));
    return current;
  };
  build();
  return { identity, build, local: { identHash, staticKey: ntcp2, iv, routerInfo: () => current! } };
}

/** Reads a Mapping at `o`; returns entries and the offset after it, or undefined if it overruns. */
function readMapping(b: Uint8Array, o: number): { map: Map<string, string>; end: number } | undefined {
  if (o + 2 > b.length) return undefined;
  const end = o + 2 + ((b[o]! << 8) | b[o + 1]!);
  if (end > b.length) return undefined;
  const map = new Map<string, string>();
  let p = o + 2;
  while (p < end) {
    const kl = b[p]!;
    if (p + 1 + kl + 1 > end) return undefined;
    const k = Buffer.from(b.subarray(p + 1, p + 1 + kl)).toString('utf8');
    p += 1 + kl + 1; // '='
    if (p >= end) return undefined;
    const vl = b[p]!;
    if (p + 1 + vl + 1 > end) return undefined;
    map.set(k, Buffer.from(b.subarray(p + 1, p + 1 + vl)).toString('utf8'));
    p += 1 + vl + 1; // ';'
  }
  return { map, end };
}

/** ParsePeerRouterInfo for real RouterInfos with an Ed25519 (type 7) identity. */
export const parseMinRouterInfo: ParsePeerRouterInfo = (b) => {
  if (b.length < 391 + 8 + 1 + 1 + 2 + 64 || b.length > 3072) return { ok: false, error: 'RouterInfo size' };
  const certLen = (b[385]! << 8) | b[386]!;
  const identLen = 387 + certLen;
  if (b[384] !== 5 || certLen < 4 || ((b[387]! << 8) | b[388]!) !== 7 || identLen + 8 + 1 > b.length) return { ok: false, error: 'not an Ed25519 key certificate' };
  const signingKey = b.subarray(352, 384);
  let o = identLen;
  const published = Number(Buffer.from(b.buffer, b.byteOffset, b.length).readBigUInt64BE(o));
  o += 8;
  const n = b[o++]!;
  let staticKey: Uint8Array | undefined;
  for (let i = 0; i < n; i++) {
    if (o + 10 > b.length) return { ok: false, error: 'address overruns' };
    o += 9; // cost, expiration
    const sl = b[o]!;
    const style = Buffer.from(b.subarray(o + 1, o + 1 + sl)).toString('utf8');
    o += 1 + sl;
    const m = readMapping(b, o);
    if (!m) return { ok: false, error: 'address options overrun' };
    o = m.end;
    const s = m.map.get('s');
    if (style.startsWith('NTCP') && s && staticKey === undefined) {
      const k = fromI2pBase64(s);
      if (k && k.length === 32) staticKey = k;
    }
  }
  if (o + 1 > b.length) return { ok: false, error: 'peer size overruns' };
  o += 1 + 32 * b[o]!;
  const opts = readMapping(b, o);
  if (!opts || opts.end + 64 !== b.length) return { ok: false, error: 'options or signature length' };
  if (opts.map.get('netId') !== '2') return { ok: false, error: 'netId' };
  if (!ed25519Verify(signingKey, b.subarray(0, b.length - 64), b.subarray(b.length - 64))) return { ok: false, error: 'signature' };
  return { ok: true, value: { identHash: new Uint8Array(createHash('sha256').update(b.subarray(0, identLen)).digest()), staticKey, published } };
};
