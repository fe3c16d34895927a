// One NTCP2 connection over a node:net socket (ntcp2-routerinfo.md §4, §5): the handshake as initiator or responder,
// then the data phase. State machine, timers (handshake, idle, intra-frame read), probing resistance on a bad first
// message, Termination with reason codes, bounded receive and send buffers with backpressure both ways. Hostile
// input never throws: it closes this connection and is counted; nothing here touches another session.
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import {
  FRAME_PLAINTEXT_MAX,
  I2NP_BLOCK_MAX,
  I2NP_SHORT_HEADER,
  BLOCK_HEADER,
  MSG12_FIXED,
  CLOCK_SKEW_S,
  RI_MAX_AGE_MS,
  RI_MAX_FUTURE_MS,
  TAG_SIZE,
  I2PD_MAX_HANDSHAKE_PADDING,
  TERM_AEAD_FRAMING_ERROR,
  TERM_CLOCK_SKEW,
  TERM_DATA_AEAD_FAILURE,
  TERM_IDLE_TIMEOUT,
  TERM_INTRA_FRAME_TIMEOUT,
  TERM_MSG1_ERROR,
  TERM_MSG3_ERROR,
  TERM_NORMAL,
  TERM_RI_SIGNATURE_FAILURE,
  TERM_STATIC_KEY_MISMATCH,
} from './constants.js';
import { BlockWriter, parseBlocks, parseSessionConfirmedPayload, type BlockVisitor } from './blocks.js';
import { FrameOpener, FrameSealer, type FrameAead } from './frames.js';
import { Initiator, Responder, ntcp2Seconds, withinSkew } from './handshake.js';
import { bytesEqual, wipeKeys } from './noise.js';
import type { DialTarget, LocalRouter, ParsePeerRouterInfo } from './peer-info.js';
import { RecvBuffer } from './recv-buffer.js';

export type SessionState = 'handshake' | 'established' | 'closing' | 'closed';
export type Direction = 'in' | 'out';

/** Why a connection ended; `code` is the Termination reason sent or received when there was one. */
export interface CloseInfo {
  /** Short fixed reason, e.g. 'idle', 'termination-received', 'bad-msg1', 'aead', 'replaced', 'socket-error'. */
  reason: string;
  /** Termination reason code sent (by 'local') or received (by 'remote'). */
  code?: number;
  by: 'local' | 'remote';
  /** Error text from a parser, for logs. */
  detail?: string;
}

/** Upcalls from a session. Views passed in are valid only during the call. */
export interface SessionEvents {
  /**
   * Handshake done; the transport may refuse the session: it is then closed with `code`, or, when `keep` names the
   * peer's session that stays, superseded by it (its queue moves there and it reads on until the peer closes).
   */
  onEstablished?(s: Session): EstablishVerdict;
  /** An I2NP block: short header fields and a view of the body. */
  onI2np?(s: Session, type: number, msgId: number, expirationSec: number, body: Uint8Array): void;
  onRouterInfo?(s: Session, flag: number, routerInfo: Uint8Array): void;
  onDateTime?(s: Session, seconds: number): void;
  onOptions?(s: Session, data: Uint8Array): void;
  /** The send queue has room again after sendI2np returned false. */
  onDrain?(s: Session): void;
  onClose?(s: Session, info: CloseInfo): void;
  /** The session ends with messages queued and not sealed: they are handed over (the transport holds them). */
  onUnsent?(s: Session, msgs: QueuedI2np[]): void;
}

export type EstablishVerdict =
  { accept: true } | { accept: false; reason: string; code: number; keep?: Session | undefined };

