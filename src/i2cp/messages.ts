// I2CP messages as pure codecs (i2cp.md §3-§8). `encodeMessage` builds a complete frame (length | type | body);
// `decodeMessage` turns a received type + body into a typed message or an error result, never an exception.
import { Reader, Writer, fail, ok, type Result } from '../common/bytes.js';
import { encodeMapping, readMapping, type Mapping } from '../common/mapping.js';
import { readDestination, signatureLength, type Destination } from '../keys/destination.js';
import { readLeaseSet2 } from '../leaseset/leaseset2.js';

/** Protocol byte the client sends once, before its first message (§1). */
export const PROTOCOL_BYTE = 0x2a;
export const HEADER_SIZE = 5;
/** i2pd rejects anything larger (I2CP_MAX_MESSAGE_LENGTH). */
export const MAX_BODY = 0xffff;
/** Session ID meaning "no session" (§2). */
export const NO_SESSION = 0xffff;

export const MessageType = {
  CreateSession: 1,
  ReconfigureSession: 2,
  DestroySession: 3,
  SendMessage: 5,
  GetBandwidthLimits: 8,
  SessionStatus: 20,
  MessageStatus: 22,
  BandwidthLimits: 23,
  Disconnect: 30,
  MessagePayload: 31,
  GetDate: 32,
  SetDate: 33,
  SendMessageExpires: 36,
  RequestVariableLeaseSet: 37,
  HostLookup: 38,
  HostReply: 39,
  CreateLeaseSet2: 41,
} as const;

export const SessionStatusCode = { Destroyed: 0, Created: 1, Updated: 2, Invalid: 3, Refused: 4 } as const;

/** SendMessageExpires flag bits (§6.1, §6.2). */
export const SendFlags = {
  /** Proposal 171: pick a different outbound tunnel for subsequent messages to this destination. */
  SWITCH_OUTBOUND_TUNNEL: 0x8000,
  /** Unused bits 14..11, must be zero. */
  RESERVED: 0x7800,
  RELIABILITY_MASK: 0x0600,
  RELIABILITY_BEST_EFFORT: 0x0200,
  RELIABILITY_GUARANTEED: 0x0400,
  NO_LEASESET: 0x0100,
  TAG_THRESHOLD_MASK: 0x00f0,
  TAGS_TO_SEND_MASK: 0x000f,
} as const;

/** MessageStatus codes that mean success for an outgoing message (§6.3). */
export const MESSAGE_STATUS_SUCCESS = new Set([1, 2, 4, 6]);
export const MESSAGE_STATUS_NAMES: readonly string[] = [
  'Available',
  'Accepted',
  'BestEffortSuccess',
  'BestEffortFailure',
  'GuaranteedSuccess',
  'GuaranteedFailure',
  'LocalSuccess',
  'LocalFailure',
  'RouterFailure',
  'NetworkFailure',
  'BadSession',
  'BadMessage',
  'BadOptions',
  'OverflowFailure',
  'MessageExpired',
  'BadLocalLeaseset',
  'NoLocalTunnels',
  'UnsupportedEncryption',
  'BadDestination',
  'BadLeaseset',
  'ExpiredLeaseset',
  'NoLeaseset',
  'MetaLeaseset',
  'LoopbackDenied',
];

/** Lease as the router offers it in RequestVariableLeaseSet: end in milliseconds. */
export interface Lease {
  gateway: Uint8Array;
  tunnelId: number;
  end: number;
}

/** SessionConfig (§4): Destination, options, creation date (ms), signature over the three. */
export interface SessionConfig {
  destination: Uint8Array;
  options: Map<string, string>;
  date: number;
  signature: Uint8Array;
  /** Destination ‖ Mapping ‖ Date exactly as received: what the signature covers. */
  signedBytes?: Uint8Array;
}

