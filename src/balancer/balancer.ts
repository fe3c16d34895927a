// The balancer: one Destination hosted on several routers over plain I2CP (Proposal 140, first version).
// Each router gets its own session for the same keys; every RequestVariableLeaseSet updates that router's offered
// leases, and the balancer answers at once with ONE LeaseSet2 merging the leases of all routers, sent to every
// router that has asked for a LeaseSet so far. A lost router's leases are dropped and the others get a new
// LeaseSet2; the lost router is retried with exponential backoff and rejoins by opening a new session.
// Clock and transport are injected, so tests run routers in-process with a fake clock.
import { I2cpClient } from '../i2cp/client.js';
import type { Lease } from '../i2cp/messages.js';
import { systemClock, tcpConnector, type Clock, type Connector } from '../i2cp/transport.js';
import { leaseSetEncryptionKey, type PrivateKeys } from '../keys/destination.js';
import { i2pBase64 } from '../keys/encoding.js';
import { CRYPTO_TYPE_X25519 } from '../keys/destination.js';
import { buildLeaseSet2, MAX_LEASES } from '../leaseset/leaseset2.js';
import { admissibleLeases, selectLeases, type OfferedLease } from './policy.js';

export interface RouterAddress {
  host: string;
  port: number;
}

/** Parses HOST:PORT (IPv6 as [::1]:PORT); undefined if malformed. */
export function parseRouterAddress(s: string): RouterAddress | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(s.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (m[1] ?? m[2])!, port };
}

export function routerLabel(r: RouterAddress): string {
  return r.host.includes(':') ? `[${r.host}]:${r.port}` : `${r.host}:${r.port}`;
}

export interface JsonLease {
  gateway: string;
  tunnelId: number;
  end: number;
}

export type BalancerEvent =
  | { event: 'session'; router: string; sessionId: number }
  | { event: 'leases'; router: string; leases: JsonLease[] }
  | { event: 'published'; published: number; routers: string[]; leases: (JsonLease & { router: string })[] }
  | { event: 'router-lost'; router: string; reason: string; retryInMs: number }
  | { event: 'router-back'; router: string; sessionId: number }
  | { event: 'error'; router?: string; message: string };

/** Session options every balancer session gets unless overridden (i2cp.md §9). */
export const DEFAULT_SESSION_OPTIONS: Readonly<Record<string, string>> = {
  'i2cp.leaseSetType': '3',
  'i2cp.leaseSetEncType': '4',
  'i2cp.fastReceive': 'true',
  'inbound.nickname': 'tunnelplane',
  'outbound.nickname': 'tunnelplane',
};

/**
 * How far `published` may run ahead of the clock (seconds). Each LeaseSet2 must be at least 1 s newer than the last
 * (leaseset.md §5.4), so requests faster than one a second push `published` ahead; floodfills refuse a LeaseSet2
 * published more than 2 min ahead (netdb-floodfill.md §2.3). Past this bound the balancer publishes once the clock
 * has caught up (within a second), merging every request that came meanwhile.
 */
export const MAX_PUBLISHED_AHEAD_SEC = 10;

export interface BalancerOptions {
  routers: RouterAddress[];
  keys: PrivateKeys;
  /** Extra I2CP session options (override the defaults). */
  options?: Record<string, string>;
  clock?: Clock;
  connector?: Connector;
  onEvent?: (e: BalancerEvent) => void;
  /** Connect + handshake + CreateSession timeout per attempt, ms. */
  connectTimeoutMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

export type RouterState = 'connecting' | 'session' | 'ready' | 'down' | 'stopped';

export interface RouterStatus {
  router: string;
  state: RouterState;
  sessionId: number | undefined;
  /** Leases this router currently offers (unexpired). */
  offered: number;
  /** Leases of this router in the last published LeaseSet2. */
  published: number;
  lastError: string | undefined;
  /** When the next reconnect attempt is due (ms), if down. */
  retryAt: number | undefined;
}

interface RouterEntry {
  addr: RouterAddress;
  label: string;
  state: RouterState;
  client: I2cpClient | undefined;
  sessionId: number | undefined;
  leases: Lease[];
  /** Has asked for a LeaseSet on its current session (so it gets every merged one). */
  asked: boolean;
  everUp: boolean;
  lost: boolean;
  failures: number;
  retryTimer: unknown;
  retryAt: number | undefined;
  lastError: string | undefined;
}

export class BalancerStartError extends Error {
  override name = 'BalancerStartError';
}

export class Balancer {
  readonly keys: PrivateKeys;
  private readonly clock: Clock;
  private readonly connector: Connector;
  private readonly options: Record<string, string>;
  private readonly routers: RouterEntry[];
  private readonly emit: (e: BalancerEvent) => void;
  private readonly encKey: { privateKey: Uint8Array; publicKey: Uint8Array };
  private readonly connectTimeoutMs: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private stopping = false;
  /** A publish deferred until the clock catches up with `published` (MAX_PUBLISHED_AHEAD_SEC). */
  private publishTimer: unknown;
  /** `published` (seconds) of the last LeaseSet2 sent; the next one is strictly newer. */
  lastPublishedSec = 0;
  lastPublishAt: number | undefined;
  lastPublished: OfferedLease[] = [];
  publishCount = 0;
  /** Exceptions thrown by the `onEvent` callback (each one is dropped; the balancer goes on). */
  eventErrors = 0;

