// Plain, structured-cloneable types of the tunnel layer engine (src/tunnel/engine.ts). Everything here can be
// posted to a worker thread: configs carry keys as Uint8Array, ids as numbers, times as epoch milliseconds.
import type { WasmFlavor } from '../wasm/loader.js';

/** Tunnel layer encryption: 'aes' (tunnel-crypto-aes.md, the live network) or 'chacha' (docs/chacha-layer.md, ours). */
export type LayerType = 'aes' | 'chacha';

/**
 * Which implementation does the AES/ChaCha work: WASM kernels, node:crypto, 'hybrid' (AES only: the IV steps of the
 * whole batch in one constant-time WASM ECB call, the CBC step with node:crypto's long-lived per-tunnel cipher;
 * ChaCha as 'wasm'), 'native' (AES only: the optional OpenSSL addon, native/aes_layer.c, in place with no
 * allocation; ChaCha as 'wasm'), or 'auto' (the fastest measured that is constant time here: for AES native when
 * the CPU has AES instructions and the addon is built, hybrid when it has them without the addon, wasm without them
 * -- OpenSSL may use table-based AES there; wasm for ChaCha).
 */
export type EngineBackend = 'wasm' | 'node' | 'hybrid' | 'native' | 'auto';

/** Role of a tunnel at this router (tunnel-crypto-aes.md §3). */
export type TunnelRole = 'participant' | 'obep' | 'ibgw' | 'obgw' | 'ibep';

/** Role codes written to `LayerBatch.roles` (one byte per message; 0 = message not processed). */
export const ROLE_NONE = 0;
export const ROLE_PARTICIPANT = 1;
export const ROLE_OBEP = 2;
export const ROLE_IBGW = 3;
export const ROLE_OBGW = 4;
export const ROLE_IBEP = 5;

/**
 * `nextHops[i]` for a message that stays at this router (OBEP and IBEP output, to be checked and reassembled here).
 * Router ids are otherwise opaque u32 numbers chosen by the caller (an index into its peer table).
 */
export const LOCAL_HOP = 0xffffffff;

/** Default tunnel lifetime (tunnel-crypto-aes.md; I2P tunnels live 10 minutes). */
export const TUNNEL_LIFETIME_MS = 10 * 60 * 1000;
/** Default grace after `expiresAt` during which a tunnel still processes traffic (clock skew, messages in flight). */
export const TUNNEL_GRACE_MS = 60 * 1000;

/**
 * Keys of one hop. AES: `layerKey` (CBC) and `ivKey` (ECB on the IV). ChaCha (docs/chacha-layer.md): `layerKey`
 * and `ivKey` = Proposal 153's `nonceKey`, plus the hop-to-hop ChaCha20-Poly1305 keys where the hop has them.
 */
export interface HopKeyConfig {
  layerKey: Uint8Array;
  ivKey: Uint8Array;
  /** ChaCha only: AEAD key shared with the previous hop (absent at an IBGW). */
  inAeadKey?: Uint8Array;
  /** ChaCha only: AEAD key shared with the next hop (absent at an OBEP). */
  outAeadKey?: Uint8Array;
}

/**
 * A tunnel this router takes part in without having built it: participant, outbound endpoint (OBEP) or inbound
 * gateway (IBGW). Messages for it are found by `receiveTunnelId` (participant/OBEP: body[0..3] of the TunnelData as
 * received; IBGW: the tunnel id the local framer writes in body[0..3], i.e. the TunnelGateway message's id).
 */
export interface TransitTunnelConfig extends HopKeyConfig {
  role: 'participant' | 'obep' | 'ibgw';
  layer: LayerType;
  receiveTunnelId: number;
  /** Tunnel id written into body[0..3] on the way out (ignored at an OBEP, whose output stays here). */
  nextTunnelId: number;
  /** Router the output goes to (ignored at an OBEP: LOCAL_HOP). */
  nextHop: number;
  /**
   * Participant: the only previous hop accepted. When absent, the first sender fixes it (tunnel-crypto-aes.md §4
   * step 2). OBEP: same rule. IBGW: not used (its input is local).
   */
  previousHop?: number;
  /**
   * Epoch ms after which (plus the engine's grace) the tunnel is over; default: join time + 10 minutes. A receiving
   * tunnel (participant, OBEP, IBEP) may not accept traffic for longer than the replay filter's window.
   */
  expiresAt?: number;
}

