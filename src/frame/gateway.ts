// Gateway packing (OBGW and IBGW): I2NP messages (16-byte header included) with delivery instructions in,
// 1028-byte TunnelData bodies out (tunnel-message.md §2-§4).
//
// Packing is greedy: the open body is filled front to back; a message that does not fit is fragmented into the
// rest of the open body when its first fragment would carry more bytes than a follow-on header costs (7), else the
// open body is closed and the message starts a fresh one. Follow-ons carry up to 996 bytes each, the last one
// leaves its body open for the next message. Never a zero-length fragment, never more than 64 fragments.
// A body is closed when full, on flush(), or `flushDelayMs` after its first pair was written (injectable timer).
// Closing = fresh random IV, checksum over pairs || IV, fresh nonzero random padding in front, 0x00 separator;
// an outbound gateway then applies its tunnel's creator strip (the one call site: applyCreatorStrip).
import {
  CHECKSUM_OFFSET,
  FOLLOW_ON_INSTR_SIZE,
  FOLLOW_ON_MAX,
  I2NP_TUNNEL_MAX,
  IV_OFFSET,
  IV_SIZE,
  MAX_FRAGMENTS,
  PADDING_OFFSET,
  PAIRS_MAX,
  TUNNEL_DATA_SIZE,
} from '../constants.js';
import { checksum32 } from '../crypto/hash.js';
import { MessageTooLargeError } from '../errors.js';
import { creatorStrip, checkHopKeys, type HopKeys } from '../tunnel/aes-hop-reference.js';
import {
  checkDelivery,
  type Delivery,
  firstInstrSize,
  MSG_ID_SIZE,
  writeFirstInstr,
  writeFollowOnInstr,
  writeU32,
} from './delivery.js';
import { SLAB_BODY_SLACK, type SlabAllocator, sharedAllocator } from './alloc.js';
import { fillNonZero, type RandomSource, randomU32, systemRandom } from './random.js';

/** Timer functions the gateway uses for delayed flushes (injectable for tests). */
export interface FlushTimer {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimer: FlushTimer = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    // A pending flush must not keep the process alive.
    t.unref?.();
    return t;
  },
  clearTimeout(h) {
    clearTimeout(h as ReturnType<typeof setTimeout>);
  },
};

/** Default delay before a partial body is sent: Java I2P's client outbound batch frequency (tunnel-message.md §5.2). */
export const DEFAULT_FLUSH_DELAY_MS = 100;

export interface GatewayOptions {
  /** Receive tunnel id of the next hop (written to bytes 0..3 of every body). */
  tunnelId: number;
  /** Receives every finished body, in order. The body is the caller's. */
  onBody: (body: Uint8Array) => void;
  /** Outbound gateway: the tunnel's hops in forwarding order; their creator strip is applied to each body. */
  hops?: readonly HopKeys[];
  /** Milliseconds before a partial body is flushed; null: only when full or on flush(). */
  flushDelayMs?: number | null;
  timer?: FlushTimer;
  random?: RandomSource;
  /**
   * Where bodies are carved from (default: the thread's shared one). Bodies share 64 KiB slabs: a body's `.buffer`
   * holds other bodies too (src/frame/alloc.ts).
   */
  allocator?: SlabAllocator;
}

/** Applies the outbound gateway's pre-decryption: the only place the gateway calls the layer code. */
export function applyCreatorStrip(body: Uint8Array, hops: readonly HopKeys[]): void {
  if (hops.length > 0) creatorStrip(body, hops);
}

const LOCAL: Delivery = { delivery: 'LOCAL' };
/** Where the pairs start in a body without padding: after checksum and the 0x00 separator (tunnel-message.md §2). */
const PAIRS_OFFSET = PADDING_OFFSET + 1;

