// Kademlia keys of the netDb (netdb-floodfill.md §1): the routing key of a netDb key is SHA-256(key ‖ yyyyMMdd), the
// current UTC date as 8 ASCII digits, so it rotates at 00:00 UTC; the distance to a router is routingKey XOR its plain
// ident hash, compared as a 256-bit big-endian number.
import { createHash } from 'node:crypto';

/** `yyyyMMdd` of an epoch-ms time in UTC (i2pd uses gmtime, §1 item 2). */
export function utcDateString(ms: number): string {
  const d = new Date(ms);
  const y = String(d.getUTCFullYear()).padStart(4, '0');
  const m = String(d.getUTCMonth() + 1).padStart(2, '0');
  const day = String(d.getUTCDate()).padStart(2, '0');
  return `${y}${m}${day}`;
}

/** SHA-256(key(32) ‖ yyyyMMdd) for the UTC day of `nowMs` (§1 item 2). */
export function routingKey(key: Uint8Array, nowMs: number): Uint8Array {
  const h = createHash('sha256');
  h.update(key);
  h.update(utcDateString(nowMs), 'latin1');
  return new Uint8Array(h.digest());
}

/** routingKey XOR hash (§1 item 3). */
export function xorDistance(rk: Uint8Array, hash: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = rk[i]! ^ hash[i]!;
  return out;
}

/** Bytewise (big-endian) comparison of two distances: negative when a is closer. */
export function compareDistance(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/**
 * The `n` hashes closest to `rk` (a routing key), ascending, without those in `exclude` (hex). The candidate list is
 * bounded by the caller's table caps.
 */
export function closest(
  rk: Uint8Array,
  candidates: Iterable<Uint8Array>,
  n: number,
  exclude: ReadonlySet<string> = new Set(),
): Uint8Array[] {
  const scored: { h: Uint8Array; d: Uint8Array }[] = [];
  for (const h of candidates) {
    if (exclude.has(Buffer.from(h.buffer, h.byteOffset, h.byteLength).toString('hex'))) continue;
    scored.push({ h, d: xorDistance(rk, h) });
  }
  scored.sort((a, b) => compareDistance(a.d, b.d));
  return scored.slice(0, n).map((s) => s.h);
}
