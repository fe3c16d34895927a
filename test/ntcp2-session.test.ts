// NTCP2 over 127.0.0.1, our initiator against our responder (ntcp2-routerinfo.md §4, §5): handshake, many frames
// both ways with every byte checked, every block type, one session per peer (replacement and simultaneous dial),
// idle timeout, Termination with reason codes, shutdown with reason 3, and backpressure both ways.
import { afterEach, describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Ntcp2Transport, type TransportEvents, type TransportLimits } from '../src/transport/ntcp2/transport.js';
import type { CloseInfo, Session } from '../src/transport/ntcp2/session.js';
import {
  TERM_CLOCK_SKEW,
  TERM_IDLE_TIMEOUT,
  TERM_NORMAL,
  TERM_ROUTER_SHUTDOWN,
} from '../src/transport/ntcp2/constants.js';
import {
  makeRouter,
  parseStubRouterInfo,
  sleep,
  stubRouterInfo,
  until,
  type TestRouter,
} from './helpers/ntcp2-peer.js';

const open: Ntcp2Transport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close(500)));
});

function transport(r: TestRouter, events: TransportEvents = {}, limits: Partial<TransportLimits> = {}): Ntcp2Transport {
  const t = new Ntcp2Transport({ local: r.local, parseRouterInfo: parseStubRouterInfo, events, limits });
  open.push(t);
  return t;
}

async function pair(evA: TransportEvents = {}, evB: TransportEvents = {}, limits: Partial<TransportLimits> = {}) {
  const a = makeRouter(),
    b = makeRouter();
  const ta = transport(a, evA, limits),
    tb = transport(b, evB, limits);
  const addr = await tb.listen(0, '127.0.0.1');
  const sa = await ta.connect(b.target('127.0.0.1', addr.port));
  await until(() => tb.stats.established === 1);
  const sb = tb.session(a.local.identHash)!;
  return { a, b, ta, tb, sa, sb, port: addr.port };
}

/** Deterministic body for message i: its index then bytes derived from it. */
function body(i: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  const dv = new DataView(b.buffer);
  if (len >= 4) dv.setUint32(0, i);
  for (let k = 4; k < len; k++) b[k] = (i * 31 + k * 7) & 0xff;
  return b;
}
function checkBody(b: Uint8Array, i: number): boolean {
  if (b.length >= 4 && new DataView(b.buffer, b.byteOffset).getUint32(0) !== i) return false;
  for (let k = 4; k < b.length; k++) if (b[k] !== ((i * 31 + k * 7) & 0xff)) return false;
  return true;
}

