// Endpoint reassembly (OBEP and IBEP): one TunnelData body, after all layers are removed, in; complete I2NP
// messages with their delivery out. Follows the endpoint rules of vectors-format.md literally:
//   - no 0x00 separator after the checksum, or a wrong checksum (tunnel-message.md §2.1): the body is dropped;
//   - the body is validated whole before any of it is used; one malformed pair drops it all;
//   - fragments are keyed by message id; any arrival order completes a message once fragment 0, the fragment
//     marked last and every number between have arrived; a repeated fragment number (0 included) of an incomplete
//     message is ignored entirely, its last-flag too; the first fragment marked last fixes the end;
//   - a delivered (or oversize-discarded) message's state is gone, so a late duplicate starts a new message;
//   - a reassembled message longer than I2NP_TUNNEL_MAX is discarded (a message drop, not a body drop).
// Partial state is bounded: it expires after `expiryMs` and is capped per endpoint and per pool (shared by many
// endpoints) in messages and bytes, evicting the oldest. Nothing here throws for any body content.
import {
  CHECKSUM_OFFSET,
  DELIVERY_LOCAL,
  DELIVERY_ROUTER,
  DELIVERY_TUNNEL,
  FLAG_FOLLOW_ON,
  FLAG_FRAGMENTED,
  FLAG_UNIMPLEMENTED_MASK,
  FOLLOW_ON_INSTR_SIZE,
  FOLLOW_ON_MAX,
  HASH_SIZE,
  I2NP_HEADER_SIZE,
  I2NP_TUNNEL_MAX,
  IV_OFFSET,
  IV_SIZE,
  MAX_FRAGMENTS,
  PADDING_OFFSET,
  PAIRS_MAX,
  TUNNEL_DATA_SIZE,
} from '../constants.js';
import { checksum32 } from '../crypto/hash.js';
import { DELIVERY_NAMES, type DeliveredMessage, readU32 } from './delivery.js';
import { type SlabAllocator, sharedAllocator } from './alloc.js';

/** Default lifetime of a partial message (see docs/framing.md, "Expiry and caps"). */
export const DEFAULT_EXPIRY_MS = 10_000;
/** Default caps per endpoint (one tunnel) and per pool (all endpoints sharing it). */
export const DEFAULT_MAX_MESSAGES_PER_TUNNEL = 128;
export const DEFAULT_MAX_BYTES_PER_TUNNEL = 1 << 20;
export const DEFAULT_MAX_MESSAGES_GLOBAL = 8192;
export const DEFAULT_MAX_BYTES_GLOBAL = 64 << 20;

/** Why a whole body was dropped. */
export const BODY_DROP_REASONS = ['bad-length', 'no-separator', 'bad-checksum', 'malformed'] as const;
export type BodyDropReason = (typeof BODY_DROP_REASONS)[number];
/** Why a fragment or a (partial) message was dropped after its body was accepted. */
export const MESSAGE_DROP_REASONS = [
  'duplicate-fragment',
  'beyond-last',
  'oversize',
  'expired',
  'evicted-tunnel',
  'evicted-global',
] as const;
export type MessageDropReason = (typeof MESSAGE_DROP_REASONS)[number];
export type ReassemblyDropReason = BodyDropReason | MessageDropReason;

/** Result of `Reassembler.push`: 'ok' or why the body was dropped. */
export type PushResult = 'ok' | BodyDropReason;

export interface PoolLimits {
  /** Partial messages held by all endpoints of the pool together. */
  maxMessages?: number;
  /** Fragment bytes held by all endpoints of the pool together. */
  maxBytes?: number;
}

export interface ReassemblerOptions {
  /** Receives each complete message, in completion order. */
  onMessage: (m: DeliveredMessage) => void;
  /** Milliseconds; default Date.now. Reassemblers sharing a pool must share a clock (the pool sweeps them all). */
  clock?: () => number;
  /** Partial messages older than this (ms since their first fragment) are discarded. Infinity disables. */
  expiryMs?: number;
  maxMessagesPerTunnel?: number;
  maxBytesPerTunnel?: number;
  /** The global caps: default the thread's shared pool (sharedReassemblyPool(), default limits). */
  pool?: ReassemblyPool;
  /** Where delivered messages and fragment copies are carved from: default the thread's shared allocator. */
  allocator?: SlabAllocator;
}

