// The tunnel layer engine: what one thread of a router does to each 1028-byte TunnelData body it handles, for every
// tunnel role (tunnel-crypto-aes.md §3, §4; docs/chacha-layer.md). Synchronous, batch-oriented, one per thread;
// statuses, never exceptions, for bad messages (control-plane calls -- join, end -- do throw on bad configs).
//
//   const engine = new LayerEngine({ replayFilter: sab });          // sab shared by all worker threads
//   engine.join({ role: 'participant', layer: 'aes', receiveTunnelId, nextTunnelId, nextHop, layerKey, ivKey });
//   engine.processReceived(batch);   // TunnelData from the network: participant, OBEP, IBEP
//   engine.processGateway(batch);    // locally framed bodies: OBGW (pre-decryption), IBGW (its own layer)
//
// Per message, in order (processReceived): tunnel lookup by body[0..3] -> expiry -> previous hop -> replay filter
// (participant, OBEP, IBEP; never IBGW; ChaCha: right after the AEAD tag verified) -> transform -> tunnel id
// rewrite. Messages of one tunnel hop in a batch are transformed together (the fast paths of the backend). A tunnel
// with no previous hop yet pins the sender of its first message that passes every check (replay; ChaCha: tag).
// A batch that throws (a backend failure) leaves no per-batch state behind: the next batch starts clean.
// Backends (LayerEngineOptions.backend): 'node' (aes-node.ts), 'wasm' (assembly/layer.ts via wasm-backend.ts),
// 'hybrid' (AES: WASM ECB for the IV steps of the batch, node:crypto CBC), 'native' (AES: the OpenSSL addon,
// aes-native.ts), 'auto' = for AES native when the CPU has AES instructions and the addon is built (hybrid without
// the addon, wasm without AES instructions), wasm for ChaCha.
import {
  AES256_KEY_SIZE, DATA_OFFSET, IV_OFFSET, MAX_BATCH, STATUS_BAD_MAC, STATUS_EXPIRED_TUNNEL, STATUS_OK,
  STATUS_REPLAY, STATUS_REPLAY_FULL, STATUS_UNKNOWN_TUNNEL, STATUS_WRONG_PREV_HOP, TUNNEL_DATA_SIZE,
} from '../constants.js';
import { cpuHasAes } from '../crypto/aes.js';
import { AES_KEY_SLOTS, CHACHA_KEY_SLOTS } from '../constants.js';
import { NodeAesHop } from './aes-node.js';
import { NativeAesHop, nativeAes, nativeAesProblem } from './aes-native.js';
import {
  chachaAeadOpen, chachaAeadSeal, chachaLayerForward, chachaLayerInverse, CHACHA_TUNNEL_NONCE_OFFSET,
} from './chacha-layer.js';
import { createReplayFilterBuffer, REPLAY_FRESH, REPLAY_SEEN, ReplayFilter } from './replay-filter.js';
import {
  MODE_FORWARD, MODE_INVERSE, MODE_OPEN, MODE_SEAL, MODE_SET_ID, WasmLayer,
} from './wasm-backend.js';
import {
  LOCAL_HOP, ROLE_IBEP, ROLE_IBGW, ROLE_OBEP, ROLE_OBGW, ROLE_PARTICIPANT, TUNNEL_GRACE_MS, TUNNEL_LIFETIME_MS,
  type EngineBackend, type HopKeyConfig, type LayerBatch, type LayerEngineHooks, type LayerEngineOptions,
  type LayerEngineStats, type LayerType, type TunnelConfig, type TunnelRole,
} from './types.js';
import { EngineClosedError } from '../errors.js';
import { TEST_SEAM, type EngineSeam } from '../test-seam.js';

export * from './types.js';

const MAX_HOPS = 8;
const NO_PREV = -1;
/** How long an ended tunnel is remembered (status 'expired' rather than 'unknown'). */
const TOMBSTONE_MS = TUNNEL_LIFETIME_MS;
const SWEEP_INTERVAL_MS = 1000;
/**
 * node path: from this many messages of one tunnel in a batch, CBC encryption runs block by block across the
 * messages (63 ECB calls, parallel in AES-NI) instead of one CBC call per message (aes-node.ts encryptInterleaved;
 * measured 1.1x faster at 64 messages, 1.5x at 256, slower below ~48).
 */
const INTERLEAVED_CBC_MIN = 48;
/**
 * Hybrid backend: a tunnel with at least this many messages in a batch runs CBC sideways (aes-node.ts
 * encryptSideways); below it, its messages get the WASM IV steps and one CBC call each. The node path below INTERLEAVED_CBC_MIN
 * (node:crypto ECB for the IV steps, then a CBC call per message) costs two more node:crypto calls per tunnel, and
 * every call returns a fresh Buffer whose backing store V8 frees on a helper thread (concurrent ArrayBuffer
 * sweeping): measured (docs/bench/2026-11-22-data-plane.md): 4 messages per tunnel cost 4.6 us of process CPU per message
 * that way against 3.9 us here (batch 256, 64 tunnels: 258k -> 292k msg/s on one thread, and the helper thread's
 * share, which does not scale to more worker threads, fell from 0.19 to 0.13 cores).
 */
const HYBRID_SIDEWAYS_MIN = INTERLEAVED_CBC_MIN;
/** Hybrid backend: messages staged per WASM IV call (fixed scratch; measured no slower than one call per batch). */
const HYBRID_CHUNK = 32;

interface HopState {
  layer: LayerType;
  /** node and hybrid backends, AES. */
  aes: NodeAesHop | null;
  /** native backend, AES. */
  nat: NativeAesHop | null;
  /** node backend, ChaCha: key copies, zeroed on end. */
  layerKey: Uint8Array;
  ivKey: Uint8Array;
  /** wasm backend: key slots (AES or ChaCha slots by layer), -1 when not used. */
  slotA: number;
  slotB: number;
}

