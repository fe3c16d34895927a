// Expiry, caps and eviction of partial messages with a fake clock; the gateway's delayed flush with a fake timer.
import { describe, expect, it } from 'vitest';
import { InboundEndpointReassembler, OutboundEndpointReassembler } from '../src/frame/endpoint.js';
import { type FlushTimer, GatewayPacker, packMessages } from '../src/frame/gateway.js';
import { Reassembler, ReassemblyPool } from '../src/frame/reassembler.js';
import { hex, i2npMessage, item, seededRandom } from './helpers/frame-helpers.js';
import { refFirst, refFollow, refWrap } from './reference/frame-reference.js';

/**
 * A fragmented LOCAL message `id`: a 600-byte I2NP message as [body with fragment 0, body with fragment 1 (last),
 * the message]. The endpoint charges a partial its buffer capacity: 600 bytes here (the header's size is right).
 */
function twoPart(id: number): [Uint8Array, Uint8Array, Uint8Array] {
  const msg = i2npMessage(600 - 16, id);
  const iv = (k: number) => Uint8Array.from({ length: 16 }, (_, i) => (id * 7 + k * 3 + i) & 0xff);
  return [
    refWrap(refFirst(0, msg.subarray(0, 300), { msgId: id }), 1, iv(1)),
    refWrap(refFollow(1, true, id, msg.subarray(300)), 1, iv(2)),
    msg,
  ];
}

function fakeClock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('expiry', () => {
  it('by default a partial message lives 10 s after its first fragment (README "Expiry and caps")', () => {
    // Endpoints built with no expiryMs, driven by a fake clock; 10 s is the documented lifetime, not the constant.
    const clock = fakeClock();
    const got: Uint8Array[] = [];
    const pool = new ReassemblyPool();
    const ep = new InboundEndpointReassembler({ onMessage: (m) => got.push(m), clock: clock.now, pool });
    const [f0, f1, f] = twoPart(7);
    ep.receive(f0);
    clock.t += 9_999;
    expect(ep.receive(f1)).toBe('ok'); // 1 ms before the end of its life: completes
    expect(got.map(hex)).toEqual([hex(f)]);
    expect(ep.drops.expired).toBe(0);

    const [g0, g1] = twoPart(8);
    ep.receive(g0);
    clock.t += 10_000;
    ep.receive(g1); // exactly 10 s after fragment 0: g expired first, so g1 starts a new incomplete message
    expect(got).toHaveLength(1);
    expect(ep.drops.expired).toBe(1);
    expect(ep.pending).toBe(1);

    // an idle endpoint's partial goes when the pool is swept, also at 10 s and not before
    const idle = new Reassembler({ onMessage: () => {}, clock: clock.now, pool });
    idle.push(twoPart(9)[0]);
    const start = clock.t;
    pool.sweep(start + 9_999);
    expect(idle.pending).toBe(1);
    pool.sweep(start + 10_000);
    expect(idle.pending).toBe(0);
    expect(idle.drops.expired).toBe(1);
  });

  it('a partial message expires after expiryMs; its late fragment starts a new incomplete one', () => {
    const clock = fakeClock();
    const got: Uint8Array[] = [];
    const ep = new InboundEndpointReassembler({ onMessage: (m) => got.push(m), clock: clock.now, expiryMs: 5000 });
    const [f0, f1] = twoPart(7);
    const [g0, g1, g] = twoPart(8);
    ep.receive(f0);
    clock.t += 4999;
    ep.receive(g0);
    expect(ep.pending).toBe(2);
    clock.t += 1;
    ep.sweep();
    expect(ep.pending).toBe(1);
    expect(ep.drops.expired).toBe(1);
    ep.receive(f1); // fragment 1 of the expired message: a new incomplete message
    ep.receive(g1);
    expect(got.map(hex)).toEqual([hex(g)]);
    expect(ep.pending).toBe(1);
    clock.t += 5000;
    ep.receive(new Uint8Array(1028)); // any traffic sweeps
    expect(ep.pending).toBe(0);
    expect(ep.drops.expired).toBe(2);
    expect(ep.drops['bad-checksum']).toBe(1);
  });

  it('the pool sweep expires partials of idle endpoints', () => {
    const clock = fakeClock();
    const pool = new ReassemblyPool();
    const a = new Reassembler({ onMessage: () => {}, clock: clock.now, pool, expiryMs: 1000 });
    const b = new Reassembler({ onMessage: () => {}, clock: clock.now, pool, expiryMs: 1000 });
    a.push(twoPart(1)[0]);
    clock.t += 1000;
    b.push(twoPart(2)[0]);
    expect(a.pending).toBe(0);
    expect(a.drops.expired).toBe(1);
    expect(pool.messages).toBe(1);
    expect(pool.bytes).toBe(600);
  });
});