export type I2cpMessage =
  | { type: 'GetDate'; version: string; auth?: Map<string, string> }
  | { type: 'SetDate'; date: number; version: string }
  | { type: 'CreateSession'; config: SessionConfig }
  | { type: 'ReconfigureSession'; sessionId: number; config: SessionConfig }
  | { type: 'DestroySession'; sessionId: number }
  | { type: 'SessionStatus'; sessionId: number; status: number }
  | { type: 'RequestVariableLeaseSet'; sessionId: number; leases: Lease[] }
  | {
      type: 'CreateLeaseSet2';
      sessionId: number;
      lsType: number;
      /** The lease set structure without its type byte. */
      leaseSet: Uint8Array;
      privateKeys: { type: number; key: Uint8Array }[];
    }
  | { type: 'SendMessage'; sessionId: number; destination: Uint8Array; payload: Uint8Array; nonce: number }
  | {
      type: 'SendMessageExpires';
      sessionId: number;
      destination: Uint8Array;
      payload: Uint8Array;
      nonce: number;
      flags: number;
      /** ms since the epoch (6 bytes on the wire); 0 = none. */
      expiration: number;
    }
  | { type: 'MessageStatus'; sessionId: number; messageId: number; status: number; size: number; nonce: number }
  | { type: 'MessagePayload'; sessionId: number; messageId: number; payload: Uint8Array }
  | {
      type: 'HostLookup';
      sessionId: number;
      requestId: number;
      timeout: number;
      lookupType: number;
      hash?: Uint8Array;
      hostname?: string;
    }
  | {
      type: 'HostReply';
      sessionId: number;
      requestId: number;
      result: number;
      destination?: Uint8Array;
      options?: Map<string, string>;
    }
  | { type: 'Disconnect'; reason: string }
  | { type: 'GetBandwidthLimits' }
  | { type: 'BandwidthLimits'; limits: number[] };

export type MessageName = I2cpMessage['type'];
export type MessageOf<N extends MessageName> = Extract<I2cpMessage, { type: N }>;

/** Bytes a SessionConfig signature covers: Destination ‖ Mapping (sorted, with its size) ‖ Date (§4). */
export function sessionConfigSignedBytes(destination: Uint8Array, options: Mapping, date: number): Uint8Array {
  const w = new Writer(destination.length + 256).bytes(destination);
  encodeMapping(options, w);
  return w.date(date).finish();
}

function writeSessionConfig(w: Writer, c: SessionConfig): void {
  w.bytes(c.signedBytes ?? sessionConfigSignedBytes(c.destination, c.options, c.date)).bytes(c.signature);
}

function writePayload(w: Writer, p: Uint8Array): void {
  w.u32(p.length).bytes(p);
}

