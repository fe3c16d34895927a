// Small-buffer allocation for the framing hot path. A typed array with its own backing store costs ~0.5-1.5 us to
// create in V8 (docs/framing.md, "Buffers"), more than the framing work around it; a view into a shared
// 64 KiB slab costs ~30 ns. So gateway bodies and delivered messages up to SLAB_MAX bytes are carved from slabs,
// the way Node's Buffer pool serves small Buffers. Consequence for callers: such a buffer's `.buffer` also holds
// other bodies / messages (all produced by this process); copy it if you hand `.buffer` on. Slabs start zeroed and
// every carved byte is written before it is handed out.

const SLAB_SIZE = 65536;
/** Largest request served from a slab. */
/** Bytes a gateway body may use past its end inside the slab (its IV again, so pairs || IV hash in place). */
export const SLAB_BODY_SLACK = 16;
/** Largest request served from a slab. */
export const SLAB_MAX = 4096;

export class SlabAllocator {
  // The first slab is made on first use: an idle tunnel's packer or endpoint holds none.
  private slab: ArrayBuffer | undefined = undefined;
  private off = SLAB_SIZE;

  /** A fresh `n`-byte view (zeroed or about to be fully written by the caller). */
  alloc(n: number): Uint8Array {
    if (n > SLAB_MAX) return new Uint8Array(n);
    if (this.slab === undefined || this.off + n > SLAB_SIZE) {
      this.slab = new ArrayBuffer(SLAB_SIZE);
      this.off = 0;
    }
    const v = new Uint8Array(this.slab, this.off, n);
    // Keep views 8-byte aligned (cheap, and friendlier to DataView / wider typed-array reads by consumers).
    this.off += (n + 7) & ~7;
    return v;
  }
}

let shared: SlabAllocator | undefined;

/** The allocator packers and endpoints use unless given one: one per thread, so thousands of tunnels share slabs. */
export function sharedAllocator(): SlabAllocator {
  return (shared ??= new SlabAllocator());
}
