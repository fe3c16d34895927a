// What the layer engine (src/tunnel/engine.ts) asks of one implementation of a tunnel layer: take a hop's keys, run
// the transform of a batch's admitted messages tunnel by tunnel, wipe a hop's keys. The engine keeps validation,
// admission (lookup, expiry, previous hop, replay) and the tunnel tables; a backend keeps only key state and its
// scratch. Layers: tunnel-crypto-aes.md §2-§4 (AES), docs/chacha-layer.md (ChaCha). Design: docs/tunnel-layers.md.
import type { LayerType, TunnelRole } from '../types.js';

/** The transform a hop runs: P (`encrypt`: participant, OBEP, IBGW) or P^-1 (`decrypt`: OBGW, IBEP). */
export type HopDirection = 'encrypt' | 'decrypt';

/** A backend's name, as in LayerEngine's aesBackend / chachaBackend. */
export type BackendName = 'wasm' | 'node' | 'hybrid' | 'native';

/**
 * One tunnel as the engine keeps it. `H` is the backend's hop state and `A` its AEAD key state (ChaCha only).
 * `pending` lists the batch indices of the tunnel's admitted messages (status already STATUS_OK) for the backend.
 */
export interface LayerTunnel<H = unknown, A = unknown> {
  readonly role: TunnelRole;
  /** ROLE_* code (types.ts). */
  readonly code: number;
  readonly layer: LayerType;
  readonly id: number;
  readonly nextTunnelId: number;
  readonly nextHop: number;
  prevHop: number;
  expiresAt: number;
  ended: boolean;
  /** Transit: one hop (its own keys). Creator: the hops in forwarding order. */
  readonly hops: H[];
  /** ChaCha: AEAD key shared with the previous hop, and with the next hop (null where the role has none). */
  inAead: A | null;
  outAead: A | null;
  readonly pending: number[];
}

/** The engine's side of a batch, for what a backend finds per message (ChaCha: tag, then replay filter). */
export interface BatchSink {
  /** Message i's tag did not verify: status set and counted. */
  badMac(status: Uint8Array, i: number): void;
  /**
   * Message i's tag verified: records its replay entry; true (status set and counted) when it must be dropped as a
   * replay or because the filter is full.
   */
  replayed(tunnel: LayerTunnel, i: number, status: Uint8Array): boolean;
}

/**
 * One implementation of one layer. Keys handed to addHop / addAead are the caller's: a backend keeps its own copies
 * (or OpenSSL contexts, or WASM key slots) and zeroes them in wipeHop / wipeAead and close.
 */
export interface LayerBackend<H = unknown, A = unknown> {
  readonly name: BackendName;
  readonly layer: LayerType;
  /**
   * Takes one hop's keys. `direction`: the one transform the hop will run (transit roles apply P, OBGW and IBEP only
   * P^-1), so a backend may keep state for that direction alone. Throws (having taken nothing) when out of key slots.
   */
  addHop(layerKey: Uint8Array, ivKey: Uint8Array, direction: HopDirection): H;
  /** ChaCha: takes a hop-to-hop AEAD key. */
  addAead(key: Uint8Array): A;
  /** Zeroes the hop's keys and releases its slots. Idempotent. */
  wipeHop(hop: H): void;
  wipeAead(key: A): void;
  /**
   * Transforms the pending messages of each tunnel in place (body[0..3] := next tunnel id where the role forwards).
   * One call per batch; messages the backend drops get their status through `sink`.
   */
  run(tunnels: readonly LayerTunnel<H, A>[], bodies: Uint8Array, status: Uint8Array, sink: BatchSink): void;
  /** Live views of the key material a tunnel's hops and AEAD keys hold here (test seam; a native hop: 1 or 0). */
  keyViews(tunnel: LayerTunnel<H, A>): Uint8Array[];
  /** Zeroes the backend's scratch (the engine wipes every hop first). */
  close(): void;
}

/** body[o..o+4) := id, big-endian (tunnel-crypto-aes.md §1). */
export function writeId(buf: Uint8Array, o: number, id: number): void {
  buf[o] = id >>> 24;
  buf[o + 1] = (id >>> 16) & 0xff;
  buf[o + 2] = (id >>> 8) & 0xff;
  buf[o + 3] = id & 0xff;
}

/** True when idx[k] = idx[0] + k for every k. */
export function isRun(idx: readonly number[]): boolean {
  const first = idx[0]!;
  for (let k = 1; k < idx.length; k++) if (idx[k] !== first + k) return false;
  return true;
}

/** addAead of the AES backends: AES tunnels have no hop-to-hop AEAD (the engine never asks). */
export function noAead(): never {
  throw new TypeError('AES tunnels have no AEAD keys');
}
