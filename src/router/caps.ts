// The RouterInfo `caps` option (ntcp2-routerinfo.md §2.4, network-database.html): bandwidth letters, f (floodfill),
// R / U (reachable / unreachable), H (hidden), D / E / G (congestion, 0.9.58). i2pd 2.45.1 writes one bandwidth letter
// then f, H, R, U; that order is kept here.

export type BandwidthClass = 'K' | 'L' | 'M' | 'N' | 'O' | 'P' | 'X';
export type CongestionCap = 'D' | 'E' | 'G';

export interface Caps {
  /** Bandwidth letters in the order given (a router may publish several, e.g. "PO"). */
  readonly bandwidth: BandwidthClass[];
  readonly floodfill: boolean;
  readonly reachable: boolean;
  readonly unreachable: boolean;
  readonly hidden: boolean;
  readonly congestion?: CongestionCap;
  /** Letters this parser does not know, in order (kept, not an error: new caps appear over time). */
  readonly unknown: string;
}

const BANDWIDTH = 'KLMNOPX';

/** Shared bandwidth (KBps) to its letter; the P/X boundary is 2000 (§2.4 allows 2000 or 2048). */
export function bandwidthClass(kbps: number): BandwidthClass {
  if (kbps < 12) return 'K';
  if (kbps < 48) return 'L';
  if (kbps < 64) return 'M';
  if (kbps < 128) return 'N';
  if (kbps < 256) return 'O';
  if (kbps <= 2000) return 'P';
  return 'X';
}

export function formatCaps(c: Partial<Caps>): string {
  const bw = c.bandwidth && c.bandwidth.length > 0 ? c.bandwidth : ['L'];
  for (const b of bw)
    if (!BANDWIDTH.includes(b) || b.length !== 1) throw new RangeError(`unknown bandwidth class '${b}'`);
  if (c.reachable && c.unreachable) throw new RangeError('caps cannot be both R and U');
  return (
    bw.join('') +
    (c.floodfill ? 'f' : '') +
    (c.hidden ? 'H' : '') +
    (c.reachable ? 'R' : '') +
    (c.unreachable ? 'U' : '') +
    (c.congestion ?? '')
  );
}

/** Parses any caps string; never throws. */
export function parseCaps(s: string): Caps {
  const bandwidth: BandwidthClass[] = [];
  let floodfill = false;
  let reachable = false;
  let unreachable = false;
  let hidden = false;
  let congestion: CongestionCap | undefined;
  let unknown = '';
  for (const ch of s) {
    if (BANDWIDTH.includes(ch)) bandwidth.push(ch as BandwidthClass);
    else if (ch === 'f') floodfill = true;
    else if (ch === 'R') reachable = true;
    else if (ch === 'U') unreachable = true;
    else if (ch === 'H') hidden = true;
    else if (ch === 'D' || ch === 'E' || ch === 'G') congestion = ch;
    else unknown += ch;
  }
  return { bandwidth, floodfill, reachable, unreachable, hidden, ...(congestion ? { congestion } : {}), unknown };
}