interface TunnelState {
  role: TunnelRole;
  code: number;
  layer: LayerType;
  id: number;
  nextTunnelId: number;
  nextHop: number;
  prevHop: number;
  expiresAt: number;
  ended: boolean;
  /** Transit: one hop (own keys). Creator: hops in forwarding order. */
  hops: HopState[];
  inAeadKey: Uint8Array | null;
  outAeadKey: Uint8Array | null;
  /** wasm backend, ChaCha: AEAD key slots (-1: none). */
  inSlot: number;
  outSlot: number;
  /** Indices of this batch's messages for the tunnel (reused). */
  pending: number[];
}

const ROLE_CODES: Record<TunnelRole, number> = {
  participant: ROLE_PARTICIPANT, obep: ROLE_OBEP, ibgw: ROLE_IBGW, obgw: ROLE_OBGW, ibep: ROLE_IBEP,
};

function checkKey(k: unknown, what: string): Uint8Array {
  if (!(k instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
  if (k.length !== AES256_KEY_SIZE) throw new RangeError(`${what} must be 32 bytes, not ${k.length}`);
  return k;
}

function checkU32(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new TypeError(`${what} must be an integer 0..2^32-1`);
  }
  return v;
}

/**
 * A single-thread tunnel layer engine. Make one per worker thread; share the replay filter's SharedArrayBuffer
 * between them. Tunnels joined on one engine are only known to that engine: route all traffic of a tunnel to the
 * same thread (e.g. by receive tunnel id).
 */
export class LayerEngine {
  /** The backend of AES tunnels. */
  readonly aesBackend: Exclude<EngineBackend, 'auto'>;
  /** The backend of ChaCha tunnels. */
  readonly chachaBackend: 'wasm' | 'node';
  private readonly flavor: LayerEngineOptions['flavor'];
  private wasmLayer: WasmLayer | null = null;
  readonly replay: ReplayFilter;
  private readonly now: () => number;
  private readonly graceMs: number;
  /** Tunnels found by body[0..3] of TunnelData from the network: participant, OBEP, IBEP. */
  private readonly received = new Map<number, TunnelState>();
  /** Tunnels found by body[0..3] of locally framed bodies: IBGW, OBGW. */
  private readonly gateways = new Map<number, TunnelState>();
  private readonly touched: TunnelState[] = [];
  private scratch = new Uint8Array(64 * 1008);
  /** Hybrid AES: the tunnel and body index of each message staged in the current chunk. */
  private readonly chunkSt: (TunnelState | null)[] = new Array<TunnelState | null>(HYBRID_CHUNK).fill(null);
  private readonly chunkAt = new Int32Array(HYBRID_CHUNK);
  /** Native AES: byte offsets of one tunnel's messages in the batch. */
  private readonly nativeAt = new Int32Array(MAX_BATCH);
  /** ChaCha replay entries of the current batch (received nonces), checked after the AEAD tag. */
  private readonly chachaEntries = new Uint8Array(MAX_BATCH * 16);
  /** node ChaCha path: a copy of the body being processed, restored when it turns out to be a replay. */
  private readonly saved = new Uint8Array(TUNNEL_DATA_SIZE);
  private batchNow = 0;
  /** The last Int32 view made by wordsOf (callers usually pass the same buffer batch after batch). */
  private words: Int32Array | null = null;
  private lastSweep = 0;
  private closed = false;
  private readonly counters: LayerEngineStats = {
    processed: 0, ok: 0, unknownTunnel: 0, expiredTunnel: 0, replayed: 0, wrongPrevHop: 0, badMac: 0, wrongRole: 0,
    replayFull: 0,
  };

  constructor(options: LayerEngineOptions = {}, hooks: LayerEngineHooks = {}) {
    const b = options.backend ?? 'auto';
    if (b !== 'auto' && b !== 'wasm' && b !== 'node' && b !== 'hybrid' && b !== 'native') throw new TypeError(`unknown backend '${String(b)}'`);
    if (b === 'native' && !nativeAes) throw new Error(`backend 'native': ${nativeAesProblem}`);
    // 'auto': the faster backend per layer as measured (README.md, "Tunnel layers"): OpenSSL for AES (AES-NI against a
    // constant-time bitsliced WASM AES) -- through the native addon when it is built, else through node:crypto --
    // and WASM for ChaCha (node:crypto needs a cipher object per nonce). Without AES instructions OpenSSL may use
    // table-based AES (secret-indexed loads), and native and hybrid both run OpenSSL: the WASM AES layer then.
    this.aesBackend = b === 'auto' ? (!cpuHasAes() ? 'wasm' : nativeAes ? 'native' : 'hybrid') : b;
    this.chachaBackend = b === 'auto' || b === 'hybrid' || b === 'native' ? 'wasm' : b;
    this.flavor = options.flavor;
    this.now = hooks.now ?? Date.now;
    this.graceMs = options.graceMs ?? TUNNEL_GRACE_MS;
    if (typeof this.graceMs !== 'number' || !(this.graceMs >= 0) || !Number.isFinite(this.graceMs)) throw new RangeError('graceMs must be a number >= 0');
    // A private filter (single thread) is sized from these options: entries kept as long as a default tunnel accepts
    // traffic, at the given rate (tunnel-crypto-aes.md §5).
    this.replay = new ReplayFilter(options.replayFilter ?? createReplayFilterBuffer({
      messagesPerSecond: options.messagesPerSecond ?? 1000, windowMs: Math.ceil(TUNNEL_LIFETIME_MS + this.graceMs),
    }));
  }

  /**
   * Starts processing a tunnel (transit: participant / OBEP / IBGW; built: OBGW / IBEP). Keys are copied; the
   * caller may wipe its copies. Throws TypeError/RangeError for a bad config, or Error when the id is taken.
   */
  join(config: TunnelConfig): void {
    if (this.closed) throw new EngineClosedError();
    const role = config?.role;
    if (!(role in ROLE_CODES)) throw new TypeError(`unknown tunnel role '${String(role)}'`);
    const layer = config.layer;
    if (layer !== 'aes' && layer !== 'chacha') throw new TypeError(`unknown layer '${String(layer)}'`);
    const joinedAt = this.now();
    const expiresAt = config.expiresAt ?? joinedAt + TUNNEL_LIFETIME_MS;
    if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) throw new TypeError('expiresAt must be a number (epoch ms)');
    // A receiving tunnel's replay entries are kept until it stops accepting traffic: the filter must reach that far.
    if (role !== 'obgw' && role !== 'ibgw' && expiresAt + this.graceMs - joinedAt > this.replay.windowMs) {
      throw new RangeError(`expiresAt + grace is more than the replay filter's window (${this.replay.windowMs} ms) away`);
    }
    const wasm = (layer === 'aes' ? this.aesBackend : this.chachaBackend) === 'wasm';
    const hybrid = layer === 'aes' && this.aesBackend === 'hybrid';
    // Validate everything before taking any key slot.
    const hopConfigs: HopKeyConfig[] = config.role === 'obgw' || config.role === 'ibep' ? config.hops : [config];
    if (!Array.isArray(hopConfigs) || hopConfigs.length < 1 || hopConfigs.length > MAX_HOPS) {
      throw new RangeError(`hops must have 1..${MAX_HOPS} entries`);
    }
    hopConfigs.forEach((h, i) => {
      const what = hopConfigs.length === 1 && h === config ? 'config' : `hops[${i}]`;
      checkKey(h?.layerKey, `${what}.layerKey`);
      checkKey(h?.ivKey, `${what}.ivKey`);
    });
    const aeadKey = (k: Uint8Array | undefined, what: string, required: boolean): Uint8Array | null => {
      if (layer !== 'chacha') return null;
      if (k === undefined) {
        if (required) throw new TypeError(`${what} is required for a chacha ${role}`);
        return null;
      }
      return Uint8Array.from(checkKey(k, what));
    };
    const hop = (h: HopKeyConfig): HopState => {
      const none = new Uint8Array(0);
      if (wasm) {
        const w = this.wasm();
        const slotA = layer === 'aes' ? w.aesKey(h.layerKey) : w.chachaKey(h.layerKey);
        const slotB = layer === 'aes' ? w.aesKey(h.ivKey) : w.chachaKey(h.ivKey);
        return { layer, aes: null, nat: null, layerKey: none, ivKey: none, slotA, slotB };
      }
      if (layer === 'aes' && this.aesBackend === 'native') {
        return { layer, aes: null, nat: new NativeAesHop(h.layerKey, h.ivKey), layerKey: none, ivKey: none, slotA: -1, slotB: -1 };
      }
      if (hybrid) {
        // node:crypto for CBC (and for creators' strips), a WASM slot for the batched IV steps.
        return { layer, aes: new NodeAesHop(h.layerKey, h.ivKey), nat: null, layerKey: none, ivKey: none, slotA: -1, slotB: this.wasm().aesKey(h.ivKey) };
      }
      return layer === 'aes'
        ? { layer, aes: new NodeAesHop(h.layerKey, h.ivKey), nat: null, layerKey: none, ivKey: none, slotA: -1, slotB: -1 }
        : { layer, aes: null, nat: null, layerKey: Uint8Array.from(h.layerKey), ivKey: Uint8Array.from(h.ivKey), slotA: -1, slotB: -1 };
    };
    let st: TunnelState;
    const base = { role, code: ROLE_CODES[role], layer, expiresAt, ended: false, pending: [] as number[], inSlot: -1, outSlot: -1 };
    if (config.role === 'obgw') {
      st = {
        ...base, id: checkU32(config.gatewayTunnelId, 'gatewayTunnelId'),
        nextTunnelId: checkU32(config.firstHopTunnelId, 'firstHopTunnelId'), nextHop: checkU32(config.firstHop, 'firstHop'),
        prevHop: NO_PREV, hops: [],
        inAeadKey: null, outAeadKey: aeadKey(config.outAeadKey, 'outAeadKey', true),
      };
    } else if (config.role === 'ibep') {
      const id = checkU32(config.receiveTunnelId, 'receiveTunnelId');
      st = {
        ...base, id, nextTunnelId: id, nextHop: LOCAL_HOP,
        prevHop: config.previousHop === undefined ? NO_PREV : checkU32(config.previousHop, 'previousHop'),
        hops: [],
        inAeadKey: aeadKey(config.inAeadKey, 'inAeadKey', true), outAeadKey: null,
      };
    } else {
      const id = checkU32(config.receiveTunnelId, 'receiveTunnelId');
      const obep = role === 'obep';
      st = {
        ...base, id,
        nextTunnelId: obep ? id : checkU32(config.nextTunnelId, 'nextTunnelId'),
        nextHop: obep ? LOCAL_HOP : checkU32(config.nextHop, 'nextHop'),
        prevHop: config.previousHop === undefined ? NO_PREV : checkU32(config.previousHop, 'previousHop'),
        hops: [],
        inAeadKey: aeadKey(config.inAeadKey, 'inAeadKey', role !== 'ibgw'),
        outAeadKey: aeadKey(config.outAeadKey, 'outAeadKey', role !== 'obep'),
      };
    }
    const table = role === 'obgw' || role === 'ibgw' ? this.gateways : this.received;
    const old = table.get(st.id);
    if (old && !old.ended) {
      this.wipeState(st);
      throw new Error(`tunnel id ${st.id} is already in use by a ${old.role} tunnel`);
    }
    try {
      for (const h of hopConfigs) st.hops.push(hop(h));
      if (wasm && st.inAeadKey) st.inSlot = this.wasm().chachaKey(st.inAeadKey);
      if (wasm && st.outAeadKey) st.outSlot = this.wasm().chachaKey(st.outAeadKey);
    } catch (err) {
      this.wipeState(st);
      throw err;
    }
    if (wasm) {
      // The slots hold the keys now: keep no other copy.
      st.inAeadKey?.fill(0);
      st.outAeadKey?.fill(0);
    }
    if (old) this.forget(old);
    table.set(st.id, st);
  }

  /**
   * Ends a tunnel now: keys zeroed, later messages get STATUS_EXPIRED_TUNNEL (then STATUS_UNKNOWN_TUNNEL once
   * forgotten). `gateway` selects the table: true for IBGW/OBGW ids, false (default) for participant/OBEP/IBEP.
   * Returns false when no such tunnel was active.
   */
  end(tunnelId: number, gateway = false): boolean {
    if (this.closed) return false;
    const st = (gateway ? this.gateways : this.received).get(tunnelId);
    if (!st || st.ended) return false;
    this.wipeState(st);
    st.ended = true;
    st.expiresAt = Math.min(st.expiresAt, this.now() - this.graceMs);
    return true;
  }

  /** Number of tunnels whose keys are live. */
  get activeTunnels(): number {
    let n = 0;
    for (const t of this.received.values()) if (!t.ended) n++;
    for (const t of this.gateways.values()) if (!t.ended) n++;
    return n;
  }

  /**
   * Ends every tunnel past expiresAt + grace (keys zeroed) and forgets ended ones after a further 10 minutes.
   * Called by the batch methods at most once a second; call it from a timer when traffic is idle.
   */
  sweep(now = this.now()): void {
    if (this.closed) return;
    this.lastSweep = now;
    for (const table of [this.received, this.gateways]) {
      for (const [id, st] of table) {
        if (!st.ended && now >= st.expiresAt + this.graceMs) {
          this.wipeState(st);
          st.ended = true;
        }
        if (st.ended && now >= st.expiresAt + this.graceMs + TOMBSTONE_MS) {
          this.forget(st);
          table.delete(id);
        }
      }
    }
  }

  /**
   * TunnelData bodies received from the network (participant, OBEP, IBEP), found by body[0..3] (receive tunnel id).
   * Transforms the accepted ones in place and fills status / nextHops / nextTunnelIds (/ roles). Participants get P
   * and their next tunnel id in body[0..3]; OBEP and IBEP output (next hop LOCAL_HOP) is the gateway's plaintext
   * with body[0..3] left as received. Returns the number of STATUS_OK messages.
   */
  processReceived(batch: LayerBatch): number {
    if (this.closed) throw new EngineClosedError();
    return this.process(batch, false);
  }

  /**
   * Locally framed plaintext bodies of our gateways, found by body[0..3]: an IBGW's receive tunnel id (its own layer
   * P is applied) or an OBGW's gatewayTunnelId (P^-1 of hop n ... hop 1). body[0..3] := next tunnel id. No replay or
   * previous-hop check. Returns the number of STATUS_OK messages.
   */
  processGateway(batch: LayerBatch): number {
    if (this.closed) throw new EngineClosedError();
    return this.process(batch, true);
  }

  /**
   * Ends every tunnel and wipes every copy of a key this engine holds: each hop state through the path end() takes
   * (key copies zeroed, cipher contexts freed, slots cleared), then the whole private WASM memory (key slots, the
   * KEY_IN staging area, the kernels' work areas) and the JS scratch buffers. Afterwards join / process calls throw
   * EngineClosedError and end / sweep do nothing. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    // The tombstones stay (all-zero keys, no slots), so the tables answer as for ended tunnels.
    for (const table of [this.received, this.gateways]) {
      for (const st of table.values()) {
        this.wipeState(st);
        st.ended = true;
        st.pending.length = 0;
      }
    }
    this.touched.length = 0;
    this.chunkSt.fill(null);
    this.wasmLayer?.wipeMemory();
    this.wasmLayer = null;
    this.scratch.fill(0);
    this.saved.fill(0);
    this.chachaEntries.fill(0);
    this.words = null;
  }

  /** Free WASM key slots of each kind (what a join takes depends on the backend: docs/data-plane-safety.md). */
  get freeKeySlots(): { aes: number; chacha: number } {
    if (this.closed) return { aes: 0, chacha: 0 };
    return this.wasmLayer?.freeSlots() ?? { aes: AES_KEY_SLOTS, chacha: CHACHA_KEY_SLOTS };
  }

  stats(): LayerEngineStats {
    return { ...this.counters };
  }

  resetStats(): void {
    for (const k of Object.keys(this.counters) as (keyof LayerEngineStats)[]) this.counters[k] = 0;
  }

  private process(batch: LayerBatch, gateway: boolean): number {
    const { count, bodies, prevHops, status, nextHops, nextTunnelIds, roles } = batch;
    if (!Number.isInteger(count) || count < 0 || count > MAX_BATCH) throw new RangeError(`count must be 0..${MAX_BATCH}`);
    if (!(bodies instanceof Uint8Array) || bodies.length < count * TUNNEL_DATA_SIZE) {
      throw new RangeError(`bodies must be a Uint8Array of at least count x ${TUNNEL_DATA_SIZE} bytes`);
    }
    if (!gateway && !(prevHops instanceof Uint32Array && prevHops.length >= count)) throw new RangeError('prevHops must be a Uint32Array of count entries');
    if (!(status instanceof Uint8Array) || status.length < count) throw new RangeError('status must be a Uint8Array of count entries');
    if (!(nextHops instanceof Uint32Array) || nextHops.length < count) throw new RangeError('nextHops must be a Uint32Array of count entries');
    if (!(nextTunnelIds instanceof Uint32Array) || nextTunnelIds.length < count) throw new RangeError('nextTunnelIds must be a Uint32Array of count entries');
    if (roles !== undefined && !(roles instanceof Uint8Array && roles.length >= count)) throw new RangeError('roles must be a Uint8Array of count entries');

    const now = this.now();
    this.batchNow = now;
    if (now - this.lastSweep >= SWEEP_INTERVAL_MS) this.sweep(now);
    // Whatever throws below (a backend bug, a failed native call), the next batch must start clean: per-tunnel pending
    // lists and the staging state are reset in `finally`, never left for another batch's messages to inherit.
    try {
      return this.run(batch, gateway, now);
    } finally {
      this.settle();
    }
  }

  /** Clears the per-batch state: the tunnels touched by the batch and their pending lists, hybrid staging. */
  private settle(): void {
    for (const st of this.touched) st.pending.length = 0;
    this.touched.length = 0;
    this.chunkSt.fill(null);
  }

  private run(batch: LayerBatch, gateway: boolean, now: number): number {
    const { count, bodies, prevHops, status, nextHops, nextTunnelIds, roles } = batch;
    const table = gateway ? this.gateways : this.received;
    const touched = this.touched;
    // Word view of the batch for the replay entries (bodies are 1028 = 4 x 257 bytes: every IV is 4-byte aligned).
    const words = this.wordsOf(bodies, count);
    const replay = this.replay;
    const c = this.counters;
    c.processed += count;
    for (let i = 0; i < count; i++) {
      const o = i * TUNNEL_DATA_SIZE;
      const id = ((bodies[o]! << 24) | (bodies[o + 1]! << 16) | (bodies[o + 2]! << 8) | bodies[o + 3]!) >>> 0;
      const st = table.get(id);
      nextHops[i] = 0;
      nextTunnelIds[i] = 0;
      if (roles) roles[i] = 0;
      if (st === undefined) { status[i] = STATUS_UNKNOWN_TUNNEL; c.unknownTunnel++; continue; }
      if (roles) roles[i] = st.code;
      if (st.ended || now >= st.expiresAt + this.graceMs) {
        if (!st.ended) { this.wipeState(st); st.ended = true; }
        status[i] = STATUS_EXPIRED_TUNNEL; c.expiredTunnel++; continue;
      }
      if (!gateway) {
        const prev = prevHops![i]!;
        // The first sender is pinned only by a message that passes every check (tunnel-crypto-aes.md §4 step 2):
        // a replayed or forged first message must not lock the real previous hop out.
        const unpinned = st.prevHop === NO_PREV;
        if (!unpinned && st.prevHop !== prev) { status[i] = STATUS_WRONG_PREV_HOP; c.wrongPrevHop++; continue; }
        // tunnel-crypto-aes.md §5: IV ^ first data block as received (ChaCha: both nonces, docs/chacha-layer.md).
        if (st.layer === 'chacha') {
          // ChaCha: the entry is both received nonces, recorded only once the AEAD tag has verified (they are its
          // associated data), so a forged copy cannot get the genuine message dropped as a replay.
          const e = this.chachaEntries;
          for (let j = 0; j < 16; j++) e[i * 16 + j] = bodies[o + CHACHA_TUNNEL_NONCE_OFFSET + j]!;
          if (unpinned) {
            // Not pinned yet: this message alone goes through tag check, replay filter and transform now, and pins
            // its sender only if it comes out OK (the tunnel's later messages of this batch then see the pin).
            this.first(st, i, bodies, status, nextHops, nextTunnelIds, prev);
            continue;
          }
        } else {
          // Kept while the tunnel accepts traffic; not recorded (full bucket) means dropped, never passed.
          const until = st.expiresAt + this.graceMs;
          let v: number;
          if (words !== null) {
            const w = o >> 2; // IV at word w+1, first data block at w+5
            v = replay.seenWords(words[w + 1]! ^ words[w + 5]!, words[w + 2]! ^ words[w + 6]!, words[w + 3]! ^ words[w + 7]!, words[w + 4]! ^ words[w + 8]!, now, until);
          } else {
            v = replay.seen(bodies, o + IV_OFFSET, bodies, o + DATA_OFFSET, now, until);
          }
          if (v !== REPLAY_FRESH) {
            if (v === REPLAY_SEEN) { status[i] = STATUS_REPLAY; c.replayed++; } else { status[i] = STATUS_REPLAY_FULL; c.replayFull++; }
            continue;
          }
          if (unpinned) st.prevHop = prev;
        }
      }
      status[i] = STATUS_OK;
      nextHops[i] = st.nextHop;
      nextTunnelIds[i] = st.nextTunnelId;
      if (st.pending.length === 0) touched.push(st);
      st.pending.push(i);
    }
    if (this.aesBackend === 'wasm') this.aesWasm(touched, bodies);
    else if (this.aesBackend === 'hybrid') this.aesHybrid(touched, bodies, status);
    else if (this.aesBackend === 'native') this.aesNative(touched, bodies);
    for (const st of touched) {
      if (st.pending.length === 0) continue; // done by the hybrid pass
      if (st.layer === 'aes' && (this.aesBackend === 'node' || (this.aesBackend === 'hybrid' && (st.code === ROLE_OBGW || st.code === ROLE_IBEP)))) {
        this.transform(st, bodies, status);
      }
      else if (st.layer === 'chacha') {
        if (this.chachaBackend === 'wasm') this.chachaWasm(st, bodies, status);
        else this.transform(st, bodies, status);
      }
      st.pending.length = 0;
    }
    let ok = 0;
    for (let i = 0; i < count; i++) if (status[i] === STATUS_OK) ok++;
    c.ok += ok;
    return ok;
  }

  /**
   * The message of a ChaCha tunnel with no previous hop yet: tag, replay filter and transform for it alone, then the
   * pin when it came out OK. Only the first messages of a tunnel take this path (one kernel call each).
   */
  private first(st: TunnelState, i: number, bodies: Uint8Array, status: Uint8Array, nextHops: Uint32Array,
    nextTunnelIds: Uint32Array, prev: number): void {
    status[i] = STATUS_OK;
    nextHops[i] = st.nextHop;
    nextTunnelIds[i] = st.nextTunnelId;
    st.pending.push(i);
    try {
      if (this.chachaBackend === 'wasm') this.chachaWasm(st, bodies, status);
      else this.transform(st, bodies, status);
    } finally {
      st.pending.length = 0;
    }
    if (status[i] === STATUS_OK) st.prevHop = prev;
  }

  /** An Int32 view of bodies[0, count x 1028), or null when bodies is not 4-byte aligned. */
  private wordsOf(bodies: Uint8Array, count: number): Int32Array | null {
    if ((bodies.byteOffset & 3) !== 0) return null;
    const w = this.words;
    // A detached buffer has byteLength 0, so a view of it never passes the length check.
    if (w !== null && w.buffer === bodies.buffer && w.byteOffset === bodies.byteOffset && w.length >= count * 257) return w;
    return (this.words = new Int32Array(bodies.buffer, bodies.byteOffset, (bodies.length >> 2) - ((bodies.length >> 2) % 257)));
  }

  /** Applies the tunnel's transform to its pending messages (all with STATUS_OK so far). */
  private transform(st: TunnelState, bodies: Uint8Array, status: Uint8Array): void {
    const idx = st.pending;
    const n = idx.length;
    if (st.layer === 'aes') {
      const at = new Array<number>(n);
      for (let j = 0; j < n; j++) at[j] = idx[j]! * TUNNEL_DATA_SIZE;
      if (st.code === ROLE_OBGW || st.code === ROLE_IBEP) {
        if (this.scratch.length < n * 1008) this.scratch = new Uint8Array(n * 1008);
        for (let h = st.hops.length - 1; h >= 0; h--) st.hops[h]!.aes!.decrypt(bodies, at, n, this.scratch);
      } else {
        const aligned = (bodies.byteOffset & 3) === 0;
        if (n >= INTERLEAVED_CBC_MIN && aligned) {
          const words = new Int32Array(bodies.buffer, bodies.byteOffset, bodies.length >> 2);
          st.hops[0]!.aes!.encryptInterleaved(bodies, words, at, n, this.scratch);
        } else {
          st.hops[0]!.aes!.encrypt(bodies, at, n, this.scratch);
        }
      }
      if (st.code !== ROLE_OBEP && st.code !== ROLE_IBEP) for (const o of at) writeId(bodies, o, st.nextTunnelId);
      return;
    }
    for (const i of idx) {
      const body = bodies.subarray(i * TUNNEL_DATA_SIZE, (i + 1) * TUNNEL_DATA_SIZE);
      switch (st.code) {
        case ROLE_PARTICIPANT:
        case ROLE_OBEP:
        case ROLE_IBGW: {
          if (st.inAeadKey) {
            this.saved.set(body);
            if (!chachaAeadOpen(body, st.inAeadKey)) { this.badMac(status, i); break; }
            if (this.chachaReplayed(st, i, status)) { body.set(this.saved); break; }
          }
          chachaLayerForward(body, st.hops[0]!);
          if (st.code !== ROLE_OBEP) writeId(body, 0, st.nextTunnelId);
          if (st.outAeadKey) chachaAeadSeal(body, st.outAeadKey);
          break;
        }
        case ROLE_IBEP: {
          this.saved.set(body);
          if (!chachaAeadOpen(body, st.inAeadKey!)) { this.badMac(status, i); break; }
          if (this.chachaReplayed(st, i, status)) { body.set(this.saved); break; }
          for (let h = st.hops.length - 1; h >= 0; h--) chachaLayerInverse(body, st.hops[h]!);
          break;
        }
        case ROLE_OBGW: {
          for (let h = st.hops.length - 1; h >= 0; h--) chachaLayerInverse(body, st.hops[h]!);
          writeId(body, 0, st.nextTunnelId);
          chachaAeadSeal(body, st.outAeadKey!);
          break;
        }
      }
    }
  }

  private wasm(): WasmLayer {
    if (!this.wasmLayer) this.wasmLayer = new WasmLayer(this.flavor);
    return this.wasmLayer;
  }

  /**
   * AES on the wasm backend for the whole batch: all forward messages (participant / OBEP / IBGW) in one kernel call
   * (CBC lanes across messages and tunnels), then creator messages packed by hop count, longest first, so that the
   * j-th strip round (each tunnel's j-th hop from the end) covers a prefix of the packed messages.
   */
  private aesWasm(touched: TunnelState[], bodies: Uint8Array): void {
    const w = this.wasm();
    let k = 0;
    for (const st of touched) {
      if (st.layer !== 'aes' || st.code === ROLE_OBGW || st.code === ROLE_IBEP) continue;
      const h = st.hops[0]!;
      for (const i of st.pending) {
        w.put(k, bodies, i);
        w.setSlots(k, h.slotA, h.slotB);
        k++;
      }
    }
    if (k > 0) {
      w.aesBatch(k, false);
      k = 0;
      for (const st of touched) {
        if (st.layer !== 'aes' || st.code === ROLE_OBGW || st.code === ROLE_IBEP) continue;
        const rewrite = st.code !== ROLE_OBEP;
        for (const i of st.pending) {
          w.get(k++, bodies, i);
          if (rewrite) writeId(bodies, i * TUNNEL_DATA_SIZE, st.nextTunnelId);
        }
      }
    }
    const creators = touched.filter((st) => st.layer === 'aes' && (st.code === ROLE_OBGW || st.code === ROLE_IBEP));
    if (creators.length === 0) return;
    creators.sort((a, b) => b.hops.length - a.hops.length);
    k = 0;
    for (const st of creators) for (const i of st.pending) w.put(k++, bodies, i);
    for (let j = 0; j < creators[0]!.hops.length; j++) {
      k = 0;
      for (const st of creators) {
        if (st.hops.length <= j) break;
        const h = st.hops[st.hops.length - 1 - j]!;
        for (let m = 0; m < st.pending.length; m++) w.setSlots(k++, h.slotA, h.slotB);
      }
      w.aesBatch(k, true);
    }
    k = 0;
    for (const st of creators) {
      for (const i of st.pending) {
        w.get(k++, bodies, i);
        if (st.code === ROLE_OBGW) writeId(bodies, i * TUNNEL_DATA_SIZE, st.nextTunnelId);
      }
    }
  }

  /**
   * AES on the native backend: one addon call per tunnel (per hop for creators) covering all its messages of the
   * batch, in place in `bodies` -- no copies, no allocation.
   */
  private aesNative(touched: TunnelState[], bodies: Uint8Array): void {
    const at = this.nativeAt;
    for (const st of touched) {
      if (st.layer !== 'aes') continue;
      const idx = st.pending;
      const n = idx.length;
      for (let m = 0; m < n; m++) at[m] = idx[m]! * TUNNEL_DATA_SIZE;
      if (st.code === ROLE_OBGW || st.code === ROLE_IBEP) {
        for (let h = st.hops.length - 1; h >= 0; h--) st.hops[h]!.nat!.decrypt(bodies, at, n);
      } else {
        st.hops[0]!.nat!.encrypt(bodies, at, n);
      }
      if (st.code !== ROLE_OBEP && st.code !== ROLE_IBEP) for (let m = 0; m < n; m++) writeId(bodies, at[m]!, st.nextTunnelId);
      idx.length = 0;
    }
  }

  /**
   * AES P on the hybrid backend for all forward messages of the batch: X = E(ivKey, IV) for every message in one
   * WASM ECB call (each block its own key slot), the CBC step per message with the tunnel's long-lived node:crypto
   * cipher (one binding call per message instead of three), IV' = E(ivKey, X) in a second WASM ECB call.
   * Creator strips stay on the node path (their CBC decryption merges across a tunnel's messages).
   */
  private aesHybrid(touched: TunnelState[], bodies: Uint8Array, status: Uint8Array): void {
    const w = this.wasm();
    const u8 = w.u8;
    const io = w.io;
    const chunkSt = this.chunkSt;
    const chunkAt = this.chunkAt;
    let k = 0;
    for (const st of touched) {
      if (st.layer !== 'aes' || st.code === ROLE_OBGW || st.code === ROLE_IBEP) continue;
      if (st.pending.length >= HYBRID_SIDEWAYS_MIN) {
        // Many messages of one tunnel: CBC run sideways across them with node:crypto ECB (63 calls for the group,
        // fewer than one per message) beats a CBC call per message. The messages go through WASM memory (MSG and
        // MSG_PARAM; the IV staging below uses IO and MSG_SLOT_A), where a kernel does the block scatter / gather.
        const idx = st.pending;
        const n = idx.length;
        const run = isRun(idx);
        if (run) w.put(0, bodies, idx[0]!, n);
        else for (let m = 0; m < n; m++) w.put(m, bodies, idx[m]!);
        st.hops[0]!.aes!.encryptSideways(u8, w.msg, w.param, n, w.sidewaysStep);
        const rewrite = st.code !== ROLE_OBEP;
        if (run) w.get(0, bodies, idx[0]!, n);
        for (let m = 0; m < n; m++) {
          if (!run) w.get(m, bodies, idx[m]!);
          if (rewrite) writeId(bodies, idx[m]! * TUNNEL_DATA_SIZE, st.nextTunnelId);
        }
        st.pending.length = 0;
        continue;
      }
      const slot = st.hops[0]!.slotB;
      for (const i of st.pending) {
        const o = i * TUNNEL_DATA_SIZE + IV_OFFSET;
        const d = io + 16 * k;
        for (let j = 0; j < 16; j++) u8[d + j] = bodies[o + j]!;
        w.setSlots(k, slot, 0);
        chunkSt[k] = st;
        chunkAt[k] = i;
        if (++k === HYBRID_CHUNK) { this.hybridChunk(k, bodies); k = 0; }
      }
      st.pending.length = 0;
    }
    if (k > 0) this.hybridChunk(k, bodies);
  }

  /**
   * The rest of the hybrid P for the k messages staged in IO: X = E(ivKey, IV) and IV' = E(ivKey, X) in one WASM call
   * (they do not depend on the CBC step, and the round keys are prepared once for both), the CBC step under X per
   * message, then IV' and the next tunnel id written back.
   */
  private hybridChunk(k: number, bodies: Uint8Array): void {
    const w = this.wasm();
    const u8 = w.u8;
    const io = w.io;
    const io2 = w.ioTwice;
    const chunkSt = this.chunkSt;
    const chunkAt = this.chunkAt;
    w.ecbIoTwice(k);
    for (let m = 0; m < k; m++) {
      const st = chunkSt[m]!;
      const o = chunkAt[m]! * TUNNEL_DATA_SIZE;
      st.hops[0]!.aes!.cbcEncryptOne(bodies, o + DATA_OFFSET, u8, io + 16 * m);
      const d = io2 + 16 * m;
      for (let j = 0; j < 16; j++) bodies[o + IV_OFFSET + j] = u8[d + j]!;
      if (st.code !== ROLE_OBEP) writeId(bodies, o, st.nextTunnelId);
      chunkSt[m] = null;
    }
    u8.fill(0, io, io + 16 * k);
    u8.fill(0, io2, io2 + 16 * k);
  }

  /** ChaCha on the wasm backend, one tunnel's messages per kernel call (the mode depends on the role). */
  private chachaWasm(st: TunnelState, bodies: Uint8Array, status: Uint8Array): void {
    const w = this.wasm();
    const idx = st.pending;
    const n = idx.length;
    // A tunnel's messages are often adjacent in the batch (the data plane groups its batches by tunnel): one copy.
    const first = idx[0]!;
    const adjacent = n > 1 && idx[n - 1] === first + n - 1 && isRun(idx);
    if (adjacent) w.put(0, bodies, first, n);
    for (let k = 0; k < n; k++) {
      if (!adjacent) w.put(k, bodies, idx[k]!);
      w.setChacha(k, st.inSlot < 0 ? 0 : st.inSlot, st.outSlot < 0 ? 0 : st.outSlot, st.nextTunnelId);
    }
    w.clearStatus(n);
    const open = st.inSlot >= 0 ? MODE_OPEN : 0;
    const seal = st.outSlot >= 0 ? MODE_SEAL : 0;
    const setId = st.code === ROLE_OBEP || st.code === ROLE_IBEP ? 0 : MODE_SET_ID;
    if (st.code === ROLE_IBEP || st.code === ROLE_OBGW) {
      for (let j = st.hops.length - 1; j >= 0; j--) {
        const h = st.hops[j]!;
        for (let k = 0; k < n; k++) w.setSlots(k, h.slotA, h.slotB);
        const first = j === st.hops.length - 1 ? open : 0;
        const last = j === 0 ? setId | seal : 0;
        w.chachaBatch(n, first | MODE_INVERSE | last);
      }
    } else {
      const h = st.hops[0]!;
      for (let k = 0; k < n; k++) w.setSlots(k, h.slotA, h.slotB);
      w.chachaBatch(n, open | MODE_FORWARD | setId | seal);
    }
    let allOk = adjacent;
    for (let k = 0; k < n; k++) {
      const i = idx[k]!;
      if (w.statusOf(k) !== STATUS_OK) { this.badMac(status, i); allOk = false; }
      else if (open === 0 || !this.chachaReplayed(st, i, status)) { if (!adjacent) w.get(k, bodies, i); }
      else allOk = false;
    }
    if (allOk) {
      w.get(0, bodies, first, n);
    } else if (adjacent) {
      // Dropped messages keep their bytes as received: copy back only the accepted ones.
      for (let k = 0; k < n; k++) if (status[idx[k]!] === STATUS_OK) w.get(k, bodies, idx[k]!);
    }
  }

  /**
   * Records message i's ChaCha replay entry (its tag has verified) until the tunnel stops accepting traffic; true
   * (status set) when it was already seen or cannot be recorded.
   */
  private chachaReplayed(st: TunnelState, i: number, status: Uint8Array): boolean {
    const v = this.replay.seen(this.chachaEntries, i * 16, null, 0, this.batchNow, st.expiresAt + this.graceMs);
    if (v === REPLAY_FRESH) return false;
    if (v === REPLAY_SEEN) { status[i] = STATUS_REPLAY; this.counters.replayed++; }
    else { status[i] = STATUS_REPLAY_FULL; this.counters.replayFull++; }
    return true;
  }

  private badMac(status: Uint8Array, i: number): void {
    status[i] = STATUS_BAD_MAC;
    this.counters.badMac++;
  }

  /** Zeroes every key of the tunnel (key copies, cipher contexts, WASM slots) and releases its slots. */
  private wipeState(st: TunnelState): void {
    const w = this.wasmLayer;
    for (const h of st.hops) {
      h.aes?.wipe();
      h.nat?.wipe();
      h.layerKey.fill(0);
      h.ivKey.fill(0);
      if (w && h.slotA >= 0) {
        if (h.layer === 'aes') w.aesSlotView(h.slotA).fill(0);
        else w.chachaSlotView(h.slotA).fill(0);
      }
      if (w && h.slotB >= 0) {
        if (h.layer === 'aes') w.aesSlotView(h.slotB).fill(0);
        else w.chachaSlotView(h.slotB).fill(0);
      }
    }
    st.inAeadKey?.fill(0);
    st.outAeadKey?.fill(0);
    if (w && st.inSlot >= 0) w.chachaSlotView(st.inSlot).fill(0);
    if (w && st.outSlot >= 0) w.chachaSlotView(st.outSlot).fill(0);
    // An ended tunnel needs no slots: back to the pools at once (only its tombstone stays, for the status).
    this.forget(st);
  }

  /** Returns a wiped tunnel's key slots to the pools (the pools clear them again). */
  private forget(st: TunnelState): void {
    const w = this.wasmLayer;
    if (!w) return;
    for (const h of st.hops) {
      for (const slot of [h.slotA, h.slotB]) {
        if (slot < 0) continue;
        if (h.layer === 'aes') w.aesFree(slot); else w.chachaFree(slot);
      }
      h.slotA = h.slotB = -1;
    }
    if (st.inSlot >= 0) w.chachaFree(st.inSlot);
    if (st.outSlot >= 0) w.chachaFree(st.outSlot);
    st.inSlot = st.outSlot = -1;
  }

  /** Test-only internals (src/testing/index.ts): copies of key material, the WASM memory for scans. */
  [TEST_SEAM](): EngineSeam {
    return {
      // Uint8Array.from: Buffer's slice() would be a view.
      keyMaterial: (tunnelId, gateway) => this.keyMaterial(tunnelId, gateway).map((k) => Uint8Array.from(k)),
      wasmMemory: () => this.wasmLayer?.u8 ?? null,
    };
  }

  /**
   * The engine's own copies of a tunnel's keys, as live views (callers copy them). A native hop's keys live in
   * OpenSSL's contexts, which free() cleanses (OPENSSL_clear_free): one byte, 1 while they are held, 0 once gone.
   */
  private keyMaterial(tunnelId: number, gateway: boolean): Uint8Array[] {
    const st = (gateway ? this.gateways : this.received).get(tunnelId);
    if (!st) return [];
    const out: Uint8Array[] = [];
    const w = this.wasmLayer;
    for (const h of st.hops) {
      if (h.aes) out.push(...h.aes.keyMaterial());
      if (h.nat) out.push(Uint8Array.of(h.nat.wiped ? 0 : 1));
      out.push(h.layerKey, h.ivKey);
      const view = h.layer === 'aes' ? w?.aesSlotView.bind(w) : w?.chachaSlotView.bind(w);
      if (view && h.slotA >= 0) out.push(view(h.slotA));
      if (view && h.slotB >= 0) out.push(view(h.slotB));
    }
    if (st.inAeadKey) out.push(st.inAeadKey);
    if (st.outAeadKey) out.push(st.outAeadKey);
    if (w && st.inSlot >= 0) out.push(w.chachaSlotView(st.inSlot));
    if (w && st.outSlot >= 0) out.push(w.chachaSlotView(st.outSlot));
    return out;
  }
}

/** True when idx[k] = idx[0] + k for every k. */
function isRun(idx: number[]): boolean {
  const first = idx[0]!;
  for (let k = 1; k < idx.length; k++) if (idx[k] !== first + k) return false;
  return true;
}

function writeId(buf: Uint8Array, o: number, id: number): void {
  buf[o] = id >>> 24;
  buf[o + 1] = (id >>> 16) & 0xff;
  buf[o + 2] = (id >>> 8) & 0xff;
  buf[o + 3] = id & 0xff;
}