describe('caps and eviction', () => {
  it('per endpoint: more than maxMessagesPerTunnel partials evicts the oldest', () => {
    const got: string[] = [];
    const r = new Reassembler({ onMessage: (m) => got.push(hex(m.message)!), maxMessagesPerTunnel: 3 });
    const msgs = [1, 2, 3, 4].map((id) => twoPart(id));
    for (const [f0] of msgs) r.push(f0);
    expect(r.pending).toBe(3);
    expect(r.drops['evicted-tunnel']).toBe(1);
    for (const i of [3, 2, 1, 0]) r.push(msgs[i]![1]);
    // Message 1 was evicted: its fragment 1 starts a new partial; 4, 3, 2 complete.
    expect(got).toEqual([4, 3, 2].map((i) => hex(msgs[i - 1]![2])));
    expect(r.pending).toBe(1);
  });

  it('per endpoint: bytes above maxBytesPerTunnel evict the oldest, even the message being built', () => {
    const r = new Reassembler({ onMessage: () => {}, maxBytesPerTunnel: 1300 });
    r.push(twoPart(1)[0]);
    r.push(twoPart(2)[0]);
    expect(r.bytes).toBe(1200);
    r.push(twoPart(3)[0]);
    expect(r.drops['evicted-tunnel']).toBe(1);
    expect(r.bytes).toBe(1200);
    const big = new Reassembler({ onMessage: () => {}, maxBytesPerTunnel: 200 });
    big.push(twoPart(9)[0]);
    expect(big.pending).toBe(0);
    expect(big.bytes).toBe(0);
    expect(big.drops['evicted-tunnel']).toBe(1);
  });

  it('global: the pool evicts the globally oldest partial, whichever endpoint holds it', () => {
    const pool = new ReassemblyPool({ maxMessages: 3, maxBytes: 1 << 20 });
    const a = new Reassembler({ onMessage: () => {}, pool });
    const b = new Reassembler({ onMessage: () => {}, pool });
    a.push(twoPart(1)[0]);
    b.push(twoPart(2)[0]);
    b.push(twoPart(3)[0]);
    b.push(twoPart(4)[0]);
    expect(a.pending).toBe(0);
    expect(a.drops['evicted-global']).toBe(1);
    expect(b.pending).toBe(3);
    const poolBytes = new ReassemblyPool({ maxMessages: 100, maxBytes: 1300 });
    const c = new Reassembler({ onMessage: () => {}, pool: poolBytes });
    for (const id of [1, 2, 3]) c.push(twoPart(id)[0]);
    expect(poolBytes.bytes).toBeLessThanOrEqual(1300);
    expect(c.drops['evicted-global']).toBe(1);
  });

  it('clear() frees everything and rejects bad limits', () => {
    const pool = new ReassemblyPool();
    const r = new Reassembler({ onMessage: () => {}, pool });
    r.push(twoPart(1)[0]);
    r.clear();
    expect([r.pending, r.bytes, pool.messages, pool.bytes]).toEqual([0, 0, 0, 0]);
    expect(() => new Reassembler({ onMessage: () => {}, expiryMs: 0 })).toThrow(RangeError);
    expect(() => new ReassemblyPool({ maxBytes: -1 })).toThrow(RangeError);
  });
});

