// Build request records: the cleartext layouts of the short (154-byte, tunnel-build-ecies.md §4.1) and long (464-byte,
// §10) ECIES records, the encrypted slot layout (§4.2), and the checks every hop makes on the cleartext.
// Parsers never throw: hostile bytes give { ok: false, error }.
import { Reader } from '../../common/bytes.js';
import { mappingBytes, readMapping } from '../../common/mapping.js';

// --- Slot layout (§4.2, §10): toPeer(16) | ephemeral key(32) | ciphertext | tag(16) ---
export const SHORT_RECORD_SIZE = 218;
export const LONG_RECORD_SIZE = 528;
export const RECORD_TO_PEER_SIZE = 16;
export const RECORD_EPK_OFFSET = 16;
export const RECORD_CIPHERTEXT_OFFSET = 48;
export const SHORT_REQUEST_CLEARTEXT_SIZE = 154;
export const LONG_REQUEST_CLEARTEXT_SIZE = 464;
/** Records per message: 1..8 (i2np.md §4.9). */
export const MAX_BUILD_RECORDS = 8;

// --- Flags (§4.1) ---
export const FLAG_IBGW = 0x80;
export const FLAG_OBEP = 0x40;
/** Layer encryption type 0 = AES, the only one any router implements (§4.1). */
export const LAYER_TYPE_AES = 0;
/** The only request expiration supported, seconds (§4.1). */
export const REQUEST_EXPIRATION_S = 600;
/** Largest options Mapping including its 2-byte length: short 98 (§4.1), long 296 (§10). */
export const SHORT_OPTIONS_MAX = 98;
export const LONG_OPTIONS_MAX = 296;

/** Short cleartext offsets (§4.1). */
const S_RECEIVE = 0,
  S_NEXT_TUNNEL = 4,
  S_NEXT_IDENT = 8,
  S_FLAGS = 40,
  S_MORE_FLAGS = 41,
  S_LAYER_TYPE = 43,
  S_TIME = 44,
  S_EXPIRATION = 48,
  S_NEXT_MSG = 52,
  S_OPTIONS = 56;
/** Long cleartext offsets (§10). */
const L_RECEIVE = 0,
  L_NEXT_TUNNEL = 4,
  L_NEXT_IDENT = 8,
  L_LAYER_KEY = 40,
  L_IV_KEY = 72,
  L_REPLY_KEY = 104,
  L_REPLY_IV = 136,
  L_FLAGS = 152,
  L_MORE_FLAGS = 153,
  L_TIME = 156,
  L_EXPIRATION = 160,
  L_NEXT_MSG = 164,
  L_OPTIONS = 168;

export type HopRole = 'participant' | 'ibgw' | 'obep';

/** One hop's request, as the creator writes it and the hop reads it. */
export interface BuildRequest {
  receiveTunnelId: number;
  nextTunnelId: number;
  /** Next router's identity hash (OBEP: the reply gateway). */
  nextIdent: Uint8Array;
  role: HopRole;
  /** Request time in minutes since the epoch, rounded down. */
  requestTimeMinutes: number;
  /** Seconds after the request time; only 600 is supported. */
  expirationSeconds: number;
  /** I2NP message id the hop uses when forwarding (OBEP: of the reply). */
  nextMsgId: number;
  options: Map<string, string>;
}

/** Long records carry the keys themselves (§10). */
export interface LongBuildRequest extends BuildRequest {
  layerKey: Uint8Array;
  ivKey: Uint8Array;
  /** AES-256 key and IV for the other slots (§10). */
  replyKey: Uint8Array;
  replyIv: Uint8Array;
}

export type RecordResult<T> = { ok: true; value: T } | { ok: false; error: string };

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export function roleFlags(role: HopRole): number {
  return role === 'ibgw' ? FLAG_IBGW : role === 'obep' ? FLAG_OBEP : 0;
}

function roleOf(flags: number): HopRole | undefined {
  if ((flags & 0x3f) !== 0) return undefined;
  if (flags & FLAG_IBGW && flags & FLAG_OBEP) return undefined;
  return flags & FLAG_IBGW ? 'ibgw' : flags & FLAG_OBEP ? 'obep' : 'participant';
}

function readOptions(clear: Uint8Array, offset: number, max: number): RecordResult<Map<string, string>> {
  const r = new Reader(clear, offset, Math.min(clear.length, offset + max));
  const m = readMapping(r, 'options');
  if (r.error !== undefined) return { ok: false, error: `bad options mapping: ${r.error}` };
  return { ok: true, value: m };
}

/** Checks shared by both formats: nonzero tunnel ids, a valid role, expiration 600. */
function checkCommon(
  receiveTunnelId: number,
  nextTunnelId: number,
  flags: number,
  moreFlagsZero: boolean,
  expiration: number,
): RecordResult<HopRole> {
  if (receiveTunnelId === 0) return { ok: false, error: 'receive tunnel id 0' };
  if (nextTunnelId === 0) return { ok: false, error: 'next tunnel id 0' };
  const role = roleOf(flags);
  if (role === undefined) return { ok: false, error: `invalid flags 0x${flags.toString(16)}` };
  if (!moreFlagsZero) return { ok: false, error: 'more flags not zero' };
  if (expiration !== REQUEST_EXPIRATION_S) return { ok: false, error: `unsupported request expiration ${expiration}` };
  return { ok: true, value: role };
}