  constructor(o: BalancerOptions) {
    if (o.routers.length === 0) throw new RangeError('at least one router is needed');
    this.keys = o.keys;
    this.clock = o.clock ?? systemClock;
    this.connector = o.connector ?? tcpConnector;
    this.options = { ...DEFAULT_SESSION_OPTIONS, ...o.options };
    // The callback runs inside socket handlers and reconnect timers: an exception from it must not end the process
    // or skip the balancer's own bookkeeping, so it is counted and dropped.
    const onEvent = o.onEvent;
    this.emit =
      onEvent === undefined
        ? () => {}
        : (e) => {
            try {
              onEvent(e);
            } catch {
              this.eventErrors++;
            }
          };
    this.connectTimeoutMs = o.connectTimeoutMs ?? 10_000;
    this.backoffInitialMs = o.backoffInitialMs ?? 1000;
    this.backoffMaxMs = o.backoffMaxMs ?? 30_000;
    this.encKey = leaseSetEncryptionKey(o.keys);
    const seen = new Set<string>();
    this.routers = o.routers.map((addr) => {
      const label = routerLabel(addr);
      if (seen.has(label)) throw new RangeError(`router ${label} given twice`);
      seen.add(label);
      return {
        addr,
        label,
        state: 'connecting',
        client: undefined,
        sessionId: undefined,
        leases: [],
        asked: false,
        everUp: false,
        lost: false,
        failures: 0,
        retryTimer: undefined,
        retryAt: undefined,
        lastError: undefined,
      };
    });
  }

  /**
   * Opens sessions on all routers in parallel. Resolves once the first router has a session; rejects with a
   * BalancerStartError if the first router cannot be reached or refuses the session (the others are then closed).
   * Other routers that fail are retried in the background.
   */
  async start(): Promise<void> {
    const attempts = this.routers.map((r) => this.connect(r));
    const first = await attempts[0]!;
    if (first !== undefined) {
      await this.stop();
      throw new BalancerStartError(first);
    }
  }

  /** DestroySession everywhere (bounded wait), cancel retries. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.publishTimer !== undefined) this.clock.clearTimeout(this.publishTimer);
    this.publishTimer = undefined;
    await Promise.all(
      this.routers.map(async (r) => {
        if (r.retryTimer !== undefined) this.clock.clearTimeout(r.retryTimer);
        r.retryTimer = undefined;
        r.retryAt = undefined;
        const c = r.client;
        r.state = 'stopped';
        if (c && !c.closed) await c.destroySession();
      }),
    );
  }

  status(): RouterStatus[] {
    const now = this.clock.now();
    return this.routers.map((r) => ({
      router: r.label,
      state: r.state,
      sessionId: r.sessionId,
      offered: r.leases.filter((l) => l.end > now).length,
      published: this.lastPublished.filter((l) => l.router === r.label).length,
      lastError: r.lastError,
      retryAt: r.retryAt,
    }));
  }

  /** One connection attempt; resolves with an error message, or undefined when the session is up. */
  private async connect(r: RouterEntry): Promise<string | undefined> {
    r.state = 'connecting';
    r.retryAt = undefined;
    let client: I2cpClient | undefined;
    try {
      client = await I2cpClient.connect({
        host: r.addr.host,
        port: r.addr.port,
        connector: this.connector,
        clock: this.clock,
        timeoutMs: this.connectTimeoutMs,
      });
      if (this.stopping) {
        client.close('balancer stopping');
        return 'stopped';
      }
      r.client = client;
      client.onMessage((m) => {
        if (m.type === 'RequestVariableLeaseSet' && r.client === client) this.onRequest(r, m.leases);
      });
      const sid = await client.createSession(this.keys, this.options, this.connectTimeoutMs);
      if (this.stopping) {
        await client.destroySession();
        return 'stopped';
      }
      r.sessionId = sid;
      if (r.state === 'connecting') r.state = 'session'; // a request may already have made it 'ready'
      r.failures = 0;
      r.lastError = undefined;
      client.onClose((reason) => this.onLost(r, client!, reason));
      this.emit({ event: 'session', router: r.label, sessionId: sid });
      if (r.lost) {
        r.lost = false;
        this.emit({ event: 'router-back', router: r.label, sessionId: sid });
      }
      r.everUp = true;
      return undefined;
    } catch (err) {
      const msg = (err as Error).message;
      client?.close(msg);
      if (r.client === client) r.client = undefined;
      if (this.stopping) return msg;
      r.lastError = msg;
      const retryInMs = this.scheduleRetry(r);
      // the first router's first failure is reported by start(); every other failure is an event
      if (r !== this.routers[0] || r.everUp || r.failures > 1) {
        this.emit({ event: 'error', router: r.label, message: `${msg} (retry in ${Math.round(retryInMs / 1000)} s)` });
      }
      return msg;
    }
  }

