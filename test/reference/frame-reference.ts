// A slow, readable reference of the endpoint rules of ../shared/spec/vectors-format.md, written straight from the
// text, for cross-checking the fast Reassembler on random input. Not used by the product.
import { createHash } from 'node:crypto';

export interface RefMessage {
  delivery: 'LOCAL' | 'TUNNEL' | 'ROUTER';
  tunnelId?: number;
  toHash?: string;
  message: string;
}

type Pair =
  | { first: true; type: number; tunnelId?: number; toHash?: string; msgId?: number; data: Uint8Array }
  | { first: false; num: number; last: boolean; msgId: number; data: Uint8Array };

/** Parses the pairs of one decrypted body, or returns why the whole body is dropped. */
export function refParse(body: Uint8Array): Pair[] | string {
  if (body.length !== 1028) return 'length';
  let zero = -1;
  for (let i = 24; i < 1028; i++) {
    if (body[i] === 0) {
      zero = i;
      break;
    }
  }
  if (zero === -1) return 'no separator';
  const hashed = Buffer.concat([body.subarray(zero + 1, 1028), body.subarray(4, 20)]);
  const digest = createHash('sha256').update(hashed).digest();
  if (!digest.subarray(0, 4).equals(Buffer.from(body.subarray(20, 24)))) return 'checksum';
  const pairs: Pair[] = [];
  let pos = zero + 1;
  const need = (n: number) => pos + n <= 1028;
  const u16 = () => (body[pos]! << 8) | body[pos + 1]!;
  const u32 = () => Buffer.from(body.subarray(pos, pos + 4)).readUInt32BE(0);
  while (pos < 1028) {
    const flag = body[pos]!;
    pos += 1;
    if ((flag & 0x80) !== 0) {
      const num = (flag >> 1) & 63;
      const last = (flag & 1) === 1;
      if (num === 0) return 'follow-on 0';
      if (!need(6)) return 'instructions past end';
      const msgId = u32();
      pos += 4;
      const size = u16();
      pos += 2;
      if (size === 0) return 'zero size';
      if (!need(size)) return 'fragment past end';
      pairs.push({ first: false, num, last, msgId, data: body.slice(pos, pos + size) });
      pos += size;
    } else {
      const type = (flag >> 5) & 3;
      if (type === 3) return 'type 3';
      if (flag & 0x10 || flag & 0x04 || flag & 0x02 || flag & 0x01) return 'unimplemented bits';
      const p: Pair = { first: true, type, data: new Uint8Array(0) };
      if (type === 1) {
        if (!need(4)) return 'past end';
        p.tunnelId = u32();
        pos += 4;
      }
      if (type === 1 || type === 2) {
        if (!need(32)) return 'past end';
        p.toHash = Buffer.from(body.subarray(pos, pos + 32)).toString('hex');
        pos += 32;
      }
      if ((flag & 0x08) !== 0) {
        if (!need(4)) return 'past end';
        p.msgId = u32();
        pos += 4;
      }
      if (!need(2)) return 'past end';
      const size = u16();
      pos += 2;
      if (size === 0) return 'zero size';
      if (!need(size)) return 'fragment past end';
      p.data = body.slice(pos, pos + size);
      pos += size;
      pairs.push(p);
    }
  }
  return pairs;
}

const NAMES = ['LOCAL', 'TUNNEL', 'ROUTER'] as const;

/** One endpoint fed `bodies` in order: what it delivers (completion order) and how many bodies it drops. */
export function refReassemble(bodies: Uint8Array[]): { delivered: RefMessage[]; dropped: number } {
  const delivered: RefMessage[] = [];
  let dropped = 0;
  const state = new Map<number, { frags: Map<number, Uint8Array>; last?: number; head?: Pair }>();
  const emit = (head: Pair & { first: true }, data: Uint8Array) => {
    const m: RefMessage = { delivery: NAMES[head.type]!, message: Buffer.from(data).toString('hex') };
    if (head.type === 1) m.tunnelId = head.tunnelId!;
    if (head.type !== 0) m.toHash = head.toHash!;
    delivered.push(m);
  };
  for (const body of bodies) {
    const pairs = refParse(body);
    if (typeof pairs === 'string') {
      dropped++;
      continue;
    }
    for (const p of pairs) {
      if (p.first && p.msgId === undefined) {
        emit(p, p.data);
        continue;
      }
      const id = p.msgId!;
      const num = p.first ? 0 : p.num;
      let s = state.get(id);
      if (!s) {
        s = { frags: new Map() };
        state.set(id, s);
      }
      if (s.frags.has(num)) continue; // the first copy stands, last-flag included
      s.frags.set(num, p.data);
      if (p.first) s.head = p;
      if (!p.first && p.last && s.last === undefined) s.last = num;
      if (s.last === undefined) continue;
      let complete = true;
      for (let i = 0; i <= s.last; i++) if (!s.frags.has(i)) complete = false;
      if (!complete) continue;
      state.delete(id);
      const parts: Uint8Array[] = [];
      for (let i = 0; i <= s.last; i++) parts.push(s.frags.get(i)!);
      const whole = Buffer.concat(parts);
      if (whole.length > 62708) continue;
      emit(s.head as Pair & { first: true }, whole);
    }
  }
  return { delivered, dropped };
}

/** Builds a body with a valid checksum around the given pairs bytes (<= 1003), nonzero padding, given IV. */
export function refWrap(pairs: Uint8Array, tunnelId: number, iv: Uint8Array, pad = 0x5a): Uint8Array {
  if (pairs.length > 1003) throw new RangeError('pairs too long');
  const body = new Uint8Array(1028);
  Buffer.from(body.buffer).writeUInt32BE(tunnelId, 0);
  body.set(iv, 4);
  const digest = createHash('sha256').update(pairs).update(iv).digest();
  body.set(digest.subarray(0, 4), 20);
  const p = 1003 - pairs.length;
  body.fill(pad || 1, 24, 24 + p);
  body[24 + p] = 0;
  body.set(pairs, 25 + p);
  return body;
}

/** Encodes first-fragment / follow-on instructions + data for hand-made test bodies. */
export function refFirst(
  type: number,
  data: Uint8Array,
  o: { tunnelId?: number; toHash?: Uint8Array; msgId?: number; flagExtra?: number } = {},
): Uint8Array {
  const parts: number[] = [(type << 5) | (o.msgId !== undefined ? 0x08 : 0) | (o.flagExtra ?? 0)];
  const u32 = (v: number) => parts.push(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  if (type === 1) u32(o.tunnelId ?? 1);
  if (type === 1 || type === 2) parts.push(...(o.toHash ?? new Uint8Array(32).fill(7)));
  if (o.msgId !== undefined) u32(o.msgId);
  parts.push(data.length >> 8, data.length & 255);
  return Uint8Array.from([...parts, ...data]);
}

export function refFollow(num: number, last: boolean, msgId: number, data: Uint8Array): Uint8Array {
  return Uint8Array.from([
    0x80 | (num << 1) | (last ? 1 : 0),
    msgId >>> 24,
    (msgId >>> 16) & 255,
    (msgId >>> 8) & 255,
    msgId & 255,
    data.length >> 8,
    data.length & 255,
    ...data,
  ]);
}

/** Every fragment size carried by a body (after layers are removed), for the "no zero-length fragment" check. */
export function refFragmentSizes(body: Uint8Array): number[] | string {
  const pairs = refParse(body);
  return typeof pairs === 'string' ? pairs : pairs.map((p) => p.data.length);
}
