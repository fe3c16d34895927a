// Byte-level helpers shared by the I2CP, key and LeaseSet2 codecs (i2cp.md §2: all integers big-endian).
// Decoders never throw on hostile input: a Reader records the first problem and every later read returns zeros, so a
// codec reads straight through and checks `reader.error` once at the end.

/** Outcome of decoding untrusted bytes: a value, or the reason it was rejected. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(error: string): Result<T> {
  return { ok: false, error };
}

/** Sequential big-endian reader over untrusted bytes. */
export class Reader {
  pos: number;
  error: string | undefined;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Marks the input bad (first reason wins) and stops further reads. */
  invalid(reason: string): void {
    if (this.error === undefined) this.error = reason;
    this.pos = this.end;
  }

  private take(n: number, what: string): number {
    if (this.error !== undefined) return -1;
    if (n < 0 || this.pos + n > this.end) {
      this.invalid(`truncated ${what}: need ${n} bytes, have ${this.end - this.pos}`);
      return -1;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(what = 'byte'): number {
    const at = this.take(1, what);
    return at < 0 ? 0 : this.buf[at]!;
  }

  u16(what = 'u16'): number {
    const at = this.take(2, what);
    return at < 0 ? 0 : (this.buf[at]! << 8) | this.buf[at + 1]!;
  }

  u32(what = 'u32'): number {
    const at = this.take(4, what);
    return at < 0 ? 0 : readU32(this.buf, at);
  }

  /** Unsigned integer of 1..6 bytes as a JS number (exact: ≤ 2^48). */
  uint(n: number, what = 'integer'): number {
    const at = this.take(n, what);
    if (at < 0) return 0;
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + this.buf[at + i]!;
    return v;
  }

  /** 8-byte Date (ms). Values above 2^53 are rejected rather than rounded. */
  date(what = 'date'): number {
    const hi = this.u32(what);
    const lo = this.u32(what);
    if (hi >= 0x200000) {
      this.invalid(`${what} out of range`);
      return 0;
    }
    return hi * 0x100000000 + lo;
  }

  /** A view (not a copy) of the next n bytes. */
  bytes(n: number, what = 'bytes'): Uint8Array {
    const at = this.take(n, what);
    return at < 0 ? new Uint8Array(0) : this.buf.subarray(at, at + n);
  }

  /** I2CP String: 1-byte length + UTF-8 (§2). Invalid UTF-8 is rejected. */
  string(what = 'string'): string {
    const len = this.u8(what);
    const b = this.bytes(len, what);
    if (this.error !== undefined) return '';
    try {
      return UTF8_STRICT.decode(b);
    } catch {
      this.invalid(`${what}: invalid UTF-8`);
      return '';
    }
  }
}

const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true });
const UTF8 = new TextEncoder();

export function utf8(s: string): Uint8Array {
  return UTF8.encode(s);
}

export function readU32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) >>> 0) + ((buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!);
}

/** Growable big-endian writer for building messages. */
export class Writer {
  private buf: Uint8Array;
  length = 0;
  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }

  private room(n: number): number {
    if (this.length + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  u8(v: number): this {
    checkUint(v, 0xff, 'u8');
    const at = this.room(1);
    this.buf[at] = v;
    return this;
  }

  u16(v: number): this {
    checkUint(v, 0xffff, 'u16');
    const at = this.room(2);
    this.buf[at] = v >>> 8;
    this.buf[at + 1] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    checkUint(v, 0xffffffff, 'u32');
    const at = this.room(4);
    this.buf[at] = v >>> 24;
    this.buf[at + 1] = (v >>> 16) & 0xff;
    this.buf[at + 2] = (v >>> 8) & 0xff;
    this.buf[at + 3] = v & 0xff;
    return this;
  }

  /** Unsigned integer of n bytes (n ≤ 8; value must be a safe integer). */
  uint(v: number, n: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`integer out of range: ${v}`);
    if (n < 7 && v >= 2 ** (8 * n)) throw new RangeError(`${v} does not fit in ${n} bytes`);
    const at = this.room(n);
    let x = v;
    for (let i = n - 1; i >= 0; i--) {
      this.buf[at + i] = x % 256;
      x = Math.floor(x / 256);
    }
    return this;
  }

  date(ms: number): this {
    return this.uint(ms, 8);
  }

  bytes(b: Uint8Array): this {
    const at = this.room(b.length); // grow first: `this.buf` may be replaced
    this.buf.set(b, at);
    return this;
  }

  string(s: string): this {
    const b = utf8(s);
    if (b.length > 255) throw new RangeError(`I2CP string longer than 255 bytes (${b.length})`);
    return this.u8(b.length).bytes(b);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function checkUint(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`${what} out of range: ${v}`);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

export function fromHex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(clean, 'hex'));
}
