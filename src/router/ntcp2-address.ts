// The NTCP2 RouterAddress (ntcp2-routerinfo.md §2.2): published = `host` (IP literal), `i` (16-byte IV, 24 Base64
// chars), `port`, `s` (32-byte X25519 static key, 44 chars), `v=2`; unpublished = `caps` (4/6), `s`, `v`. Base64 is
// the I2P alphabet with `=` padding, since i2pd's decoder yields nothing for unpadded text (§0.3).
import { isIP } from 'node:net';
import { i2pBase64 } from '../keys/encoding.js';
import type { RouterInfo } from './router-info.js';

/** i2pd writes cost 3 for a published NTCP2 address and 14 for an unpublished one. */
export const NTCP2_COST_PUBLISHED = 3;
export const NTCP2_COST_UNPUBLISHED = 14;

export interface Ntcp2AddressInput {
  readonly host: string;
  readonly port: number;
  readonly staticKey: Uint8Array;
  readonly iv: Uint8Array;
}

/** Options of a published NTCP2 address. Throws RangeError for a hostname, a bad port or wrong key / IV lengths. */
export function ntcp2AddressOptions(a: Ntcp2AddressInput): Record<string, string> {
  if (isIP(a.host) === 0) throw new RangeError(`NTCP2 host must be an IP literal (i2pd cannot use '${a.host}')`);
  if (!Number.isInteger(a.port) || a.port < 1 || a.port > 65535) throw new RangeError(`bad NTCP2 port ${a.port}`);
  if (a.staticKey.length !== 32) throw new RangeError('NTCP2 static key must be 32 bytes');
  if (a.iv.length !== 16) throw new RangeError('NTCP2 IV must be 16 bytes');
  return { host: a.host, i: i2pBase64(a.iv), port: String(a.port), s: i2pBase64(a.staticKey), v: '2' };
}

/** A peer's NTCP2 address as read from its RouterInfo. */
export interface Ntcp2Address {
  /** Remote static key `s` (32 bytes). */
  readonly staticKey: Uint8Array;
  /** `i` (16 bytes); present only on a published address. */
  readonly iv?: Uint8Array;
  /** IP literal; hostnames are ignored (i2pd cannot use them either). */
  readonly host?: string;
  readonly port?: number;
  readonly cost: number;
  /** i2pd dials only addresses with `s`, an IP `host`, `port` and `i` (§0.4). */
  readonly dialable: boolean;
}

/** Decodes padded I2P Base64 of exactly `n` bytes, or undefined. */
export function decodeKeyBase64(s: string | undefined, n: number): Uint8Array | undefined {
  if (s === undefined) return undefined;
  const chars = 4 * Math.ceil(n / 3);
  if (s.length !== chars || !/^[A-Za-z0-9\-~]+={0,2}$/.test(s)) return undefined;
  const b = Buffer.from(s.replace(/-/g, '+').replace(/~/g, '/'), 'base64');
  if (b.length !== n) return undefined;
  // Buffer's decoder ignores stray low bits of the last character: insist on the canonical encoding
  if (i2pBase64(b) !== s) return undefined;
  return new Uint8Array(b);
}

/**
 * The NTCP2 addresses of a RouterInfo with a valid `s` (style starting with "NTCP", as i2pd reads it), dialable ones
 * first (IPv4 before IPv6), then by cost.
 */
export function ntcp2Addresses(ri: RouterInfo): Ntcp2Address[] {
  const out: Ntcp2Address[] = [];
  for (const a of ri.addresses) {
    if (!a.style.startsWith('NTCP')) continue;
    const staticKey = decodeKeyBase64(a.options.get('s'), 32);
    if (!staticKey) continue;
    const iv = decodeKeyBase64(a.options.get('i'), 16);
    const hostText = a.options.get('host');
    const host = hostText !== undefined && isIP(hostText) !== 0 ? hostText : undefined;
    const portText = a.options.get('port');
    const portNum = portText !== undefined && /^[0-9]{1,5}$/.test(portText) ? Number(portText) : 0;
    const port = portNum >= 1 && portNum <= 65535 ? portNum : undefined;
    const dialable = iv !== undefined && host !== undefined && port !== undefined;
    out.push({
      staticKey,
      cost: a.cost,
      dialable,
      ...(iv ? { iv } : {}),
      ...(host ? { host } : {}),
      ...(port ? { port } : {}),
    });
  }
  const rank = (a: Ntcp2Address) => (a.dialable ? (isIP(a.host!) === 4 ? 0 : 1) : 2);
  return out.sort((x, y) => rank(x) - rank(y) || x.cost - y.cost);
}
