// This router's own RouterInfo (ntcp2-routerinfo.md §2, §6 step 2): its identity, one published NTCP2 address
// (host, port, s, i, v=2, cost 3), no peers, and the options caps, netId and router.version, signed with its key.
import { join } from 'node:path';
import { formatCaps, type Caps } from './caps.js';
import { ROUTER_INFO_FILE, type RouterSecrets } from './data-dir.js';
import { readRouterInfoFile, writeRouterInfoFile } from './netdb-files.js';
import { NTCP2_COST_PUBLISHED, ntcp2AddressOptions } from './ntcp2-address.js';
import type { Ntcp2Keys } from './ntcp2-keys.js';
import {
  DEFAULT_ROUTER_VERSION,
  NET_ID_MAINNET,
  buildRouterInfo,
  parseRouterInfo,
  type RouterInfo,
} from './router-info.js';
import { equalBytes } from '../common/bytes.js';
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
  const options: Record<string, string> = {
    ...o.extraOptions,
    caps,
    netId: String(o.netId ?? NET_ID_MAINNET),
    'router.version': o.routerVersion ?? DEFAULT_ROUTER_VERSION,
  };
  const address = {
    style: 'NTCP2',
    cost: NTCP2_COST_PUBLISHED,
    options: ntcp2AddressOptions({ host: o.host, port: o.port, staticKey: ntcp2.staticPublicKey, iv: ntcp2.iv }),
  };
  return buildRouterInfo(keys, { published: o.published ?? Date.now(), addresses: [address], options });
}

/** A `published` value strictly newer than `previous` (§3.2: peers drop an update that is not newer). */
export function nextPublished(previous: number | undefined, now = Date.now()): number {
  return previous === undefined || now > previous ? now : previous + 1;
}

/**
 * Builds this router's RouterInfo and writes it to `<dir>/router.info` (atomically), newer than the one already there
 * if that one is this router's. Returns the signed bytes, parsed, and the path. Throws RangeError on invalid options.
 */
export function writeLocalRouterInfo(
  dir: string,
  secrets: RouterSecrets,
  o: Omit<LocalRouterInfoOptions, 'published'>,
): { bytes: Uint8Array; routerInfo: RouterInfo; path: string } {
  const path = join(dir, ROUTER_INFO_FILE);
  const old = readRouterInfoFile(path);
  const previous =
    old.ok && equalBytes(old.value.identity.bytes, secrets.keys.identity.bytes) ? old.value.published : undefined;
  const bytes = buildLocalRouterInfo(secrets.keys, secrets.ntcp2, { ...o, published: nextPublished(previous) });
  const parsed = parseRouterInfo(bytes);
  if (!parsed.ok) throw new Error(`built an unreadable RouterInfo: ${parsed.error}`); // cannot happen: a bug if it does
  writeRouterInfoFile(path, bytes);
  return { bytes, routerInfo: parsed.value, path };
}