/** Builds the complete frame for a message. Throws RangeError/TypeError for values that cannot be encoded. */
export function encodeMessage(m: I2cpMessage): Uint8Array {
  const w = new Writer(64);
  w.u32(0).u8(MessageType[m.type]);
  switch (m.type) {
    case 'GetDate':
      w.string(m.version);
      if (m.auth) encodeMapping(m.auth, w);
      break;
    case 'SetDate':
      w.date(m.date).string(m.version);
      break;
    case 'CreateSession':
      writeSessionConfig(w, m.config);
      break;
    case 'ReconfigureSession':
      w.u16(m.sessionId);
      writeSessionConfig(w, m.config);
      break;
    case 'DestroySession':
      w.u16(m.sessionId);
      break;
    case 'SessionStatus':
      w.u16(m.sessionId).u8(m.status);
      break;
    case 'RequestVariableLeaseSet':
      if (m.leases.length > 255) throw new RangeError('too many leases');
      w.u16(m.sessionId).u8(m.leases.length);
      for (const l of m.leases) w.bytes(checkHash(l.gateway)).u32(l.tunnelId).date(l.end);
      break;
    case 'CreateLeaseSet2':
      w.u16(m.sessionId).u8(m.lsType).bytes(m.leaseSet).u8(m.privateKeys.length);
      for (const k of m.privateKeys) w.u16(k.type).u16(k.key.length).bytes(k.key);
      break;
    case 'SendMessage':
      w.u16(m.sessionId).bytes(m.destination);
      writePayload(w, m.payload);
      w.u32(m.nonce);
      break;
    case 'SendMessageExpires':
      w.u16(m.sessionId).bytes(m.destination);
      writePayload(w, m.payload);
      w.u32(m.nonce).u16(m.flags).uint(m.expiration, 6);
      break;
    case 'MessageStatus':
      w.u16(m.sessionId).u32(m.messageId).u8(m.status).u32(m.size).u32(m.nonce);
      break;
    case 'MessagePayload':
      w.u16(m.sessionId).u32(m.messageId);
      writePayload(w, m.payload);
      break;
    case 'HostLookup':
      w.u16(m.sessionId).u32(m.requestId).u32(m.timeout).u8(m.lookupType);
      if (m.lookupType === 0 || m.lookupType === 2) w.bytes(checkHash(m.hash));
      else if (m.lookupType === 1 || m.lookupType === 3) w.string(m.hostname ?? '');
      else throw new RangeError(`HostLookup type ${m.lookupType} not supported by this encoder`);
      break;
    case 'HostReply':
      w.u16(m.sessionId).u32(m.requestId).u8(m.result);
      if (m.destination) w.bytes(m.destination);
      if (m.options) encodeMapping(m.options, w);
      break;
    case 'Disconnect':
      w.string(m.reason);
      break;
    case 'GetBandwidthLimits':
      break;
    case 'BandwidthLimits':
      if (m.limits.length > 16) throw new RangeError('BandwidthLimits has 16 fields');
      for (let i = 0; i < 16; i++) w.u32(m.limits[i] ?? 0);
      break;
    default:
      throw new TypeError(`unknown message ${(m as { type: string }).type}`);
  }
  const frame = w.finish();
  const bodyLen = frame.length - HEADER_SIZE;
  if (bodyLen > MAX_BODY) throw new RangeError(`I2CP message body of ${bodyLen} bytes exceeds ${MAX_BODY}`);
  new DataView(frame.buffer, frame.byteOffset).setUint32(0, bodyLen);
  return frame;
}

function checkHash(h: Uint8Array | undefined): Uint8Array {
  if (!h || h.length !== 32) throw new RangeError('a Hash is 32 bytes');
  return h;
}

function readSessionConfig(r: Reader): SessionConfig | undefined {
  const start = r.pos;
  const dest: Destination | undefined = readDestination(r);
  if (!dest) return undefined;
  const options = readMapping(r, 'options');
  const date = r.date('date');
  const signedBytes = r.buf.slice(start, r.pos);
  const sigLen = signatureLength(dest.sigType) ?? 0;
  const signature = r.bytes(sigLen, 'signature').slice();
  if (r.error !== undefined) return undefined;
  return { destination: dest.bytes, options, date, signature, signedBytes };
}

function readPayload(r: Reader): Uint8Array {
  const len = r.u32('payload length');
  return r.bytes(len, 'payload').slice();
}

function readDestinationBytes(r: Reader): Uint8Array {
  return readDestination(r)?.bytes ?? new Uint8Array(0);
}

const TYPE_NAMES = new Map<number, MessageName>(Object.entries(MessageType).map(([k, v]) => [v, k as MessageName]));

export function messageName(type: number): string {
  return TYPE_NAMES.get(type) ?? `type ${type}`;
}

