// The gateway judge of vectors-format.md ("Gateway judging"), shared by the conformance runner and the tests:
// apply each hop's P in forwarding order (what participants and the OBEP do), reassemble with the endpoint rules,
// and check size, tunnel id, no drops, delivered == items in order, distinct IVs, and the packing bound.
import { IV_OFFSET, IV_SIZE, PAIRS_MAX, TUNNEL_DATA_SIZE } from '../constants.js';
import { applyHops, type HopKeys } from '../tunnel/aes-hop-reference.js';
import type { DeliveredMessage } from './delivery.js';
import type { GatewayItem } from './gateway.js';
import { readU32 } from './delivery.js';
import { Reassembler, ReassemblyPool } from './reassembler.js';

export interface JudgeResult {
  pass: boolean;
  /** Why it failed (empty when it passed). */
  problems: string[];
  /** The bound: max(ceil(1.25 F), F + 2), F = ceil(total message bytes / 1003). */
  maxBodies: number;
}

/** The packing bound of vectors-format.md for messages totalling `totalBytes`. */
export function maxBodiesFor(totalBytes: number): number {
  const f = Math.ceil(totalBytes / PAIRS_MAX);
  return Math.max(Math.ceil(1.25 * f), f + 2);
}

function eqBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Reassembles bodies as the endpoint sees them (layers removed) with unbounded state: the vectors' endpoint. */
export function reassembleAll(bodies: readonly Uint8Array[]): { delivered: DeliveredMessage[]; dropped: number } {
  const delivered: DeliveredMessage[] = [];
  const r = new Reassembler({
    onMessage: (m) => delivered.push(m),
    expiryMs: Infinity,
    maxMessagesPerTunnel: Infinity,
    maxBytesPerTunnel: Infinity,
    pool: new ReassemblyPool({ maxMessages: Infinity, maxBytes: Infinity }),
    clock: () => 0,
  });
  let dropped = 0;
  for (const b of bodies) if (r.push(b) !== 'ok') dropped++;
  return { delivered, dropped };
}

export function judgeGateway(
  bodies: readonly Uint8Array[],
  tunnelId: number,
  hops: readonly HopKeys[],
  items: readonly GatewayItem[],
): JudgeResult {
  const problems: string[] = [];
  const total = items.reduce((s, it) => s + it.message.length, 0);
  const maxBodies = maxBodiesFor(total);
  const seenIv = new Set<string>();
  const plain: Uint8Array[] = [];
  bodies.forEach((b, i) => {
    if (!(b instanceof Uint8Array) || b.length !== TUNNEL_DATA_SIZE) {
      problems.push(`body ${i} is not ${TUNNEL_DATA_SIZE} bytes`);
      return;
    }
    if (readU32(b, 0) !== tunnelId) problems.push(`body ${i} does not start with tunnelId ${tunnelId}`);
    const iv = Buffer.from(b.subarray(IV_OFFSET, IV_OFFSET + IV_SIZE)).toString('hex');
    if (seenIv.has(iv)) problems.push(`body ${i} repeats an IV`);
    seenIv.add(iv);
    const c = b.slice();
    applyHops(c, hops);
    plain.push(c);
  });
  const { delivered, dropped } = reassembleAll(plain);
  if (dropped > 0) problems.push(`${dropped} bodies dropped by the endpoint`);
  if (delivered.length !== items.length) problems.push(`${delivered.length} messages delivered, ${items.length} sent`);
  const n = Math.min(delivered.length, items.length);
  for (let i = 0; i < n; i++) {
    const d = delivered[i]!;
    const it = items[i]!;
    const same =
      d.delivery === it.delivery &&
      eqBytes(d.message, it.message) &&
      (it.delivery !== 'TUNNEL' || d.tunnelId === it.tunnelId) &&
      (it.delivery === 'LOCAL' || eqBytes(d.toHash, it.toHash));
    if (!same) problems.push(`delivered message ${i} differs from item ${i}`);
  }
  if (bodies.length > maxBodies) problems.push(`${bodies.length} bodies, the bound is ${maxBodies}`);
  return { pass: problems.length === 0, problems, maxBodies };
}