describe('reassembly order edge cases', () => {
  it('fragments held ahead past a later-fixed end are not pulled in (regression found by the fuzz cross-check)', () => {
    const got: string[] = [];
    const r = new Reassembler({ onMessage: (m) => got.push(hex(m.message)!) });
    const d = (n: number) => new Uint8Array(10).fill(n + 1);
    const iv = (k: number) => new Uint8Array(16).fill(k);
    r.push(refWrap(refFirst(0, d(0), { msgId: 9 }), 1, iv(1)));
    r.push(refWrap(refFollow(2, false, 9, d(2)), 1, iv(2)));
    r.push(refWrap(refFollow(3, true, 9, d(3)), 1, iv(3)));
    r.push(refWrap(refFollow(1, true, 9, d(1)), 1, iv(4))); // 3 was marked last first: the end stays at 3
    expect(got).toEqual([hex(Uint8Array.from([...d(0), ...d(1), ...d(2), ...d(3)]))]);
    r.push(refWrap(refFirst(0, d(0), { msgId: 10 }), 1, iv(5)));
    r.push(refWrap(refFollow(2, false, 10, d(2)), 1, iv(6)));
    r.push(refWrap(refFollow(1, true, 10, d(1)), 1, iv(7))); // end fixed at 1: fragment 2 is not part of it
    expect(got[1]).toBe(hex(Uint8Array.from([...d(0), ...d(1)])));
    expect(r.pending).toBe(0);
    expect(r.drops['beyond-last']).toBe(1);
  });
});

describe('endpoint duplicate-body window and dispatch', () => {
  it('a repeated body is dropped before reassembly; a second full copy does not deliver twice', () => {
    let n = 0;
    const ep = new OutboundEndpointReassembler({
      handlers: { local: () => n++, router: () => {}, tunnel: () => {} },
      duplicateWindow: 3,
    });
    const [f0, f1] = twoPart(5);
    for (const b of [f0, f1, f0, f1, f1]) ep.receive(b);
    expect(n).toBe(1);
    expect(ep.drops['duplicate-body']).toBe(3);
    // The window holds 3 bodies: after 3 others, f0 and f1 are forgotten and deliver again.
    for (const id of [20, 21]) for (const b of twoPart(id).slice(0, 2)) ep.receive(b);
    for (const b of [f0, f1]) ep.receive(b);
    expect(n).toBe(4);
    const off = new OutboundEndpointReassembler({ handlers: { local: () => n++, router: () => {}, tunnel: () => {} } });
    for (const b of [f0, f1, f0, f1]) off.receive(b); // default: off (the replay filter is in front)
    expect(n).toBe(6);
    const bare = new Reassembler({ onMessage: () => n++ });
    for (const b of [f0, f1, f0, f1]) bare.push(b); // vectors semantics: delivered again
    expect(n).toBe(8);
  });

  it('OBEP wraps TUNNEL deliveries in a TunnelGateway message; IBEP drops non-LOCAL', () => {
    const clock = fakeClock(1_700_000_000_000);
    const calls: unknown[] = [];
    const ep = new OutboundEndpointReassembler({
      clock: clock.now,
      random: seededRandom(3),
      handlers: {
        local: (m) => calls.push(['local', m.length]),
        router: (h, m) => calls.push(['router', h[0], m.length]),
        tunnel: (h, tg, tid, m) => calls.push(['tunnel', h[0], tid, m.length, tg[0], tg.length]),
      },
    });
    const items = [item(0, i2npMessage(10, 1)), item(1, i2npMessage(20, 2), 77), item(2, i2npMessage(30, 3))];
    for (const b of packMessages(items, { tunnelId: 9 })) ep.receive(b);
    expect(calls).toEqual([
      ['local', 26],
      ['tunnel', 0xa1, 77, 36, 19, 16 + 6 + 36],
      ['router', 1, 46],
    ]);
    const ib: number[] = [];
    const ibep = new InboundEndpointReassembler({ onMessage: (m) => ib.push(m.length) });
    for (const b of packMessages(items, { tunnelId: 9 })) ibep.receive(b);
    expect(ib).toEqual([26]);
    expect(ibep.drops['not-local']).toBe(2);
  });

  it('never throws on odd input to receive', () => {
    const ep = new InboundEndpointReassembler({ onMessage: () => {} });
    expect(ep.receive(new Uint8Array(5))).toBe('bad-length');
    expect(ep.receive(null as never)).toBe('bad-length');
    expect(ep.receive(new Uint8Array(1028).fill(1))).toBe('no-separator');
    expect(ep.drops['bad-length']).toBe(2);
  });
});

