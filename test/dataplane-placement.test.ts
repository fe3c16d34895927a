// Tunnel placement on its own (src/dataplane/placement.ts): fewest live tunnels at join, an id kept on its shard for
// the tombstone time after its last tunnel ends, then forgotten (back to the hash), without threads or engines.
import { describe, expect, it } from 'vitest';
import { Placement } from '../src/dataplane/placement.js';
import { TUNNEL_LIFETIME_MS } from '../src/tunnel/types.js';

describe('data plane: placement', () => {
  it('places on the least-loaded shard, keeps an ended id for the tombstone time, then forgets it', () => {
    const p = new Placement(3);
    // Ids whose hash names shard 0 would all land there; placement spreads them by count instead.
    const ids = [...Array(3000).keys()].filter((id) => p.shardOf(id) === 0).slice(0, 6);
    expect(ids.map((id) => p.place(id))).toEqual([0, 1, 2, 0, 1, 2]);
    const moved = ids[1]!; // hashes to 0, placed on 1
    expect(p.shardOf(moved)).toBe(1);
    p.unplace(moved, 1000);
    p.unplace(moved, 1000); // a second end of the same id changes nothing
    expect(p.place(ids[0]! + 100_000)).toBe(1); // shard 1 has the fewest live tunnels now
    p.sweep(1000 + TUNNEL_LIFETIME_MS);
    expect(p.shardOf(moved)).toBe(1); // still within the tombstone time
    p.sweep(1001 + TUNNEL_LIFETIME_MS);
    expect(p.shardOf(moved)).toBe(0); // forgotten: back to its hash
    expect(p.shardOf(ids[2]!)).toBe(2); // live ids are never swept
  });

  it('an id joined twice (a participant and a gateway) stays until both end', () => {
    const p = new Placement(2);
    const id = [...Array(100).keys()].find((x) => x !== 7 && p.shardOf(x) === 0)!;
    expect(p.place(7)).toBe(0);
    expect(p.place(id)).toBe(1);
    expect(p.place(id)).toBe(1);
    p.unplace(id, 0);
    p.sweep(TUNNEL_LIFETIME_MS + 1);
    expect(p.shardOf(id)).toBe(1); // one tunnel with the id is still live
    p.unplace(id, 0);
    p.sweep(TUNNEL_LIFETIME_MS + 1);
    expect(p.shardOf(id)).toBe(0); // both ended and the tombstone time passed: back to its hash
  });
});
