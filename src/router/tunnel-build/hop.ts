// A tunnel build request as a hop sees it (tunnel-build-ecies.md §5-§7.2, §10; netdb-floodfill.md §4.3, §7.2, §7.4):
// find our record in a ShortTunnelBuild (25) or VariableTunnelBuild (23) by its 16-byte prefix, decrypt it (Noise N),
// check it, derive the keys; then, with the caller's accept/reject code, write our reply slot, put our layer on every
// other slot and say what to send where. No sockets, no policy: the caller decides and sends.
import { randomBytes } from 'node:crypto';
import { I2NP_EXPIRATION_MS, I2NP_TUNNEL_GATEWAY } from '../../constants.js';
import { encodeI2np } from '../../i2np/header.js';
import { encodeTunnelGateway } from '../../i2np/bodies.js';
import {
  I2NP_GARLIC,
  I2NP_OUTBOUND_TUNNEL_BUILD_REPLY,
  I2NP_SHORT_TUNNEL_BUILD,
  I2NP_VARIABLE_TUNNEL_BUILD,
  I2NP_VARIABLE_TUNNEL_BUILD_REPLY,
} from '../../i2np/message-types.js';
import { decodeBuildRecords, encodeBuildRecords } from '../../i2np/tunnel-build.js';
import { TUNNEL_LIFETIME_MS, type TransitTunnelConfig } from '../../tunnel/types.js';
import { wrapTagReply } from '../garlic/tag-reply.js';
import { EphemeralKeyFilter } from './ephemeral-key-filter.js';
import { deriveShortHopKeys, type ShortHopKeys } from './hop-keys.js';
import { NoiseNResponder } from './noise-n.js';
import { wipe } from './primitives.js';
import {
  aesLayerSlots,
  chachaLayerSlots,
  encodeReplyCleartext,
  LONG_REPLY_CLEARTEXT_SIZE,
  sealLongReply,
  sealShortReply,
  SHORT_REPLY_CLEARTEXT_SIZE,
  type Random,
} from './reply-record.js';
import {
  LONG_RECORD_SIZE,
  parseLongRequest,
  parseShortRequest,
  RECORD_CIPHERTEXT_OFFSET,
  RECORD_EPK_OFFSET,
  RECORD_TO_PEER_SIZE,
  SHORT_RECORD_SIZE,
  type BuildRequest,
  type HopRole,
  type LongBuildRequest,
} from './request-record.js';

export type BuildFormat = 'short' | 'long';

/** Why a build message was dropped without a reply (counted by the caller). */
export type HopDropReason =
  'malformed' | 'no-record' | 'decrypt-failed' | 'bad-record' | 'expired' | 'future' | 'replay';

export type HopOpenResult =
  { ok: true; value: OpenedBuildRequest } | { ok: false; error: string; reason: HopDropReason };

/** An I2NP message to send, before the transport adds its header. */
export interface OutgoingI2np {
  type: number;
  msgId: number;
  /** Epoch ms. */
  expiration: number;
  body: Uint8Array;
}

/**
 * What to do with the processed message:
 * - `build`: forward the build message (25 or 23) to the next hop `to`;
 * - `reply-gateway`: OBEP reply in a TunnelGateway (19) to the reply gateway `to` (short: garlic-wrapped 26; long:
 *   plain 24, netdb-floodfill.md §4.3, §7.4);
 * - `reply-local`: OBEP whose reply gateway is this router: inject the plain reply (26/24) into our own IBGW
 *   tunnel `tunnelId` (§4.3 item 2).
 */
export type HopForward =
  | { kind: 'build'; to: Uint8Array; message: OutgoingI2np }
  | { kind: 'reply-gateway'; to: Uint8Array; message: OutgoingI2np }
  | { kind: 'reply-local'; tunnelId: number; message: OutgoingI2np };

/** An accepted transit tunnel's keys and routing (tunnel-build-ecies.md §8). The caller wipes the keys at its end. */
export interface TransitTunnelKeys {
  role: HopRole;
  receiveTunnelId: number;
  nextTunnelId: number;
  nextIdent: Uint8Array;
  layerKey: Uint8Array;
  ivKey: Uint8Array;
  /** Epoch ms when the request was accepted, and its end (+10 minutes; the data plane's grace makes i2pd's 660 s). */
  createdAt: number;
  expiresAt: number;
}

