// This router's own RouterInfo (ntcp2-routerinfo.md §2, §6 step 2): its identity, one published NTCP2 address
// (host, port, s, i, v=2, cost 3), no peers, and the options caps, netId and router.version, signed with its key.
import { formatCaps, type Caps } from './caps.js';
import { NTCP2_COST_PUBLISHED, ntcp2AddressOptions } from './ntcp2-address.js';
import type { Ntcp2Keys } from './ntcp2-keys.js';
import { DEFAULT_ROUTER_VERSION, NET_ID_MAINNET, buildRouterInfo } from './router-info.js';
import type { RouterKeys } from './router-keys.js';

export interface LocalRouterInfoOptions {
  /** IP literal the NTCP2 listener is reachable on. */
  readonly host: string;
  readonly port: number;
  /** Default: bandwidth L, reachable (R). */
  readonly caps?: Partial<Caps>;
  readonly netId?: number;
  readonly routerVersion?: string;
  /** Default Date.now(); must be greater than the last published value (§3.2). */
  readonly published?: number;
  /** More router options (e.g. netdb.knownRouters for a floodfill); cannot replace caps, netId or router.version. */
  readonly extraOptions?: Record<string, string>;
}

/** Builds and signs this router's RouterInfo. Throws RangeError on invalid options. */
export function buildLocalRouterInfo(keys: RouterKeys, ntcp2: Ntcp2Keys, o: LocalRouterInfoOptions): Uint8Array {
  const caps = formatCaps({ bandwidth: ['L'], reachable: true, ...o.caps });
  const options: Record<string, string> = { ...o.extraOptions, caps, netId: String(o.netId ?? NET_ID_MAINNET), 'router.version': o.routerVersion ?? DEFAULT_ROUTER_VERSION };
  const address = { style: 'NTCP2', cost: NTCP2_COST_PUBLISHED, options: ntcp2AddressOptions({ host: o.host, port: o.port, staticKey: ntcp2.staticPublicKey, iv: ntcp2.iv }) };
  return buildRouterInfo(keys, { published: o.published ?? Date.now(), addresses: [address], options });
}
