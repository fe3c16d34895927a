// Traffic for the private network (docs/network.md "Traffic"): M messages of random sizes (1 B to 30 KB, so most are
// fragmented into many tunnel messages) from sender to receiver over whatever paths the mode offers (our routers'
// tunnels, or I2CP sessions on i2pd routers), a bounded window in flight, each arrival matched byte for byte against
// what is still outstanding for that receiver. What arrives matching nothing is counted as corrupted; what does not
// arrive within the timeout is lost. Latencies, rate and percentiles for the summary.
import { createHash } from 'node:crypto';
import { createRng } from '../bench/random.js';

/** One way a message can leave: from a sender to a receiver (names as the mode gives them). */
export interface TrafficPath {
  from: string;
  to: string;
  /** Sends the payload (ownership passes); false when it was dropped before leaving. */
  send(payload: Uint8Array): boolean;
}

export interface TrafficOptions {
  messages: number;
  minSize?: number;
  maxSize?: number;
  /** Messages in flight at most (default 32; 512 when paced by durationMs, so a few lost ones do not stall it). */
  window?: number;
  /** Spread the sends evenly over this long (default: as fast as the window allows). */
  durationMs?: number;
  /** A message not delivered this long after it was sent is lost (default 10 s). */
  timeoutMs?: number;
  /** Payload seed (default random); logged in the result so a run can be repeated. */
  seed?: number;
  /** A path for message number i, or undefined when none is usable right now (retried shortly). */
  path(i: number): TrafficPath | undefined;
  /** Called before message number i is sent (fault injection: kill a router at i). */
  beforeSend?(i: number): Promise<void> | void;
  /** Stops sending early (SIGINT). */
  signal?: AbortSignal;
}

export interface TrafficSnapshot {
  sent: number;
  delivered: number;
  corrupted: number;
  lost: number;
  inFlight: number;
  bytesDelivered: number;
}

export interface TrafficResult extends TrafficSnapshot {
  seed: number;
  duplicates: number;
  latencyMsP50: number;
  latencyMsP99: number;
  latencyMsMax: number;
  messagesPerSecond: number;
  elapsedMs: number;
  /** When each delivery arrived, ms since the run began, in order. */
  arrivals: number[];
  timeline: { at: number; delivered: boolean; forgotten: boolean; from: string; to: string }[];
}

/** The summary line's traffic figures, in its order (both network modes report them alike). */
export function trafficFigures(r: TrafficResult) {
  return {
    sent: r.sent,
    delivered: r.delivered,
    corrupted: r.corrupted,
    lost: r.lost,
    latencyMsP50: r.latencyMsP50,
    latencyMsP99: r.latencyMsP99,
    messagesPerSecond: r.messagesPerSecond,
  };
}

interface Outstanding {
  i: number;
  sentAt: number;
  from: string;
  to: string;
}

/** Default sizes: 1 B to 30 KB (issue's range; above one tunnel message's ~1 KB, so fragmentation happens). */
export const MIN_SIZE = 1;
export const MAX_SIZE = 30 * 1024;
/** A path to retry after this long when none is usable. */
const NO_PATH_RETRY_MS = 50;

const keyOf = (to: string, p: Uint8Array) => `${to}/${p.length}/${createHash('sha256').update(p).digest('hex')}`;

export class TrafficRun {
  private readonly opts: TrafficOptions;
  private readonly outstanding = new Map<string, Outstanding[]>();
  private readonly expectedTo = new Set<string>();
  private inFlight = 0;
  private readonly counts = { sent: 0, delivered: 0, corrupted: 0, lost: 0, duplicates: 0, bytesDelivered: 0 };
  private readonly latencies: number[] = [];
  private readonly timeline: TrafficResult['timeline'] = [];
  private readonly delivered = new Set<number>();
  private readonly seen = new Set<string>();
  /** Messages from or to a killed router: arrivals of these are ignored. */
  private readonly forgotten = new Set<string>();
  private readonly forgottenIdx = new Set<number>();
  private startedAt = 0;
  private lastDeliveryAt = 0;
  private readonly arrivals: number[] = [];
  private wake: (() => void) | undefined;
  readonly seed: number;

