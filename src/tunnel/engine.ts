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
// rewrite. The admitted messages of a batch then go to the layer's backend in one call, grouped by tunnel (its fast
// paths work on a tunnel's messages together). A tunnel with no previous hop yet pins the sender of its first
// message that passes every check (replay; ChaCha: tag). A batch that throws (a backend failure) leaves no per-batch
// state behind: the next batch starts clean.
// Backends (LayerEngineOptions.backend; backends/, one file each, docs/tunnel-layers.md): AES 'native', 'hybrid',
// 'wasm', 'node'; ChaCha 'wasm', 'node'. 'auto' = for AES native when the CPU has AES instructions and the addon is
// built (hybrid without the addon, wasm without AES instructions), wasm for ChaCha.
import {
  AES256_KEY_SIZE,
  AES_KEY_SLOTS,
  CHACHA_KEY_SLOTS,
  DATA_OFFSET,
  IV_OFFSET,
  MAX_BATCH,
  STATUS_BAD_MAC,
  STATUS_EXPIRED_TUNNEL,
  STATUS_OK,
  STATUS_REPLAY,
  STATUS_REPLAY_FULL,
  STATUS_UNKNOWN_TUNNEL,
  STATUS_WRONG_PREV_HOP,
  TUNNEL_DATA_SIZE,
} from '../constants.js';
import { cpuHasAes } from '../crypto/aes.js';
import { nativeAes, nativeAesProblem } from './aes-native.js';
import { CHACHA_TUNNEL_NONCE_OFFSET } from './chacha-layer.js';
import { createReplayFilterBuffer, REPLAY_FRESH, REPLAY_SEEN, ReplayFilter } from './replay-filter.js';
import type { BackendName, BatchSink, LayerBackend, LayerTunnel } from './backends/backend.js';
import { HybridAesBackend } from './backends/hybrid-aes.js';
import { NativeAesBackend } from './backends/native-aes.js';
import { NodeAesBackend } from './backends/node-aes.js';
import { NodeChaChaBackend } from './backends/node-chacha.js';
import { WasmAesBackend } from './backends/wasm-aes.js';
import { WasmChaChaBackend } from './backends/wasm-chacha.js';
import { WasmHost } from './backends/wasm-layer.js';
import {
  LOCAL_HOP,
  ROLE_IBEP,
  ROLE_IBGW,
  ROLE_OBEP,
  ROLE_OBGW,
  ROLE_PARTICIPANT,
  TUNNEL_GRACE_MS,
  TUNNEL_LIFETIME_MS,
  type EngineBackend,
  type HopKeyConfig,
  type LayerBatch,
  type LayerEngineHooks,
  type LayerEngineOptions,
  type LayerEngineStats,
  type TunnelConfig,
  type TunnelRole,
} from './types.js';
import { EngineClosedError } from '../errors.js';
import { TEST_SEAM, type EngineSeam } from '../test-seam.js';

export * from './types.js';

const MAX_HOPS = 8;
const NO_PREV = -1;
/** How long an ended tunnel is remembered (status 'expired' rather than 'unknown'). */
const TOMBSTONE_MS = TUNNEL_LIFETIME_MS;
const SWEEP_INTERVAL_MS = 1000;
/** A tunnel as the engine keeps it; its hop and AEAD key states belong to its layer's backend. */
type TunnelState = LayerTunnel;

const ROLE_CODES: Record<TunnelRole, number> = {
  participant: ROLE_PARTICIPANT,
  obep: ROLE_OBEP,
  ibgw: ROLE_IBGW,
  obgw: ROLE_OBGW,
  ibep: ROLE_IBEP,
};