export interface HopAnswer {
  forward: HopForward;
  /** Present only when the reply code was 0 (accept). */
  tunnel?: TransitTunnelKeys;
}

export interface TunnelBuildHopOptions {
  /** Our router's X25519 static private key (crypto type 4); copied, the caller wipes its own bytes. */
  staticPrivateKey: Uint8Array;
  /** Our RouterIdentity hash (32 bytes): records for us start with its first 16 bytes. */
  identHash: Uint8Array;
  now?: () => number;
  random?: Random;
  /** Accepted lateness after request time + expiration (600 s), ms. Default 60 s (i2np.md §1 clock skew). */
  lateSkewMs?: number;
  /** Accepted request time ahead of our clock, ms. Default 180 s (i2pd's future skew, i2np.md §1). */
  futureSkewMs?: number;
  /** Replay filter over record ephemeral keys; default a private one, `null` to disable. */
  replayFilter?: EphemeralKeyFilter | null;
}

const defaultRandom: Random = (n) => new Uint8Array(randomBytes(n));

/** One decrypted, checked request waiting for the caller's decision. Answer or discard it exactly once. */
export class OpenedBuildRequest {
  private done = false;
  constructor(
    readonly format: BuildFormat,
    /** Our slot. */
    readonly index: number,
    readonly request: BuildRequest,
    /** @internal Copy of the records, processed in place by answer(). */
    readonly slots: Uint8Array[],
    /** @internal */ readonly ck: Uint8Array,
    /** @internal */ readonly h: Uint8Array,
    /** @internal Short records only. */ readonly keys: ShortHopKeys | undefined,
  ) {}

  get recordCount(): number {
    return this.slots.length;
  }

  /** @internal */
  consume(): void {
    if (this.done) throw new Error('build request already answered or discarded');
    this.done = true;
  }

  /** Wipes every key of this request (use when it will not be answered). */
  discard(): void {
    if (this.done) return;
    this.done = true;
    this.wipeAll();
  }

  /** @internal */
  wipeAll(): void {
    wipe(this.ck, this.h);
    if (this.keys)
      wipe(this.keys.replyKey, this.keys.layerKey, this.keys.ivKey, this.keys.garlicReplyKey, this.keys.garlicReplyTag);
    if (this.format === 'long') {
      const r = this.request as LongBuildRequest;
      wipe(r.layerKey, r.ivKey, r.replyKey, r.replyIv);
    }
  }
}

export class TunnelBuildHop {
  readonly identHash: Uint8Array;
  private readonly responder: NoiseNResponder;
  private readonly now: () => number;
  private readonly random: Random;
  private readonly lateSkewMs: number;
  private readonly futureSkewMs: number;
  private readonly replayFilter: EphemeralKeyFilter | null;

  constructor(opts: TunnelBuildHopOptions) {
    if (!(opts.identHash instanceof Uint8Array) || opts.identHash.length !== 32)
      throw new RangeError('identHash must be 32 bytes');
    this.identHash = opts.identHash.slice();
    this.responder = new NoiseNResponder(opts.staticPrivateKey);
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? defaultRandom;
    this.lateSkewMs = opts.lateSkewMs ?? 60_000;
    this.futureSkewMs = opts.futureSkewMs ?? 180_000;
    this.replayFilter = opts.replayFilter === undefined ? new EphemeralKeyFilter() : opts.replayFilter;
  }

  get staticPublicKey(): Uint8Array {
    return this.responder.staticPublicKey;
  }

