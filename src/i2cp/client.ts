// I2CP client: one connection to one router, holding at most one session (i2pd allows one per connection).
// Handshake `0x2A`, GetDate → SetDate; CreateSession → SessionStatus; then the router drives the session with
// RequestVariableLeaseSet, MessageStatus, MessagePayload. Anything the router sends that does not decode, a frame
// over the size limit, a Disconnect or a closed socket ends the connection once, with the reason in `closeReason`.
// So does a message listener (or waitFor matcher) that throws: the exception stops at the client, it never unwinds
// into the socket's event handler, where it would crash the process.
import { FrameDecoder } from './framing.js';
import {
  NO_SESSION,
  PROTOCOL_BYTE,
  SessionStatusCode,
  decodeMessage,
  encodeMessage,
  messageName,
  sessionConfigSignedBytes,
  type I2cpMessage,
  type Lease,
  type MessageOf,
  type SessionConfig,
} from './messages.js';
import { systemClock, tcpConnector, type Clock, type Connection, type Connector } from './transport.js';
import type { Mapping } from '../common/mapping.js';
import { signingKeyObject, type PrivateKeys } from '../keys/destination.js';
import { ed25519Sign } from '../keys/ed25519.js';

/** The I2CP API version we announce in GetDate. */
export const CLIENT_API_VERSION = '0.9.62';

/** A failure of the I2CP conversation (refused session, timeout, closed connection). */
export class I2cpError extends Error {
  override name = 'I2cpError';
}

export interface ConnectOptions {
  host: string;
  port: number;
  connector?: Connector;
  clock?: Clock;
  /** Connect + handshake timeout, ms (default 10 000). */
  timeoutMs?: number;
  version?: string;
  auth?: Mapping;
}

type Waiter = {
  match: (m: I2cpMessage) => boolean;
  resolve: (m: I2cpMessage) => void;
  reject: (e: Error) => void;
  timer: unknown;
};

export class I2cpClient {
  readonly host: string;
  readonly port: number;
  readonly clock: Clock;
  routerVersion = '';
  /** Router clock minus ours, ms, from SetDate. */
  clockOffset = 0;
  sessionId: number | undefined;
  closeReason: string | undefined;
  /** Exceptions thrown by this client's listeners and matchers, caught here (a message listener's ends the connection). */
  listenerErrors = 0;
  private readonly decoder = new FrameDecoder();
  private readonly listeners = new Set<(m: I2cpMessage) => void>();
  private readonly closeListeners = new Set<(reason: string) => void>();
  private waiters: Waiter[] = [];
  /** A CreateSession is outstanding: the next Created status names our session. */
  private creating = false;

