// Building a tunnel as its creator with ShortTunnelBuild (tunnel-build-ecies.md §3, §4-§6, §7.3, §7.4; netdb-floodfill.md
// §7.1): one Noise-N record per hop at shuffled slots among random-filled ones, later hops' records pre-layered with
// every earlier hop's ChaCha20 so each hop finds its own in clear, then the reply checked hop by hop from the last and
// every hop's layer/IV keys handed to the data plane's join().
import { randomBytes } from 'node:crypto';
import { I2NP_EXPIRATION_MS } from '../../constants.js';
import { I2NP_OUTBOUND_TUNNEL_BUILD_REPLY, I2NP_SHORT_TUNNEL_BUILD } from '../../i2np/message-types.js';
import { decodeBuildRecords, encodeBuildRecords } from '../../i2np/tunnel-build.js';
import {
  TUNNEL_LIFETIME_MS,
  type HopKeyConfig,
  type InboundTunnelConfig,
  type OutboundTunnelConfig,
} from '../../tunnel/types.js';
import { openTagReply } from '../garlic/tag-reply.js';
import { deriveShortHopKeys } from './hop-keys.js';
import type { OutgoingI2np } from './hop.js';
import { noiseNSeal } from './noise-n.js';
import { chacha20XorInPlace, wipe, x25519Ephemeral } from './primitives.js';
import { openShortReply, parseReplyCleartext, type Random } from './reply-record.js';
import {
  encodeShortRequest,
  MAX_BUILD_RECORDS,
  RECORD_CIPHERTEXT_OFFSET,
  RECORD_EPK_OFFSET,
  REQUEST_EXPIRATION_S,
  SHORT_RECORD_SIZE,
  type HopRole,
} from './request-record.js';

/** i2pd: 4 records for up to 4 hops, else 8 (§3). */
export const STANDARD_RECORD_COUNT = 4;

export interface CreatorHop {
  /** The hop's RouterIdentity hash. */
  identHash: Uint8Array;
  /** The hop's X25519 encryption public key (RouterIdentity crypto type 4). */
  encryptionKey: Uint8Array;
  /** Tunnel id this hop receives on; random nonzero when absent. */
  receiveTunnelId?: number;
}

export interface ShortBuildOptions {
  direction: 'outbound' | 'inbound';
  /** Hops in forwarding order (outbound: first hop after us; inbound: the IBGW first), 1..8. */
  hops: readonly CreatorHop[];
  /**
   * Where the last hop sends the reply. Outbound: the gateway of the inbound tunnel that carries the reply (its
   * router hash and receive tunnel id). Inbound: our own hash; `replyTunnelId` is then our receive tunnel id as IBEP.
   */
  replyIdent: Uint8Array;
  /** Random nonzero when absent. */
  replyTunnelId?: number;
  /** Message id the reply will carry; random when absent. */
  replyMsgId?: number;
  /** Slots in the message, hops.length..8 (+1 with a creator record); default 4 when they fit in 4, else 8. */
  recordCount?: number;
  /**
   * Inbound only: add the "fake" record for ourselves that §3 recommends (our hash prefix, a real X25519 ephemeral
   * key, random ciphertext), layered so that it reaches us in clear like a record for a further hop: the last hop
   * cannot tell its next hop is the creator. A reply in which it changed is refused. i2pd 2.45.1 does not send one.
   */
  creatorRecord?: boolean;
  /** Epoch ms (default Date.now()). */
  now?: number;
  /** Test hook: all randomness (ephemeral keys, ids, slot order, filler). */
  random?: Random;
}

interface HopState {
  identHash: Uint8Array;
  slot: number;
  role: HopRole;
  receiveTunnelId: number;
  nextTunnelId: number;
  replyKey: Uint8Array;
  h: Uint8Array;
  layerKey: Uint8Array;
  ivKey: Uint8Array;
}

