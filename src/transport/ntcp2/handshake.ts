// NTCP2 handshake messages (ntcp2-routerinfo.md §4.3-§4.6): SessionRequest, SessionCreated and SessionConfirmed,
// built and parsed by an Initiator (Alice) and a Responder (Bob) object each holding one connection's Noise state.
// No I/O here: the session feeds bytes in and writes what comes out. Parsers of network bytes return
// { ok: false, error, reason } and never throw; a failed object must be dropped (its state is wiped).
import {
  CLOCK_SKEW_S,
  MSG12_FIXED,
  MSG3_PART1,
  MSG3_PART2_MAX,
  MSG3_PART2_MIN,
  NETID_MAIN,
  NTCP2_VERSION,
  OPTIONS_SIZE,
  TERM_INCOMPATIBLE_OPTIONS,
  TERM_MSG1_ERROR,
  TERM_MSG2_ERROR,
  TERM_MSG3_ERROR,
} from './constants.js';
import {
  aesCbc,
  dataPhaseKeys,
  SymmetricState,
  wipePair,
  x25519,
  x25519Generate,
  type DataPhaseKeys,
  type X25519Pair,
} from './noise.js';

export type HandshakeResult<T> = { ok: true; value: T } | { ok: false; error: string; reason: number };

function fail<T>(reason: number, error: string): HandshakeResult<T> {
  return { ok: false, error, reason };
}

/** Seconds since the epoch, rounded as i2pd rounds ((ms + 500) / 1000, §4.3). */
export function ntcp2Seconds(ms: number): number {
  return Math.floor((ms + 500) / 1000) >>> 0;
}

function be16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
function be32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}
function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}
function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/** True when |ts - now| <= 60 s (inclusive, §4.8). */
export function withinSkew(ts: number, nowSeconds: number, skew = CLOCK_SKEW_S): boolean {
  return Math.abs(ts - nowSeconds) <= skew;
}

export interface SessionRequestFields {
  netId: number;
  version: number;
  padLen: number;
  m3p2Len: number;
  tsA: number;
}

export interface SessionCreatedFields {
  padLen: number;
  tsB: number;
}

/** Everything Alice knows about Bob before dialling: from his RouterInfo's NTCP2 address (§2.2). */
export interface ResponderAddress {
  /** Bob's router (ident) hash RH_B: the AES key of the obfuscation. */
  identHash: Uint8Array;
  /** `s`: Bob's NTCP2 static key (rs). */
  staticKey: Uint8Array;
  /** `i`: Bob's 16-byte AES IV for msg1. */
  iv: Uint8Array;
}

/** Test hooks: a fixed ephemeral key, and a trace of every intermediate value (labels as in the §7 vector). */
export interface HandshakeHooks {
  ephemeral?: X25519Pair;
  trace?: (label: string, value: Uint8Array) => void;
}

/** Alice's side of one handshake. */
export class Initiator {
  private readonly st: SymmetricState;
  private readonly e: X25519Pair;
  private readonly local: X25519Pair;
  private readonly bob: ResponderAddress;
  /** AES-CBC state after X' (= X'[16..31]), the IV for Y' (§4.4). */
  private cbcIv = new Uint8Array(16);
  private m3p2Len = 0;
  private stage = 0;

  private readonly trace: ((label: string, value: Uint8Array) => void) | undefined;

  constructor(localStatic: X25519Pair, bob: ResponderAddress, hooks: HandshakeHooks = {}) {
    if (bob.identHash.length !== 32 || bob.staticKey.length !== 32 || bob.iv.length !== 16)
      throw new RangeError('responder address needs a 32-byte hash, 32-byte key and 16-byte IV');
    this.local = localStatic;
    this.bob = bob;
    this.e = hooks.ephemeral ?? x25519Generate();
    this.trace = hooks.trace;
    this.st = SymmetricState.initiate(bob.staticKey);
    this.trace?.('h:rs', this.st.h);
  }