/** The AES backend object for a resolved backend name. */
function aesBackendOf(name: BackendName, wasm: WasmHost): LayerBackend {
  switch (name) {
    case 'native':
      return new NativeAesBackend();
    case 'hybrid':
      return new HybridAesBackend(wasm);
    case 'wasm':
      return new WasmAesBackend(wasm);
    case 'node':
      return new NodeAesBackend();
  }
}

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
  /** The engine's private WASM instance, shared by its WASM and hybrid backends, made on first use. */
  private readonly wasm: WasmHost;
  private readonly aes: LayerBackend;
  private readonly chacha: LayerBackend;
  /** What the backends report per message (a bad tag; ChaCha's replay filter, after the tag). */
  private readonly sink: BatchSink = {
    badMac: (status, i) => this.badMac(status, i),
    replayed: (st, i, status) => this.chachaReplayed(st, i, status),
  };
  readonly replay: ReplayFilter;
  private readonly now: () => number;
  private readonly graceMs: number;
  /** Tunnels found by body[0..3] of TunnelData from the network: participant, OBEP, IBEP. */
  private readonly received = new Map<number, TunnelState>();
  /** Tunnels found by body[0..3] of locally framed bodies: IBGW, OBGW. */
  private readonly gateways = new Map<number, TunnelState>();
  /** The tunnels of each layer with messages admitted in this batch (their `pending` lists), for the backends. */
  private readonly touchedAes: TunnelState[] = [];
  private readonly touchedChacha: TunnelState[] = [];
  /** Each message's tunnel in the current batch (run()'s first pass), cleared in settle(). */
  private readonly tunnelOf: (TunnelState | undefined)[] = new Array<TunnelState | undefined>(MAX_BATCH).fill(
    undefined,
  );
  /** One tunnel, for a lone message handed to the ChaCha backend (first()). */
  private readonly lone: TunnelState[] = [];
  /** ChaCha replay entries of the current batch (received nonces), checked after the AEAD tag. */
  private readonly chachaEntries = new Uint8Array(MAX_BATCH * 16);
  private batchNow = 0;
  /** Messages in the current batch (how much of tunnelOf settle() clears). */
  private batchCount = 0;
  /** The last Int32 view made by wordsOf (callers usually pass the same buffer batch after batch). */
  private words: Int32Array | null = null;
  private lastSweep = 0;
  private closed = false;
  private readonly counters: LayerEngineStats = {
    processed: 0,
    ok: 0,
    unknownTunnel: 0,
    expiredTunnel: 0,
    replayed: 0,
    wrongPrevHop: 0,
    badMac: 0,
    wrongRole: 0,
    replayFull: 0,
  };

  constructor(options: LayerEngineOptions = {}, hooks: LayerEngineHooks = {}) {
    const b = options.backend ?? 'auto';
    if (b !== 'auto' && b !== 'wasm' && b !== 'node' && b !== 'hybrid' && b !== 'native')
      throw new TypeError(`unknown backend '${String(b)}'`);
    if (b === 'native' && !nativeAes) throw new Error(`backend 'native': ${nativeAesProblem}`);
    // 'auto': the faster backend per layer as measured (docs/tunnel-layers.md): OpenSSL for AES (AES-NI against a
    // constant-time bitsliced WASM AES) -- through the native addon when it is built, else through node:crypto --
    // and WASM for ChaCha (node:crypto needs a cipher object per nonce). Without AES instructions OpenSSL may use
    // table-based AES (secret-indexed loads), and native and hybrid both run OpenSSL: the WASM AES layer then.
    this.aesBackend = b === 'auto' ? (!cpuHasAes() ? 'wasm' : nativeAes ? 'native' : 'hybrid') : b;
    this.chachaBackend = b === 'auto' || b === 'hybrid' || b === 'native' ? 'wasm' : b;
    this.wasm = new WasmHost(options.flavor);
    this.aes = aesBackendOf(this.aesBackend, this.wasm);
    this.chacha = this.chachaBackend === 'wasm' ? new WasmChaChaBackend(this.wasm) : new NodeChaChaBackend();
    this.now = hooks.now ?? Date.now;
    this.graceMs = options.graceMs ?? TUNNEL_GRACE_MS;
    if (typeof this.graceMs !== 'number' || !(this.graceMs >= 0) || !Number.isFinite(this.graceMs))
      throw new RangeError('graceMs must be a number >= 0');
    // A private filter (single thread) is sized from these options: entries kept as long as a default tunnel accepts
    // traffic, at the given rate (tunnel-crypto-aes.md §5).
    this.replay = new ReplayFilter(
      options.replayFilter ??
        createReplayFilterBuffer({
          messagesPerSecond: options.messagesPerSecond ?? 1000,
          windowMs: Math.ceil(TUNNEL_LIFETIME_MS + this.graceMs),
        }),
    );
  }

  /**
   * Starts processing a tunnel (transit: participant / OBEP / IBGW; built: OBGW / IBEP). Keys are copied; the
   * caller may wipe its copies. Throws TypeError/RangeError for a bad config, or Error when the id is taken.
   */
  join(config: TunnelConfig): void {
    const c = this.parse(config);
    const { role, layer, id, table } = c;
    const old = table.get(id);
    if (old && !old.ended) throw new Error(`tunnel id ${id} is already in use by a ${old.role} tunnel`);
    // Sized to the hop count: a transit tunnel keeps one hop, and a pushed-to empty array would reserve 17 slots.
    const hops: unknown[] = new Array(c.hopConfigs.length);
    const st: TunnelState = {
      role,
      code: ROLE_CODES[role],
      layer,
      id,
      nextTunnelId: c.nextTunnelId,
      nextHop: c.nextHop,
      prevHop: c.prevHop,
      expiresAt: c.expiresAt,
      ended: false,
      hops,
      inAead: null,
      outAead: null,
      pending: [],
    };
    // The backend takes its own copies (or slots, or OpenSSL contexts); a failure part way releases what it took.
    // Transit hops only apply P and a creator's OBGW/IBEP only P^-1 (tunnel-crypto-aes.md §3, §4): one direction each.
    const b = this.backendOf(st);
    const direction = role === 'obgw' || role === 'ibep' ? 'decrypt' : 'encrypt';
    try {
      for (let i = 0; i < c.hopConfigs.length; i++) {
        const h = c.hopConfigs[i]!;
        hops[i] = b.addHop(h.layerKey, h.ivKey, direction);
      }
      if (c.inKey) st.inAead = b.addAead(c.inKey);
      if (c.outKey) st.outAead = b.addAead(c.outKey);
    } catch (err) {
      this.wipeState(st);
      throw err;
    }
    table.set(id, st);
  }

  /**
   * Checks a config as join() does (TypeError / RangeError for a bad one) without taking keys, slots or contexts
   * and without remembering anything: what the data plane's main thread does before it sends a join to a worker.
   */
  validate(config: TunnelConfig): void {
    this.parse(config);
  }

  /** join()'s checks and the normalized fields of a config; no state is touched. */
  private parse(config: TunnelConfig) {
    if (this.closed) throw new EngineClosedError();
    const role = config?.role;
    if (!(role in ROLE_CODES)) throw new TypeError(`unknown tunnel role '${String(role)}'`);
    const layer = config.layer;
    if (layer !== 'aes' && layer !== 'chacha') throw new TypeError(`unknown layer '${String(layer)}'`);
    const joinedAt = this.now();
    const expiresAt = config.expiresAt ?? joinedAt + TUNNEL_LIFETIME_MS;
    if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt))
      throw new TypeError('expiresAt must be a number (epoch ms)');
    // A receiving tunnel's replay entries are kept until it stops accepting traffic: the filter must reach that far.
    if (role !== 'obgw' && role !== 'ibgw' && expiresAt + this.graceMs - joinedAt > this.replay.windowMs) {
      throw new RangeError(
        `expiresAt + grace is more than the replay filter's window (${this.replay.windowMs} ms) away`,
      );
    }
    // Validate everything before taking any key slot.
    const hopConfigs: HopKeyConfig[] = config.role === 'obgw' || config.role === 'ibep' ? config.hops : [config];
    if (!Array.isArray(hopConfigs) || hopConfigs.length < 1 || hopConfigs.length > MAX_HOPS) {
      throw new RangeError(`hops must have 1..${MAX_HOPS} entries`);
    }
    for (let i = 0; i < hopConfigs.length; i++) {
      const h = hopConfigs[i];
      const what = hopConfigs.length === 1 && h === config ? 'config' : `hops[${i}]`;
      checkKey(h?.layerKey, `${what}.layerKey`);
      checkKey(h?.ivKey, `${what}.ivKey`);
    }
    const aeadKey = (k: Uint8Array | undefined, what: string, required: boolean): Uint8Array | null => {
      if (layer !== 'chacha') return null;
      if (k === undefined) {
        if (required) throw new TypeError(`${what} is required for a chacha ${role}`);
        return null;
      }
      return checkKey(k, what);
    };
    let id: number, nextTunnelId: number, nextHop: number, prevHop: number;
    let inKey: Uint8Array | null = null;
    let outKey: Uint8Array | null = null;
    if (config.role === 'obgw') {
      id = checkU32(config.gatewayTunnelId, 'gatewayTunnelId');
      nextTunnelId = checkU32(config.firstHopTunnelId, 'firstHopTunnelId');
      nextHop = checkU32(config.firstHop, 'firstHop');
      prevHop = NO_PREV;
      outKey = aeadKey(config.outAeadKey, 'outAeadKey', true);
    } else if (config.role === 'ibep') {
      id = checkU32(config.receiveTunnelId, 'receiveTunnelId');
      nextTunnelId = id;
      nextHop = LOCAL_HOP;
      prevHop = config.previousHop === undefined ? NO_PREV : checkU32(config.previousHop, 'previousHop');
      inKey = aeadKey(config.inAeadKey, 'inAeadKey', true);
    } else {
      id = checkU32(config.receiveTunnelId, 'receiveTunnelId');
      const obep = role === 'obep';
      nextTunnelId = obep ? id : checkU32(config.nextTunnelId, 'nextTunnelId');
      nextHop = obep ? LOCAL_HOP : checkU32(config.nextHop, 'nextHop');
      prevHop = config.previousHop === undefined ? NO_PREV : checkU32(config.previousHop, 'previousHop');
      inKey = aeadKey(config.inAeadKey, 'inAeadKey', role !== 'ibgw');
      outKey = aeadKey(config.outAeadKey, 'outAeadKey', role !== 'obep');
    }
    const table = role === 'obgw' || role === 'ibgw' ? this.gateways : this.received;
    return { role, layer, id, nextTunnelId, nextHop, prevHop, expiresAt, hopConfigs, inKey, outKey, table };
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
        if (st.ended && now >= st.expiresAt + this.graceMs + TOMBSTONE_MS) table.delete(id);
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
    this.touchedAes.length = 0;
    this.touchedChacha.length = 0;
    this.lone.length = 0;
    this.aes.close();
    this.chacha.close();
    this.wasm.wipe();
    this.chachaEntries.fill(0);
    this.words = null;
  }

  /** Free WASM key slots of each kind (what a join takes depends on the backend: docs/data-plane-safety.md). */
  get freeKeySlots(): { aes: number; chacha: number } {
    if (this.closed) return { aes: 0, chacha: 0 };
    return this.wasm.current?.freeSlots() ?? { aes: AES_KEY_SLOTS, chacha: CHACHA_KEY_SLOTS };
  }

  stats(): LayerEngineStats {
    return { ...this.counters };
  }

  resetStats(): void {
    for (const k of Object.keys(this.counters) as (keyof LayerEngineStats)[]) this.counters[k] = 0;
  }

  private process(batch: LayerBatch, gateway: boolean): number {
    const { count, bodies, prevHops, status, nextHops, nextTunnelIds, roles } = batch;
    if (!Number.isInteger(count) || count < 0 || count > MAX_BATCH)
      throw new RangeError(`count must be 0..${MAX_BATCH}`);
    if (!(bodies instanceof Uint8Array) || bodies.length < count * TUNNEL_DATA_SIZE) {
      throw new RangeError(`bodies must be a Uint8Array of at least count x ${TUNNEL_DATA_SIZE} bytes`);
    }
    if (!gateway && !(prevHops instanceof Uint32Array && prevHops.length >= count))
      throw new RangeError('prevHops must be a Uint32Array of count entries');
    if (!(status instanceof Uint8Array) || status.length < count)
      throw new RangeError('status must be a Uint8Array of count entries');
    if (!(nextHops instanceof Uint32Array) || nextHops.length < count)
      throw new RangeError('nextHops must be a Uint32Array of count entries');
    if (!(nextTunnelIds instanceof Uint32Array) || nextTunnelIds.length < count)
      throw new RangeError('nextTunnelIds must be a Uint32Array of count entries');
    if (roles !== undefined && !(roles instanceof Uint8Array && roles.length >= count))
      throw new RangeError('roles must be a Uint8Array of count entries');

    const now = this.now();
    this.batchNow = now;
    this.batchCount = count;
    if (now - this.lastSweep >= SWEEP_INTERVAL_MS) this.sweep(now);
    // Whatever throws below (a backend bug, a failed native call), the next batch must start clean: per-tunnel pending
    // lists and the staging state are reset in `finally`, never left for another batch's messages to inherit.
    try {
      return this.run(batch, gateway, now);
    } finally {
      this.settle();
    }
  }

  /** Clears the per-batch state: the tunnels touched by the batch and their pending lists (backends clear their own). */
  private settle(): void {
    // pop(), not `length = 0`: V8 frees an array's storage when its length is set to 0, so every touched tunnel (and
    // the touched lists) would allocate again on the next batch.
    for (const t = this.touchedAes; t.length > 0;) for (const p = t.pop()!.pending; p.length > 0;) p.pop();
    for (const t = this.touchedChacha; t.length > 0;) for (const p = t.pop()!.pending; p.length > 0;) p.pop();
    this.lone.length = 0;
    this.tunnelOf.fill(undefined, 0, this.batchCount);
  }

  private run(batch: LayerBatch, gateway: boolean, now: number): number {
    const { count, bodies, prevHops, status, nextHops, nextTunnelIds, roles } = batch;
    const table = gateway ? this.gateways : this.received;
    // Word view of the batch for the replay entries (bodies are 1028 = 4 x 257 bytes: every IV is 4-byte aligned).
    const words = this.wordsOf(bodies, count);
    const replay = this.replay;
    const c = this.counters;
    c.processed += count;
    // First pass: every message's tunnel, and (AES, from the network) its replay filter bucket touched, so the
    // lookups' and the filter's cache misses overlap instead of coming one per message in the pass below.
    const tunnelOf = this.tunnelOf;
    const touch = !gateway && words !== null;
    if (touch) replay.touchReset();
    for (let i = 0; i < count; i++) {
      const o = i * TUNNEL_DATA_SIZE;
      const id = ((bodies[o]! << 24) | (bodies[o + 1]! << 16) | (bodies[o + 2]! << 8) | bodies[o + 3]!) >>> 0;
      const st = table.get(id);
      tunnelOf[i] = st;
      if (touch && st !== undefined && st.layer === 'aes') {
        const w = o >> 2;
        replay.touchWords(
          words[w + 1]! ^ words[w + 5]!,
          words[w + 2]! ^ words[w + 6]!,
          words[w + 3]! ^ words[w + 7]!,
          words[w + 4]! ^ words[w + 8]!,
        );
      }
    }
    if (touch) replay.touchLoad();
    for (let i = 0; i < count; i++) {
      const o = i * TUNNEL_DATA_SIZE;
      const st = tunnelOf[i];
      nextHops[i] = 0;
      nextTunnelIds[i] = 0;
      if (roles) roles[i] = 0;
      if (st === undefined) {
        status[i] = STATUS_UNKNOWN_TUNNEL;
        c.unknownTunnel++;
        continue;
      }
      if (roles) roles[i] = st.code;
      if (st.ended || now >= st.expiresAt + this.graceMs) {
        if (!st.ended) {
          this.wipeState(st);
          st.ended = true;
        }
        status[i] = STATUS_EXPIRED_TUNNEL;
        c.expiredTunnel++;
        continue;
      }
      if (!gateway) {
        const prev = prevHops![i]!;
        // The first sender is pinned only by a message that passes every check (tunnel-crypto-aes.md §4 step 2):
        // a replayed or forged first message must not lock the real previous hop out.
        const unpinned = st.prevHop === NO_PREV;
        if (!unpinned && st.prevHop !== prev) {
          status[i] = STATUS_WRONG_PREV_HOP;
          c.wrongPrevHop++;
          continue;
        }
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
            v = replay.seenWords(
              words[w + 1]! ^ words[w + 5]!,
              words[w + 2]! ^ words[w + 6]!,
              words[w + 3]! ^ words[w + 7]!,
              words[w + 4]! ^ words[w + 8]!,
              now,
              until,
            );
          } else {
            v = replay.seen(bodies, o + IV_OFFSET, bodies, o + DATA_OFFSET, now, until);
          }
          if (v !== REPLAY_FRESH) {
            if (v === REPLAY_SEEN) {
              status[i] = STATUS_REPLAY;
              c.replayed++;
            } else {
              status[i] = STATUS_REPLAY_FULL;
              c.replayFull++;
            }
            continue;
          }
          if (unpinned) st.prevHop = prev;
        }
      }
      status[i] = STATUS_OK;
      nextHops[i] = st.nextHop;
      nextTunnelIds[i] = st.nextTunnelId;
      if (st.pending.length === 0) (st.layer === 'aes' ? this.touchedAes : this.touchedChacha).push(st);
      st.pending.push(i);
    }
    // One backend call per layer for the batch.
    if (this.touchedAes.length > 0) this.aes.run(this.touchedAes, bodies, status, this.sink);
    if (this.touchedChacha.length > 0) this.chacha.run(this.touchedChacha, bodies, status, this.sink);
    let ok = 0;
    for (let i = 0; i < count; i++) if (status[i] === STATUS_OK) ok++;
    c.ok += ok;
    return ok;
  }

  /**
   * The message of a ChaCha tunnel with no previous hop yet: tag, replay filter and transform for it alone, then the
   * pin when it came out OK. Only the first messages of a tunnel take this path (one kernel call each).
   */
  private first(
    st: TunnelState,
    i: number,
    bodies: Uint8Array,
    status: Uint8Array,
    nextHops: Uint32Array,
    nextTunnelIds: Uint32Array,
    prev: number,
  ): void {
    status[i] = STATUS_OK;
    nextHops[i] = st.nextHop;
    nextTunnelIds[i] = st.nextTunnelId;
    st.pending.push(i);
    this.lone[0] = st;
    try {
      this.chacha.run(this.lone, bodies, status, this.sink);
    } finally {
      st.pending.length = 0;
      this.lone.length = 0;
    }
    if (status[i] === STATUS_OK) st.prevHop = prev;
  }

  /** An Int32 view of bodies[0, count x 1028), or null when bodies is not 4-byte aligned. */
  private wordsOf(bodies: Uint8Array, count: number): Int32Array | null {
    if ((bodies.byteOffset & 3) !== 0) return null;
    const w = this.words;
    // A detached buffer has byteLength 0, so a view of it never passes the length check.
    if (w !== null && w.buffer === bodies.buffer && w.byteOffset === bodies.byteOffset && w.length >= count * 257)
      return w;
    return (this.words = new Int32Array(
      bodies.buffer,
      bodies.byteOffset,
      (bodies.length >> 2) - ((bodies.length >> 2) % 257),
    ));
  }

  private backendOf(st: TunnelState): LayerBackend {
    return st.layer === 'aes' ? this.aes : this.chacha;
  }

  /**
   * Records message i's ChaCha replay entry (its tag has verified) until the tunnel stops accepting traffic; true
   * (status set) when it was already seen or cannot be recorded.
   */
  private chachaReplayed(st: LayerTunnel, i: number, status: Uint8Array): boolean {
    const v = this.replay.seen(this.chachaEntries, i * 16, null, 0, this.batchNow, st.expiresAt + this.graceMs);
    if (v === REPLAY_FRESH) return false;
    if (v === REPLAY_SEEN) {
      status[i] = STATUS_REPLAY;
      this.counters.replayed++;
    } else {
      status[i] = STATUS_REPLAY_FULL;
      this.counters.replayFull++;
    }
    return true;
  }

  private badMac(status: Uint8Array, i: number): void {
    status[i] = STATUS_BAD_MAC;
    this.counters.badMac++;
  }

  /**
   * Zeroes every key of the tunnel (key copies, cipher contexts, WASM slots) and releases its slots at once: an
   * ended tunnel needs none (only its tombstone stays, for the status). Idempotent.
   */
  private wipeState(st: TunnelState): void {
    const b = this.backendOf(st);
    for (const h of st.hops) if (h !== undefined) b.wipeHop(h); // a failed join leaves the later ones unset
    if (st.inAead !== null) b.wipeAead(st.inAead);
    if (st.outAead !== null) b.wipeAead(st.outAead);
  }

  /** Test-only internals (src/testing/index.ts): copies of key material, the WASM memory for scans. */
  [TEST_SEAM](): EngineSeam {
    return {
      // Uint8Array.from: Buffer's slice() would be a view.
      keyMaterial: (tunnelId, gateway) => this.keyMaterial(tunnelId, gateway).map((k) => Uint8Array.from(k)),
      wasmMemory: () => this.wasm.current?.u8 ?? null,
    };
  }

  /**
   * The engine's own copies of a tunnel's keys, as live views (callers copy them). A native hop's keys live in
   * OpenSSL's contexts, which free() cleanses (OPENSSL_clear_free): one byte, 1 while they are held, 0 once gone.
   */
  private keyMaterial(tunnelId: number, gateway: boolean): Uint8Array[] {
    const st = (gateway ? this.gateways : this.received).get(tunnelId);
    if (!st) return [];
    return this.backendOf(st).keyViews(st);
  }
}
