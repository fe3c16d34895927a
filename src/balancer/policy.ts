// Which leases go into the one LeaseSet2 when the routers together offer more than 16 (leaseset.md §6), and what a
// router may claim for its leases at all (admissibleLeases, applied to every offer first).
//
// Policy (documented in docs/multihoming.md, "More than 16 leases"):
//  1. Leases that have already ended are dropped.
//  2. If at most 16 remain, all are published.
//  3. Otherwise every live router keeps at least one lease: the 16 slots are dealt round-robin over the routers
//     (in command-line order), one slot per router per round, skipping routers with no leases left, so each gets
//     floor(16/R) or one more. With more than 16 routers, the 16 whose freshest lease ends latest are kept.
//  4. Within its share a router's leases are taken gateway by gateway, not by freshness alone: the gateway that the
//     most offered leases (of all routers) pass through first, all of its leases (latest end first) before the next
//     gateway. This narrows the set of distinct inbound gateways (IBGWs) in the LeaseSet, the mitigation Proposal
//     140's security section suggests against telling a multihomed LeaseSet from a single-homed one.
//  The result is ordered by lease end, latest first, routers interleaved, as a single router's LeaseSet would be.

export interface OfferedLease {
  gateway: Uint8Array;
  tunnelId: number;
  /** ms since the epoch, as the router offered it. */
  end: number;
  /** The router (HOST:PORT) that offered it. */
  router: string;
}

/**
 * The latest end a router may claim for a lease, ms after now. A lease ends with its inbound tunnel: i2pd and Java
 * routers give it tunnel creation + 600 s (leaseset.md §5.4), so no honest router claims more. Clamping to it keeps
 * the merged LeaseSet2 inside what routers accept (i2pd refuses one with any lease ending more than 12 min ahead,
 * §5.4) and inside its 16-bit `expires` offset (§5.1), whatever one router reports.
 */
export const MAX_LEASE_AHEAD_MS = 600_000;

/** The largest `expires` offset of a LeaseSet2, seconds after `published` (leaseset.md §5.1: 2 bytes). */
export const MAX_LS2_EXPIRES_SEC = 0xffff;

/**
 * One router's offer as the balancer may use it: each end clamped to `nowMs + MAX_LEASE_AHEAD_MS`, and leases that
 * no LeaseSet2 published at `publishedSec` can hold dropped: an end that is not a finite number, or whose seconds
 * (floored, as Lease2 writes them, i2cp.md §5) are not after `publishedSec` or lie more than 65535 s after it.
 */
export function admissibleLeases(leases: readonly OfferedLease[], nowMs: number, publishedSec: number): OfferedLease[] {
  const latest = nowMs + MAX_LEASE_AHEAD_MS;
  const out: OfferedLease[] = [];
  for (const l of leases) {
    if (!Number.isFinite(l.end)) continue;
    const end = Math.min(l.end, latest);
    const endSec = Math.floor(end / 1000);
    if (endSec <= publishedSec || endSec - publishedSec > MAX_LS2_EXPIRES_SEC) continue;
    out.push(end === l.end ? l : { ...l, end });
  }
  return out;
}

function gwKey(g: Uint8Array): string {
  return Buffer.from(g.buffer, g.byteOffset, g.length).toString('hex');
}

/** Picks at most `max` leases from the per-router offers (Map order = router order). Pure and deterministic. */
export function selectLeases(
  offers: ReadonlyMap<string, readonly OfferedLease[]>,
  nowMs: number,
  max = 16,
): OfferedLease[] {
  const live: [string, OfferedLease[]][] = [];
  for (const [router, leases] of offers) {
    const alive = leases.filter((l) => l.end > nowMs).sort((a, b) => b.end - a.end);
    if (alive.length) live.push([router, alive]);
  }
  const total = live.reduce((n, [, l]) => n + l.length, 0);
  if (total <= max) return sortByEnd(live.flatMap(([, l]) => l));

  let routers = live;
  if (routers.length > max) {
    routers = [...routers].sort((a, b) => b[1][0]!.end - a[1][0]!.end).slice(0, max);
    const keep = new Set(routers.map(([r]) => r));
    routers = live.filter(([r]) => keep.has(r));
  }
  // gateway popularity over everything offered
  const popularity = new Map<string, number>();
  for (const [, ls] of live)
    for (const l of ls) popularity.set(gwKey(l.gateway), (popularity.get(gwKey(l.gateway)) ?? 0) + 1);
  // each router's leases in gateway-narrowing order
  const ranked = routers.map(([, ls]) => {
    const groups = new Map<string, OfferedLease[]>();
    for (const l of ls) {
      const k = gwKey(l.gateway);
      const g = groups.get(k);
      if (g) g.push(l);
      else groups.set(k, [l]);
    }
    const ordered = [...groups.entries()].sort(
      (a, b) => popularity.get(b[0])! - popularity.get(a[0])! || b[1][0]!.end - a[1][0]!.end || (a[0] < b[0] ? -1 : 1),
    );
    return ordered.flatMap(([, g]) => g);
  });
  const quota = new Array<number>(ranked.length).fill(0);
  let slots = max;
  while (slots > 0) {
    let progressed = false;
    for (let i = 0; i < ranked.length && slots > 0; i++) {
      if (quota[i]! < ranked[i]!.length) {
        quota[i]!++;
        slots--;
        progressed = true;
      }
    }
    if (!progressed) break;
  }
  return sortByEnd(ranked.flatMap((ls, i) => ls.slice(0, quota[i])));
}

function sortByEnd(ls: OfferedLease[]): OfferedLease[] {
  return ls.sort((a, b) => b.end - a.end || a.tunnelId - b.tunnelId);
}
