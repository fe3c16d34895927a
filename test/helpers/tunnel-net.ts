// An in-process network of our routers' tunnel components, no sockets: each router has an inline data plane and a
// TunnelService; I2NP between routers goes through one queue (delivered on later turns of the event loop, like a
// transport), TunnelData out of a data plane is pushed into the next router's data plane with that router's peer id
// of the sender. A shared fake clock drives lifetimes and timeouts. `intercept` can drop or change any message.
import { randomBytes } from 'node:crypto';
import { STATUS_OK, TUNNEL_DATA_SIZE } from '../../src/constants.js';
import { LOCAL_HOP } from '../../src/tunnel/types.js';
import { createReplayFilterBuffer } from '../../src/tunnel/replay-filter.js';
import { createDataPlane, type DataPlane } from '../../src/dataplane/index.js';
import { I2NP_TUNNEL_DATA } from '../../src/constants.js';
import { x25519Generate } from '../../src/keys/ed25519.js';
import type { OutgoingI2np } from '../../src/router/tunnel-build/hop.js';
import { TunnelService, type TunnelServiceOptions } from '../../src/router/tunnels/service.js';
import type { PeerCandidate } from '../../src/router/tunnels/creator.js';
import type { TunnelEvent } from '../../src/router/tunnels/pool.js';
import { hexOf, type LocalI2np } from '../../src/router/tunnels/types.js';

export interface WireMessage {
  from: SimRouter;
  to: SimRouter;
  msg: OutgoingI2np;
}

export interface SimRouter {
  name: string;
  identHash: Uint8Array;
  encryptionKey: Uint8Array;
  plane: DataPlane;
  service: TunnelService;
  /** Messages that ended here and were not the tunnel side's. */
  inbox: LocalI2np[];
  events: TunnelEvent[];
  peerIds: Map<string, number>;
  byId: Map<number, SimRouter>;
  /** Data plane outputs that were not OK, by status. */
  planeDrops: Record<number, number>;
  /** Local output bodies no component took. */
  unclaimedLocal: number;
}

export type Intercept = (m: WireMessage) => OutgoingI2np | undefined | 'drop';

export class SimNet {
  readonly routers: SimRouter[] = [];
  private readonly byHash = new Map<string, SimRouter>();
  private queue: WireMessage[] = [];
  private scheduled = false;
  t = Date.now();
  intercept: Intercept | undefined;
  /** Every message sent, for replay tests. */
  readonly log: WireMessage[] = [];
  logEnabled = false;
  sent = 0;

  now = (): number => this.t;

  add(
    name: string,
    opts: Partial<
      Omit<TunnelServiceOptions, 'identHash' | 'staticPrivateKey' | 'net' | 'plane' | 'peers' | 'deliverLocal'>
    > = {},
  ): SimRouter {
    const keys = x25519Generate();
    const identHash = new Uint8Array(randomBytes(32));
    const r = {
      name,
      identHash,
      encryptionKey: keys.publicKey,
      inbox: [] as LocalI2np[],
      events: [] as TunnelEvent[],
      peerIds: new Map<string, number>(),
      byId: new Map<number, SimRouter>(),
      planeDrops: {} as Record<number, number>,
      unclaimedLocal: 0,
    } as Partial<SimRouter> as SimRouter;
    r.plane = createDataPlane({
      threads: 'inline',
      backend: 'node',
      // The fake clock runs ahead of real time; a longer filter window lets the planes join tunnels that expire by it.
      replayFilter: createReplayFilterBuffer({ messagesPerSecond: 20, windowMs: 3 * 3600_000 }),
      onOutput: (b) => {
        for (let i = 0; i < b.count; i++) {
          const st = b.status[i]!;
          if (st !== STATUS_OK) {
            r.planeDrops[st] = (r.planeDrops[st] ?? 0) + 1;
            continue;
          }
          const body = b.bodies.slice(i * TUNNEL_DATA_SIZE, (i + 1) * TUNNEL_DATA_SIZE);
          const hop = b.nextHops[i]!;
          if (hop === LOCAL_HOP) {
            if (!r.service.handleEndpointOutput(b.nextTunnelIds[i]!, body)) r.unclaimedLocal++;
            continue;
          }
          const next = r.byId.get(hop);
          if (next)
            this.enqueue({
              from: r,
              to: next,
              msg: { type: I2NP_TUNNEL_DATA, msgId: 0, expiration: this.t + 8000, body },
            });
        }
      },
    });
    r.plane.on('error', (e) => r.service.onJoinError(e));
    r.service = new TunnelService({
      identHash,
      staticPrivateKey: keys.privateKey,
      plane: r.plane,
      now: this.now,
      exploratory: false,
      net: {
        send: (to, msg) => {
          const dest = this.byHash.get(hexOf(to));
          if (!dest) return false;
          this.enqueue({ from: r, to: dest, msg });
          return true;
        },
        peerIdOf: (h) => this.peerId(r, h),
      },
      peers: { candidates: () => this.candidates(r) },
      deliverLocal: (m) => r.inbox.push(m),
      ...opts,
    });
    r.service.on('tunnel', (ev: TunnelEvent) => r.events.push(ev));
    this.routers.push(r);
    this.byHash.set(hexOf(identHash), r);
    return r;
  }