  private scheduleRetry(r: RouterEntry): number {
    r.state = 'down';
    const delay = Math.min(this.backoffMaxMs, this.backoffInitialMs * 2 ** Math.min(r.failures, 20));
    r.failures++;
    r.retryAt = this.clock.now() + delay;
    r.retryTimer = this.clock.setTimeout(() => {
      r.retryTimer = undefined;
      if (!this.stopping) void this.connect(r);
    }, delay);
    return delay;
  }

  private onLost(r: RouterEntry, client: I2cpClient, reason: string): void {
    if (r.client !== client || this.stopping) return;
    r.client = undefined;
    r.sessionId = undefined;
    r.asked = false;
    r.lost = true;
    r.lastError = reason;
    const hadLeases = this.lastPublished.some((l) => l.router === r.label);
    r.leases = [];
    const retryInMs = this.scheduleRetry(r);
    this.emit({ event: 'router-lost', router: r.label, reason, retryInMs });
    if (hadLeases) this.publish();
  }

  private onRequest(r: RouterEntry, leases: Lease[]): void {
    if (this.stopping) return;
    r.leases = leases;
    r.asked = true;
    r.sessionId ??= r.client?.sessionId;
    r.state = 'ready';
    this.emit({ event: 'leases', router: r.label, leases: leases.map(jsonLease) });
    this.publish();
  }

  /**
   * Merges, signs and sends one LeaseSet2 to every router that has asked. Returns false if nothing was sent (or the
   * send was deferred because requests came faster than one a second; see MAX_PUBLISHED_AHEAD_SEC).
   */
  publish(): boolean {
    const now = this.clock.now();
    const nowSec = Math.floor(now / 1000);
    const published = Math.max(nowSec, this.lastPublishedSec + 1);
    if (published > nowSec + MAX_PUBLISHED_AHEAD_SEC) {
      // one router asking in a loop must not carry `published` out of what floodfills and routers accept
      this.publishTimer ??= this.clock.setTimeout(
        () => {
          this.publishTimer = undefined;
          if (!this.stopping) this.publish();
        },
        (published - MAX_PUBLISHED_AHEAD_SEC) * 1000 - now,
      );
      return false;
    }
    const offers = new Map<string, OfferedLease[]>();
    for (const r of this.routers) {
      // no router's claims go in unchecked: one far-future end would otherwise set the LeaseSet2's expiry for all
      if (r.client && r.asked)
        offers.set(
          r.label,
          admissibleLeases(
            r.leases.map((l) => ({ ...l, router: r.label })),
            now,
            published,
          ),
        );
    }
    const targets = this.routers.filter(
      (r) => r.client && !r.client.closed && r.asked && r.client.sessionId !== undefined,
    );
    if (targets.length === 0) return false;
    const chosen = selectLeases(offers, now, MAX_LEASES);
    if (chosen.length === 0) {
      this.emit({ event: 'error', message: 'no unexpired leases to publish' });
      return false;
    }
    const leases2 = chosen.map((l) => ({ gateway: l.gateway, tunnelId: l.tunnelId, end: Math.floor(l.end / 1000) }));
    let ls: Uint8Array;
    try {
      ls = buildLeaseSet2({
        keys: this.keys,
        published,
        leases: leases2,
        encryptionKeys: [{ type: CRYPTO_TYPE_X25519, key: this.encKey.publicKey }],
      });
    } catch (err) {
      this.emit({ event: 'error', message: `cannot build LeaseSet2: ${(err as Error).message}` });
      return false;
    }
    const privateKeys = [{ type: CRYPTO_TYPE_X25519, key: this.encKey.privateKey }];
    const sentTo: string[] = [];
    for (const r of targets) {
      try {
        r.client!.sendCreateLeaseSet2(ls, privateKeys);
        sentTo.push(r.label);
      } catch (err) {
        this.emit({ event: 'error', router: r.label, message: (err as Error).message });
      }
    }
    this.lastPublishedSec = published;
    this.lastPublishAt = now;
    this.lastPublished = chosen;
    this.publishCount++;
    this.emit({
      event: 'published',
      published: published * 1000,
      routers: sentTo,
      leases: chosen.map((l, i) => ({
        gateway: i2pBase64(l.gateway),
        tunnelId: l.tunnelId,
        end: leases2[i]!.end * 1000,
        router: l.router,
      })),
    });
    return true;
  }
}

function jsonLease(l: Lease): JsonLease {
  return { gateway: i2pBase64(l.gateway), tunnelId: l.tunnelId, end: l.end };
}
