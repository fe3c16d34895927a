// NTCP2 payload blocks (ntcp2-routerinfo.md §5.2; i2np.md §2 for the 9-byte I2NP header): a writer that lays blocks
// into one frame's plaintext buffer and a parser that walks them with a visitor, handing out views (no copies).
// The parser never throws: it returns a reason (a Termination reason code) and a fixed message.
import {
  BLOCK_DATETIME,
  BLOCK_HEADER,
  BLOCK_I2NP,
  BLOCK_OPTIONS,
  BLOCK_PADDING,
  BLOCK_ROUTERINFO,
  BLOCK_TERMINATION,
  FRAME_PLAINTEXT_MAX,
  I2NP_SHORT_HEADER,
  TERM_PADDING_VIOLATION,
  TERM_PAYLOAD_FORMAT_ERROR,
} from './constants.js';

/** Receives the blocks of one payload in order. Views point into the payload and are valid only during the call. */
export interface BlockVisitor {
  dateTime?(seconds: number): void;
  options?(data: Uint8Array): void;
  routerInfo?(flag: number, routerInfo: Uint8Array): void;
  /** `expiration` in seconds since the epoch, as on the wire. */
  i2np?(type: number, msgId: number, expiration: number, body: Uint8Array): void;
  /** `framesReceived` is exact below 2^53. */
  termination?(framesReceived: number, reason: number, extra: Uint8Array): void;
  padding?(length: number): void;
  unknown?(type: number, data: Uint8Array): void;
}

export interface BlockError {
  /** Termination reason to send (§5.2). */
  reason: number;
  error: string;
}

function be32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/**
 * Walks the blocks of a data-phase payload (§5.2 ordering: Padding last, at most one; Termination last but for
 * Padding; unknown types skipped). Returns null when every block was well formed.
 */
export function parseBlocks(p: Uint8Array, v: BlockVisitor): BlockError | null {
  let o = 0;
  let sawTermination = false;
  while (o < p.length) {
    if (p.length - o < BLOCK_HEADER) return { reason: TERM_PAYLOAD_FORMAT_ERROR, error: 'truncated block header' };
    const type = p[o]!;
    const size = (p[o + 1]! << 8) | p[o + 2]!;
    const start = o + BLOCK_HEADER;
    const end = start + size;
    if (end > p.length) return { reason: TERM_PAYLOAD_FORMAT_ERROR, error: 'block runs past the end of the frame' };
    if (sawTermination && type !== BLOCK_PADDING)
      return { reason: TERM_PAYLOAD_FORMAT_ERROR, error: 'block after Termination' };
    switch (type) {
      case BLOCK_DATETIME:
        if (size !== 4) return { reason: TERM_PAYLOAD_FORMAT_ERROR, error: 'DateTime block size is not 4' };
        v.dateTime?.(be32(p, start));
        break;
      case BLOCK_OPTIONS:
        v.options?.(p.subarray(start, end));
        break;
      case BLOCK_ROUTERINFO:
        if (size < 2) return { reason: TERM_PAYLOAD_FORMAT_ERROR, error: 'empty RouterInfo block' };
        v.routerInfo?.(p[start]!, p.subarray(start + 1, end));
        break;
      case BLOCK_I2NP:
        if (size < I2NP_SHORT_HEADER)
          return { reason: TERM_PAYLOAD_FORMAT_ERROR, error: 'I2NP block shorter than its 9-byte header' };
        v.i2np?.(p[start]!, be32(p, start + 1), be32(p, start + 5), p.subarray(start + I2NP_SHORT_HEADER, end));
        break;
      case BLOCK_TERMINATION: {
        if (size < 9) return { reason: TERM_PAYLOAD_FORMAT_ERROR, error: 'Termination block shorter than 9 bytes' };
        sawTermination = true;
        v.termination?.(be32(p, start) * 0x100000000 + be32(p, start + 4), p[start + 8]!, p.subarray(start + 9, end));
        break;
      }
      case BLOCK_PADDING:
        if (end !== p.length) return { reason: TERM_PADDING_VIOLATION, error: 'Padding block is not the last block' };
        v.padding?.(size);
        break;
      default:
        v.unknown?.(type, p.subarray(start, end));
    }
    o = end;
  }
  return null;
}