describe('gateway flushing', () => {
  function fakeTimer() {
    const pending = new Map<number, { fn: () => void; at: number }>();
    let id = 0;
    const t = {
      now: 0,
      timer: {
        setTimeout(fn: () => void, ms: number) {
          pending.set(++id, { fn, at: t.now + ms });
          return id;
        },
        clearTimeout(h: unknown) {
          pending.delete(h as number);
        },
      } as FlushTimer,
      advance(ms: number) {
        t.now += ms;
        for (const [k, v] of [...pending]) {
          if (v.at <= t.now) {
            pending.delete(k);
            v.fn();
          }
        }
      },
      get armed() {
        return pending.size;
      },
    };
    return t;
  }

  it('a partial body goes out after flushDelayMs, on flush(), or when it fills', () => {
    const ft = fakeTimer();
    const out: Uint8Array[] = [];
    const gw = new GatewayPacker({ tunnelId: 3, onBody: (b) => out.push(b), flushDelayMs: 50, timer: ft.timer });
    gw.send(i2npMessage(100, 1));
    expect(out.length).toBe(0);
    expect(ft.armed).toBe(1);
    ft.advance(49);
    gw.send(i2npMessage(100, 2)); // joins the open body, does not re-arm
    expect(ft.armed).toBe(1);
    ft.advance(1);
    expect(out.length).toBe(1);
    expect(ft.armed).toBe(0);
    gw.send(i2npMessage(100, 3));
    gw.flush();
    expect(out.length).toBe(2);
    expect(ft.armed).toBe(0);
    gw.send(i2npMessage(1000 - 16, 4)); // 3 + 1000 bytes: exactly one full body: out at once, no timer left
    expect(out.length).toBe(3);
    expect(ft.armed).toBe(0);
    gw.flush(); // nothing open: no cover traffic
    expect(out.length).toBe(3);
    expect(gw.bodies).toBe(3);
  });

  it('flushDelayMs null waits for flush(); close() flushes', () => {
    const out: Uint8Array[] = [];
    const gw = new GatewayPacker({ tunnelId: 3, onBody: (b) => out.push(b), flushDelayMs: null });
    gw.send(i2npMessage(10, 1));
    expect(gw.openBytes).toBe(29);
    gw.close();
    expect(out.length).toBe(1);
  });
});

describe('re-entrancy', () => {
  it('a handler that pushes into the same reassembler does not disturb the body being processed', () => {
    const bodies = packMessages(
      [item(0, i2npMessage(10, 1)), item(0, i2npMessage(20, 2)), item(0, i2npMessage(30, 3))],
      { tunnelId: 1 },
    );
    const other = packMessages([item(0, i2npMessage(40, 4))], { tunnelId: 1 });
    const got: number[] = [];
    let once = true;
    const r: Reassembler = new Reassembler({
      onMessage: (m) => {
        got.push(m.message.length);
        if (once) {
          once = false;
          r.push(other[0]!);
        }
      },
    });
    r.push(bodies[0]!);
    expect(got).toEqual([26, 56, 36, 46]);
  });
});