  /** Index of the first slot addressed to us, or -1 (tunnel-build-ecies.md §5: scan for the 16-byte prefix). */
  findRecord(slots: readonly Uint8Array[]): number {
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      let d = 0;
      for (let k = 0; k < RECORD_TO_PEER_SIZE; k++) d |= s[k]! ^ this.identHash[k]!;
      if (d === 0) return i;
    }
    return -1;
  }

  /**
   * Finds, decrypts and checks our record in the body of a ShortTunnelBuild (`type` 25) or VariableTunnelBuild (23).
   * Never throws on hostile bytes. On failure nothing is sent (i2pd drops such messages too).
   */
  open(type: number, body: Uint8Array): HopOpenResult {
    const format: BuildFormat | undefined =
      type === I2NP_SHORT_TUNNEL_BUILD ? 'short' : type === I2NP_VARIABLE_TUNNEL_BUILD ? 'long' : undefined;
    if (format === undefined) return { ok: false, error: `not a build request type: ${type}`, reason: 'malformed' };
    const dec = decodeBuildRecords(body, format === 'short' ? SHORT_RECORD_SIZE : LONG_RECORD_SIZE);
    if (!dec.ok) return { ok: false, error: dec.error, reason: 'malformed' };
    const index = this.findRecord(dec.value.records);
    if (index < 0) return { ok: false, error: 'no record for us', reason: 'no-record' };
    const slot = dec.value.records[index]!;
    const epk = slot.subarray(RECORD_EPK_OFFSET, RECORD_CIPHERTEXT_OFFSET);
    const res = this.responder.open(epk, slot.subarray(RECORD_CIPHERTEXT_OFFSET));
    if (res === undefined) return { ok: false, error: 'record did not decrypt', reason: 'decrypt-failed' };
    const parsed = format === 'short' ? parseShortRequest(res.payload) : parseLongRequest(res.payload);
    wipe(res.payload);
    const fail = (error: string, reason: HopDropReason): HopOpenResult => {
      wipe(res.ck, res.h);
      if (parsed.ok && format === 'long') {
        const r = parsed.value as LongBuildRequest;
        wipe(r.layerKey, r.ivKey, r.replyKey, r.replyIv);
      }
      return { ok: false, error, reason };
    };
    if (!parsed.ok) return fail(parsed.error, 'bad-record');
    const req = parsed.value;
    const now = this.now();
    const sent = req.requestTimeMinutes * 60_000;
    // §4.1: the request lives `expiration` seconds from its (rounded-down) minute; allow clock skew both ways.
    if (now > sent + 60_000 + req.expirationSeconds * 1000 + this.lateSkewMs) return fail('request expired', 'expired');
    if (sent > now + this.futureSkewMs) return fail('request time in the future', 'future');
    if (this.replayFilter && this.replayFilter.checkAndAdd(epk, now))
      return fail('ephemeral key seen before', 'replay');
    const keys = format === 'short' ? deriveShortHopKeys(res.ck, req.role === 'obep') : undefined;
    const slots = dec.value.records.map((r) => r.slice());
    return { ok: true, value: new OpenedBuildRequest(format, index, req, slots, res.ck, res.h, keys) };
  }

  /**
   * Writes our reply with `replyCode` (0 accept; 30 is what every refusal is reported as, §7.1), layers the other
   * slots and returns what to send. An accepted request also returns the transit tunnel's keys. Reply-only key
   * material is wiped; a refused request's layer keys too.
   */
  answer(opened: OpenedBuildRequest, replyCode: number, replyOptions?: ReadonlyMap<string, string>): HopAnswer {
    opened.consume();
    try {
      return this.answerInner(opened, replyCode, replyOptions);
    } finally {
      wipe(opened.ck, opened.h);
      if (opened.keys) wipe(opened.keys.replyKey, opened.keys.garlicReplyKey, opened.keys.garlicReplyTag);
      if (opened.format === 'long') {
        const r = opened.request as LongBuildRequest;
        wipe(r.replyKey, r.replyIv);
      }
      if (replyCode !== 0) {
        if (opened.keys) wipe(opened.keys.layerKey, opened.keys.ivKey);
        if (opened.format === 'long')
          wipe((opened.request as LongBuildRequest).layerKey, (opened.request as LongBuildRequest).ivKey);
      }
    }
  }

  private answerInner(
    opened: OpenedBuildRequest,
    replyCode: number,
    replyOptions?: ReadonlyMap<string, string>,
  ): HopAnswer {
    const { slots, index, request: req } = opened;
    let layerKey: Uint8Array;
    let ivKey: Uint8Array;
    if (opened.format === 'short') {
      const keys = opened.keys!;
      const clear = encodeReplyCleartext(SHORT_REPLY_CLEARTEXT_SIZE, replyCode, replyOptions, this.random);
      slots[index] = sealShortReply(keys.replyKey, index, opened.h, clear);
      wipe(clear);
      chachaLayerSlots(keys.replyKey, slots, index);
      layerKey = keys.layerKey;
      ivKey = keys.ivKey;
    } else {
      const r = req as LongBuildRequest;
      const clear = encodeReplyCleartext(LONG_REPLY_CLEARTEXT_SIZE, replyCode, replyOptions, this.random);
      slots[index] = sealLongReply(opened.ck, opened.h, clear);
      wipe(clear);
      aesLayerSlots(r.replyKey, r.replyIv, slots, index);
      layerKey = r.layerKey;
      ivKey = r.ivKey;
    }
    const body = encodeBuildRecords(slots);
    const now = this.now();
    const expiration = now + I2NP_EXPIRATION_MS;
    const forward = this.forwardOf(opened, body, expiration);
    if (replyCode !== 0) return { forward };
    return {
      forward,
      tunnel: {
        role: req.role,
        receiveTunnelId: req.receiveTunnelId,
        nextTunnelId: req.nextTunnelId,
        nextIdent: req.nextIdent,
        layerKey,
        ivKey,
        createdAt: now,
        expiresAt: now + TUNNEL_LIFETIME_MS,
      },
    };
  }

  private forwardOf(opened: OpenedBuildRequest, body: Uint8Array, expiration: number): HopForward {
    const req = opened.request;
    const short = opened.format === 'short';
    if (req.role !== 'obep') {
      return {
        kind: 'build',
        to: req.nextIdent,
        message: {
          type: short ? I2NP_SHORT_TUNNEL_BUILD : I2NP_VARIABLE_TUNNEL_BUILD,
          msgId: req.nextMsgId,
          expiration,
          body,
        },
      };
    }
    const replyType = short ? I2NP_OUTBOUND_TUNNEL_BUILD_REPLY : I2NP_VARIABLE_TUNNEL_BUILD_REPLY;
    let self = true;
    for (let i = 0; i < 32; i++) if (req.nextIdent[i] !== this.identHash[i]) self = false;
    if (self)
      return {
        kind: 'reply-local',
        tunnelId: req.nextTunnelId,
        message: { type: replyType, msgId: req.nextMsgId, expiration, body },
      };
    let inner: Uint8Array;
    if (short) {
      // netdb-floodfill.md §4.3 item 3: the reply clove in a key+tag garlic, the garlic in its own I2NP message.
      const keys = opened.keys!;
      const garlic = wrapTagReply(keys.garlicReplyKey!, keys.garlicReplyTag!, {
        type: replyType,
        msgId: req.nextMsgId,
        expiration,
        body,
      });
      inner = encodeI2np(I2NP_GARLIC, randomU32(this.random), expiration, garlic);
    } else {
      // §7.4: long replies are never wrapped.
      inner = encodeI2np(replyType, req.nextMsgId, expiration, body);
    }
    return {
      kind: 'reply-gateway',
      to: req.nextIdent,
      message: {
        type: I2NP_TUNNEL_GATEWAY,
        msgId: randomU32(this.random),
        expiration,
        body: encodeTunnelGateway(req.nextTunnelId, inner),
      },
    };
  }

  /** Releases the static key. */
  destroy(): void {
    this.responder.destroy();
  }

  /** The Noise N responder (shared with router garlic decryption, netdb-floodfill.md §4.1). */
  get noise(): NoiseNResponder {
    return this.responder;
  }
}

function randomU32(random: Random): number {
  const b = random(4);
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

/** Wipes a transit tunnel's keys (its lifetime ended or it was never joined). */
export function wipeTransitTunnelKeys(t: TransitTunnelKeys): void {
  wipe(t.layerKey, t.ivKey);
}

/**
 * The data plane's join() config of an accepted transit tunnel. `nextHop` and `previousHop` are the caller's router
 * ids (its peer table); the previous hop is the session the request came from. The key arrays are shared, not copied.
 */
export function transitTunnelConfig(
  t: TransitTunnelKeys,
  ids: { nextHop: number; previousHop?: number },
): TransitTunnelConfig {
  const cfg: TransitTunnelConfig = {
    role: t.role,
    layer: 'aes',
    receiveTunnelId: t.receiveTunnelId,
    nextTunnelId: t.nextTunnelId,
    nextHop: ids.nextHop,
    layerKey: t.layerKey,
    ivKey: t.ivKey,
    expiresAt: t.expiresAt,
  };
  if (ids.previousHop !== undefined) cfg.previousHop = ids.previousHop;
  return cfg;
}