describe('NTCP2 sessions over 127.0.0.1', () => {
  it('completes the handshake; both sides know each other and the responder has the RouterInfo', async () => {
    const { a, b, sa, sb, ta, tb } = await pair();
    expect(sa.state).toBe('established');
    expect(sb.state).toBe('established');
    expect(sa.direction).toBe('out');
    expect(sb.direction).toBe('in');
    expect(Buffer.from(sa.peerHash!).equals(b.local.identHash)).toBe(true);
    expect(Buffer.from(sb.peerHash!).equals(a.local.identHash)).toBe(true);
    expect(parseStubRouterInfo(sb.peerRouterInfo!).ok).toBe(true);
    expect(ta.stats.established).toBe(1);
    expect(tb.stats.dropped).toEqual({});
  });

  it('carries many small frames both ways with every byte checked', async () => {
    // One I2NP message per frame: maxFramePayload leaves room for exactly one 20-byte body.
    const N = Number(process.env.NTCP2_FRAMES ?? 500_000);
    const got = { a: 0, b: 0, badA: 0, badB: 0 };
    const evA: TransportEvents = {
      onI2np: (_s, type, id, _e, b) => {
        if (type !== 20 || id !== got.a || !checkBody(b, got.a)) got.badA++;
        got.a++;
      },
    };
    const evB: TransportEvents = {
      onI2np: (_s, type, id, _e, b) => {
        if (type !== 20 || id !== got.b || !checkBody(b, got.b)) got.badB++;
        got.b++;
      },
    };
    const { sa, sb } = await pair(evA, evB, {
      maxFramePayload: 48,
      maxQueuedMessages: 1 << 20,
      maxQueuedBytes: 64 << 20,
      idleTimeoutMs: 60_000,
    });
    const t0 = Date.now();
    const pump = async (s: Session) => {
      for (let i = 0; i < N;) {
        while (i < N && s.sendI2np(20, i, 0x70000000, body(i, 20))) i++;
        await sleep(0);
        while (s.queuedMessages > 20_000) await sleep(1);
      }
    };
    await Promise.all([pump(sa), pump(sb)]);
    expect(await until(() => got.a === N && got.b === N, 120_000)).toBe(true);
    const secs = (Date.now() - t0) / 1000;
    console.log(
      `[ntcp2 frames] ${N} frames each way in ${secs.toFixed(1)} s (${Math.round((2 * N) / secs)} frames/s total); A out ${sa.framesOut} frames, B out ${sb.framesOut}`,
    );
    expect(got.badA + got.badB).toBe(0);
    expect(sa.framesOut).toBeGreaterThanOrEqual(N);
    expect(sb.framesOut).toBeGreaterThanOrEqual(N);
    expect(sb.framesIn).toBe(sa.framesOut);
  }, 180_000);

  it('packs messages queued together into shared frames, up to 64 KB, with large bodies intact', async () => {
    const seen: Array<[number, number]> = [];
    let bad = 0;
    const { sa, sb } = await pair(
      {},
      {
        onI2np: (_s, t, id, _e, b) => {
          seen.push([t, b.length]);
          if (!checkBody(b, id)) bad++;
        },
      },
    );
    const sizes = [1, 20, 1028, 5000, 62699, 3, 1028, 1028, 1028, 40000, 16];
    sizes.forEach((n, i) => expect(sa.sendI2np(18, i, 0x70000000, body(i, n))).toBe(true));
    expect(sa.sendI2np(18, 99, 0, new Uint8Array(62700))).toBe(false); // 9 + 62700 > 62708 (§4.7)
    expect(await until(() => seen.length === sizes.length)).toBe(true);
    expect(seen.map((x) => x[1])).toEqual(sizes);
    expect(bad).toBe(0);
    expect(sa.framesOut).toBeLessThan(sizes.length);
    expect(sb.i2npIn).toBe(sizes.length);
  });

  it('delivers every block type: DateTime, Options, RouterInfo, I2NP, Padding, Termination', async () => {
    const log: string[] = [];
    let closeB: CloseInfo | undefined;
    const { sa, sb } = await pair(
      {},
      {
        onI2np: (_s, t, id, exp, b) => log.push(`i2np ${t} ${id} ${exp} ${b.length}`),
        onRouterInfo: (_s, flag, ri) => log.push(`ri ${flag} ${parseStubRouterInfo(ri).ok}`),
        onDateTime: (_s, sec) => log.push(`dt ${sec}`),
        onOptions: (_s, d) => log.push(`opt ${d.length}`),
        onClose: (_s, info) => {
          closeB = info;
        },
      },
    );
    expect(sa.sendDateTime(0x65000000)).toBe(true);
    expect(sa.sendOptions(new Uint8Array(12))).toBe(true);
    expect(sa.sendRouterInfo(stubRouterInfo(new Uint8Array(32), Date.now(), new Uint8Array(32)), 1)).toBe(true);
    expect(sa.sendPadding(100)).toBe(true);
    expect(sa.sendI2np(11, 7, 123456, new Uint8Array(33))).toBe(true);
    await until(() => log.length === 4);
    sa.terminate(TERM_CLOCK_SKEW, 'test');
    expect(await until(() => closeB !== undefined)).toBe(true);
    expect(log).toEqual(['dt 1694498816', 'opt 12', 'ri 1 true', 'i2np 11 7 123456 33']);
    expect(closeB).toMatchObject({ reason: 'termination-received', code: TERM_CLOCK_SKEW, by: 'remote' });
    expect(sb.framesIn).toBe(6);
    // Both ends wiped their frame keys and SipHash state on close.
    expect(await until(() => sa.state === 'closed')).toBe(true);
    for (const s of [sa, sb]) {
      const x = s as unknown as {
        sealer: { key: Uint8Array; mask: { key: Uint8Array } };
        opener: { key: Uint8Array; mask: { key: Uint8Array } };
      };
      for (const k of [x.sealer.key, x.opener.key, x.sealer.mask.key, x.opener.mask.key])
        expect(k.every((v) => v === 0)).toBe(true);
    }
  });

  it('one session per peer: a reconnect replaces the old session, which is closed, not leaked', async () => {
    const a = makeRouter(),
      b = makeRouter();
    const closedB: CloseInfo[] = [];
    const tb = transport(b, { onClose: (_s, i) => closedB.push(i) });
    const { port } = await tb.listen(0);
    const ta1 = transport(a);
    const s1 = await ta1.connect(b.target('127.0.0.1', port));
    await until(() => tb.stats.established === 1);
    const old = tb.session(a.local.identHash)!;
    // The same router (same identity) dials again, as after a restart.
    const ta2 = transport(a);
    const s2 = await ta2.connect(b.target('127.0.0.1', port));
    expect(await until(() => tb.session(a.local.identHash) !== old && old.state === 'closed')).toBe(true);
    expect(tb.stats.established).toBe(1);
    expect(await until(() => tb.stats.connections === 1)).toBe(true);
    expect(closedB).toContainEqual(expect.objectContaining({ reason: 'replaced', code: TERM_NORMAL, by: 'local' }));
    expect(await until(() => s1.state === 'closed')).toBe(true);
    expect(s2.state).toBe('established');
    expect(tb.stats.dropped['replaced-session']).toBe(1);
    // The new session works.
    const cur = tb.session(a.local.identHash)!;
    expect(cur.sendI2np(10, 1, 0, new Uint8Array(12))).toBe(true);
    expect(await until(() => s2.i2npIn === 1)).toBe(true);
  });

  it('connect() to a peer with a session or a pending dial returns that session', async () => {
    const { ta, b, port, sa } = await pair();
    expect(await ta.connect(b.target('127.0.0.1', port))).toBe(sa);
    const c = makeRouter();
    const tc = transport(c);
    const p1 = tc.connect(b.target('127.0.0.1', port));
    const p2 = tc.connect(b.target('127.0.0.1', port));
    expect(p1).toBe(p2);
    await p1;
    expect(tc.stats.connections).toBe(1);
  });

  it('a bad dial target is refused without leaking a socket', async () => {
    const { b, port } = await pair();
    const c = makeRouter();
    const tc = transport(c);
    await expect(tc.connect({ ...b.target('127.0.0.1', port), iv: new Uint8Array(3) })).rejects.toThrow(RangeError);
    const badKey = new Uint8Array(32).fill(0xff); // bit 255 set: not usable (§4.1)
    await expect(tc.connect({ ...b.target('127.0.0.1', port), staticKey: badKey })).rejects.toThrow(/bad-dial-target/);
    expect(await until(() => tc.stats.connections === 0)).toBe(true);
    expect(tc.stats.dropped['bad-dial-target']).toBe(1);
  });

  it('a simultaneous dial leaves both routers with the same single session', async () => {
    let resolved = 0;
    for (let round = 0; round < 5; round++) {
      const a = makeRouter(),
        b = makeRouter();
      const ta = transport(a),
        tb = transport(b);
      const pa = (await ta.listen(0)).port,
        pb = (await tb.listen(0)).port;
      const [x, y] = await Promise.allSettled([
        ta.connect(b.target('127.0.0.1', pb)),
        tb.connect(a.target('127.0.0.1', pa)),
      ]);
      expect(x.status === 'fulfilled' || y.status === 'fulfilled').toBe(true);
      expect(await until(() => ta.stats.connections === 1 && tb.stats.connections === 1)).toBe(true);
      const sa = ta.session(b.local.identHash)!,
        sb = tb.session(a.local.identHash)!;
      expect(sa.state).toBe('established');
      expect(sb.state).toBe('established');
      expect(sa.direction).not.toBe(sb.direction); // two ends of one TCP connection
      // The survivor was initiated by the router with the smaller hash.
      const initiator = sa.direction === 'out' ? a : b;
      const other = initiator === a ? b : a;
      expect(Buffer.compare(Buffer.from(initiator.local.identHash), Buffer.from(other.local.identHash))).toBeLessThan(
        0,
      );
      resolved += (ta.stats.dropped['duplicate-session'] ?? 0) + (tb.stats.dropped['duplicate-session'] ?? 0);
      await Promise.all([ta.close(200), tb.close(200)]);
    }
    expect(resolved).toBeGreaterThanOrEqual(5); // the rule really ran: both dials completed their handshakes
  });

  it('idle timeout sends Termination reason 2 and closes', async () => {
    let infoA: CloseInfo | undefined, infoB: CloseInfo | undefined;
    const { sa } = await pair(
      {
        onClose: (_s, i) => {
          infoA = i;
        },
      },
      {
        onClose: (_s, i) => {
          infoB = i;
        },
      },
      { idleTimeoutMs: 300 },
    );
    const t0 = Date.now();
    expect(await until(() => infoA !== undefined && infoB !== undefined, 3000)).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    const local = infoA!.by === 'local' ? infoA! : infoB!;
    const remote = local === infoA ? infoB! : infoA!;
    expect(local).toMatchObject({ reason: 'idle', code: TERM_IDLE_TIMEOUT });
    expect(['termination-received', 'idle']).toContain(remote.reason);
    expect(remote.code).toBe(TERM_IDLE_TIMEOUT);
    expect(sa.state).toBe('closed');
  });

  it('traffic keeps a session alive past the idle timeout', async () => {
    const { sa, sb } = await pair({}, {}, { idleTimeoutMs: 300 });
    for (let i = 0; i < 10; i++) {
      sa.sendI2np(10, i, 0, new Uint8Array(12));
      await sleep(80);
    }
    expect(sa.state).toBe('established');
    expect(sb.state).toBe('established');
  });

  it('transport shutdown sends Termination reason 3 on every session', async () => {
    const infos: CloseInfo[] = [];
    const b = makeRouter();
    const tb = transport(b);
    const { port } = await tb.listen(0);
    const clients = [makeRouter(), makeRouter(), makeRouter()].map((r) =>
      transport(r, { onClose: (_s, i) => infos.push(i) }),
    );
    await Promise.all(clients.map((t) => t.connect(b.target('127.0.0.1', port))));
    await until(() => tb.stats.established === 3);
    await tb.close(1000);
    expect(await until(() => infos.length === 3)).toBe(true);
    for (const i of infos)
      expect(i).toMatchObject({ reason: 'termination-received', code: TERM_ROUTER_SHUTDOWN, by: 'remote' });
    expect(tb.stats.connections).toBe(0);
  });

  it('backpressure: a full send queue refuses and then drains; a paused receiver holds a bounded buffer', async () => {
    let drains = 0;
    let received = 0;
    const { sa, sb } = await pair(
      {
        onDrain: () => {
          drains++;
        },
      },
      {
        onI2np: () => {
          received++;
        },
      },
      { maxQueuedBytes: 1 << 20, maxQueuedMessages: 100_000, maxRecvBuffered: 128 << 10, socketHighWater: 64 << 10 },
    );
    sb.pauseReceive();
    let accepted = 0;
    while (sa.sendI2np(18, accepted, 0, new Uint8Array(1028))) accepted++;
    expect(accepted).toBeLessThanOrEqual(1020);
    expect(sa.canSend(1028)).toBe(false);
    // While B is paused, bytes pile up in the kernel and in A's bounded buffers, not in B's memory.
    await sleep(300);
    expect(sb.bufferedIn).toBeLessThanOrEqual((128 << 10) + 65536);
    expect(received).toBeLessThan(accepted);
    sb.resumeReceive();
    expect(await until(() => received === accepted, 10_000)).toBe(true);
    expect(drains).toBeGreaterThanOrEqual(1);
    expect(sa.sendI2np(18, 0, 0, new Uint8Array(1028))).toBe(true);
  });

  it('idle sessions stay small (300 by default, NTCP2_IDLE_SESSIONS=1000 for the figure) (memory per session, both ends)', async () => {
    const N = Number(process.env.NTCP2_IDLE_SESSIONS ?? 300);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const b = makeRouter();
    const tb = transport(b, {}, { maxConnections: N + 10, maxConnectionsPerIp: N + 10, maxPendingHandshakes: N + 10 });
    const { port } = await tb.listen(0);
    const routers = Array.from({ length: N }, () => makeRouter());
    const clients = routers.map((r) => transport(r));
    gc();
    const m0 = process.memoryUsage();
    const t0 = Date.now();
    for (let i = 0; i < N; i += 50) {
      await Promise.all(
        clients
          .slice(i, i + 50)
          .map((t, k) =>
            t.connect(b.target('127.0.0.1', port), { localAddress: `127.1.${(i + k) >> 7}.${1 + ((i + k) & 0x7f)}` }),
          ),
      );
    }
    expect(await until(() => tb.stats.established === N, 30_000)).toBe(true);
    const secs = (Date.now() - t0) / 1000;
    gc();
    const m1 = process.memoryUsage();
    const heap = (m1.heapUsed - m0.heapUsed) / N,
      ext = (m1.external + m1.arrayBuffers - m0.external - m0.arrayBuffers) / N;
    console.log(
      `[ntcp2 idle] ${N} sessions in ${secs.toFixed(1)} s; per session (both ends, client transports included): heap ${(heap / 1024).toFixed(1)} KiB, external+arrayBuffers ${(ext / 1024).toFixed(1)} KiB, rss delta ${((m1.rss - m0.rss) / N / 1024).toFixed(1)} KiB`,
    );
    expect(heap + ext).toBeLessThan(64 * 1024);
  }, 120_000);
});