/** What msg3 part 2 carries (§4.5): the RouterInfo block first, then optional Options and Padding, nothing else. */
export interface SessionConfirmedPayload {
  flag: number;
  routerInfo: Uint8Array;
  options: Uint8Array | undefined;
}

export function parseSessionConfirmedPayload(
  p: Uint8Array,
): { ok: true; value: SessionConfirmedPayload } | { ok: false; error: string } {
  if (p.length < BLOCK_HEADER || p[0] !== BLOCK_ROUTERINFO)
    return { ok: false, error: 'msg3 payload does not start with a RouterInfo block' };
  let ri: Uint8Array | undefined;
  let flag = 0;
  let options: Uint8Array | undefined;
  let bad: string | undefined;
  const err = parseBlocks(p, {
    routerInfo(f, r) {
      if (ri === undefined) {
        ri = r;
        flag = f;
      } else bad = 'second RouterInfo block in msg3';
    },
    options(d) {
      if (options === undefined) options = d;
      else bad = 'second Options block in msg3';
    },
    dateTime() {
      bad = 'DateTime block in msg3';
    },
    i2np() {
      bad = 'I2NP block in msg3';
    },
    termination() {
      bad = 'Termination block in msg3';
    },
    unknown() {
      bad = 'unknown block in msg3';
    },
  });
  if (err) return { ok: false, error: err.error };
  if (bad) return { ok: false, error: bad };
  return { ok: true, value: { flag, routerInfo: ri!, options } };
}

/**
 * Lays blocks into a reusable plaintext buffer (one frame). Every write checks the room left and returns false
 * (writing nothing) when the block does not fit.
 */
export class BlockWriter {
  readonly buf: Uint8Array;
  length = 0;

  constructor(capacity = FRAME_PLAINTEXT_MAX) {
    this.buf = new Uint8Array(capacity);
  }

  reset(): void {
    this.length = 0;
  }

  get room(): number {
    return this.buf.length - this.length;
  }

  private header(type: number, size: number): boolean {
    if (size > 0xffff || this.room < BLOCK_HEADER + size) return false;
    const b = this.buf,
      o = this.length;
    b[o] = type;
    b[o + 1] = size >>> 8;
    b[o + 2] = size & 0xff;
    this.length = o + BLOCK_HEADER;
    return true;
  }

  private u32(v: number): void {
    const b = this.buf,
      o = this.length;
    b[o] = v >>> 24;
    b[o + 1] = v >>> 16;
    b[o + 2] = v >>> 8;
    b[o + 3] = v;
    this.length = o + 4;
  }

  dateTime(seconds: number): boolean {
    if (!this.header(BLOCK_DATETIME, 4)) return false;
    this.u32(seconds >>> 0);
    return true;
  }

  options(data: Uint8Array): boolean {
    if (!this.header(BLOCK_OPTIONS, data.length)) return false;
    this.buf.set(data, this.length);
    this.length += data.length;
    return true;
  }

  routerInfo(flag: number, ri: Uint8Array): boolean {
    if (!this.header(BLOCK_ROUTERINFO, 1 + ri.length)) return false;
    this.buf[this.length++] = flag & 0xff;
    this.buf.set(ri, this.length);
    this.length += ri.length;
    return true;
  }

  /** I2NP block with the 9-byte short header; `expiration` in seconds. */
  i2np(type: number, msgId: number, expiration: number, body: Uint8Array): boolean {
    if (!this.header(BLOCK_I2NP, I2NP_SHORT_HEADER + body.length)) return false;
    this.buf[this.length++] = type & 0xff;
    this.u32(msgId >>> 0);
    this.u32(expiration >>> 0);
    this.buf.set(body, this.length);
    this.length += body.length;
    return true;
  }

  termination(framesReceived: number, reason: number): boolean {
    if (!this.header(BLOCK_TERMINATION, 9)) return false;
    this.u32(Math.floor(framesReceived / 0x100000000) >>> 0);
    this.u32(framesReceived >>> 0);
    this.buf[this.length++] = reason & 0xff;
    return true;
  }

  /** Padding block of `size` bytes, zero-filled as i2pd does (§5.4); must be the frame's last block. */
  padding(size: number): boolean {
    if (!this.header(BLOCK_PADDING, size)) return false;
    this.buf.fill(0, this.length, this.length + size);
    this.length += size;
    return true;
  }

  /** The blocks written so far (a view). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