export interface SessionLimits {
  /** Whole handshake, from accept/connect to established (i2pd as Bob: 10 s, §4.9). */
  handshakeTimeoutMs: number;
  /** No frame sent or received for this long: Termination reason 2 (i2pd: 120 s, §4.9). */
  idleTimeoutMs: number;
  /** A frame begun but not completed for this long: Termination reason 14. */
  frameReadTimeoutMs: number;
  /** Probing resistance after a bad first message: close after a random delay in this range ... */
  probeDelayMs: [number, number];
  /** ... or after reading a random number of further bytes up to this. */
  probeReadMax: number;
  /** Bytes of queued I2NP (not yet sealed) before sendI2np refuses. */
  maxQueuedBytes: number;
  /** Messages queued before sendI2np refuses (i2pd closes at 500, §4.10). */
  maxQueuedMessages: number;
  /** Bytes in the socket's own write buffer above which sealing waits for 'drain'. */
  socketHighWater: number;
  /** Bytes held in the receive buffer above which the socket is paused. */
  maxRecvBuffered: number;
  /** Largest msg1 padding accepted (spec: 65471; i2pd: 223). */
  maxHandshakePaddingIn: number;
  /** Largest msg1/msg2 padding sent: i2pd refuses > 223 (§0.2). */
  maxHandshakePaddingOut: number;
  /** Largest m3p2Len accepted. */
  maxM3p2Len: number;
  /** Clock skew allowed, seconds (§4.8). */
  clockSkewS: number;
  /** Largest frame plaintext we send (65519 max, §4.7); smaller frames trade throughput for latency. */
  maxFramePayload: number;
  /** A superseded session reads on this long at most for the peer's last frames and its close. */
  supersededLingerMs: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  handshakeTimeoutMs: 15_000,
  idleTimeoutMs: 120_000,
  frameReadTimeoutMs: 30_000,
  probeDelayMs: [2_000, 15_000],
  probeReadMax: 1024,
  maxQueuedBytes: 4 << 20,
  maxQueuedMessages: 4096,
  socketHighWater: 256 << 10,
  maxRecvBuffered: 256 << 10,
  maxHandshakePaddingIn: 0xffff - MSG12_FIXED,
  maxHandshakePaddingOut: I2PD_MAX_HANDSHAKE_PADDING - 1,
  maxM3p2Len: 65487,
  clockSkewS: CLOCK_SKEW_S,
  maxFramePayload: FRAME_PLAINTEXT_MAX,
  supersededLingerMs: 5_000,
};

/** Context shared by all sessions of a transport. */
export interface SessionContext {
  local: LocalRouter;
  parseRouterInfo: ParsePeerRouterInfo;
  limits: SessionLimits;
  aead: FrameAead;
  /** ms since the epoch (injectable for tests). */
  now(): number;
  /** Replay check of msg1's ephemeral key X (§4.3): true if seen within the window (and records it). */
  seenEphemeral(x: Uint8Array): boolean;
  /** Counts a dropped thing by reason. */
  count(reason: string): void;
}

/** Responder / initiator phases: how many bytes the next step needs and what handles them. */
const enum Phase {
  Msg1,
  Msg1Padding,
  Msg2,
  Msg2Padding,
  Msg3,
  FrameLength,
  FrameBody,
  Probing,
  Done,
}

/** An I2NP message queued on a session and not yet sealed. */
export interface QueuedI2np {
  type: number;
  msgId: number;
  expiration: number;
  body: Uint8Array;
}
type Queued = QueuedI2np;

let nextSessionId = 1;

// One receive plaintext buffer and one send block writer for all sessions: the socket thread handles one frame at a
// time, synchronously, and views handed to callbacks are valid only during the call. Keeps an idle session small.
let sharedPlain: Uint8Array | undefined;
let sharedWriter: BlockWriter | undefined;
function plainBuffer(): Uint8Array {
  sharedPlain ??= new Uint8Array(FRAME_PLAINTEXT_MAX);
  return sharedPlain;
}

export class Session {
  readonly id = nextSessionId++;
  readonly direction: Direction;
  state: SessionState = 'handshake';
  /** Peer router hash, known after msg3 (responder) or from the start (initiator). */
  peerHash: Uint8Array | undefined;
  /** Peer's RouterInfo bytes from msg3 (responder only; a copy). */
  peerRouterInfo: Uint8Array | undefined;
  readonly remoteAddress: string;
  readonly createdAt: number;
  establishedAt = 0;
  /** Frames and bytes each way, data phase. */
  framesIn = 0;
  framesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  /** I2NP messages each way. */
  i2npIn = 0;
  i2npOut = 0;