/** What the creator keeps until the reply arrives (or the build times out: then call discard()). */
export class PendingTunnelBuild {
  private finished = false;
  constructor(
    readonly direction: 'outbound' | 'inbound',
    /** The reply's I2NP message id (§9: the last hop's next message id). */
    readonly replyMsgId: number,
    readonly recordCount: number,
    readonly createdAt: number,
    /** Outbound only: key and tag of the garlic the OBEP wraps its reply in (netdb-floodfill.md §4.3). */
    readonly replyGarlic: { key: Uint8Array; tag: Uint8Array } | undefined,
    /** Inbound: the receive tunnel id of this router as IBEP (the last hop's next tunnel id). */
    readonly replyTunnelId: number,
    /** @internal */ readonly hops: HopState[],
    /** @internal The creator record's slot and bytes as they must come back (inbound with creatorRecord). */
    readonly creatorRecord?: { slot: number; bytes: Uint8Array },
  ) {}

  get hopCount(): number {
    return this.hops.length;
  }
  /** Slot index of each hop's record, in hop order. */
  get slots(): number[] {
    return this.hops.map((h) => h.slot);
  }
  get isFinished(): boolean {
    return this.finished;
  }

  /** @internal */
  finish(): void {
    if (this.finished) throw new Error('tunnel build already processed or discarded');
    this.finished = true;
  }

  /** Wipes all key material (timeout or abandon). */
  discard(): void {
    if (this.finished) return;
    this.finished = true;
    for (const h of this.hops) wipe(h.replyKey, h.h, h.layerKey, h.ivKey);
    if (this.replyGarlic) wipe(this.replyGarlic.key, this.replyGarlic.tag);
  }
}

export interface ShortBuildRequest {
  /** Send `message` to this router (outbound builds, and inbound ones without an outbound tunnel). */
  firstHop: Uint8Array;
  message: OutgoingI2np;
  pending: PendingTunnelBuild;
}

const defaultRandom: Random = (n) => new Uint8Array(randomBytes(n));

function u32From(random: Random): number {
  const b = random(4);
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}
function nonzeroU32(random: Random): number {
  for (;;) {
    const v = u32From(random);
    if (v !== 0) return v;
  }
}
/** Uniform integer in [0, n) by rejection (n <= 8). */
function randomBelow(random: Random, n: number): number {
  const limit = 256 - (256 % n);
  for (;;) {
    const b = random(1)[0]!;
    if (b < limit) return b % n;
  }
}

function checkHash(h: Uint8Array, what: string): void {
  if (!(h instanceof Uint8Array) || h.length !== 32) throw new RangeError(`${what} must be 32 bytes`);
}

/**
 * Builds a ShortTunnelBuild (25) for 1..8 hops. Throws RangeError on caller bugs (hop count, key sizes, a hop key
 * that is not a usable X25519 point).
 */