/** Parses and checks a 154-byte short request cleartext (§4.1). The result does not alias `clear`. */
export function parseShortRequest(clear: Uint8Array): RecordResult<BuildRequest> {
  if (!(clear instanceof Uint8Array) || clear.length !== SHORT_REQUEST_CLEARTEXT_SIZE)
    return { ok: false, error: 'short request cleartext must be 154 bytes' };
  const v = dv(clear);
  const receiveTunnelId = v.getUint32(S_RECEIVE);
  const nextTunnelId = v.getUint32(S_NEXT_TUNNEL);
  const flags = clear[S_FLAGS]!;
  const common = checkCommon(
    receiveTunnelId,
    nextTunnelId,
    flags,
    v.getUint16(S_MORE_FLAGS) === 0,
    v.getUint32(S_EXPIRATION),
  );
  if (!common.ok) return common;
  if (clear[S_LAYER_TYPE] !== LAYER_TYPE_AES)
    return { ok: false, error: `unsupported layer type ${clear[S_LAYER_TYPE]}` };
  const options = readOptions(clear, S_OPTIONS, SHORT_OPTIONS_MAX);
  if (!options.ok) return options;
  return {
    ok: true,
    value: {
      receiveTunnelId,
      nextTunnelId,
      nextIdent: clear.slice(S_NEXT_IDENT, S_NEXT_IDENT + 32),
      role: common.value,
      requestTimeMinutes: v.getUint32(S_TIME),
      expirationSeconds: v.getUint32(S_EXPIRATION),
      nextMsgId: v.getUint32(S_NEXT_MSG),
      options: options.value,
    },
  };
}

/** Parses and checks a 464-byte long request cleartext (§10). Key fields are copies: wipe them when done. */
export function parseLongRequest(clear: Uint8Array): RecordResult<LongBuildRequest> {
  if (!(clear instanceof Uint8Array) || clear.length !== LONG_REQUEST_CLEARTEXT_SIZE)
    return { ok: false, error: 'long request cleartext must be 464 bytes' };
  const v = dv(clear);
  const receiveTunnelId = v.getUint32(L_RECEIVE);
  const nextTunnelId = v.getUint32(L_NEXT_TUNNEL);
  const flags = clear[L_FLAGS]!;
  const moreZero = clear[L_MORE_FLAGS] === 0 && clear[L_MORE_FLAGS + 1] === 0 && clear[L_MORE_FLAGS + 2] === 0;
  const common = checkCommon(receiveTunnelId, nextTunnelId, flags, moreZero, v.getUint32(L_EXPIRATION));
  if (!common.ok) return common;
  const options = readOptions(clear, L_OPTIONS, LONG_OPTIONS_MAX);
  if (!options.ok) return options;
  return {
    ok: true,
    value: {
      receiveTunnelId,
      nextTunnelId,
      nextIdent: clear.slice(L_NEXT_IDENT, L_NEXT_IDENT + 32),
      role: common.value,
      requestTimeMinutes: v.getUint32(L_TIME),
      expirationSeconds: v.getUint32(L_EXPIRATION),
      nextMsgId: v.getUint32(L_NEXT_MSG),
      options: options.value,
      layerKey: clear.slice(L_LAYER_KEY, L_LAYER_KEY + 32),
      ivKey: clear.slice(L_IV_KEY, L_IV_KEY + 32),
      replyKey: clear.slice(L_REPLY_KEY, L_REPLY_KEY + 32),
      replyIv: clear.slice(L_REPLY_IV, L_REPLY_IV + 16),
    },
  };
}

function checkU32(n: number, what: string, nonzero: boolean): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff || (nonzero && n === 0))
    throw new RangeError(`${what} must be an integer ${nonzero ? 1 : 0}..2^32-1`);
}

/**
 * Writes a 154-byte short request cleartext (§4.1) as i2pd does: empty or given options, then zero padding.
 * Throws RangeError on caller bugs (ids, hash length, options too large).
 */
export function encodeShortRequest(req: BuildRequest): Uint8Array {
  checkU32(req.receiveTunnelId, 'receiveTunnelId', true);
  checkU32(req.nextTunnelId, 'nextTunnelId', true);
  checkU32(req.nextMsgId, 'nextMsgId', false);
  checkU32(req.requestTimeMinutes, 'requestTimeMinutes', false);
  if (!(req.nextIdent instanceof Uint8Array) || req.nextIdent.length !== 32)
    throw new RangeError('nextIdent must be 32 bytes');
  const opts = mappingBytes(req.options);
  if (opts.length > SHORT_OPTIONS_MAX)
    throw new RangeError(`options take ${opts.length} bytes, more than ${SHORT_OPTIONS_MAX}`);
  const out = new Uint8Array(SHORT_REQUEST_CLEARTEXT_SIZE);
  const v = dv(out);
  v.setUint32(S_RECEIVE, req.receiveTunnelId);
  v.setUint32(S_NEXT_TUNNEL, req.nextTunnelId);
  out.set(req.nextIdent, S_NEXT_IDENT);
  out[S_FLAGS] = roleFlags(req.role);
  out[S_LAYER_TYPE] = LAYER_TYPE_AES;
  v.setUint32(S_TIME, req.requestTimeMinutes);
  v.setUint32(S_EXPIRATION, req.expirationSeconds);
  v.setUint32(S_NEXT_MSG, req.nextMsgId);
  out.set(opts, S_OPTIONS);
  return out;
}
