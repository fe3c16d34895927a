// Incremental I2CP frame splitter (i2cp.md §1): `length(4) | type(1) | body(length)`. Feed it socket chunks; it
// returns whole frames, or an error for a length beyond the 64 KB limit, after which the stream is unusable.
import { readU32 } from '../common/bytes.js';
import { HEADER_SIZE, MAX_BODY } from './messages.js';

export interface Frame {
  type: number;
  body: Uint8Array;
}

export class FrameDecoder {
  private buf = new Uint8Array(0);
  error: string | undefined;

  /** Appends bytes and returns the frames now complete. After an error returns [] forever. */
  push(chunk: Uint8Array): Frame[] {
    if (this.error !== undefined) return [];
    const joined = new Uint8Array(this.buf.length + chunk.length);
    joined.set(this.buf);
    joined.set(chunk, this.buf.length);
    const frames: Frame[] = [];
    let at = 0;
    while (joined.length - at >= HEADER_SIZE) {
      const len = readU32(joined, at);
      if (len > MAX_BODY) {
        this.error = `frame length ${len} exceeds ${MAX_BODY}`;
        this.buf = new Uint8Array(0);
        return frames;
      }
      if (joined.length - at - HEADER_SIZE < len) break;
      frames.push({ type: joined[at + 4]!, body: joined.slice(at + HEADER_SIZE, at + HEADER_SIZE + len) });
      at += HEADER_SIZE + len;
    }
    this.buf = joined.slice(at);
    return frames;
  }

  /** Bytes held waiting for the rest of a frame. */
  get pending(): number {
    return this.buf.length;
  }
}
