// The interfaces the tunnel components (transit hops, creator, pools) are given by the router that embeds them: a way to
// send I2NP to a router, the peer table's numeric ids for the data plane, the data plane itself, local delivery and a
// clock. Nothing here opens a socket, so the components run in tests against an in-process network (docs/tunnels.md).
import type { TunnelConfig } from '../../tunnel/types.js';
import type { OutgoingI2np } from '../tunnel-build/hop.js';

export type { OutgoingI2np };

/** How the components reach other routers. */
export interface TunnelNet {
  /**
   * Sends an I2NP message to a router over its session (or after a dial). The message id and expiration must be sent
   * as given: a forwarded build carries the id the next hop or the creator waits for (tunnel-build-ecies.md §9).
   * Ownership of `message.body` passes to the callee. False: dropped (counted by the router).
   */
  send(to: Uint8Array, message: OutgoingI2np): boolean;
  /** The router's numeric id for a peer (data plane nextHop / previousHop), made on first use. */
  peerIdOf(identHash: Uint8Array): number;
  /** Whether a router can be sent to (a session, or a RouterInfo to dial); absent: every router is. */
  isReachable?(identHash: Uint8Array): boolean;
}

/** The part of the data plane (src/dataplane) the components use. */
export interface TunnelPlane {
  /** Throws on a bad config or an id in use; a worker's later refusal arrives as a TunnelJoinError 'error' event. */
  join(config: TunnelConfig): void;
  end(tunnelId: number, options?: { gateway?: boolean }): void;
  /** A locally framed gateway body (IBGW, OBGW): body[0..3] = the gateway's tunnel id. False: queue full. */
  pushGateway(body: Uint8Array): boolean;
}

/** An I2NP message that ends at this router (OBEP LOCAL delivery, a clove of a garlic to us, an IBEP's output). */
export interface LocalI2np {
  type: number;
  msgId: number;
  /** Epoch ms. */
  expiration: number;
  body: Uint8Array;
}

/** Counters by reason, created on first use. */
export type ReasonCounts = Record<string, number>;

export function bump(c: ReasonCounts, reason: string, n = 1): void {
  c[reason] = (c[reason] ?? 0) + n;
}

export function hexOf(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