/** Decodes one message body. Unknown types, truncation, trailing bytes and bad fields give an error result. */
export function decodeMessage(type: number, body: Uint8Array): Result<I2cpMessage> {
  const name = TYPE_NAMES.get(type);
  if (!name) return fail(`unknown I2CP message type ${type}`);
  const r = new Reader(body);
  let m: I2cpMessage | undefined;
  switch (name) {
    case 'GetDate': {
      const version = r.string('version');
      if (r.remaining > 0) m = { type: name, version, auth: readMapping(r, 'auth') };
      else m = { type: name, version };
      break;
    }
    case 'SetDate':
      m = { type: name, date: r.date('date'), version: r.string('version') };
      break;
    case 'CreateSession': {
      const config = readSessionConfig(r);
      if (config) m = { type: name, config };
      break;
    }
    case 'ReconfigureSession': {
      const sessionId = r.u16('session id');
      const config = readSessionConfig(r);
      if (config) m = { type: name, sessionId, config };
      break;
    }
    case 'DestroySession':
      m = { type: name, sessionId: r.u16('session id') };
      break;
    case 'SessionStatus':
      m = { type: name, sessionId: r.u16('session id'), status: r.u8('status') };
      break;
    case 'RequestVariableLeaseSet': {
      const sessionId = r.u16('session id');
      const n = r.u8('lease count');
      const leases: Lease[] = [];
      for (let i = 0; i < n && r.error === undefined; i++) {
        leases.push({
          gateway: r.bytes(32, 'gateway').slice(),
          tunnelId: r.u32('tunnel id'),
          end: r.date('lease end'),
        });
      }
      m = { type: name, sessionId, leases };
      break;
    }
    case 'CreateLeaseSet2': {
      const sessionId = r.u16('session id');
      const lsType = r.u8('lease set type');
      if (lsType !== 3) {
        r.invalid(`lease set type ${lsType} not supported (only LeaseSet2, type 3)`);
        break;
      }
      const ls = readLeaseSet2(r);
      if (!ls) break;
      const n = r.u8('private key count');
      const privateKeys: { type: number; key: Uint8Array }[] = [];
      for (let i = 0; i < n && r.error === undefined; i++) {
        const t = r.u16('key type');
        const len = r.u16('key length');
        privateKeys.push({ type: t, key: r.bytes(len, 'private key').slice() });
      }
      m = { type: name, sessionId, lsType, leaseSet: ls.bytes, privateKeys };
      break;
    }
    case 'SendMessage':
      m = {
        type: name,
        sessionId: r.u16('session id'),
        destination: readDestinationBytes(r),
        payload: readPayload(r),
        nonce: r.u32('nonce'),
      };
      break;
    case 'SendMessageExpires':
      m = {
        type: name,
        sessionId: r.u16('session id'),
        destination: readDestinationBytes(r),
        payload: readPayload(r),
        nonce: r.u32('nonce'),
        flags: r.u16('flags'),
        expiration: r.uint(6, 'expiration'),
      };
      break;
    case 'MessageStatus':
      m = {
        type: name,
        sessionId: r.u16('session id'),
        messageId: r.u32('message id'),
        status: r.u8('status'),
        size: r.u32('size'),
        nonce: r.u32('nonce'),
      };
      break;
    case 'MessagePayload':
      m = { type: name, sessionId: r.u16('session id'), messageId: r.u32('message id'), payload: readPayload(r) };
      break;
    case 'HostLookup': {
      const sessionId = r.u16('session id');
      const requestId = r.u32('request id');
      const timeout = r.u32('timeout');
      const lookupType = r.u8('lookup type');
      if (lookupType === 0 || lookupType === 2)
        m = { type: name, sessionId, requestId, timeout, lookupType, hash: r.bytes(32, 'hash').slice() };
      else if (lookupType === 1 || lookupType === 3)
        m = { type: name, sessionId, requestId, timeout, lookupType, hostname: r.string('hostname') };
      else r.invalid(`HostLookup type ${lookupType} not supported`);
      break;
    }
    case 'HostReply': {
      const sessionId = r.u16('session id');
      const requestId = r.u32('request id');
      const result = r.u8('result');
      const hr: MessageOf<'HostReply'> = { type: name, sessionId, requestId, result };
      // A Destination follows on success; types 2-4 may append a Mapping (options) after it.
      if (r.remaining > 0 && r.error === undefined) {
        const d = readDestination(r);
        if (d) hr.destination = d.bytes;
        if (r.remaining > 0 && r.error === undefined) hr.options = readMapping(r, 'options');
      }
      m = hr;
      break;
    }
    case 'Disconnect':
      m = { type: name, reason: r.string('reason') };
      break;
    case 'GetBandwidthLimits':
      m = { type: name };
      break;
    case 'BandwidthLimits': {
      const limits: number[] = [];
      for (let i = 0; i < 16; i++) limits.push(r.u32('limit'));
      m = { type: name, limits };
      break;
    }
  }
  if (r.error !== undefined || !m) return fail(`${name}: ${r.error ?? 'malformed'}`);
  if (r.remaining !== 0) return fail(`${name}: ${r.remaining} unexpected trailing bytes`);
  return ok(m);
}
