// What the transport needs from RouterInfos, as an injected interface: the RouterInfo codec lives in the router
// layer (src/router/), and the transport treats RouterInfo bytes as opaque (ntcp2-routerinfo.md §4.5, §5.2).
import type { X25519Pair } from './noise.js';

/** The facts the responder checks in the RouterInfo of msg3 (§4.5) and of data-phase RouterInfo blocks. */
export interface PeerRouterInfo {
  /** SHA-256 of the RouterIdentity: the peer's router hash. */
  identHash: Uint8Array;
  /** `s` of the RouterInfo's NTCP2 address(es), undefined if it has none. */
  staticKey: Uint8Array | undefined;
  /** The RouterInfo's `published` date, ms since the epoch. */
  published: number;
}

/**
 * Parses a RouterInfo and verifies its signature; { ok: false } for anything invalid (§3.1). Never throws.
 * Integration: `(b) => parseRouterInfo(b)` mapped onto these three fields.
 */
export type ParsePeerRouterInfo = (
  bytes: Uint8Array,
) => { ok: true; value: PeerRouterInfo } | { ok: false; error: string };

/** Our own router, as the transport sees it. */
export interface LocalRouter {
  identHash: Uint8Array;
  /** NTCP2 static key pair (`s` in our RouterInfo). */
  staticKey: X25519Pair;
  /** Our published IV `i`. */
  iv: Uint8Array;
  /** Our current signed RouterInfo (sent in msg3 and RouterInfo blocks). */
  routerInfo(): Uint8Array;
  /** Network ID (default 2). */
  netId?: number;
}

/** A peer to dial: from its RouterInfo's published NTCP2 address (§2.2). */
export interface DialTarget {
  identHash: Uint8Array;
  staticKey: Uint8Array;
  iv: Uint8Array;
  host: string;
  port: number;
}