  private readonly sock: Socket;
  private readonly ctx: SessionContext;
  private readonly ev: SessionEvents;
  private readonly lim: SessionLimits;
  private readonly recv = new RecvBuffer();
  private phase: Phase;
  private need = 0;
  private responder: Responder | undefined;
  private initiator: Initiator | undefined;
  private sealer: FrameSealer | undefined;
  private opener: FrameOpener | undefined;
  private queue: Queued[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  private flushScheduled = false;
  private wantDrain = false;
  private socketBlocked = false;
  private recvPaused = false;
  private userPaused = false;
  private skewed = false;
  private lastActivity: number;
  private hsTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private frameTimer: NodeJS.Timeout | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private probeReadLeft = 0;
  private closeInfo: CloseInfo | undefined;
  private rngState: number;
  private pumping = false;
  /** The peer's session that replaced this one: queued and later sends go there. */
  private successor: Session | undefined;
  /** Superseded: no more sending, but frames are still read and delivered until the peer closes. */
  private draining = false;
  private readonly visitor: BlockVisitor;

  constructor(sock: Socket, direction: Direction, ctx: SessionContext, events: SessionEvents, target?: DialTarget) {
    this.sock = sock;
    this.direction = direction;
    this.ctx = ctx;
    this.ev = events;
    this.lim = ctx.limits;
    this.remoteAddress = sock.remoteAddress ?? '';
    this.createdAt = ctx.now();
    this.lastActivity = this.createdAt;
    this.rngState = randomBytes(4).readUInt32LE(0) | 1;
    this.visitor = this.makeVisitor();
    sock.setNoDelay(true);
    sock.on('data', (c: Buffer) => this.onData(c));
    sock.on('error', () => this.finish({ reason: 'socket-error', by: 'remote' }));
    sock.on('close', () => this.finish({ reason: 'socket-closed', by: 'remote' }));
    sock.on('end', () => this.finish({ reason: 'socket-closed', by: 'remote' }));
    sock.on('drain', () => this.onSocketDrain());
    if (direction === 'in') {
      this.hsTimer = setTimeout(() => this.handshakeTimeout(), this.lim.handshakeTimeoutMs);
      this.responder = new Responder(
        { staticKey: ctx.local.staticKey, identHash: ctx.local.identHash, iv: ctx.local.iv, netId: ctx.local.netId },
        { maxPadding: this.lim.maxHandshakePaddingIn, maxM3p2Len: this.lim.maxM3p2Len },
      );
      this.phase = Phase.Msg1;
      this.need = MSG12_FIXED;
    } else {
      if (!target) throw new TypeError('an outbound session needs a target');
      this.peerHash = Uint8Array.from(target.identHash);
      this.initiator = new Initiator(ctx.local.staticKey, target);
      this.phase = Phase.Msg2;
      this.need = MSG12_FIXED;
    }
  }

  /** Initiator: sends msg1 once the socket is connected. */
  start(): void {
    if (this.direction !== 'out' || this.state !== 'handshake' || !this.initiator) return;
    this.hsTimer = setTimeout(() => this.handshakeTimeout(), this.lim.handshakeTimeoutMs);
    let msg1: Uint8Array;
    try {
      const m3p2 = this.msg3Payload();
      msg1 = this.initiator.createSessionRequest({
        m3p2Len: m3p2.length + TAG_SIZE,
        tsA: ntcp2Seconds(this.ctx.now()),
        netId: this.ctx.local.netId,
        padding: this.handshakePadding(),
      });
      this.pendingMsg3 = m3p2;
    } catch (e) {
      // A responder key that is not a usable X25519 point, or our RouterInfo too large for msg3.
      this.ctx.count('bad-dial-target');
      return this.abortNow({
        reason: 'bad-dial-target',
        by: 'local',
        detail: e instanceof Error ? e.message : String(e),
      });
    }
    this.sock.write(msg1);
  }
  private pendingMsg3: Uint8Array | undefined;

  /** msg3 part 2 plaintext: our RouterInfo block (flag 0) only, as i2pd sends it (§4.5). */
  private msg3Payload(): Uint8Array {
    const ri = this.ctx.local.routerInfo();
    const w = new BlockWriter(BLOCK_HEADER + 1 + ri.length);
    w.routerInfo(0, ri);
    return w.bytes();
  }

  private handshakePadding(): Uint8Array {
    const max = this.lim.maxHandshakePaddingOut;
    return new Uint8Array(randomBytes(max > 0 ? this.rand(max + 1) : 0));
  }

  /** xorshift32: padding sizes and probe ranges only (not secret). */
  private rand(n: number): number {
    let s = this.rngState;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.rngState = s;
    return ((s >>> 0) % n) | 0;
  }

  // ---------------------------------------------------------------- receive

  private onData(c: Buffer): void {
    if (this.state === 'closed') return;
    this.bytesIn += c.length;
    if (this.phase === Phase.Probing) {
      this.probeReadLeft -= c.length;
      if (this.probeReadLeft <= 0) this.destroy();
      return;
    }
    if (this.phase === Phase.Done) return;
    this.recv.push(c);
    if (this.recv.length > this.lim.maxRecvBuffered && !this.recvPaused) {
      this.recvPaused = true;
      this.sock.pause();
    }
    this.pump();
  }

  /** Processes every complete piece buffered. Never throws: a callback's exception closes this session. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (
        this.phase !== Phase.Done &&
        this.phase !== Phase.Probing &&
        !this.userPaused &&
        this.recv.length >= this.need
      ) {
        this.step();
      }
      if (this.phase === Phase.FrameBody || (this.phase === Phase.FrameLength && this.recv.length > 0))
        this.armFrameTimer();
      else this.clearFrameTimer();
      if (this.recvPaused && this.recv.length <= this.lim.maxRecvBuffered / 2 && this.state !== 'closed') {
        this.recvPaused = false;
        if (!this.userPaused) this.sock.resume();
      }
    } catch (e) {
      this.ctx.count('internal-error');
      this.abortNow({ reason: 'internal-error', by: 'local', detail: e instanceof Error ? e.message : String(e) });
    } finally {
      this.pumping = false;
    }
  }

  private step(): void {
    switch (this.phase) {
      case Phase.Msg1:
        return this.onMsg1(this.recv.take(MSG12_FIXED));
      case Phase.Msg1Padding:
        return this.onMsg1Padding(this.recv.take(this.need));
      case Phase.Msg2:
        return this.onMsg2(this.recv.take(MSG12_FIXED));
      case Phase.Msg2Padding:
        return this.onMsg2Padding(this.recv.take(this.need));
      case Phase.Msg3:
        return this.onMsg3(this.recv.take(this.need));
      case Phase.FrameLength: {
        const b = this.recv.take(2);
        const len = this.opener!.readLength(b[0]!, b[1]!);
        if (len < 0) {
          this.ctx.count('frame-too-short');
          return this.terminate(TERM_AEAD_FRAMING_ERROR, 'bad-length');
        }
        this.phase = Phase.FrameBody;
        this.need = len;
        return;
      }
      case Phase.FrameBody: {
        const sealed = this.recv.take(this.need);
        this.clearFrameTimer(); // the read timeout runs per frame
        this.phase = Phase.FrameLength;
        this.need = 2;
        return this.onFrame(sealed);
      }
      default:
        this.need = Infinity;
    }
  }

  private onMsg1(m: Uint8Array): void {
    const r = this.responder!.readSessionRequest(m);
    if (!r.ok) {
      this.ctx.count('bad-msg1');
      return this.probe('bad-msg1', r.error);
    }
    if (this.ctx.seenEphemeral(r.value.x)) {
      this.ctx.count('replayed-msg1');
      return this.probe('replayed-msg1', 'SessionRequest ephemeral key seen before');
    }
    this.skewed = !withinSkew(r.value.tsA, ntcp2Seconds(this.ctx.now()), this.lim.clockSkewS);
    this.phase = Phase.Msg1Padding;
    this.need = r.value.padLen;
  }

  private onMsg1Padding(pad: Uint8Array): void {
    const resp = this.responder!;
    resp.sessionRequestPadding(pad);
    // Alice must wait for msg2: bytes beyond msg1 are a protocol violation (§4.3, spec).
    if (this.recv.length > 0) {
      this.ctx.count('bytes-after-msg1');
      return this.probe('bad-msg1', 'bytes after SessionRequest');
    }
    const msg2 = resp.createSessionCreated({ tsB: ntcp2Seconds(this.ctx.now()), padding: this.handshakePadding() });
    this.sock.write(msg2);
    if (this.skewed) {
      // Answer so Alice learns our clock, then close (§4.8).
      this.ctx.count('clock-skew');
      return this.closeAfterWrite({ reason: 'clock-skew', code: TERM_CLOCK_SKEW, by: 'local' });
    }
    this.phase = Phase.Msg3;
    this.need = resp.sessionConfirmedLength;
  }

  private onMsg2(m: Uint8Array): void {
    const r = this.initiator!.readSessionCreated(m);
    if (!r.ok) {
      this.ctx.count('bad-msg2');
      return this.abortNow({ reason: 'bad-msg2', by: 'local', detail: r.error });
    }
    if (!withinSkew(r.value.tsB, ntcp2Seconds(this.ctx.now()), this.lim.clockSkewS)) {
      this.ctx.count('clock-skew');
      return this.abortNow({ reason: 'clock-skew', code: TERM_CLOCK_SKEW, by: 'local', detail: `tsB ${r.value.tsB}` });
    }
    this.phase = Phase.Msg2Padding;
    this.need = r.value.padLen;
  }

  private onMsg2Padding(pad: Uint8Array): void {
    const ini = this.initiator!;
    ini.sessionCreatedPadding(pad);
    const { message, keys } = ini.createSessionConfirmed(this.pendingMsg3!);
    this.pendingMsg3 = undefined;
    this.initiator = undefined;
    this.sealer = new FrameSealer(keys.kAB, keys.sipAB, this.ctx.aead);
    this.opener = new FrameOpener(keys.kBA, keys.sipBA, this.ctx.aead);
    wipeKeys(keys);
    this.sock.write(message);
    this.establish();
  }

  private onMsg3(m: Uint8Array): void {
    const r = this.responder!.readSessionConfirmed(m);
    this.responder = undefined;
    if (!r.ok) {
      this.ctx.count('bad-msg3');
      return this.abortNow({ reason: 'bad-msg3', by: 'local', detail: r.error });
    }
    const { keys, payload, remoteStaticKey } = r.value;
    this.sealer = new FrameSealer(keys.kBA, keys.sipBA, this.ctx.aead);
    this.opener = new FrameOpener(keys.kAB, keys.sipAB, this.ctx.aead);
    wipeKeys(keys);
    // From here on, errors are reported with a Termination block (i2pd sends 13 / 15, §4.5).
    const p = parseSessionConfirmedPayload(payload);
    if (!p.ok) {
      this.ctx.count('bad-msg3');
      return this.terminate(TERM_MSG3_ERROR, 'bad-msg3', p.error);
    }
    const ri = this.ctx.parseRouterInfo(p.value.routerInfo);
    if (!ri.ok) {
      this.ctx.count('bad-routerinfo');
      return this.terminate(TERM_RI_SIGNATURE_FAILURE, 'bad-routerinfo', ri.error);
    }
    if (ri.value.staticKey === undefined || !bytesEqual(ri.value.staticKey, remoteStaticKey)) {
      this.ctx.count('static-key-mismatch');
      return this.terminate(TERM_STATIC_KEY_MISMATCH, 'static-key-mismatch');
    }
    const now = this.ctx.now();
    if (ri.value.published < now - RI_MAX_AGE_MS || ri.value.published > now + RI_MAX_FUTURE_MS) {
      this.ctx.count('routerinfo-age');
      return this.terminate(TERM_MSG3_ERROR, 'routerinfo-age');
    }
    this.peerHash = Uint8Array.from(ri.value.identHash);
    this.peerRouterInfo = Uint8Array.from(p.value.routerInfo);
    this.establish();
  }

  private establish(): void {
    clearTimeout(this.hsTimer);
    this.hsTimer = undefined;
    this.state = 'established';
    this.establishedAt = this.ctx.now();
    this.lastActivity = this.establishedAt;
    this.phase = Phase.FrameLength;
    this.need = 2;
    const verdict = this.ev.onEstablished?.(this);
    if (verdict && !verdict.accept) {
      if (verdict.keep) return this.supersede(verdict.keep, verdict.code, verdict.reason);
      return this.terminate(verdict.code, verdict.reason);
    }
    this.armIdleTimer();
    if (this.queue.length > this.queueHead) this.scheduleFlush();
  }

  private onFrame(sealed: Uint8Array): void {
    const n = sealed.length - TAG_SIZE;
    const out = plainBuffer().subarray(0, n);
    if (!this.opener!.open(sealed, out)) {
      this.ctx.count('bad-mac');
      return this.terminate(TERM_DATA_AEAD_FAILURE, 'aead');
    }
    this.framesIn++;
    this.lastActivity = this.ctx.now();
    this.terminationSeen = false;
    const err = parseBlocks(out, this.visitor);
    if (err) {
      this.ctx.count('bad-blocks');
      return this.terminate(err.reason, 'bad-blocks', err.error);
    }
    if (this.terminationSeen) {
      const info: CloseInfo = { reason: 'termination-received', code: this.terminationCode, by: 'remote' };
      // Ending (not destroying) the socket lets frames already written reach the peer, which may still be reading
      // them: a superseded session does (docs/ntcp2.md §4).
      if (this.draining) this.abortNow(info);
      else this.closeAfterWrite(info);
    }
  }
  private terminationSeen = false;
  private terminationCode = 0;

  private get delivering(): boolean {
    return this.state === 'established' || this.draining;
  }

  private makeVisitor(): BlockVisitor {
    return {
      i2np: (type, msgId, exp, body) => {
        this.i2npIn++;
        if (this.delivering) this.ev.onI2np?.(this, type, msgId, exp, body);
      },
      routerInfo: (flag, ri) => {
        if (this.delivering) this.ev.onRouterInfo?.(this, flag, ri);
      },
      dateTime: (s) => {
        if (this.delivering) this.ev.onDateTime?.(this, s);
      },
      options: (d) => {
        if (this.delivering) this.ev.onOptions?.(this, d);
      },
      termination: (_frames, reason) => {
        this.terminationSeen = true;
        this.terminationCode = reason;
      },
    };
  }

  /** Stops delivering received frames (backpressure from the consumer); the socket is paused. */
  pauseReceive(): void {
    this.userPaused = true;
    this.sock.pause();
  }

  resumeReceive(): void {
    if (!this.userPaused) return;
    this.userPaused = false;
    if (!this.recvPaused && this.state !== 'closed') this.sock.resume();
    setImmediate(() => this.pump());
  }

  // ---------------------------------------------------------------- send

  /**
   * Queues one I2NP message (9-byte short header form, `expirationSec` in seconds). Messages queued in the same
   * tick share frames. Returns false (message not queued, counted) when the session is not usable, the body is too
   * large, or the queue is full; onDrain follows once there is room. Ownership of `body` passes to the session: it is
   * referenced, not copied, until sealed (possibly later, under backpressure), so the caller must not reuse it.
   */
  sendI2np(type: number, msgId: number, expirationSec: number, body: Uint8Array): boolean {
    if (this.state === 'closing' || this.state === 'closed') {
      // A caller still holding a superseded session: the message follows its queue to the kept one.
      const to = this.successor;
      if (to?.state === 'established') return to.sendI2np(type, msgId, expirationSec, body);
      this.ctx.count('send-closed');
      return false;
    }
    if (body.length + I2NP_SHORT_HEADER > I2NP_BLOCK_MAX) {
      this.ctx.count('send-too-large');
      return false;
    }
    if (
      this.queuedBytes + body.length > this.lim.maxQueuedBytes ||
      this.queue.length - this.queueHead >= this.lim.maxQueuedMessages
    ) {
      this.ctx.count('send-queue-full');
      this.wantDrain = true;
      return false;
    }
    this.queue.push({ type, msgId, expiration: expirationSec, body });
    this.queuedBytes += body.length;
    if (this.state === 'established') this.scheduleFlush();
    return true;
  }

  /** True when sendI2np would accept a message of `bytes` now. */
  canSend(bytes = 0): boolean {
    return (
      this.state !== 'closing' &&
      this.state !== 'closed' &&
      this.queuedBytes + bytes <= this.lim.maxQueuedBytes &&
      this.queue.length - this.queueHead < this.lim.maxQueuedMessages
    );
  }

  get queuedMessages(): number {
    return this.queue.length - this.queueHead;
  }

  /** Takes every message queued and not yet sealed, in order (for another session of the same peer). */
  takeUnsent(): QueuedI2np[] {
    const msgs = this.queue.slice(this.queueHead);
    this.queue = [];
    this.queueHead = 0;
    this.queuedBytes = 0;
    return msgs;
  }

  /**
   * Queues messages taken from another session of the same peer, after those already queued. Returns how many did
   * not fit (dropped, counted `send-queue-full`).
   */
  adopt(msgs: readonly QueuedI2np[]): number {
    let dropped = 0;
    for (const m of msgs) {
      if (!this.canSend(m.body.length)) {
        dropped++;
        continue;
      }
      this.queue.push(m);
      this.queuedBytes += m.body.length;
    }
    for (let i = 0; i < dropped; i++) this.ctx.count('send-queue-full');
    if (this.state === 'established' && this.queue.length > this.queueHead) this.scheduleFlush();
    return dropped;
  }

  /** Hands unsent messages to the successor if it is usable, else to the transport (onUnsent). */
  private releaseUnsent(): void {
    if (this.queueHead === this.queue.length) return;
    const msgs = this.takeUnsent();
    const to = this.successor;
    if (to && (to.state === 'established' || to.state === 'handshake')) to.adopt(msgs);
    else this.ev.onUnsent?.(this, msgs);
  }

  /** Sends one frame with a RouterInfo block (flag bit 0 = flood request), then Padding (§5.2). */
  sendRouterInfo(ri: Uint8Array, flag = 0): boolean {
    return this.sendControl((w) => w.routerInfo(flag, ri));
  }
  sendDateTime(seconds = ntcp2Seconds(this.ctx.now())): boolean {
    return this.sendControl((w) => w.dateTime(seconds));
  }
  sendOptions(data: Uint8Array): boolean {
    return this.sendControl((w) => w.options(data));
  }
  /** A padding-only frame (allowed, §5.2). */
  sendPadding(size: number): boolean {
    return this.sendControl((w) => w.padding(size), false);
  }

  private sendControl(write: (w: BlockWriter) => boolean, pad = true): boolean {
    if (this.state !== 'established') return false;
    const w = this.blockWriter();
    w.reset();
    if (!write(w)) return false;
    if (pad) this.addPadding(w);
    this.writeFrame(w.bytes());
    return true;
  }

  private blockWriter(): BlockWriter {
    sharedWriter ??= new BlockWriter();
    return sharedWriter;
  }

  /** Padding block of 0 .. max(payload, 256)/16 bytes, as i2pd pads (§5.4). */
  private addPadding(w: BlockWriter): void {
    const max = Math.min(Math.max(w.length, 256) >>> 4, w.room - BLOCK_HEADER);
    if (max >= 0) w.padding(this.rand(max + 1));
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.socketBlocked) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Packs queued messages into frames until the queue is empty or the socket buffer is full. */
  private flush(): void {
    if (this.state !== 'established') return;
    const w = this.blockWriter();
    const cap = Math.min(this.lim.maxFramePayload, FRAME_PLAINTEXT_MAX);
    const reserve = BLOCK_HEADER + (cap >>> 4); // room for the padding block
    this.sock.cork();
    try {
      while (this.queueHead < this.queue.length) {
        if (this.sock.writableLength >= this.lim.socketHighWater) {
          this.socketBlocked = true;
          break;
        }
        w.reset();
        while (this.queueHead < this.queue.length) {
          const m = this.queue[this.queueHead]!;
          if (w.length > 0 && w.length + BLOCK_HEADER + I2NP_SHORT_HEADER + m.body.length > cap - reserve) break;
          w.i2np(m.type, m.msgId, m.expiration, m.body);
          this.queue[this.queueHead] = undefined as unknown as Queued;
          this.queueHead++;
          this.queuedBytes -= m.body.length;
          this.i2npOut++;
        }
        this.addPadding(w);
        this.writeFrame(w.bytes());
      }
    } finally {
      this.sock.uncork();
    }
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 1024) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    if (this.wantDrain && this.canSend()) {
      this.wantDrain = false;
      this.ev.onDrain?.(this);
    }
  }

