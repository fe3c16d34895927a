// A peer's RouterInfo as a transport meets it (ntcp2-routerinfo.md §3.1, §4.5): parse, check the signature and the
// content i2pd requires, and pick out its NTCP2 static key and IV. The rejection kind lets the NTCP2 layer pick its
// Termination reason (15 for a bad signature or invalid content, as i2pd does; 16 for a missing or other `s`).
import { equalBytes } from '../common/bytes.js';
import { ntcp2Addresses, type Ntcp2Address } from './ntcp2-address.js';
import {
  parseRouterInfo,
  routerInfoProblem,
  verifyRouterInfo,
  type AcceptOptions,
  type RouterInfo,
} from './router-info.js';

export type PeerRejection = 'malformed' | 'signature' | 'invalid' | 'no-ntcp2';

export type PeerResult = { ok: true; value: PeerRouterInfo } | { ok: false; kind: PeerRejection; error: string };

export interface PeerRouterInfo {
  readonly routerInfo: RouterInfo;
  /** SHA-256 of the peer's identity: NTCP2 `RH`, netDb key. */
  readonly identHash: Uint8Array;
  /** The best NTCP2 address (dialable first), if any. */
  readonly ntcp2?: Ntcp2Address;
  readonly ntcp2Addresses: readonly Ntcp2Address[];
}

/** Parses and checks a peer's signed RouterInfo bytes; never throws. */
export function readPeerRouterInfo(
  bytes: Uint8Array,
  opts: AcceptOptions & { requireNtcp2?: boolean } = {},
): PeerResult {
  const parsed = parseRouterInfo(bytes);
  if (!parsed.ok) return { ok: false, kind: 'malformed', error: parsed.error };
  const ri = parsed.value;
  if (!verifyRouterInfo(ri))
    return {
      ok: false,
      kind: 'signature',
      error: `RouterInfo signature (type ${ri.identity.sigType}) does not verify`,
    };
  const problem = routerInfoProblem(ri, opts);
  if (problem !== undefined) return { ok: false, kind: 'invalid', error: problem };
  const list = ntcp2Addresses(ri);
  if ((opts.requireNtcp2 ?? true) && list.length === 0)
    return { ok: false, kind: 'no-ntcp2', error: 'no NTCP2 address with a valid s' };
  return {
    ok: true,
    value: { routerInfo: ri, identHash: ri.identHash, ntcp2Addresses: list, ...(list[0] ? { ntcp2: list[0] } : {}) },
  };
}

/** Whether one of the peer's NTCP2 addresses carries this static key (Bob's msg3 check of Alice's S, §4.5). */
export function peerHasStaticKey(peer: PeerRouterInfo, staticKey: Uint8Array): boolean {
  return peer.ntcp2Addresses.some((a) => equalBytes(a.staticKey, staticKey));
}