interface Partial {
  owner: Reassembler;
  msgId: number;
  created: number;
  /** Fragments 0..next-1, concatenated at buf[0..len) (in-order arrival, the common case, copies once). */
  buf: Uint8Array | undefined;
  len: number;
  next: number;
  /** Fragment-number presence bits: 0..31 in `have0`, 32..63 in `have1`. */
  have0: number;
  have1: number;
  /** Copies of fragments that arrived ahead of `next`, by number (allocated on first need). */
  ahead: (Uint8Array | undefined)[] | undefined;
  aheadBytes: number;
  /** Fragment number of the first fragment marked last, -1 until one arrives. */
  last: number;
  /** Bytes charged to the caps (buffer capacity + copies held). */
  bytes: number;
  code: number;
  tunnelId: number;
  toHash: Uint8Array | undefined;
  /** False once discarded (evicted, expired, completed): guards stale references. */
  live: boolean;
}

function positive(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || Number.isNaN(v) || v <= 0) throw new RangeError(`${name} must be a positive number`);
  return v;
}

/** Partial-message state shared by many endpoints: the global caps and the global oldest-first order. */
export class ReassemblyPool {
  readonly maxMessages: number;
  readonly maxBytes: number;
  messages = 0;
  bytes = 0;
  /** Live partials in creation order (a Set keeps insertion order): the first is the oldest. */
  readonly order = new Set<Partial>();
  /** Earliest time the oldest partial can be due: sweeps before it are skipped. */
  private due = Infinity;

  constructor(limits: PoolLimits = {}) {
    this.maxMessages = positive(limits.maxMessages, DEFAULT_MAX_MESSAGES_GLOBAL, 'maxMessages');
    this.maxBytes = positive(limits.maxBytes, DEFAULT_MAX_BYTES_GLOBAL, 'maxBytes');
  }

  /** @internal Registers a new partial due at `due`. */
  add(p: Partial, due: number): void {
    this.order.add(p);
    this.messages++;
    if (due < this.due) this.due = due;
  }

  /** Discards the pool's partials that are older than their owner's expiry. Free when nothing is due. */
  sweep(now: number): void {
    if (now < this.due) return;
    this.due = Infinity;
    for (const p of this.order) {
      if (now - p.created < p.owner.expiryMs) {
        // Creation order is time order for a monotonic clock; the oldest not being due ends the scan (a partial of
        // a reassembler with a shorter expiry further on is covered by that reassembler's own sweep).
        this.due = p.created + p.owner.expiryMs;
        break;
      }
      p.owner.discard(p, 'expired');
    }
  }
}

let sharedPool: ReassemblyPool | undefined;

/** The pool reassemblers use unless given one: one per thread, with the default global caps. */
export function sharedReassemblyPool(): ReassemblyPool {
  return (sharedPool ??= new ReassemblyPool());
}

/**
 * Checksum scratch shared by all reassemblers of the thread (used only inside validate, which calls out to nothing
 * but the hash): pairs || IV, and its view for a body without padding (the usual full body) made once.
 */
const scratch = new Uint8Array(PAIRS_MAX + IV_SIZE);
const scratchFull = scratch.subarray(0, PAIRS_MAX + IV_SIZE);

/** How far beyond the received bytes a first buffer may reach on the strength of the I2NP size hint. */
const INITIAL_AHEAD = 8 * FOLLOW_ON_MAX;

/** Where each pair of the body being processed starts; filled by validation, used by processing. */
const MAX_PAIRS = Math.ceil(PAIRS_MAX / 4);

export class Reassembler {
  readonly expiryMs: number;
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly pool: ReassemblyPool;
  /** Partial messages of this endpoint in creation order. */
  private readonly partials = new Map<number, Partial>();
  messages = 0;
  bytes = 0;
  /** Bodies pushed and accepted; messages delivered. */
  accepted = 0;
  delivered = 0;
  readonly drops: Record<ReassemblyDropReason, number>;
  private readonly onMessage: (m: DeliveredMessage) => void;
  private readonly clock: () => number;
  private readonly alloc: SlabAllocator;
  /** Earliest time a partial of this endpoint can be due (Infinity when none): push skips the sweep before it. */
  private due = Infinity;
  private readonly pairOff = new Int32Array(MAX_PAIRS);
  private depth = 0;