  private writeFrame(plaintext: Uint8Array): void {
    if (this.sock.destroyed || !this.sealer) return;
    const out = Buffer.allocUnsafe(FrameSealer.wireLength(plaintext.length));
    this.sealer!.sealInto(plaintext, out, 0);
    this.framesOut++;
    this.bytesOut += out.length;
    this.lastActivity = this.ctx.now();
    if (!this.sock.write(out)) this.socketBlocked = true;
  }

  private onSocketDrain(): void {
    if (!this.socketBlocked) return;
    this.socketBlocked = false;
    if (this.state === 'established') this.flush();
  }

  // ---------------------------------------------------------------- timers

  private handshakeTimeout(): void {
    this.hsTimer = undefined;
    if (this.state !== 'handshake') return;
    this.ctx.count('handshake-timeout');
    if (this.phase === Phase.Probing) return this.destroy();
    this.abortNow({ reason: 'handshake-timeout', by: 'local' });
  }

  private armIdleTimer(): void {
    const due = this.lastActivity + this.lim.idleTimeoutMs - this.ctx.now();
    this.idleTimer = setTimeout(() => this.idleCheck(), Math.max(due, 1));
    this.idleTimer.unref?.();
  }

  private idleCheck(): void {
    this.idleTimer = undefined;
    if (this.state !== 'established') return;
    if (this.ctx.now() - this.lastActivity >= this.lim.idleTimeoutMs) {
      this.ctx.count('idle-timeout');
      return this.terminate(TERM_IDLE_TIMEOUT, 'idle');
    }
    this.armIdleTimer();
  }