export class GatewayPacker {
  readonly tunnelId: number;
  private readonly onBody: (body: Uint8Array) => void;
  private readonly hops: readonly HopKeys[];
  private readonly flushDelayMs: number | null;
  private readonly timer: FlushTimer;
  private readonly random: RandomSource;
  /**
   * The open body plus SLAB_BODY_SLACK bytes after it (carved together): pairs are written in place from
   * PAIRS_OFFSET as if there were no padding and moved back at close when there is; the IV is copied into the slack
   * so that pairs || IV, what the checksum covers, is contiguous and hashed without a copy.
   */
  private wide: Uint8Array | undefined = undefined;
  private readonly iv = new Uint8Array(IV_SIZE);
  private readonly alloc: SlabAllocator;
  private used = 0;
  private pendingTimer: unknown = undefined;
  /** Counters. */
  bodies = 0;
  messages = 0;
  fragments = 0;

  constructor(opts: GatewayOptions) {
    if (typeof opts !== 'object' || opts === null) throw new TypeError('options must be an object');
    const { tunnelId } = opts;
    if (typeof tunnelId !== 'number' || !Number.isInteger(tunnelId) || tunnelId < 0 || tunnelId > 0xffffffff) {
      throw new RangeError('tunnelId must be an integer 0..2^32-1');
    }
    if (typeof opts.onBody !== 'function') throw new TypeError('onBody must be a function');
    const hops = opts.hops ?? [];
    if (!Array.isArray(hops)) throw new TypeError('hops must be an array');
    hops.forEach((h, i) => checkHopKeys(h, `hops[${i}]`));
    const delay = opts.flushDelayMs === undefined ? DEFAULT_FLUSH_DELAY_MS : opts.flushDelayMs;
    if (delay !== null && (typeof delay !== 'number' || !(delay >= 0)))
      throw new RangeError('flushDelayMs must be >= 0 or null');
    this.tunnelId = tunnelId;
    this.onBody = opts.onBody;
    this.hops = hops;
    this.flushDelayMs = delay;
    this.timer = opts.timer ?? realTimer;
    this.random = opts.random ?? systemRandom;
    this.alloc = opts.allocator ?? sharedAllocator();
  }

  /** Bytes of pairs in the open body (0: no open body). */
  get openBytes(): number {
    return this.used;
  }

  /**
   * Queues one I2NP message (16-byte header included). Bodies that fill up are emitted at once; the rest waits
   * for flush() or the flush delay. Throws MessageTooLargeError above 62 708 bytes, RangeError for an empty message,
   * TypeError / RangeError for a bad delivery; nothing is queued then.
   */
  send(message: Uint8Array, delivery: Delivery = LOCAL): void {
    if (!(message instanceof Uint8Array)) throw new TypeError('message must be a Uint8Array');
    const len = message.length;
    if (len > I2NP_TUNNEL_MAX) {
      throw new MessageTooLargeError(
        `message of ${len} bytes exceeds the tunnel limit of ${I2NP_TUNNEL_MAX} bytes (64 fragments)`,
      );
    }
    if (len === 0) throw new RangeError('message must not be empty (a zero-length fragment is malformed)');
    const code = checkDelivery(delivery);
    this.messages++;
    const whole = firstInstrSize(code, false);
    const first = whole + MSG_ID_SIZE;
    for (;;) {
      const remaining = PAIRS_MAX - this.used;
      if (whole + len <= remaining) {
        const w = this.open();
        const off = writeFirstInstr(w, PAIRS_OFFSET + this.used, code, delivery, -1, len);
        w.set(message, off);
        this.fragments++;
        this.advance(off + len - PAIRS_OFFSET);
        return;
      }
      const firstSize = remaining - first;
      // Fragment into the open body only if that saves space (the first fragment carries more than a follow-on
      // header costs) and the rest fits in the 63 follow-ons the 6-bit fragment number allows.
      if (firstSize > FOLLOW_ON_INSTR_SIZE && Math.ceil((len - firstSize) / FOLLOW_ON_MAX) < MAX_FRAGMENTS) {
        this.fragment(message, code, delivery, firstSize);
        return;
      }
      // An empty body always takes the message (whole, or a >= 956-byte first fragment): the loop ends.
      this.closeBody();
    }
  }

  /** Sends the open body now, padded, if it holds anything. */
  flush(): void {
    if (this.used > 0) this.closeBody();
  }

  /** Flushes and cancels the timer. */
  close(): void {
    this.flush();
    this.cancelTimer();
  }

