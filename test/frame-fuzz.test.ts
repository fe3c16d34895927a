// Fuzzing the endpoint: random bodies, and bodies with valid checksums around random (mostly plausible) pairs.
// Nothing may throw, partial state must stay within the caps after every body, and the fast endpoint must agree
// with the readable reference (test/frame-reference.ts) on the checksum-valid bodies.
// FRAME_FUZZ_BODIES (default 1 000 000) and FRAME_FUZZ_VALID (default 200 000) scale the run.
import { randomFillSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OutboundEndpointReassembler } from '../src/frame/endpoint.js';
import { reassembleAll } from '../src/frame/judge.js';
import { ReassemblyPool } from '../src/frame/reassembler.js';
import { hex, seededRandom } from './helpers/frame-helpers.js';
import { testSeed } from './helpers/seed.js';
import { refFirst, refFollow, refReassemble, refWrap } from './reference/frame-reference.js';

const RANDOM_BODIES = Number(process.env.FRAME_FUZZ_BODIES ?? 1_000_000);
const VALID_BODIES = Number(process.env.FRAME_FUZZ_VALID ?? 200_000);
const seed = testSeed('frame-fuzz');

const CAPS = { maxMessagesPerTunnel: 24, maxBytesPerTunnel: 48 * 1024 };
const POOL = { maxMessages: 40, maxBytes: 80 * 1024 };

function endpoints() {
  const pool = new ReassemblyPool(POOL);
  let delivered = 0;
  const handlers = { local: () => void delivered++, router: () => void delivered++, tunnel: () => void delivered++ };
  const eps = [0, 1].map(() => new OutboundEndpointReassembler({ handlers, pool, ...CAPS, duplicateWindow: 64 }));
  const check = () => {
    for (const ep of eps) {
      if (ep.pending > CAPS.maxMessagesPerTunnel || ep.pendingBytes > CAPS.maxBytesPerTunnel)
        throw new Error('tunnel cap exceeded');
    }
    if (pool.messages > POOL.maxMessages || pool.bytes > POOL.maxBytes) throw new Error('pool cap exceeded');
  };
  return { eps, pool, check, delivered: () => delivered };
}

/** Random but plausible pairs: biased towards valid flags, a small msgId space so fragments meet, random sizes. */
function randomPairs(rnd: () => number, bytes: (n: number) => Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let room = 1003;
  const n = 1 + (rnd() % 6);
  for (let i = 0; i < n && room > 8; i++) {
    const r = rnd() % 100;
    const msgId = rnd() % 16;
    const max = Math.min(room - 43, r < 50 ? 200 : 996);
    const size = max <= 1 ? 1 : 1 + (rnd() % max);
    const data = bytes(size);
    let p: Uint8Array;
    if (r < 30) p = refFollow(1 + (rnd() % 8), rnd() % 3 === 0, msgId, data);
    else if (r < 60) p = refFirst(rnd() % 3, data, { msgId, tunnelId: rnd() });
    else if (r < 85) p = refFirst(rnd() % 3, data);
    else if (r < 90) p = refFollow(rnd() % 64, (rnd() & 1) === 1, msgId, data);
    else if (r < 95) p = refFirst(rnd() % 4, data, { msgId, flagExtra: rnd() & 0x17 });
    else p = bytes(1 + (rnd() % 40)); // raw garbage
    if (p.length > room) break;
    parts.push(p);
    room -= p.length;
  }
  // Sometimes cut or extend the last pair so sizes run past the end or stop short.
  const out = Buffer.concat(parts);
  const t = rnd() % 10;
  if (t === 0 && out.length > 2) return out.subarray(0, out.length - 1 - (rnd() % 2));
  return out;
}

describe('endpoint fuzz', () => {
  it(`${RANDOM_BODIES} random bodies: nothing throws, all dropped, memory within the caps`, () => {
    const pool = new Uint8Array(1 << 22);
    randomFillSync(pool);
    const { eps, check, pool: rp } = endpoints();
    let x = seed >>> 0 || 1;
    const body = new Uint8Array(1028);
    let ok = 0;
    for (let i = 0; i < RANDOM_BODIES; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      const off = x % (pool.length - 1028);
      body.set(pool.subarray(off, off + 1028));
      body[24 + (x % 1004)] ^= x >>> 24; // a mutation so windows do not repeat exactly
      if (eps[i & 1]!.receive(body) === 'ok') ok++;
      if ((i & 1023) === 0) check();
    }
    check();
    // A random body passes the 32-bit checksum with probability 2^-32: expect none.
    expect(ok).toBe(0);
    expect(rp.messages).toBe(0);
    const drops = eps[0]!.drops;
    expect(drops['bad-checksum'] + drops['no-separator']).toBeGreaterThan(0);
  }, 120_000);

  it(`${VALID_BODIES} bodies with valid checksums around random pairs: no throw, caps hold, reference agrees`, () => {
    const rng = seededRandom(seed ^ 0x5eed);
    const scratch = new Uint8Array(4);
    const rnd = () => {
      rng.fill(scratch);
      return ((scratch[0]! << 24) | (scratch[1]! << 16) | (scratch[2]! << 8) | scratch[3]!) >>> 0;
    };
    const bytes = (n: number) => {
      const b = new Uint8Array(n);
      rng.fill(b);
      return b;
    };
    const { eps, check, pool } = endpoints();
    const iv = new Uint8Array(16);
    const batch: Uint8Array[] = [];
    let compared = 0;
    for (let i = 0; i < VALID_BODIES; i++) {
      rng.fill(iv);
      const body = refWrap(randomPairs(rnd, bytes), rnd(), iv, 1 + (rnd() % 255));
      eps[i & 1]!.receive(body);
      if ((i & 255) === 0) check();
      // Cross-check the unbounded fast reassembler with the reference on runs of 40 consecutive bodies.
      if (compared < 5000) {
        batch.push(body);
        if (batch.length === 40) {
          const fast = reassembleAll(batch);
          const ref = refReassemble(batch);
          expect(fast.dropped).toBe(ref.dropped);
          expect(fast.delivered.map((m) => [m.delivery, m.tunnelId, hex(m.toHash), hex(m.message)])).toEqual(
            ref.delivered.map((m) => [m.delivery, m.tunnelId, m.toHash, m.message]),
          );
          compared++;
          batch.length = 0;
        }
      }
    }
    check();
    const d = eps[0]!.drops;
    // The generator reaches every path: deliveries, malformed bodies, duplicates, evictions.
    expect(eps[0]!.delivered + eps[1]!.delivered).toBeGreaterThan(0);
    expect(d.malformed).toBeGreaterThan(0);
    expect(d['duplicate-fragment']).toBeGreaterThan(0);
    expect(d['evicted-tunnel'] + d['evicted-global'] + eps[1]!.drops['evicted-global']).toBeGreaterThan(0);
    expect(pool.messages).toBeLessThanOrEqual(POOL.maxMessages);
  }, 120_000);
});