  private armFrameTimer(): void {
    if (this.frameTimer || this.state !== 'established') return;
    this.frameTimer = setTimeout(() => {
      this.frameTimer = undefined;
      if (this.state !== 'established') return;
      this.ctx.count('frame-read-timeout');
      this.terminate(TERM_INTRA_FRAME_TIMEOUT, 'frame-read-timeout');
    }, this.lim.frameReadTimeoutMs);
  }

  private clearFrameTimer(): void {
    if (this.frameTimer) {
      clearTimeout(this.frameTimer);
      this.frameTimer = undefined;
    }
  }

  // ---------------------------------------------------------------- ending

  /**
   * Probing resistance (§4.10): a bad first message gets no answer; the connection is closed after a random delay
   * or after a random number of further bytes has been read, whichever comes first. Input is discarded meanwhile.
   */
  private probe(reason: string, detail: string): void {
    this.responder?.wipe();
    this.responder = undefined;
    this.phase = Phase.Probing;
    this.need = Infinity;
    this.closeInfo = { reason, code: TERM_MSG1_ERROR, by: 'local', detail };
    const extra = this.recv.length;
    this.recv.clear();
    const [lo, hi] = this.lim.probeDelayMs;
    this.probeReadLeft = this.rand(this.lim.probeReadMax + 1) - extra;
    if (this.recvPaused) {
      this.recvPaused = false;
      this.sock.resume();
    }
    if (this.probeReadLeft <= 0) return this.destroy();
    this.probeTimer = setTimeout(() => this.destroy(), lo + this.rand(Math.max(hi - lo, 0) + 1));
  }