  /** Routers a pool of `r` may use (all others unless `only` was set). */
  peerFilter: ((r: SimRouter) => SimRouter[]) | undefined;

  candidates(r: SimRouter): PeerCandidate[] {
    const list = this.peerFilter ? this.peerFilter(r) : this.routers.filter((x) => x !== r);
    return list.map((x) => ({ identHash: x.identHash, encryptionKey: x.encryptionKey }));
  }

  peerId(r: SimRouter, h: Uint8Array): number {
    const k = hexOf(h);
    let id = r.peerIds.get(k);
    if (id === undefined) {
      id = r.peerIds.size + 1;
      r.peerIds.set(k, id);
      const target = this.byHash.get(k);
      if (target) r.byId.set(id, target);
    }
    return id;
  }

  enqueue(m: WireMessage): void {
    this.sent++;
    if (this.logEnabled) this.log.push({ ...m, msg: { ...m.msg, body: m.msg.body.slice() } });
    this.queue.push(m);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.pump());
    }
  }

  private pump(): void {
    this.scheduled = false;
    const q = this.queue;
    this.queue = [];
    for (const m of q) this.deliver(m);
  }

  /** Delivers one message now (also used to replay a logged one). */
  deliver(m: WireMessage): void {
    let msg: OutgoingI2np | undefined = m.msg;
    if (this.intercept) {
      const r = this.intercept(m);
      if (r === 'drop') return;
      if (r !== undefined) msg = r;
    }
    const to = m.to;
    if (msg.type === I2NP_TUNNEL_DATA) {
      if (msg.body.length === TUNNEL_DATA_SIZE) to.plane.push(msg.body, this.peerId(to, m.from.identHash));
      return;
    }
    if (!to.service.handleI2np(msg.type, msg.msgId, msg.body, m.from.identHash))
      to.inbox.push({ type: msg.type, msgId: msg.msgId, expiration: msg.expiration, body: msg.body });
  }

  /** Runs the event loop until no message is queued and every data plane is idle (bounded). */
  async settle(maxRounds = 5000): Promise<void> {
    for (let i = 0; i < maxRounds; i++) {
      const before = this.sent;
      await new Promise((res) => setImmediate(res));
      await Promise.all(this.routers.map((r) => r.plane.idle()));
      await new Promise((res) => setImmediate(res));
      const busy = this.routers.some((r) => r.plane.stats().queueDepth > 0);
      if (!busy && this.queue.length === 0 && !this.scheduled && this.sent === before) return;
    }
    throw new Error('network did not settle');
  }

  /** Advances the clock in steps, ticking every router's services and settling after each step. */
  async advance(ms: number, stepMs = 1000): Promise<void> {
    const end = this.t + ms;
    while (this.t < end) {
      this.t = Math.min(end, this.t + stepMs);
      for (const r of this.routers) r.service.tick(this.t);
      await this.settle();
    }
  }

  async close(): Promise<void> {
    for (const r of this.routers) {
      r.service.close();
      await r.plane.close();
    }
  }

  nameOf(hashHex: string): string {
    return this.byHash.get(hashHex)?.name ?? '?';
  }
}
