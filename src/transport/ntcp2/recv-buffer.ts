// Receive buffer of one NTCP2 connection: the socket's chunks queued without copying, read back as exact-length
// pieces (a view when the piece lies in one chunk, one copy when it spans chunks). The session caps what it holds
// (ntcp2.md "Limits") by pausing the socket; this class only counts.

export class RecvBuffer {
  private chunks: Uint8Array[] = [];
  private head = 0; // offset into chunks[0]
  /** Bytes held. */
  length = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /**
   * Removes and returns the next `n` bytes (n <= length). The result may be a view into a socket chunk: use it
   * before the next push/take, or copy it.
   */
  take(n: number): Uint8Array {
    if (n > this.length) throw new RangeError('RecvBuffer.take past the end');
    this.length -= n;
    const first = this.chunks[0];
    if (n === 0) return new Uint8Array(0);
    if (first !== undefined && first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.head += n;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
      return out;
    }
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length - this.head, n - o);
      out.set(c.subarray(this.head, this.head + k), o);
      o += k;
      this.head += k;
      if (this.head === c.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    return out;
  }

  /** Drops everything held. */
  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.length = 0;
  }
}
