// Framing kinds of the conformance runner (vectors-format.md): `reassemble` (one endpoint's reassembly state fed
// the bodies in order, compared with `expect`) and `gateway` (our gateway packs the items; the bodies are
// self-checked with the judge of vectors-format.md, src/frame/judge.ts).
import { HASH_SIZE, TUNNEL_DATA_SIZE, AES256_KEY_SIZE } from '../constants.js';
import { MessageTooLargeError } from '../errors.js';
import type { DeliveredMessage, DeliveryType } from '../frame/delivery.js';
import { type GatewayItem, packMessages } from '../frame/gateway.js';
import { judgeGateway, reassembleAll } from '../frame/judge.js';
import type { HopKeys } from '../tunnel/aes-hop-reference.js';
import {
  arrayField,
  type CaseResult,
  hexValue,
  type KindHandler,
  toHex,
  uintField,
  type VectorCase,
  VectorsFormatError,
} from './format.js';

const DELIVERIES: readonly DeliveryType[] = ['LOCAL', 'TUNNEL', 'ROUTER'];

function objectAt(c: VectorCase, field: string, v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new VectorsFormatError(`case "${c.name}": ${field} must be an object`);
  return v as Record<string, unknown>;
}

/** A delivered-message / item object: {delivery, tunnelId? (TUNNEL), toHash? (TUNNEL, ROUTER), message}. */
function parseMessage(c: VectorCase, field: string, v: unknown): GatewayItem {
  const o = objectAt(c, field, v);
  const delivery = o.delivery;
  if (typeof delivery !== 'string' || !DELIVERIES.includes(delivery as DeliveryType)) {
    throw new VectorsFormatError(`case "${c.name}": ${field}.delivery must be LOCAL, TUNNEL or ROUTER`);
  }
  const item: GatewayItem = { delivery: delivery as DeliveryType, message: hexValue(c, `${field}.message`, o.message) };
  if (delivery === 'TUNNEL') item.tunnelId = uintField(c, `${field}.tunnelId`, o.tunnelId);
  if (delivery !== 'LOCAL') item.toHash = hexValue(c, `${field}.toHash`, o.toHash, HASH_SIZE);
  return item;
}

function messageJson(m: DeliveredMessage): Record<string, unknown> {
  const o: Record<string, unknown> = { delivery: m.delivery };
  if (m.delivery === 'TUNNEL') o.tunnelId = m.tunnelId;
  if (m.delivery !== 'LOCAL') o.toHash = toHex(m.toHash!);
  o.message = toHex(m.message);
  return o;
}

function parseBodies(c: VectorCase): Uint8Array[] {
  return arrayField(c, 'messages').map((v, i) => hexValue(c, `messages[${i}]`, v, TUNNEL_DATA_SIZE));
}

function parseExpect(c: VectorCase): { delivered: GatewayItem[]; dropped: number } | undefined {
  if (c.expect === undefined) return undefined;
  const e = objectAt(c, 'expect', c.expect);
  if (!Array.isArray(e.delivered)) throw new VectorsFormatError(`case "${c.name}": expect.delivered must be an array`);
  return {
    delivered: e.delivered.map((d, i) => parseMessage(c, `expect.delivered[${i}]`, d)),
    dropped: uintField(c, 'expect.dropped', e.dropped),
  };
}

function parseHops(c: VectorCase): HopKeys[] {
  return arrayField(c, 'hops').map((h, i) => {
    const o = objectAt(c, `hops[${i}]`, h);
    return {
      layerKey: hexValue(c, `hops[${i}].layerKey`, o.layerKey, AES256_KEY_SIZE),
      ivKey: hexValue(c, `hops[${i}].ivKey`, o.ivKey, AES256_KEY_SIZE),
    };
  });
}

function parseGateway(c: VectorCase): { tunnelId: number; hops: HopKeys[]; items: GatewayItem[] } {
  if (c.layer !== undefined && c.layer !== 'aes') {
    throw new VectorsFormatError(`case "${c.name}": layer "${c.layer}" has no profile yet (only "aes")`);
  }
  const items = arrayField(c, 'items').map((v, i) => parseMessage(c, `items[${i}]`, v));
  items.forEach((it, i) => {
    if (it.message.length === 0)
      throw new VectorsFormatError(`case "${c.name}": items[${i}].message is empty (cannot be framed)`);
  });
  return { tunnelId: uintField(c, 'tunnelId'), hops: parseHops(c), items };
}

export const reassembleKind: KindHandler = {
  validate(c) {
    parseBodies(c);
    parseExpect(c);
  },
  run(c): CaseResult {
    const { delivered, dropped } = reassembleAll(parseBodies(c));
    const output = { delivered: delivered.map(messageJson), dropped };
    const expect = parseExpect(c);
    if (expect === undefined) return { name: c.name, pass: null, output };
    const want = { delivered: expect.delivered.map(messageJson), dropped: expect.dropped };
    return { name: c.name, pass: JSON.stringify(want) === JSON.stringify(output), output };
  },
};

export const gatewayKind: KindHandler = {
  validate(c) {
    parseGateway(c);
  },
  run(c): CaseResult {
    const { tunnelId, hops, items } = parseGateway(c);
    let bodies: Uint8Array[];
    try {
      bodies = packMessages(items, { tunnelId, hops });
    } catch (err) {
      if (err instanceof MessageTooLargeError) return { name: c.name, pass: false, output: [], error: err.message };
      throw err;
    }
    const verdict = judgeGateway(bodies, tunnelId, hops, items);
    const r: CaseResult = { name: c.name, pass: verdict.pass, output: bodies.map(toHex) };
    if (!verdict.pass) r.error = verdict.problems.join('; ');
    return r;
  },
};

export const FRAME_KINDS: Record<string, KindHandler> = { reassemble: reassembleKind, gateway: gatewayKind };