  /**
   * Sends a Termination block (frames received so far, `code`) plus padding, then closes (§5.2). Usable in the
   * data phase and right after msg3 (keys exist).
   */
  terminate(code = TERM_NORMAL, reason = 'local', detail?: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    if (!this.sealer) return this.abortNow({ reason, code, by: 'local', detail });
    const w = this.blockWriter();
    w.reset();
    w.termination(this.framesIn, code);
    this.addPadding(w);
    this.writeFrame(w.bytes());
    this.closeAfterWrite({ reason, code, by: 'local', detail });
  }

  /**
   * Ends this session in favour of `keep`, the same peer's session that stays (one session per peer,
   * docs/ntcp2.md §4): queued messages move there and later sends follow; a Termination block (§5.2) goes out and
   * our side of the socket is ended, but frames the peer sealed before it learned are still read and delivered until
   * it closes, at most `supersededLingerMs`.
   */
  supersede(keep: Session, code = TERM_NORMAL, reason = 'replaced'): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.successor = keep;
    if (!this.sealer) return this.abortNow({ reason, code, by: 'local' });
    const w = this.blockWriter();
    w.reset();
    w.termination(this.framesIn, code);
    this.addPadding(w);
    this.writeFrame(w.bytes());
    this.closeInfo ??= { reason, code, by: 'local' };
    this.state = 'closing';
    this.draining = true;
    this.releaseUnsent();
    this.sealer.wipe();
    this.sealer = undefined;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.sock.end();
    this.lingerTimer = setTimeout(() => this.destroy(), this.lim.supersededLingerMs);
    this.lingerTimer.unref?.();
  }

  /** Closes now without a Termination block (handshake failures, §4.10). */
  abortNow(info: CloseInfo): void {
    if (this.state === 'closed') return;
    this.closeInfo ??= info;
    this.destroy();
  }

  /** Ends the socket after pending writes; destroys it if the peer does not close within a short linger. */
  private closeAfterWrite(info: CloseInfo): void {
    this.closeInfo ??= info;
    this.releaseUnsent();
    this.state = 'closing';
    this.phase = Phase.Done;
    this.need = Infinity;
    this.recv.clear();
    this.wipeCrypto();
    this.stopTimers();
    this.sock.end();
    this.lingerTimer = setTimeout(() => this.destroy(), 2_000);
    this.lingerTimer.unref?.();
    if (this.recvPaused || this.userPaused) this.sock.resume();
  }

  private destroy(): void {
    this.sock.destroy();
    this.finish(this.closeInfo ?? { reason: 'closed', by: 'local' });
  }

  private stopTimers(): void {
    clearTimeout(this.hsTimer);
    this.hsTimer = undefined;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.clearFrameTimer();
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
  }

  private wipeCrypto(): void {
    this.sealer?.wipe();
    this.opener?.wipe();
    this.responder?.wipe();
    this.initiator?.wipe();
    this.responder = undefined;
    this.initiator = undefined;
    this.queue = [];
    this.queueHead = 0;
    this.queuedBytes = 0;
  }

  /** Final bookkeeping, once: wipe keys, stop timers, report. */
  private finish(info: CloseInfo): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.phase = Phase.Done;
    this.recv.clear();
    this.stopTimers();
    clearTimeout(this.lingerTimer);
    this.draining = false;
    this.releaseUnsent();
    this.wipeCrypto();
    if (!this.sock.destroyed) this.sock.destroy();
    this.closeInfo ??= info;
    this.ev.onClose?.(this, this.closeInfo);
  }

  /** Bytes received and not yet processed (bounded by maxRecvBuffered plus one socket chunk). */
  get bufferedIn(): number {
    return this.recv.length;
  }

  /** Bytes handed to the socket and not yet written to the kernel. */
  get bufferedOut(): number {
    return this.sock.writableLength;
  }

  /** Hex of the peer hash (map key). */
  get peerKey(): string | undefined {
    return this.peerHash ? Buffer.from(this.peerHash).toString('hex') : undefined;
  }
}