export function createShortTunnelBuild(opts: ShortBuildOptions): ShortBuildRequest {
  const random = opts.random ?? defaultRandom;
  const n = opts.hops.length;
  if (n < 1 || n > MAX_BUILD_RECORDS) throw new RangeError(`hop count must be 1..${MAX_BUILD_RECORDS}`);
  const withCreator = opts.creatorRecord === true;
  if (withCreator && opts.direction !== 'inbound') throw new RangeError('a creator record is for inbound builds');
  const needed = n + (withCreator ? 1 : 0);
  if (needed > MAX_BUILD_RECORDS) throw new RangeError(`${needed} records do not fit in ${MAX_BUILD_RECORDS}`);
  const count = opts.recordCount ?? (needed <= STANDARD_RECORD_COUNT ? STANDARD_RECORD_COUNT : MAX_BUILD_RECORDS);
  if (!Number.isInteger(count) || count < needed || count > MAX_BUILD_RECORDS)
    throw new RangeError(`recordCount must be ${needed}..${MAX_BUILD_RECORDS}`);
  checkHash(opts.replyIdent, 'replyIdent');
  opts.hops.forEach((h, i) => {
    checkHash(h.identHash, `hops[${i}].identHash`);
    if (!(h.encryptionKey instanceof Uint8Array) || h.encryptionKey.length !== 32)
      throw new RangeError(`hops[${i}].encryptionKey must be 32 bytes`);
  });
  const now = opts.now ?? Date.now();
  const replyMsgId = opts.replyMsgId ?? u32From(random);
  const replyTunnelId = opts.replyTunnelId ?? nonzeroU32(random);
  const receiveIds = opts.hops.map((h) => h.receiveTunnelId ?? nonzeroU32(random));

  // §3: records at random slots (Fisher-Yates), the rest random bytes.
  const perm = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = randomBelow(random, i + 1);
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const slots: Uint8Array[] = Array.from({ length: count }, () => random(SHORT_RECORD_SIZE));

  const states: HopState[] = [];
  let replyGarlic: { key: Uint8Array; tag: Uint8Array } | undefined;
  for (let i = 0; i < n; i++) {
    const last = i === n - 1;
    const role: HopRole =
      opts.direction === 'outbound' ? (last ? 'obep' : 'participant') : i === 0 ? 'ibgw' : 'participant';
    const nextIdent = last ? opts.replyIdent : opts.hops[i + 1]!.identHash;
    const nextTunnelId = last ? replyTunnelId : receiveIds[i + 1]!;
    const clear = encodeShortRequest({
      receiveTunnelId: receiveIds[i]!,
      nextTunnelId,
      nextIdent,
      role,
      requestTimeMinutes: Math.floor(now / 60_000),
      expirationSeconds: REQUEST_EXPIRATION_S,
      nextMsgId: last ? replyMsgId : u32From(random),
      options: new Map(),
    });
    const hop = opts.hops[i]!;
    const { epk, sealed, ck, h } = noiseNSeal(hop.encryptionKey, clear, opts.random);
    wipe(clear);
    const keys = deriveShortHopKeys(ck, role === 'obep');
    wipe(ck);
    const slot = slots[perm[i]!]!;
    slot.set(hop.identHash.subarray(0, 16), 0);
    slot.set(epk, RECORD_EPK_OFFSET);
    slot.set(sealed, RECORD_CIPHERTEXT_OFFSET);
    if (role === 'obep') replyGarlic = { key: keys.garlicReplyKey!, tag: keys.garlicReplyTag! };
    states.push({
      identHash: hop.identHash.slice(),
      slot: perm[i]!,
      role,
      receiveTunnelId: receiveIds[i]!,
      nextTunnelId,
      replyKey: keys.replyKey,
      h,
      layerKey: keys.layerKey,
      ivKey: keys.ivKey,
    });
  }
  // §7.3: hop x strips its ChaCha20 layer from every other slot, so lay it on the later hops' records in advance.
  for (let x = n - 2; x >= 0; x--) {
    for (let y = x + 1; y < n; y++) chacha20XorInPlace(states[x]!.replyKey, states[y]!.slot, slots[states[y]!.slot]!);
  }
  // §3: the creator record gets every hop's layer in advance, so it arrives in clear as a record for "hop n+1".
  let creatorRecord: { slot: number; bytes: Uint8Array } | undefined;
  if (withCreator) {
    const slot = perm[n]!;
    const rec = slots[slot]!;
    rec.set(opts.replyIdent.subarray(0, 16), 0);
    rec.set(x25519Ephemeral().publicKey, RECORD_EPK_OFFSET);
    creatorRecord = { slot, bytes: rec.slice() };
    for (let x = 0; x < n; x++) chacha20XorInPlace(states[x]!.replyKey, slot, rec);
  }
  const body = encodeBuildRecords(slots);
  const pending = new PendingTunnelBuild(
    opts.direction,
    replyMsgId,
    count,
    now,
    replyGarlic,
    replyTunnelId,
    states,
    creatorRecord,
  );
  return {
    firstHop: opts.hops[0]!.identHash,
    message: { type: I2NP_SHORT_TUNNEL_BUILD, msgId: u32From(random), expiration: now + I2NP_EXPIRATION_MS, body },
    pending,
  };
}