  /**
   * msg1 (§4.3): X' || ChaChaPoly(k1, options) || padding. `m3p2Len` must be the exact length of the msg3 part 2
   * that createSessionConfirmed will be given, plus 16.
   */
  createSessionRequest(f: { m3p2Len: number; tsA: number; netId?: number; padding?: Uint8Array }): Uint8Array {
    if (this.stage !== 0) throw new Error('SessionRequest already created');
    if (!Number.isInteger(f.m3p2Len) || f.m3p2Len < MSG3_PART2_MIN || f.m3p2Len > MSG3_PART2_MAX)
      throw new RangeError('m3p2Len out of range');
    const padding = f.padding ?? new Uint8Array(0);
    if (padding.length > 0xffff - MSG12_FIXED) throw new RangeError('padding too long');
    this.stage = 1;
    this.m3p2Len = f.m3p2Len;
    const xObf = aesCbc(true, this.bob.identHash, this.bob.iv, this.e.publicKey);
    this.cbcIv = xObf.slice(16, 32);
    this.st.mixHash(this.e.publicKey);
    this.trace?.('h:X', this.st.h);
    const dh = x25519(this.e, this.bob.staticKey);
    if (dh === undefined) throw new RangeError('responder static key is not a usable X25519 key');
    this.st.mixKey(dh);
    this.trace?.('ck1', this.st.ck);
    this.trace?.('k1', this.st.k);
    const opts = new Uint8Array(OPTIONS_SIZE);
    opts[0] = f.netId ?? NETID_MAIN;
    opts[1] = NTCP2_VERSION;
    put16(opts, 2, padding.length);
    put16(opts, 4, f.m3p2Len);
    put32(opts, 8, f.tsA);
    this.trace?.('options1', opts);
    const c1 = this.st.encryptAndHash(0, opts);
    if (padding.length > 0) this.st.mixHash(padding);
    this.trace?.('h:msg1', this.st.h);
    const out = new Uint8Array(MSG12_FIXED + padding.length);
    out.set(xObf, 0);
    out.set(c1, 32);
    out.set(padding, MSG12_FIXED);
    return out;
  }

  /** The first 64 bytes of msg2 (§4.4). Alice then reads `padLen` bytes and passes them to sessionCreatedPadding. */
  readSessionCreated(m: Uint8Array): HandshakeResult<SessionCreatedFields> {
    if (this.stage !== 1) return fail(TERM_MSG2_ERROR, 'unexpected SessionCreated');
    this.stage = 2;
    if (m.length !== MSG12_FIXED) return fail(TERM_MSG2_ERROR, 'SessionCreated is not 64 bytes');
    const y = aesCbc(false, this.bob.identHash, this.cbcIv, m.subarray(0, 32));
    this.st.mixHash(y);
    this.trace?.('h:Y', this.st.h);
    const dh = x25519(this.e, y);
    if (dh === undefined) return this.abort(TERM_MSG2_ERROR, 'SessionCreated key is not a usable X25519 key');
    this.st.mixKey(dh);
    this.trace?.('ck2', this.st.ck);
    this.trace?.('k2', this.st.k);
    const opts = this.st.decryptAndHash(0, m.subarray(32, 64));
    if (opts === undefined) return this.abort(TERM_MSG2_ERROR, 'SessionCreated AEAD verification failed');
    this.trace?.('options2', opts);
    this.y = y;
    return { ok: true, value: { padLen: be16(opts, 2), tsB: be32(opts, 8) } };
  }
  private y: Uint8Array | undefined;

  sessionCreatedPadding(padding: Uint8Array): void {
    if (padding.length > 0) this.st.mixHash(padding);
    this.trace?.('h:msg2', this.st.h);
  }

  /**
   * msg3 (§4.5): part 1 = ChaChaPoly(k2, n = 1, S_A), part 2 = ChaChaPoly(k3, n = 0, payload) with k3 from
   * DH(s_A, Y). `payload` (the blocks) must be m3p2Len - 16 bytes. Returns the message and the data-phase keys.
   */
  createSessionConfirmed(payload: Uint8Array): { message: Uint8Array; keys: DataPhaseKeys } {
    if (this.stage !== 2 || this.y === undefined) throw new Error('SessionConfirmed before a valid SessionCreated');
    if (payload.length + 16 !== this.m3p2Len)
      throw new RangeError(`msg3 part 2 is ${payload.length + 16} bytes, msg1 announced ${this.m3p2Len}`);
    this.stage = 3;
    const part1 = this.st.encryptAndHash(1, this.local.publicKey);
    this.trace?.('part1', part1);
    this.trace?.('h:part1', this.st.h);
    const dh = x25519(this.local, this.y);
    if (dh === undefined) throw new Error('unreachable: Y was usable for DH(e, Y)');
    this.st.mixKey(dh);
    this.trace?.('ck3', this.st.ck);
    this.trace?.('k3', this.st.k);
    const part2 = this.st.encryptAndHash(0, payload);
    this.trace?.('part2', part2);
    this.trace?.('h:final', this.st.h);
    const message = new Uint8Array(MSG3_PART1 + part2.length);
    message.set(part1, 0);
    message.set(part2, MSG3_PART1);
    const keys = dataPhaseKeys(this.st.ck, this.st.h);
    this.wipe();
    return { message, keys };
  }

