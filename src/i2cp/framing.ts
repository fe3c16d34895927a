// Incremental I2CP frame splitter (i2cp.md §1): `length(4) | type(1) | body(length)`. Feed it socket chunks; it
// returns whole frames, or an error for a length beyond the 64 KB limit, after which the stream is unusable.
// Every byte is copied once, into the 5-byte header or into its frame's body (allocated at its final size once the
// header is known), so a router dribbling a frame byte by byte costs linear, not quadratic, work.
import { readU32 } from '../common/bytes.js';
import { HEADER_SIZE, MAX_BODY } from './messages.js';

export interface Frame {
  type: number;
  body: Uint8Array;
}

export class FrameDecoder {
  private readonly header = new Uint8Array(HEADER_SIZE);
  private headerFill = 0;
  /** The body being filled, once its header is complete (at most MAX_BODY bytes). */
  private body: Uint8Array | undefined;
  private bodyFill = 0;
  private type = 0;
  error: string | undefined;

  /** Appends bytes and returns the frames now complete. After an error returns [] forever. */
  push(chunk: Uint8Array): Frame[] {
    if (this.error !== undefined) return [];
    const frames: Frame[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.body === undefined) {
        const n = Math.min(HEADER_SIZE - this.headerFill, chunk.length - at);
        this.header.set(chunk.subarray(at, at + n), this.headerFill);
        this.headerFill += n;
        at += n;
        if (this.headerFill < HEADER_SIZE) break;
        const len = readU32(this.header, 0);
        this.headerFill = 0;
        if (len > MAX_BODY) {
          this.error = `frame length ${len} exceeds ${MAX_BODY}`;
          return frames;
        }
        this.type = this.header[4]!;
        this.body = new Uint8Array(len);
        this.bodyFill = 0;
      }
      const n = Math.min(this.body.length - this.bodyFill, chunk.length - at);
      this.body.set(chunk.subarray(at, at + n), this.bodyFill);
      this.bodyFill += n;
      at += n;
      if (this.bodyFill === this.body.length) {
        frames.push({ type: this.type, body: this.body });
        this.body = undefined;
      }
    }
    return frames;
  }

  /** Bytes held waiting for the rest of a frame. */
  get pending(): number {
    return this.body === undefined ? this.headerFill : HEADER_SIZE + this.bodyFill;
  }
}