/** One hop's answer as read from the reply (§7.4). */
export interface HopReplyStatus {
  hop: number;
  /** accepted: code 0; rejected: another code; bad-reply: its slot failed the AEAD check (tampered or wrong). */
  status: 'accepted' | 'rejected' | 'bad-reply';
  code?: number;
  options?: Map<string, string>;
}

/** A tunnel whose every hop accepted: what the data plane needs (tunnel/types.ts) plus routing facts. */
export interface BuiltTunnel {
  direction: 'outbound' | 'inbound';
  /** Each hop's keys in forwarding order (hop 1 first): `hops` of OutboundTunnelConfig / InboundTunnelConfig. */
  hops: HopKeyConfig[];
  /** Hash of each hop in forwarding order. */
  hopIdents: Uint8Array[];
  /** Outbound: receive tunnel id of the first hop (firstHopTunnelId). */
  firstHopTunnelId: number;
  /** Inbound: our receive tunnel id as IBEP. */
  receiveTunnelId: number;
  replies: HopReplyStatus[];
  createdAt: number;
  expiresAt: number;
}

export type BuildReplyResult =
  | { ok: true; value: BuiltTunnel }
  | {
      ok: false;
      error: string;
      replies: HopReplyStatus[];
      reason: 'malformed' | 'rejected' | 'bad-reply' | 'creator-record-changed';
    };

/**
 * Processes the build reply: the body of the OutboundTunnelBuildReply (26, outbound) or of the ShortTunnelBuild (25)
 * that came back to us (inbound). Never throws on hostile bytes; consumes `pending` either way (all reply keys are
 * wiped; the layer keys too unless the tunnel was built).
 */
export function processShortBuildReply(pending: PendingTunnelBuild, body: Uint8Array): BuildReplyResult {
  pending.finish();
  const states = pending.hops;
  const done = (ok: boolean) => {
    for (const s of states) {
      wipe(s.replyKey, s.h);
      if (!ok) wipe(s.layerKey, s.ivKey);
    }
    if (pending.replyGarlic) wipe(pending.replyGarlic.key, pending.replyGarlic.tag);
  };
  const dec = decodeBuildRecords(body, SHORT_RECORD_SIZE);
  if (!dec.ok || dec.value.records.length !== pending.recordCount) {
    done(false);
    return {
      ok: false,
      error: dec.ok ? 'record count differs from the request' : dec.error,
      replies: [],
      reason: 'malformed',
    };
  }
  const slots = dec.value.records.map((r) => r.slice());
  const replies: HopReplyStatus[] = new Array(states.length);
  for (let x = states.length - 1; x >= 0; x--) {
    const s = states[x]!;
    const clear = openShortReply(s.replyKey, s.slot, s.h, slots[s.slot]!);
    if (clear === undefined) replies[x] = { hop: x, status: 'bad-reply' };
    else {
      const parsed = parseReplyCleartext(clear);
      if (!parsed.ok) replies[x] = { hop: x, status: 'bad-reply' };
      else
        replies[x] = {
          hop: x,
          status: parsed.value.code === 0 ? 'accepted' : 'rejected',
          code: parsed.value.code,
          options: parsed.value.options,
        };
    }
    // Strip this hop's ChaCha20 layer from the earlier hops' replies.
    for (let w = 0; w < x; w++) chacha20XorInPlace(s.replyKey, states[w]!.slot, slots[states[w]!.slot]!);
  }
  const cr = pending.creatorRecord;
  if (cr) {
    let d = 0;
    const got = slots[cr.slot]!;
    for (let i = 0; i < SHORT_RECORD_SIZE; i++) d |= got[i]! ^ cr.bytes[i]!;
    if (d !== 0) {
      done(false);
      return { ok: false, error: 'the creator record came back changed', replies, reason: 'creator-record-changed' };
    }
  }
  const bad = replies.find((r) => r.status === 'bad-reply');
  const rejected = replies.find((r) => r.status === 'rejected');
  if (bad || rejected) {
    done(false);
    const r = (bad ?? rejected)!;
    return {
      ok: false,
      replies,
      reason: bad ? 'bad-reply' : 'rejected',
      error: bad ? `reply of hop ${r.hop} failed authentication` : `hop ${r.hop} rejected the tunnel (code ${r.code})`,
    };
  }
  done(true);
  return {
    ok: true,
    value: {
      direction: pending.direction,
      hops: states.map((s) => ({ layerKey: s.layerKey, ivKey: s.ivKey })),
      hopIdents: states.map((s) => s.identHash),
      firstHopTunnelId: states[0]!.receiveTunnelId,
      receiveTunnelId: pending.replyTunnelId,
      replies,
      createdAt: pending.createdAt,
      expiresAt: pending.createdAt + TUNNEL_LIFETIME_MS,
    },
  };
}

