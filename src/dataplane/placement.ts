// Which shard (worker) a tunnel id lives on (docs/data-plane.md, "Tunnels are sharded, not replicated").
//
// A joining tunnel goes to the shard with the fewest live tunnels: a hash of the id is even for thousands of tunnels
// but not for a few dozen. An id keeps its shard for the engine's tombstone time after its tunnel ends, so late
// messages still reach the engine that reports them as expired, and a rejoin lands on the same shard. Ids never
// joined go by a fixed hash (their messages are reported as unknown there).
import { TUNNEL_LIFETIME_MS } from '../tunnel/types.js';

interface Placed {
  shard: number;
  /** Live tunnels with this id (a participant and a gateway may share one). */
  refs: number;
  /** When the entry may be forgotten once refs is 0 (Infinity while live). */
  until: number;
}

export class Placement {
  private readonly byId = new Map<number, Placed>();
  /** Live tunnels per shard: the load that placement evens out. */
  private readonly liveTunnels: number[];

  constructor(readonly shardCount: number) {
    this.liveTunnels = new Array<number>(shardCount).fill(0);
  }

  /** The shard that handles messages for this id: where it was placed, else a fixed hash of the id. */
  shardOf(tunnelId: number): number {
    const n = this.shardCount;
    if (n === 1) return 0;
    const p = this.byId.get(tunnelId);
    if (p !== undefined) return p.shard;
    let h = tunnelId >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
    h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
    return ((h ^ (h >>> 16)) >>> 0) % n;
  }

  /** A tunnel joins: the shard of its id's existing placement, else the one with the fewest live tunnels. */
  place(tunnelId: number): number {
    let p = this.byId.get(tunnelId);
    if (p === undefined) {
      let best = 0;
      for (let s = 1; s < this.shardCount; s++) if (this.liveTunnels[s]! < this.liveTunnels[best]!) best = s;
      p = { shard: best, refs: 0, until: Infinity };
      this.byId.set(tunnelId, p);
    }
    p.refs++;
    p.until = Infinity;
    this.liveTunnels[p.shard]!++;
    return p.shard;
  }

  /** A tunnel with this id ended or expired: its shard's load drops; the placement stays for the tombstone time. */
  unplace(tunnelId: number, now: number): void {
    const p = this.byId.get(tunnelId);
    if (p === undefined || p.refs === 0) return;
    p.refs--;
    this.liveTunnels[p.shard]!--;
    if (p.refs === 0) p.until = now + TUNNEL_LIFETIME_MS;
  }

  /** Forgets ids with no live tunnel whose tombstone time has passed. */
  sweep(now: number): void {
    for (const [id, p] of this.byId) if (p.refs === 0 && p.until < now) this.byId.delete(id);
  }
}