  constructor(opts: ReassemblerOptions) {
    if (typeof opts?.onMessage !== 'function') throw new TypeError('onMessage must be a function');
    this.onMessage = opts.onMessage;
    this.clock = opts.clock ?? Date.now;
    this.expiryMs = positive(opts.expiryMs, DEFAULT_EXPIRY_MS, 'expiryMs');
    this.maxMessages = positive(opts.maxMessagesPerTunnel, DEFAULT_MAX_MESSAGES_PER_TUNNEL, 'maxMessagesPerTunnel');
    this.maxBytes = positive(opts.maxBytesPerTunnel, DEFAULT_MAX_BYTES_PER_TUNNEL, 'maxBytesPerTunnel');
    this.pool = opts.pool ?? sharedReassemblyPool();
    this.alloc = opts.allocator ?? sharedAllocator();
    this.drops = Object.fromEntries([...BODY_DROP_REASONS, ...MESSAGE_DROP_REASONS].map((r) => [r, 0])) as Record<
      ReassemblyDropReason,
      number
    >;
  }

  /** Number of partial messages held. */
  get pending(): number {
    return this.partials.size;
  }

  /** Processes one 1028-byte body (all layers removed). Never throws for any content. */
  push(body: Uint8Array): PushResult {
    const now = this.clock();
    this.pool.sweep(now);
    this.sweep(now);
    // A handler that pushes into this reassembler from onMessage must not overwrite the pair table in use.
    const po = this.depth === 0 ? this.pairOff : new Int32Array(MAX_PAIRS);
    const r = this.validate(body, po);
    if (r !== 'ok') {
      this.drops[r]++;
      return r;
    }
    this.accepted++;
    this.depth++;
    try {
      this.process(body, now, po);
    } finally {
      this.depth--;
    }
    return 'ok';
  }

  /** Discards this endpoint's partial messages that are due (push does this too). */
  sweep(now: number = this.clock()): void {
    if (now < this.due) return;
    this.due = Infinity;
    for (const p of this.partials.values()) {
      if (now - p.created < this.expiryMs) {
        this.due = p.created + this.expiryMs;
        break;
      }
      this.discard(p, 'expired');
    }
  }

  /** Drops all partial state (tunnel gone). */
  clear(): void {
    for (const p of [...this.partials.values()]) this.unlink(p);
  }

  /** Checks separator, checksum and every pair; records pair offsets in pairOff (terminated by -1). */
  private validate(body: Uint8Array, po: Int32Array): PushResult {
    if (!(body instanceof Uint8Array) || body.length !== TUNNEL_DATA_SIZE) return 'bad-length';
    const end = TUNNEL_DATA_SIZE;
    const sep = body.indexOf(0, PADDING_OFFSET);
    if (sep < 0) return 'no-separator';
    const start = sep + 1;
    // checksum = SHA-256(body[start..end) || IV)[0..3] (tunnel-message.md §2.1)
    const n = end - start;
    const s = scratch;
    s.set(n === PAIRS_MAX ? body.subarray(start) : body.subarray(start, end), 0);
    for (let i = 0; i < IV_SIZE; i++) s[n + i] = body[IV_OFFSET + i]!;
    const c = checksum32(n === PAIRS_MAX ? scratchFull : s.subarray(0, n + IV_SIZE));
    if (c !== readU32(body, CHECKSUM_OFFSET)) return 'bad-checksum';
    // Whole-body validation (vectors-format.md, "Endpoint rules").
    let off = start;
    let k = 0;
    while (off < end) {
      const flag = body[off]!;
      let p: number;
      if (flag & FLAG_FOLLOW_ON) {
        if (((flag >> 1) & 0x3f) === 0) return 'malformed';
        p = off + FOLLOW_ON_INSTR_SIZE;
      } else {
        const code = (flag >> 5) & 3;
        if (code === 3 || (flag & FLAG_UNIMPLEMENTED_MASK) !== 0) return 'malformed';
        p = off + 3;
        if (code === DELIVERY_TUNNEL) p += 4 + HASH_SIZE;
        else if (code === DELIVERY_ROUTER) p += HASH_SIZE;
        if (flag & FLAG_FRAGMENTED) p += 4;
      }
      if (p > end) return 'malformed';
      const size = (body[p - 2]! << 8) | body[p - 1]!;
      if (size === 0 || p + size > end) return 'malformed';
      po[k++] = off;
      off = p + size;
    }
    if (k < MAX_PAIRS) po[k] = -1;
    return 'ok';
  }