/**
 * Outbound builds: opens the OBEP's key+tag garlic (netdb-floodfill.md §4.3) and processes the reply clove, which must
 * be a LOCAL OutboundTunnelBuildReply (26) with the awaited message id. `pending` stays usable when the garlic is not
 * ours (wrong tag / MAC), so a forged message cannot cancel a build.
 */
export function processGarlicBuildReply(pending: PendingTunnelBuild, garlicBody: Uint8Array): BuildReplyResult {
  if (!pending.replyGarlic) return { ok: false, error: 'not an outbound build', replies: [], reason: 'malformed' };
  if (pending.isFinished) return { ok: false, error: 'build already processed', replies: [], reason: 'malformed' };
  const opened = openTagReply(pending.replyGarlic.key, pending.replyGarlic.tag, garlicBody);
  if (!opened.ok) return { ok: false, error: opened.error, replies: [], reason: 'malformed' };
  const clove = opened.value.cloves[0]!;
  if (clove.delivery !== 'local' || clove.type !== I2NP_OUTBOUND_TUNNEL_BUILD_REPLY)
    return {
      ok: false,
      error: 'reply clove is not a local OutboundTunnelBuildReply',
      replies: [],
      reason: 'malformed',
    };
  if (clove.msgId !== pending.replyMsgId)
    return { ok: false, error: 'reply clove has another message id', replies: [], reason: 'malformed' };
  return processShortBuildReply(pending, clove.body);
}

/** join() config of a built outbound tunnel (we are its gateway). Ids are the caller's: its local id and peer-table id. */
export function outboundTunnelConfig(
  t: BuiltTunnel,
  ids: { gatewayTunnelId: number; firstHop: number },
): OutboundTunnelConfig {
  if (t.direction !== 'outbound') throw new RangeError('not an outbound tunnel');
  return {
    role: 'obgw',
    layer: 'aes',
    gatewayTunnelId: ids.gatewayTunnelId,
    firstHopTunnelId: t.firstHopTunnelId,
    firstHop: ids.firstHop,
    hops: t.hops,
    expiresAt: t.expiresAt,
  };
}

/** join() config of a built inbound tunnel (we are its endpoint); `previousHop` = peer-table id of the last hop. */
export function inboundTunnelConfig(t: BuiltTunnel, ids: { previousHop?: number } = {}): InboundTunnelConfig {
  if (t.direction !== 'inbound') throw new RangeError('not an inbound tunnel');
  const cfg: InboundTunnelConfig = {
    role: 'ibep',
    layer: 'aes',
    receiveTunnelId: t.receiveTunnelId,
    hops: t.hops,
    expiresAt: t.expiresAt,
  };
  if (ids.previousHop !== undefined) cfg.previousHop = ids.previousHop;
  return cfg;
}

/** Wipes a built tunnel's layer keys (when it ends). */
export function wipeBuiltTunnel(t: BuiltTunnel): void {
  for (const h of t.hops) wipe(h.layerKey, h.ivKey);
}