  private abort<T>(reason: number, error: string): HandshakeResult<T> {
    this.wipe();
    return fail(reason, error);
  }

  wipe(): void {
    this.st.wipe();
    wipePair(this.e);
  }
}

export interface ResponderIdentity {
  /** Our NTCP2 static key pair (`s` in our RouterInfo). */
  staticKey: X25519Pair;
  /** Our router hash RH_B. */
  identHash: Uint8Array;
  /** Our published IV `i`. */
  iv: Uint8Array;
  /** Network ID (default 2). */
  netId?: number;
}

export interface ResponderLimits {
  /** Largest msg1 padding accepted (default 65535 - 64, the spec's limit for "NTCP2" addresses). */
  maxPadding?: number;
  /** Largest m3p2Len accepted (default 65487, §4.7). */
  maxM3p2Len?: number;
}

/** Bob's side of one handshake. */
export class Responder {
  private readonly st: SymmetricState;
  private readonly id: ResponderIdentity;
  private readonly f: X25519Pair;
  private cbcIv = new Uint8Array(16);
  private x: Uint8Array | undefined;
  private m3p2Len = 0;
  private stage = 0;
  private readonly maxPadding: number;
  private readonly maxM3p2Len: number;

  private readonly trace: ((label: string, value: Uint8Array) => void) | undefined;

  constructor(id: ResponderIdentity, limits: ResponderLimits = {}, hooks: HandshakeHooks = {}) {
    this.id = id;
    this.f = hooks.ephemeral ?? x25519Generate();
    this.trace = hooks.trace;
    this.st = SymmetricState.initiate(id.staticKey.publicKey);
    this.trace?.('h:rs', this.st.h);
    this.maxPadding = limits.maxPadding ?? 0xffff - MSG12_FIXED;
    this.maxM3p2Len = Math.min(limits.maxM3p2Len ?? MSG3_PART2_MAX, MSG3_PART2_MAX);
  }

  /**
   * The first 64 bytes of msg1 (§4.3). On success Bob reads `padLen` bytes and passes them to sessionRequestPadding.
   * Checks: AEAD, netId (0 = unset, else ours), version 2, m3p2Len, padLen limit. The timestamp is returned, not
   * judged: the caller decides (it answers a skewed Alice with msg2 and closes, §4.8).
   */
  readSessionRequest(m: Uint8Array): HandshakeResult<SessionRequestFields & { x: Uint8Array }> {
    if (this.stage !== 0) return fail(TERM_MSG1_ERROR, 'unexpected SessionRequest');
    this.stage = 1;
    if (m.length !== MSG12_FIXED) return this.abort(TERM_MSG1_ERROR, 'SessionRequest is not 64 bytes');
    const x = aesCbc(false, this.id.identHash, this.id.iv, m.subarray(0, 32));
    this.cbcIv = m.slice(16, 32);
    this.st.mixHash(x);
    this.trace?.('h:X', this.st.h);
    const dh = x25519(this.id.staticKey, x);
    if (dh === undefined) return this.abort(TERM_MSG1_ERROR, 'SessionRequest key is not a usable X25519 key');
    this.st.mixKey(dh);
    this.trace?.('ck1', this.st.ck);
    this.trace?.('k1', this.st.k);
    const opts = this.st.decryptAndHash(0, m.subarray(32, 64));
    if (opts === undefined) return this.abort(TERM_MSG1_ERROR, 'SessionRequest AEAD verification failed');
    this.trace?.('options1', opts);
    const fields = {
      netId: opts[0]!,
      version: opts[1]!,
      padLen: be16(opts, 2),
      m3p2Len: be16(opts, 4),
      tsA: be32(opts, 8),
      x,
    };
    const ourNet = this.id.netId ?? NETID_MAIN;
    if (fields.netId !== 0 && fields.netId !== ourNet)
      return this.abort(TERM_INCOMPATIBLE_OPTIONS, `SessionRequest netId ${fields.netId} is not ${ourNet}`);
    if (fields.version !== NTCP2_VERSION)
      return this.abort(TERM_INCOMPATIBLE_OPTIONS, `SessionRequest version ${fields.version} is not 2`);
    if (fields.m3p2Len < MSG3_PART2_MIN || fields.m3p2Len > this.maxM3p2Len)
      return this.abort(TERM_MSG1_ERROR, `SessionRequest m3p2Len ${fields.m3p2Len} out of range`);
    if (fields.padLen > this.maxPadding)
      return this.abort(TERM_MSG1_ERROR, `SessionRequest padding ${fields.padLen} over the limit ${this.maxPadding}`);
    this.x = x;
    this.m3p2Len = fields.m3p2Len;
    return { ok: true, value: fields };
  }