  private process(body: Uint8Array, now: number, po: Int32Array): void {
    for (let k = 0; k < MAX_PAIRS; k++) {
      const off = po[k]!;
      if (off < 0) break;
      const flag = body[off]!;
      if (flag & FLAG_FOLLOW_ON) {
        const size = (body[off + 5]! << 8) | body[off + 6]!;
        const data = off + FOLLOW_ON_INSTR_SIZE;
        this.fragment(
          readU32(body, off + 1),
          (flag >> 1) & 0x3f,
          (flag & 1) === 1,
          body,
          data,
          size,
          now,
          -1,
          0,
          undefined,
        );
        continue;
      }
      const code = (flag >> 5) & 3;
      let p = off + 1;
      let tunnelId = 0;
      let toHash: Uint8Array | undefined;
      if (code === DELIVERY_TUNNEL) {
        tunnelId = readU32(body, p);
        p += 4;
      }
      if (code !== DELIVERY_LOCAL) {
        toHash = this.copyOut(body, p, HASH_SIZE);
        p += HASH_SIZE;
      }
      if (flag & FLAG_FRAGMENTED) {
        const msgId = readU32(body, p);
        const size = (body[p + 4]! << 8) | body[p + 5]!;
        this.fragment(msgId, 0, false, body, p + 6, size, now, code, tunnelId, toHash);
      } else {
        const size = (body[p]! << 8) | body[p + 1]!;
        this.deliver(code, tunnelId, toHash, this.copyOut(body, p + 2, size));
      }
    }
  }

  private fragment(
    msgId: number,
    num: number,
    last: boolean,
    body: Uint8Array,
    data: number,
    size: number,
    now: number,
    code: number,
    tunnelId: number,
    toHash: Uint8Array | undefined,
  ): void {
    let p = this.partials.get(msgId);
    if (p === undefined) {
      p = {
        owner: this,
        msgId,
        created: now,
        buf: undefined,
        len: 0,
        next: 0,
        have0: 0,
        have1: 0,
        ahead: undefined,
        aheadBytes: 0,
        last: -1,
        bytes: 0,
        code: -1,
        tunnelId: 0,
        toHash: undefined,
        live: true,
      };
      if (this.partials.size === 0) this.due = now + this.expiryMs;
      this.partials.set(msgId, p);
      this.pool.add(p, now + this.expiryMs);
      this.messages++;
    } else if ((num < 32 ? p.have0 >>> num : p.have1 >>> (num - 32)) & 1) {
      // A repeated fragment number of an incomplete message: ignored entirely, its last-flag too.
      this.drops['duplicate-fragment']++;
      return;
    }
    if (p.last >= 0 && num > p.last) {
      // Past the fixed end: can never be part of the message.
      this.drops['beyond-last']++;
      return;
    }
    if (num < 32) p.have0 |= 1 << num;
    else p.have1 |= 1 << (num - 32);
    if (num === 0) {
      p.code = code;
      p.tunnelId = tunnelId;
      p.toHash = toHash;
    }
    if (last && p.last < 0) {
      // The first fragment marked last fixes the end; copies held beyond it are freed
      // (before appending, so fragments past the end are never pulled in).
      p.last = num;
      const ahead = p.ahead;
      if (ahead !== undefined) {
        for (let i = num + 1; i < MAX_FRAGMENTS; i++) {
          const f = ahead[i];
          if (f === undefined) continue;
          ahead[i] = undefined;
          p.aheadBytes -= f.length;
          this.account(p, -f.length);
          this.drops['beyond-last']++;
        }
      }
    }
    if (num === p.next) {
      this.append(p, body, data, size);
      const ahead = p.ahead;
      if (ahead !== undefined) {
        for (let f = ahead[p.next]; f !== undefined && (p.last < 0 || p.next <= p.last); f = ahead[p.next]) {
          ahead[p.next] = undefined;
          p.aheadBytes -= f.length;
          this.account(p, -f.length);
          this.append(p, f, 0, f.length);
        }
      }
    } else {
      const copy = this.alloc.alloc(size);
      copy.set(body.subarray(data, data + size));
      (p.ahead ??= new Array<Uint8Array | undefined>(MAX_FRAGMENTS))[num] = copy;
      p.aheadBytes += size;
      this.account(p, size);
    }
    if (p.last >= 0 && p.next > p.last) {
      this.complete(p);
      return;
    }
    this.enforceCaps(p);
  }