  private constructor(
    private readonly conn: Connection,
    opts: ConnectOptions,
  ) {
    this.host = opts.host;
    this.port = opts.port;
    this.clock = opts.clock ?? systemClock;
    conn.onData((d) => this.onData(d));
    conn.onClose((reason) => this.finish(reason));
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get closed(): boolean {
    return this.closeReason !== undefined;
  }

  /** Connects, sends the protocol byte and GetDate, and waits for SetDate. */
  static async connect(opts: ConnectOptions): Promise<I2cpClient> {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    const conn = await (opts.connector ?? tcpConnector)(opts.host, opts.port, timeoutMs);
    const client = new I2cpClient(conn, opts);
    const auth = opts.auth && new Map<string, string>(opts.auth instanceof Map ? opts.auth : Object.entries(opts.auth));
    const getDate = encodeMessage({
      type: 'GetDate',
      version: opts.version ?? CLIENT_API_VERSION,
      ...(auth ? { auth } : {}),
    });
    const first = new Uint8Array(1 + getDate.length);
    first[0] = PROTOCOL_BYTE;
    first.set(getDate, 1);
    conn.write(first);
    try {
      const setDate = (await client.waitFor((m) => m.type === 'SetDate', timeoutMs, 'SetDate')) as MessageOf<'SetDate'>;
      client.routerVersion = setDate.version;
      client.clockOffset = setDate.date - client.clock.now();
    } catch (err) {
      client.close(`handshake failed: ${(err as Error).message}`);
      throw err;
    }
    return client;
  }

  /** Registers a handler for every decoded message from the router; returns an unsubscribe function. */
  onMessage(fn: (m: I2cpMessage) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Called once when the connection ends, with the reason. Fires at once if already closed. */
  onClose(fn: (reason: string) => void): void {
    if (this.closeReason !== undefined) fn(this.closeReason);
    else this.closeListeners.add(fn);
  }

  send(m: I2cpMessage): void {
    if (this.closed) throw new I2cpError(`connection to ${this.address} is closed (${this.closeReason})`);
    this.conn.write(encodeMessage(m));
  }

  /** Resolves with the next message matching `match`, or rejects on timeout or close. */
  waitFor(match: (m: I2cpMessage) => boolean, timeoutMs: number, what = 'reply'): Promise<I2cpMessage> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new I2cpError(`${this.address}: ${this.closeReason}`));
        return;
      }
      const w: Waiter = { match, resolve, reject, timer: undefined };
      w.timer = this.clock.setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new I2cpError(`${this.address}: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** Signs a SessionConfig for these keys (Destination ‖ sorted options ‖ date). */
  sessionConfig(keys: PrivateKeys, options: Mapping, date = this.clock.now()): SessionConfig {
    const signedBytes = sessionConfigSignedBytes(keys.destination.bytes, options, date);
    const signature = ed25519Sign(signingKeyObject(keys), signedBytes);
    const opts = new Map<string, string>(options instanceof Map ? options : Object.entries(options));
    return { destination: keys.destination.bytes, options: opts, date, signature, signedBytes };
  }

  /** CreateSession; resolves with the session id, rejects with the router's status if it is not Created. */
  async createSession(keys: PrivateKeys, options: Mapping, timeoutMs = 10_000): Promise<number> {
    if (this.sessionId !== undefined) throw new I2cpError('this connection already has a session');
    this.send({ type: 'CreateSession', config: this.sessionConfig(keys, options) });
    this.creating = true;
    const st = (await this.waitFor((m) => m.type === 'SessionStatus', timeoutMs, 'SessionStatus').finally(
      () => (this.creating = false),
    )) as MessageOf<'SessionStatus'>;
    if (st.status !== SessionStatusCode.Created) {
      throw new I2cpError(`${this.address} did not create the session: status ${st.status} (${statusName(st.status)})`);
    }
    this.sessionId = st.sessionId;
    return st.sessionId;
  }

  /** ReconfigureSession; resolves when the router answers Updated. */
  async reconfigure(keys: PrivateKeys, options: Mapping, timeoutMs = 10_000): Promise<void> {
    const sid = this.requireSession();
    this.send({ type: 'ReconfigureSession', sessionId: sid, config: this.sessionConfig(keys, options) });
    const st = (await this.waitFor(
      (m) => m.type === 'SessionStatus',
      timeoutMs,
      'SessionStatus',
    )) as MessageOf<'SessionStatus'>;
    if (st.status !== SessionStatusCode.Updated)
      throw new I2cpError(`reconfigure refused: status ${st.status} (${statusName(st.status)})`);
  }

  /** DestroySession, then waits (bounded) for SessionStatus Destroyed or the socket closing, then closes. */
  async destroySession(timeoutMs = 3000): Promise<void> {
    if (this.sessionId === undefined || this.closed) {
      this.close('client done');
      return;
    }
    const sid = this.sessionId;
    this.send({ type: 'DestroySession', sessionId: sid });
    try {
      await this.waitFor(
        (m) => m.type === 'SessionStatus' && m.status === SessionStatusCode.Destroyed,
        timeoutMs,
        'SessionStatus(Destroyed)',
      );
    } catch {
      // a closed socket or no answer (Java routers may send Disconnect instead) both end the session
    }
    this.sessionId = undefined;
    this.close('session destroyed');
  }

  sendCreateLeaseSet2(leaseSet: Uint8Array, privateKeys: { type: number; key: Uint8Array }[]): void {
    this.send({ type: 'CreateLeaseSet2', sessionId: this.requireSession(), lsType: 3, leaseSet, privateKeys });
  }

  /** SendMessageExpires (§6). Returns the frame's nonce; MessageStatus replies arrive through onMessage. */
  sendMessageExpires(
    destination: Uint8Array,
    payload: Uint8Array,
    opts: { nonce: number; flags?: number; expiration?: number },
  ): void {
    this.send({
      type: 'SendMessageExpires',
      sessionId: this.requireSession(),
      destination,
      payload,
      nonce: opts.nonce,
      flags: opts.flags ?? 0,
      expiration: opts.expiration ?? 0,
    });
  }

  async getBandwidthLimits(timeoutMs = 5000): Promise<number[]> {
    this.send({ type: 'GetBandwidthLimits' });
    const m = (await this.waitFor(
      (x) => x.type === 'BandwidthLimits',
      timeoutMs,
      'BandwidthLimits',
    )) as MessageOf<'BandwidthLimits'>;
    return m.limits;
  }

  private nextRequestId = 1;
  /** HostLookup by hash (type 0) or hostname (type 1); resolves with the HostReply. */
  async hostLookup(key: Uint8Array | string, timeoutMs = 15_000): Promise<MessageOf<'HostReply'>> {
    const requestId = this.nextRequestId++;
    const base = {
      type: 'HostLookup' as const,
      sessionId: this.sessionId ?? NO_SESSION,
      requestId,
      timeout: Math.max(timeoutMs - 1000, 1000),
    };
    this.send(
      typeof key === 'string' ? { ...base, lookupType: 1, hostname: key } : { ...base, lookupType: 0, hash: key },
    );
    return (await this.waitFor(
      (m) => m.type === 'HostReply' && m.requestId === requestId,
      timeoutMs,
      'HostReply',
    )) as MessageOf<'HostReply'>;
  }

  /** Ends the connection (idempotent). */
  close(reason = 'closed by client'): void {
    if (this.closed) return;
    this.finish(reason);
    this.conn.close();
  }

  private requireSession(): number {
    if (this.sessionId === undefined) throw new I2cpError('no session on this connection');
    return this.sessionId;
  }

  private onData(d: Uint8Array): void {
    if (this.closed) return;
    const frames = this.decoder.push(d);
    for (const f of frames) {
      if (this.closed) return;
      const res = decodeMessage(f.type, f.body);
      if (!res.ok) {
        this.close(`router sent an invalid ${messageName(f.type)} message: ${res.error}`);
        return;
      }
      try {
        this.dispatch(res.value);
      } catch (err) {
        // a caller's listener or matcher failed: state it keeps may now be stale, so end the conversation
        this.listenerErrors++;
        this.close(`a listener threw on ${messageName(f.type)}: ${errorMessage(err)}`);
        return;
      }
    }
    if (this.decoder.error !== undefined) this.close(`router sent garbage: ${this.decoder.error}`);
  }

  private dispatch(m: I2cpMessage): void {
    if (m.type === 'SetDate' && this.routerVersion) this.clockOffset = m.date - this.clock.now();
    if (m.type === 'SessionStatus' && this.creating && m.status === SessionStatusCode.Created) {
      // set before anything else in the same chunk (a RequestVariableLeaseSet) is dispatched
      this.sessionId = m.sessionId;
      this.creating = false;
    } else if (m.type === 'SessionStatus' && m.status === SessionStatusCode.Refused && this.sessionId !== undefined) {
      // i2pd renumbers the existing session to the id in a Refused reply (i2pd-notes §2)
      this.sessionId = m.sessionId;
    }
    const i = this.waiters.findIndex((w) => w.match(m));
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      this.clock.clearTimeout(w!.timer);
      w!.resolve(m);
    }
    for (const fn of [...this.listeners]) fn(m);
    if (m.type === 'Disconnect') this.close(`router disconnected: ${m.reason || '(no reason)'}`);
    else if (m.type === 'SessionStatus' && m.status === SessionStatusCode.Destroyed && m.sessionId === this.sessionId) {
      this.sessionId = undefined;
    }
  }

  private finish(reason: string): void {
    if (this.closeReason !== undefined) return;
    this.closeReason = reason;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      this.clock.clearTimeout(w.timer);
      w.reject(new I2cpError(`${this.address}: ${reason}`));
    }
    const closeListeners = [...this.closeListeners];
    this.closeListeners.clear();
    for (const fn of closeListeners) {
      try {
        fn(reason);
      } catch {
        this.listenerErrors++; // already closed: nothing left to end; the other listeners still run
      }
    }
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function statusName(status: number): string {
  return ['Destroyed', 'Created', 'Updated', 'Invalid', 'Refused'][status] ?? `unknown`;
}

export type { Lease };
