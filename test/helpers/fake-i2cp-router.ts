// An in-process I2CP router for unit tests: enough of i2pd's behaviour (i2pd-notes.md §2) to drive the client and
// the balancer with a fake clock: handshake, CreateSession with signature check, RequestVariableLeaseSet with the
// 10-second answer deadline, CreateLeaseSet2 verification, DestroySession, going down and coming back.
import { FrameDecoder } from '../../src/i2cp/framing.js';
import { decodeMessage, encodeMessage, PROTOCOL_BYTE, type I2cpMessage, type Lease } from '../../src/i2cp/messages.js';
import { connectionPair, type Clock, type Connection, type Connector } from '../../src/i2cp/transport.js';
import { parseDestination } from '../../src/keys/destination.js';
import { ed25519Verify } from '../../src/keys/ed25519.js';
import { parseLeaseSet2, verifyLeaseSet2, type LeaseSet2 } from '../../src/leaseset/leaseset2.js';

export class FakeClock implements Clock {
  t: number;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  constructor(start = 1_795_000_000_000) {
    this.t = start;
  }
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimeout = (h: unknown) => {
    this.timers = this.timers.filter((x) => x.id !== h);
  };
  /** Moves time forward, firing due timers in order and letting promises settle in between. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = Math.max(this.t, next.at);
      next.fn();
    }
    this.t = end;
    await settle();
  }
}

/** Lets queued microtasks and promise chains run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => queueMicrotask(r));
}

export interface RouterSession {
  conn: Connection;
  sessionId: number;
  destination: Uint8Array;
  leaseSets: LeaseSet2[];
  privateKeys: { type: number; key: Uint8Array }[][];
  deadline: unknown;
}

export class FakeRouter {
  up = true;
  /** Connect attempts that should hang instead of failing while down. */
  hang = false;
  /** If > 0: send a RequestVariableLeaseSet with this many leases in the same write as SessionStatus(Created). */
  immediateLeases = 0;
  readonly sessions: RouterSession[] = [];
  readonly received: I2cpMessage[] = [];
  readonly leaseSetErrors: string[] = [];
  private conns = new Set<Connection>();
  private nextSid = 100;

  constructor(
    readonly port: number,
    readonly clock: FakeClock,
    readonly gateway: Uint8Array = new Uint8Array(32).fill(port & 0xff),
  ) {}

  get openConnections(): number {
    return this.conns.size;
  }

  get session(): RouterSession | undefined {
    return this.sessions.at(-1);
  }

  accept(): Connection {
    const [client, server] = connectionPair();
    this.conns.add(server);
    const dec = new FrameDecoder();
    let sawProtocolByte = false;
    server.onClose(() => {
      this.conns.delete(server);
      for (const s of this.sessions) if (s.conn === server) this.clock.clearTimeout(s.deadline);
    });
    server.onData((d) => {
      let data = d;
      if (!sawProtocolByte) {
        if (data[0] !== PROTOCOL_BYTE) return server.close();
        sawProtocolByte = true;
        data = data.subarray(1);
      }
      for (const f of dec.push(data)) {
        const m = decodeMessage(f.type, f.body);
        if (!m.ok) throw new Error(`fake router got a bad message: ${m.error}`);
        this.received.push(m.value);
        this.handle(server, m.value);
      }
    });
    return client;
  }

  private handle(conn: Connection, m: I2cpMessage): void {
    const send = (x: I2cpMessage) => conn.write(encodeMessage(x));
    switch (m.type) {
      case 'GetDate':
        send({ type: 'SetDate', date: this.clock.now(), version: m.version });
        break;
      case 'CreateSession': {
        const d = parseDestination(m.config.destination);
        const okSig = d.ok && ed25519Verify(d.value.signingPublicKey, m.config.signedBytes!, m.config.signature);
        if (!okSig) return send({ type: 'SessionStatus', sessionId: 0, status: 3 });
        const sessionId = this.nextSid++;
        this.sessions.push({
          conn,
          sessionId,
          destination: m.config.destination,
          leaseSets: [],
          privateKeys: [],
          deadline: undefined,
        });
        if (this.immediateLeases > 0) {
          const status = encodeMessage({ type: 'SessionStatus', sessionId, status: 1 });
          const leases = Array.from({ length: this.immediateLeases }, (_, i) => ({
            gateway: this.gateway,
            tunnelId: this.port * 100 + i,
            end: this.clock.now() + 600_000,
          }));
          const req = encodeMessage({ type: 'RequestVariableLeaseSet', sessionId, leases });
          conn.write(new Uint8Array([...status, ...req]));
          return;
        }
        send({ type: 'SessionStatus', sessionId, status: 1 });
        break;
      }
      case 'CreateLeaseSet2': {
        const s = this.sessions.find((x) => x.conn === conn && x.sessionId === m.sessionId);
        if (!s) return;
        const p = parseLeaseSet2(m.leaseSet);
        if (!p.ok || !verifyLeaseSet2(p.value)) {
          this.leaseSetErrors.push(p.ok ? 'verification failed' : p.error);
          return; // like i2pd: logged, no reply
        }
        const prev = s.leaseSets.at(-1);
        if (prev && p.value.published <= prev.published) this.leaseSetErrors.push('published not newer');
        s.leaseSets.push(p.value);
        s.privateKeys.push(m.privateKeys);
        this.clock.clearTimeout(s.deadline);
        s.deadline = undefined;
        break;
      }
      case 'DestroySession':
        send({ type: 'SessionStatus', sessionId: m.sessionId, status: 0 });
        conn.close();
        break;
      case 'GetBandwidthLimits':
        send({ type: 'BandwidthLimits', limits: new Array(16).fill(0) });
        break;
      default:
        break;
    }
  }

  /** Sends RequestVariableLeaseSet on the current session; closes the connection if not answered within 10 s. */
  requestLeaseSet(count = 1, endMs = this.clock.now() + 600_000, tunnelBase = this.port * 100): Lease[] {
    const s = this.session!;
    const leases = Array.from({ length: count }, (_, i) => ({
      gateway: this.gateway,
      tunnelId: tunnelBase + i,
      end: endMs,
    }));
    s.conn.write(encodeMessage({ type: 'RequestVariableLeaseSet', sessionId: s.sessionId, leases }));
    this.clock.clearTimeout(s.deadline);
    s.deadline = this.clock.setTimeout(() => s.conn.close(), 10_000);
    return leases;
  }

  /** Raw bytes to the client on the current session's connection. */
  sendRaw(b: Uint8Array): void {
    this.session!.conn.write(b);
  }

  down(): void {
    this.up = false;
    for (const c of [...this.conns]) c.close();
  }

  revive(): void {
    this.up = true;
  }
}

/** A connector that reaches FakeRouters by port; down routers refuse (or hang until the timeout). */
export function fakeNetwork(clock: FakeClock, routers: FakeRouter[]): Connector {
  return (host, port, timeoutMs) => {
    const r = routers.find((x) => x.port === port);
    if (!r || !r.up) {
      if (r?.hang) {
        return new Promise((_, reject) =>
          clock.setTimeout(
            () => reject(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`)),
            timeoutMs,
          ),
        );
      }
      return Promise.reject(new Error(`cannot connect to ${host}:${port}: ECONNREFUSED`));
    }
    return Promise.resolve(r.accept());
  };
}