/**
 * A tunnel this router built. `hops` in forwarding order (hop 1 first), 1..8 of them.
 * - outbound: this router is the OBGW. Locally framed plaintext bodies with body[0..3] = `gatewayTunnelId` go
 *   through `processGateway`; the engine applies P^-1 of hop n first ... hop 1 last, writes `firstHopTunnelId` into
 *   body[0..3] and names `firstHop` as next hop.
 * - inbound: this router is the IBEP. TunnelData bodies from the network with body[0..3] = `receiveTunnelId` go
 *   through `processReceived`; the engine applies P^-1 of hop k (the one nearest us) first ... hop 1 (the IBGW) last.
 */
export interface OutboundTunnelConfig {
  role: 'obgw';
  layer: LayerType;
  /** Local id of this outbound tunnel at its gateway (what the framer writes in body[0..3]). */
  gatewayTunnelId: number;
  firstHopTunnelId: number;
  firstHop: number;
  hops: HopKeyConfig[];
  /** ChaCha only: the gateway's AEAD key toward hop 1 (= hop 1's inAeadKey). */
  outAeadKey?: Uint8Array;
  expiresAt?: number;
}

export interface InboundTunnelConfig {
  role: 'ibep';
  layer: LayerType;
  receiveTunnelId: number;
  /** The last participant (or the IBGW for a 1-hop tunnel): the only previous hop accepted. Absent: first sender fixes it. */
  previousHop?: number;
  hops: HopKeyConfig[];
  /** ChaCha only: the endpoint's AEAD key from the last hop (= that hop's outAeadKey). */
  inAeadKey?: Uint8Array;
  expiresAt?: number;
}

export type TunnelConfig = TransitTunnelConfig | OutboundTunnelConfig | InboundTunnelConfig;

/** Constructor options of a LayerEngine: plain data, postable to a worker. */
export interface LayerEngineOptions {
  /** Default 'auto'. */
  backend?: EngineBackend;
  /** WASM flavor for the wasm backend (default: SIMD when supported). */
  flavor?: WasmFlavor;
  /**
   * The router-wide replay filter's memory (createReplayFilterBuffer in src/tunnel/replay-filter.ts). Give every
   * worker thread's engine the same SharedArrayBuffer. Absent: the engine makes a private filter (single thread).
   */
  replayFilter?: SharedArrayBuffer;
  /**
   * Without `replayFilter`: the message rate (all tunnels, per second) the engine's own filter is sized for, with a
   * window of TUNNEL_LIFETIME_MS + graceMs (default 1000, about 12 MB). Above it the filter fills and refuses
   * entries; their messages are dropped (STATUS_REPLAY_FULL), never passed unchecked.
   */
  messagesPerSecond?: number;
  /** Grace after expiresAt, ms (default TUNNEL_GRACE_MS). */
  graceMs?: number;
}

/** Things that cannot be posted to a worker: given to the engine directly (tests, embedding routers). */
export interface LayerEngineHooks {
  /** Clock in epoch ms (default Date.now): tunnel expiry and the replay filter's window. */
  now?: () => number;
}

/**
 * One batch for `processReceived` / `processGateway`. All arrays are caller-owned and reused across calls.
 * Message i is `bodies[i*1028, i*1028+1028)`, transformed in place.
 */
export interface LayerBatch {
  count: number;
  /** count x 1028 bytes of TunnelData bodies. */
  bodies: Uint8Array;
  /** processReceived: router id the message came from (ignored by processGateway; may be omitted there). */
  prevHops?: Uint32Array;
  /** Out: STATUS_* (src/constants.ts) per message; only STATUS_OK messages were transformed. */
  status: Uint8Array;
  /** Out: next router per message, LOCAL_HOP when the output stays here (OBEP, IBEP). */
  nextHops: Uint32Array;
  /** Out: tunnel id now in body[0..3] (next hop's), or for local output the receive tunnel id it arrived on. */
  nextTunnelIds: Uint32Array;
  /** Out (optional): ROLE_* of the tunnel that handled each message. */
  roles?: Uint8Array;
}

/** Counters since the engine was made (cheap to read; reset with `resetStats`). */
export interface LayerEngineStats {
  processed: number;
  ok: number;
  unknownTunnel: number;
  expiredTunnel: number;
  replayed: number;
  wrongPrevHop: number;
  badMac: number;
  wrongRole: number;
  /** Dropped because the replay filter could not record the entry (full bucket: the filter fails closed). */
  replayFull: number;
}