  constructor(opts: TrafficOptions) {
    if (!Number.isInteger(opts.messages) || opts.messages < 0) throw new RangeError('messages must be >= 0');
    this.opts = opts;
    this.seed = (opts.seed ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
  }

  /** An arrival at receiver `to`: delivered if it matches a message outstanding for it, else corrupted. */
  received(to: string, payload: Uint8Array): void {
    const k = keyOf(to, payload);
    const list = this.outstanding.get(k);
    const o = list?.shift();
    if (!o) {
      if (this.forgotten.has(k)) return;
      // Seen before: the same bytes twice (a replay would be dropped by the routers, so this is worth counting).
      if (this.seen.has(k)) this.counts.duplicates++;
      else if (this.expectedTo.has(to)) this.counts.corrupted++;
      return;
    }
    if (list!.length === 0) this.outstanding.delete(k);
    this.seen.add(k);
    const now = performance.now();
    this.inFlight--;
    this.counts.delivered++;
    this.counts.bytesDelivered += payload.length;
    this.latencies.push(now - o.sentAt);
    this.delivered.add(o.i);
    this.lastDeliveryAt = now;
    this.arrivals.push(now - this.startedAt);
    this.wake?.();
  }

  /** Forgets what is outstanding for a receiver that is gone (a killed router): neither delivered nor lost. */
  forget(name: string): number {
    let n = 0;
    for (const [k, list] of this.outstanding) {
      const keep = list.filter((o) => o.to !== name && o.from !== name);
      for (const o of list) if (o.to === name || o.from === name) this.forgottenIdx.add(o.i);
      n += list.length - keep.length;
      if (keep.length !== list.length) this.forgotten.add(k);
      if (keep.length === 0) this.outstanding.delete(k);
      else this.outstanding.set(k, keep);
    }
    this.inFlight -= n;
    this.counts.sent -= n;
    return n;
  }

  /** Ms since the traffic began (the timeline's clock). */
  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  snapshot(): TrafficSnapshot {
    return { ...this.counts, inFlight: this.inFlight };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wake = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private expire(now: number, timeoutMs: number): void {
    for (const [k, list] of this.outstanding) {
      while (list.length > 0 && now - list[0]!.sentAt > timeoutMs) {
        list.shift();
        this.inFlight--;
        this.counts.lost++;
      }
      if (list.length === 0) this.outstanding.delete(k);
    }
  }

  async run(): Promise<TrafficResult> {
    const o = this.opts;
    const rng = createRng(this.seed);
    const min = o.minSize ?? MIN_SIZE;
    const max = o.maxSize ?? MAX_SIZE;
    const window = o.window ?? (o.durationMs !== undefined ? 512 : 32);
    const timeoutMs = o.timeoutMs ?? 10_000;
    const gapMs = o.durationMs !== undefined && o.messages > 0 ? o.durationMs / o.messages : 0;
    this.startedAt = performance.now();
    const sentAt: { at: number; from: string; to: string }[] = [];
    let noPathSince: number | undefined;
    for (let i = 0; i < o.messages && !o.signal?.aborted;) {
      const now = performance.now();
      this.expire(now, timeoutMs);
      const due = this.startedAt + i * gapMs;
      if (this.inFlight >= window || now < due) {
        await this.sleep(Math.max(1, Math.min(NO_PATH_RETRY_MS, due - now)));
        continue;
      }
      await o.beforeSend?.(i);
      const p = o.path(i);
      if (!p) {
        noPathSince ??= now;
        await this.sleep(NO_PATH_RETRY_MS);
        if (performance.now() - noPathSince > timeoutMs) {
          // No path for a whole timeout: this message is lost, the run goes on.
          sentAt.push({ at: now - this.startedAt, from: '', to: '' });
          this.counts.sent++;
          this.counts.lost++;
          noPathSince = undefined;
          i++;
        }
        continue;
      }
      noPathSince = undefined;
      const payload = rng.bytes(min + rng.int(max - min + 1));
      const k = keyOf(p.to, payload);
      this.expectedTo.add(p.to);
      const t = performance.now();
      let list = this.outstanding.get(k);
      if (!list) this.outstanding.set(k, (list = []));
      list.push({ i, sentAt: t, from: p.from, to: p.to });
      this.inFlight++;
      this.counts.sent++;
      sentAt.push({ at: t - this.startedAt, from: p.from, to: p.to });
      if (!p.send(payload)) {
        // Dropped before it left (no tunnel, queue full): lost now rather than after the timeout.
        list.pop();
        if (list.length === 0) this.outstanding.delete(k);
        this.inFlight--;
        this.counts.lost++;
      }
      i++;
    }
    // Stragglers: until everything arrived or timed out (bounded by the timeout).
    const end = performance.now() + timeoutMs + 100;
    while (this.inFlight > 0 && performance.now() < end && !o.signal?.aborted) {
      this.expire(performance.now(), timeoutMs);
      await this.sleep(50);
    }
    this.expire(Number.POSITIVE_INFINITY, 0);
    const lat = this.latencies.slice().sort((a, b) => a - b);
    const pct = (p: number) => (lat.length === 0 ? 0 : lat[Math.min(lat.length - 1, Math.ceil(p * lat.length) - 1)]!);
    const elapsedMs = (this.lastDeliveryAt || performance.now()) - this.startedAt;
    for (let i = 0; i < sentAt.length; i++)
      this.timeline.push({
        ...sentAt[i]!,
        at: Math.round(sentAt[i]!.at),
        delivered: this.delivered.has(i),
        forgotten: this.forgottenIdx.has(i),
      });
    return {
      ...this.counts,
      inFlight: this.inFlight,
      seed: this.seed,
      latencyMsP50: round(pct(0.5)),
      latencyMsP99: round(pct(0.99)),
      latencyMsMax: round(lat.length ? lat[lat.length - 1]! : 0),
      messagesPerSecond: elapsedMs > 0 ? round((this.counts.delivered * 1000) / elapsedMs) : 0,
      elapsedMs: Math.round(elapsedMs),
      arrivals: this.arrivals.map((a) => Math.round(a)),
      timeline: this.timeline,
    };
  }
}

const round = (x: number) => Math.round(x * 10) / 10;

/** The run passed: at least 99 % of the messages sent delivered, none corrupted (docs/network.md "Success"). */
export const DELIVERY_THRESHOLD = 0.99;
export function deliverySucceeded(r: { sent: number; delivered: number; corrupted: number }): boolean {
  return r.sent > 0 && r.corrupted === 0 && r.delivered >= Math.ceil(DELIVERY_THRESHOLD * r.sent);
}