  /** Appends fragment `p.next` (data[off, off+size)) to the message buffer, growing it when needed. */
  private append(p: Partial, src: Uint8Array, off: number, size: number): void {
    const need = p.len + size;
    let buf = p.buf;
    if (buf === undefined || need > buf.length) {
      // Capacity: fragment 0 normally starts with the I2NP header, whose size field (i2np.md §1) gives the total:
      // use it as a hint when plausible, so a well-formed message is allocated once. The endpoint never relies on
      // it (it does not look inside the bytes): a wrong hint only costs a regrowth.
      // The first allocation trusts a hint only up to INITIAL_AHEAD bytes beyond what has arrived, so a forged
      // header cannot make every garbage partial cost a 62 KB buffer.
      let cap: number;
      if (buf === undefined) {
        const hint = this.sizeHint(src, off, size);
        cap =
          hint >= need && hint <= need + INITIAL_AHEAD
            ? hint
            : need + (hint > need ? INITIAL_AHEAD : 2 * FOLLOW_ON_MAX);
      } else {
        const hint = this.sizeHint(buf, 0, p.len);
        cap = hint >= need ? hint : Math.max(need * 2, need + FOLLOW_ON_MAX);
      }
      const grown = this.alloc.alloc(cap);
      if (buf !== undefined) grown.set(buf.subarray(0, p.len));
      this.account(p, cap - (buf === undefined ? 0 : buf.length));
      p.buf = buf = grown;
    }
    buf.set(size === src.length && off === 0 ? src : src.subarray(off, off + size), p.len);
    p.len = need;
    p.next++;
  }

  /** Total length announced by an I2NP header at src[off..], or 0 when there is none or it is implausible. */
  private sizeHint(src: Uint8Array, off: number, avail: number): number {
    if (avail < I2NP_HEADER_SIZE) return 0;
    const total = I2NP_HEADER_SIZE + ((src[off + 13]! << 8) | src[off + 14]!);
    return total > avail && total <= I2NP_TUNNEL_MAX ? total : 0;
  }

  private account(p: Partial, delta: number): void {
    p.bytes += delta;
    this.bytes += delta;
    this.pool.bytes += delta;
  }

  private complete(p: Partial): void {
    this.unlink(p);
    if (p.len > I2NP_TUNNEL_MAX) {
      this.drops.oversize++;
      return;
    }
    const buf = p.buf!;
    // Hand over the buffer itself when it is (nearly) exact; copy when a regrowth left much unused capacity.
    const spare = buf.length - p.len;
    const msg = spare === 0 ? buf : spare <= 1024 ? buf.subarray(0, p.len) : this.copyOut(buf, 0, p.len);
    this.deliver(p.code, p.tunnelId, p.toHash, msg);
  }

  private copyOut(src: Uint8Array, off: number, len: number): Uint8Array {
    const m = this.alloc.alloc(len);
    m.set(src.subarray(off, off + len));
    return m;
  }

  private deliver(code: number, tunnelId: number, toHash: Uint8Array | undefined, message: Uint8Array): void {
    this.delivered++;
    const m: DeliveredMessage = { delivery: DELIVERY_NAMES[code]!, message };
    if (code === DELIVERY_TUNNEL) m.tunnelId = tunnelId;
    if (toHash !== undefined) m.toHash = toHash;
    this.onMessage(m);
  }

  /** Evicts the oldest partials (of this endpoint, then of the pool) until both are within their caps. */
  private enforceCaps(current: Partial): void {
    while (this.messages > this.maxMessages || this.bytes > this.maxBytes) {
      const oldest = this.partials.values().next().value!;
      this.discard(oldest, 'evicted-tunnel');
      if (oldest === current) break;
    }
    const pool = this.pool;
    while (pool.messages > pool.maxMessages || pool.bytes > pool.maxBytes) {
      const oldest = pool.order.values().next().value;
      if (oldest === undefined) break;
      oldest.owner.discard(oldest, 'evicted-global');
    }
  }

  /** @internal Discards a partial message, counting why. */
  discard(p: Partial, reason: MessageDropReason): void {
    if (!p.live) return;
    this.drops[reason]++;
    this.unlink(p);
  }

  private unlink(p: Partial): void {
    if (!p.live) return;
    p.live = false;
    this.partials.delete(p.msgId);
    this.pool.order.delete(p);
    this.messages--;
    this.pool.messages--;
    this.bytes -= p.bytes;
    this.pool.bytes -= p.bytes;
  }
}