  sessionRequestPadding(padding: Uint8Array): void {
    if (padding.length > 0) this.st.mixHash(padding);
    this.trace?.('h:msg1', this.st.h);
  }

  /** Bytes of msg3 to read: 48 + m3p2Len (§4.5). */
  get sessionConfirmedLength(): number {
    return MSG3_PART1 + this.m3p2Len;
  }

  /** msg2 (§4.4): Y' (AES-CBC with IV = X'[16..31]) || ChaChaPoly(k2, options) || padding. */
  createSessionCreated(f: { tsB: number; padding?: Uint8Array }): Uint8Array {
    if (this.stage !== 1 || this.x === undefined) throw new Error('SessionCreated before a valid SessionRequest');
    this.stage = 2;
    const padding = f.padding ?? new Uint8Array(0);
    const yObf = aesCbc(true, this.id.identHash, this.cbcIv, this.f.publicKey);
    this.st.mixHash(this.f.publicKey);
    this.trace?.('h:Y', this.st.h);
    const dh = x25519(this.f, this.x);
    if (dh === undefined) throw new Error('unreachable: X was usable for DH(s, X)');
    this.st.mixKey(dh);
    this.trace?.('ck2', this.st.ck);
    this.trace?.('k2', this.st.k);
    const opts = new Uint8Array(OPTIONS_SIZE);
    put16(opts, 2, padding.length);
    put32(opts, 8, f.tsB);
    this.trace?.('options2', opts);
    const c2 = this.st.encryptAndHash(0, opts);
    if (padding.length > 0) this.st.mixHash(padding);
    this.trace?.('h:msg2', this.st.h);
    const out = new Uint8Array(MSG12_FIXED + padding.length);
    out.set(yObf, 0);
    out.set(c2, 32);
    out.set(padding, MSG12_FIXED);
    return out;
  }

  /**
   * msg3 (§4.5), exactly 48 + m3p2Len bytes. Returns Alice's static key S_A, the part 2 plaintext (blocks, a fresh
   * buffer) and the data-phase keys. The caller checks the blocks and S_A against Alice's RouterInfo.
   */
  readSessionConfirmed(
    m: Uint8Array,
  ): HandshakeResult<{ remoteStaticKey: Uint8Array; payload: Uint8Array; keys: DataPhaseKeys }> {
    if (this.stage !== 2) return fail(TERM_MSG3_ERROR, 'unexpected SessionConfirmed');
    this.stage = 3;
    if (m.length !== MSG3_PART1 + this.m3p2Len)
      return this.abort(TERM_MSG3_ERROR, 'SessionConfirmed length differs from m3p2Len');
    const sA = this.st.decryptAndHash(1, m.subarray(0, MSG3_PART1));
    if (sA === undefined) return this.abort(TERM_MSG3_ERROR, 'SessionConfirmed part 1 AEAD verification failed');
    this.trace?.('h:part1', this.st.h);
    const dh = x25519(this.f, sA);
    if (dh === undefined) return this.abort(TERM_MSG3_ERROR, 'SessionConfirmed static key is not a usable X25519 key');
    this.st.mixKey(dh);
    this.trace?.('ck3', this.st.ck);
    this.trace?.('k3', this.st.k);
    const payload = this.st.decryptAndHash(0, m.subarray(MSG3_PART1));
    if (payload === undefined) return this.abort(TERM_MSG3_ERROR, 'SessionConfirmed part 2 AEAD verification failed');
    this.trace?.('h:final', this.st.h);
    const keys = dataPhaseKeys(this.st.ck, this.st.h);
    this.wipe();
    return { ok: true, value: { remoteStaticKey: sA, payload, keys } };
  }

  private abort<T>(reason: number, error: string): HandshakeResult<T> {
    this.wipe();
    return fail(reason, error);
  }

  wipe(): void {
    this.st.wipe();
    wipePair(this.f);
  }
}