  private fragment(message: Uint8Array, code: number, delivery: Delivery, firstSize: number): void {
    const msgId = randomU32(this.random);
    let w = this.open();
    let off = writeFirstInstr(w, PAIRS_OFFSET + this.used, code, delivery, msgId, firstSize);
    w.set(message.subarray(0, firstSize), off);
    this.fragments++;
    this.advance(off + firstSize - PAIRS_OFFSET); // fills the body exactly: closes it
    let sent = firstSize;
    for (let n = 1; sent < message.length; n++) {
      const size = Math.min(message.length - sent, FOLLOW_ON_MAX);
      const last = sent + size === message.length;
      w = this.open();
      off = writeFollowOnInstr(w, PAIRS_OFFSET + this.used, n, last, msgId, size);
      w.set(message.subarray(sent, sent + size), off);
      sent += size;
      this.fragments++;
      this.advance(off + size - PAIRS_OFFSET);
    }
  }

  /** The open body (wide view), carving a new one when none is open. */
  private open(): Uint8Array {
    return (this.wide ??= this.alloc.alloc(TUNNEL_DATA_SIZE + SLAB_BODY_SLACK));
  }

  /** Records the new fill level; closes a full body, arms the flush timer for a newly opened one. */
  private advance(used: number): void {
    const wasEmpty = this.used === 0;
    this.used = used;
    if (used === PAIRS_MAX) this.closeBody();
    else if (wasEmpty && this.flushDelayMs !== null && this.pendingTimer === undefined) {
      this.pendingTimer = this.timer.setTimeout(() => {
        this.pendingTimer = undefined;
        this.flush();
      }, this.flushDelayMs);
    }
  }

  private cancelTimer(): void {
    if (this.pendingTimer !== undefined) {
      this.timer.clearTimeout(this.pendingTimer);
      this.pendingTimer = undefined;
    }
  }

  private closeBody(): void {
    const used = this.used;
    const padding = PAIRS_MAX - used;
    const w = this.wide!;
    this.wide = undefined;
    // Pairs were written as if there were no padding: move them to the end (memmove, in place).
    if (padding > 0) w.copyWithin(PAIRS_OFFSET + padding, PAIRS_OFFSET, PAIRS_OFFSET + used);
    writeU32(w, 0, this.tunnelId);
    // A byte loop rather than a subarray view for the 16-byte IV: the view costs more than the loop.
    const iv = this.iv;
    this.random.fill(iv);
    for (let i = 0; i < IV_SIZE; i++) {
      w[IV_OFFSET + i] = iv[i]!;
      w[TUNNEL_DATA_SIZE + i] = iv[i]!;
    }
    // checksum = SHA-256(pairs || IV)[0..3] (tunnel-message.md §2.1), hashed in place thanks to the slack.
    const start = PAIRS_OFFSET + padding;
    writeU32(w, CHECKSUM_OFFSET, checksum32(new Uint8Array(w.buffer, w.byteOffset + start, used + IV_SIZE)));
    if (padding > 0) fillNonZero(this.random, w.subarray(PADDING_OFFSET, PADDING_OFFSET + padding));
    w[PADDING_OFFSET + padding] = 0;
    const body = new Uint8Array(w.buffer, w.byteOffset, TUNNEL_DATA_SIZE);
    this.used = 0;
    this.bodies++;
    this.cancelTimer();
    applyCreatorStrip(body, this.hops);
    this.onBody(body);
  }
}

/** One item for packMessages. */
export interface GatewayItem extends Delivery {
  message: Uint8Array;
}

/** Packs `items` at once, flushes, and returns the bodies (the conformance runner's `gateway` kind). */
export function packMessages(
  items: readonly GatewayItem[],
  opts: { tunnelId: number; hops?: readonly HopKeys[]; random?: RandomSource },
): Uint8Array[] {
  const out: Uint8Array[] = [];
  const gw = new GatewayPacker({ ...opts, flushDelayMs: null, onBody: (b) => out.push(b) });
  for (const it of items) gw.send(it.message, it);
  gw.close();
  return out;
}
