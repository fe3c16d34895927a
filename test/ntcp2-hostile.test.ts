// Hostile input against the NTCP2 responder (ntcp2-routerinfo.md §4.3-§4.10): random and mutated handshake
// messages in-process (100 000 each for msg1) and over sockets, replayed SessionRequests, bad MACs, bad and
// oversized lengths, slow senders, connection limits and RouterInfo failures. Each must close only the offending
// connection -- no answer to a bad first message, nothing thrown, buffers bounded -- while a good session keeps
// carrying traffic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { Initiator, Responder, ntcp2Seconds } from '../src/transport/ntcp2/handshake.js';
import { x25519FromPrivate } from '../src/transport/ntcp2/noise.js';
import { parseBlocks } from '../src/transport/ntcp2/blocks.js';
import { Ntcp2Transport } from '../src/transport/ntcp2/transport.js';
import type { CloseInfo, Session } from '../src/transport/ntcp2/session.js';
import {
  TERM_AEAD_FRAMING_ERROR,
  TERM_DATA_AEAD_FAILURE,
  TERM_INTRA_FRAME_TIMEOUT,
  TERM_MSG3_ERROR,
  TERM_RI_SIGNATURE_FAILURE,
  TERM_STATIC_KEY_MISMATCH,
} from '../src/transport/ntcp2/constants.js';
import {
  ByteReader,
  makeRouter,
  openSocket,
  parseStubRouterInfo,
  rawHandshake,
  sleep,
  stubRouterInfo,
  until,
  type TestRouter,
} from './helpers/ntcp2-peer.js';
import { seededRandom, testSeed } from './helpers/seed.js';

describe('NTCP2 handshake parsers under hostile input (in-process)', () => {
  const bobStatic = x25519FromPrivate(randomBytes(32));
  const rh = new Uint8Array(randomBytes(32));
  const iv = new Uint8Array(randomBytes(16));
  const fixedEph = x25519FromPrivate(randomBytes(32));
  const bob = () =>
    new Responder(
      { staticKey: bobStatic, identHash: rh, iv },
      {},
      { ephemeral: { ...fixedEph, privateKey: fixedEph.privateKey.slice() } },
    );

  it('100 000 random SessionRequests: all refused, none throws', () => {
    const seed = testSeed('ntcp2 random msg1');
    const rnd = seededRandom(seed);
    let accepted = 0;
    for (let i = 0; i < 100_000; i++) if (bob().readSessionRequest(rnd(64)).ok) accepted++;
    expect(accepted, `seed ${seed}`).toBe(0);
  }, 120_000);

  it('100 000 mutated valid SessionRequests: all refused, none throws', () => {
    const seed = testSeed('ntcp2 mutated msg1');
    const rnd = seededRandom(seed);
    const alice = x25519FromPrivate(randomBytes(32));
    const valid = new Initiator(alice, { identHash: rh, staticKey: bobStatic.publicKey, iv }).createSessionRequest({
      m3p2Len: 100,
      tsA: ntcp2Seconds(Date.now()),
    });
    expect(bob().readSessionRequest(valid.subarray(0, 64)).ok).toBe(true);
    let accepted = 0;
    for (let i = 0; i < 100_000; i++) {
      const m = valid.slice(0, 64);
      const r = rnd(4);
      const flips = 1 + (r[0]! & 3);
      for (let k = 0; k < flips; k++) {
        const pos = rnd(1)[0]! & 63;
        m[pos] ^= rnd(1)[0]! | 1;
      }
      if (Buffer.from(m).equals(valid.subarray(0, 64))) m[r[1]! & 63] ^= 0x40; // two flips may cancel
      if (bob().readSessionRequest(m).ok) accepted++;
    }
    expect(accepted, `seed ${seed}`).toBe(0);
  }, 120_000);

  it('10 000 random or mutated SessionCreated and 2 000 mutated SessionConfirmed: all refused, none throws', () => {
    const seed = testSeed('ntcp2 mutated msg2/msg3');
    const rnd = seededRandom(seed);
    const aliceStatic = x25519FromPrivate(randomBytes(32));
    const addr = { identHash: rh, staticKey: bobStatic.publicKey, iv };
    let accepted = 0;
    for (let i = 0; i < 10_000; i++) {
      const a = new Initiator(aliceStatic, addr);
      const msg1 = a.createSessionRequest({ m3p2Len: 40, tsA: 1 });
      let m: Uint8Array;
      if (i & 1) m = rnd(64);
      else {
        const b = bob();
        expect(b.readSessionRequest(msg1).ok).toBe(true);
        m = b.createSessionCreated({ tsB: 1 });
        m[rnd(1)[0]! & 63] ^= rnd(1)[0]! | 1;
      }
      if (a.readSessionCreated(m).ok) accepted++;
    }
    for (let i = 0; i < 2_000; i++) {
      const a = new Initiator(aliceStatic, addr);
      const b = bob();
      const payload = rnd(24);
      expect(b.readSessionRequest(a.createSessionRequest({ m3p2Len: 40, tsA: 1 })).ok).toBe(true);
      expect(a.readSessionCreated(b.createSessionCreated({ tsB: 1 })).ok).toBe(true);
      const msg3 = a.createSessionConfirmed(payload).message;
      const pos = ((rnd(1)[0]! << 8) | rnd(1)[0]!) % msg3.length;
      msg3[pos] ^= rnd(1)[0]! | 1; // one byte, always changed
      if (b.readSessionConfirmed(msg3).ok) accepted++;
    }
    expect(accepted, `seed ${seed}`).toBe(0);
  }, 120_000);
});

describe('NTCP2 responder under hostile connections (sockets)', () => {
  const bob = makeRouter();
  const good = makeRouter();
  const closes: CloseInfo[] = [];
  let tb: Ntcp2Transport;
  let tg: Ntcp2Transport;
  let port = 0;
  let goodSession: Session;
  let goodReceived = 0;
  let goodSent = 0;
  let traffic: NodeJS.Timeout;

  beforeAll(async () => {
    tb = new Ntcp2Transport({
      local: bob.local,
      parseRouterInfo: parseStubRouterInfo,
      events: {
        onClose: (_s, i) => closes.push(i),
        onI2np: () => {
          goodReceived++;
        },
      },
      limits: {
        probeDelayMs: [50, 400],
        probeReadMax: 512,
        handshakeTimeoutMs: 1500,
        frameReadTimeoutMs: 500,
        maxConnectionsPerIp: 4,
        maxPendingHandshakes: 64,
      },
    });
    port = (await tb.listen(0)).port;
    tg = new Ntcp2Transport({ local: good.local, parseRouterInfo: parseStubRouterInfo });
    goodSession = await tg.connect(bob.target('127.0.0.1', port), { localAddress: '127.0.0.200' });
    traffic = setInterval(() => {
      if (goodSession.sendI2np(18, goodSent, 0, new Uint8Array(1028))) goodSent++;
    }, 5);
  });

  afterAll(async () => {
    clearInterval(traffic);
    await tg.close(500);
    await tb.close(500);
  });

  /** Sends `bytes` on a new connection; resolves with what came back and whether the server closed in time. */
  async function poke(
    bytes: Uint8Array,
    localAddress: string,
    waitMs = 3000,
  ): Promise<{ answered: number; closed: boolean; ms: number }> {
    const t0 = Date.now();
    const sock = await openSocket(port, localAddress);
    const r = new ByteReader(sock);
    sock.write(bytes);
    const closed = await r.waitClosed(waitMs);
    sock.destroy();
    return { answered: r.total, closed, ms: Date.now() - t0 };
  }

  it('random first messages get no answer and are closed after a bounded random delay or read', async () => {
    const seed = testSeed('ntcp2 random sockets');
    const rnd = seededRandom(seed);
    const results: Array<{ answered: number; closed: boolean; ms: number }> = [];
    for (let batch = 0; batch < 10; batch++) {
      const jobs = [];
      for (let k = 0; k < 20; k++) {
        const n = 64 + (((rnd(1)[0]! << 8) | rnd(1)[0]!) % 600);
        jobs.push(poke(rnd(n), `127.0.${1 + batch}.${1 + (k % 5)}`));
      }
      results.push(...(await Promise.all(jobs)));
    }
    expect(
      results.every((r) => r.answered === 0),
      `seed ${seed}`,
    ).toBe(true);
    expect(results.every((r) => r.closed)).toBe(true);
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(2500);
    expect(tb.stats.dropped['bad-msg1']).toBeGreaterThanOrEqual(200);
    // Probing resistance: not all closed at once (a random delay or read).
    const times = results.map((r) => r.ms);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(30);
  }, 60_000);

  it('mutated valid SessionRequests over sockets get no answer', async () => {
    const seed = testSeed('ntcp2 mutated sockets');
    const rnd = seededRandom(seed);
    const alice = makeRouter();
    const before = tb.stats.dropped['bad-msg1'] ?? 0;
    const jobs = [];
    for (let k = 0; k < 60; k++) {
      const m = new Initiator(alice.staticKey, bob.target('127.0.0.1', port)).createSessionRequest({
        m3p2Len: 100,
        tsA: ntcp2Seconds(Date.now()),
      });
      m[rnd(1)[0]! & 63] ^= rnd(1)[0]! | 1;
      jobs.push(poke(m, `127.0.20.${1 + (k % 5)}`));
      if (jobs.length === 20) {
        for (const r of await Promise.all(jobs.splice(0))) {
          expect(r.answered).toBe(0);
          expect(r.closed).toBe(true);
        }
      }
    }
    expect((tb.stats.dropped['bad-msg1'] ?? 0) - before).toBe(60);
  }, 60_000);

  it('a replayed SessionRequest is refused without an answer', async () => {
    const alice = makeRouter();
    const first = await rawHandshake(alice, bob, port, { localAddress: '127.0.30.1' });
    const r = await poke(first.msg1, '127.0.30.2');
    expect(r.answered).toBe(0);
    expect(r.closed).toBe(true);
    expect(tb.stats.dropped['replayed-msg1']).toBe(1);
    first.sock.destroy();
  });

  it('bytes after msg1 (before msg2) are refused without an answer', async () => {
    const alice = makeRouter();
    const m = new Initiator(alice.staticKey, bob.target('127.0.0.1', port)).createSessionRequest({
      m3p2Len: 100,
      tsA: ntcp2Seconds(Date.now()),
      padding: new Uint8Array(10),
    });
    const r = await poke(Buffer.concat([m, Buffer.alloc(5)]), '127.0.31.1');
    expect(r.answered).toBe(0);
    expect(r.closed).toBe(true);
  });

  it('a skewed clock gets SessionCreated then a close (§4.8)', async () => {
    const alice = makeRouter();
    const ini = new Initiator(alice.staticKey, bob.target('127.0.0.1', port));
    const m = ini.createSessionRequest({ m3p2Len: 100, tsA: ntcp2Seconds(Date.now()) - 120 });
    const sock = await openSocket(port, '127.0.32.1');
    const rd = new ByteReader(sock);
    sock.write(m);
    const m2 = await rd.read(64);
    expect(m2).toBeDefined();
    expect(ini.readSessionCreated(m2!).ok).toBe(true);
    expect(await rd.waitClosed(3000)).toBe(true);
    expect(tb.stats.dropped['clock-skew']).toBeGreaterThanOrEqual(1);
  });

  async function terminationOf(raw: Awaited<ReturnType<typeof rawHandshake>>): Promise<number | undefined> {
    const f = await raw.readFrame(3000);
    if (!f) return undefined;
    let reason: number | undefined;
    parseBlocks(f, {
      termination: (_n, r) => {
        reason = r;
      },
    });
    return reason;
  }

  it('a frame with a bad MAC gets Termination reason 4 and a close', async () => {
    const raw = await rawHandshake(makeRouter(), bob, port, { localAddress: '127.0.33.1' });
    const frame = raw.sealer.seal(Uint8Array.of(3, 0, 9, 18, 0, 0, 0, 1, 0, 0, 0, 0));
    frame[frame.length - 1] ^= 1;
    raw.sock.write(frame);
    expect(await terminationOf(raw)).toBe(TERM_DATA_AEAD_FAILURE);
    expect(await raw.reader.waitClosed(3000)).toBe(true);
  });

  it('a frame length below 16 gets Termination reason 9 and a close', async () => {
    const raw = await rawHandshake(makeRouter(), bob, port, { localAddress: '127.0.34.1' });
    // Learn the mask by sealing a frame of known length with a twin sealer, then send length 5.
    const wire = raw.sealer.seal(new Uint8Array(0)); // 16 bytes sealed: mask = wire length field ^ 16
    const mask = ((wire[0]! << 8) | wire[1]!) ^ 16;
    // The server has not seen that frame: send it, then a frame whose length field decodes to 5 under the next mask.
    raw.sock.write(wire);
    const next = raw.sealer.seal(new Uint8Array(0));
    const mask2 = ((next[0]! << 8) | next[1]!) ^ 16;
    expect(mask).not.toBe(-1);
    raw.sock.write(Uint8Array.of(((5 ^ mask2) >>> 8) & 0xff, (5 ^ mask2) & 0xff));
    expect(await terminationOf(raw)).toBe(TERM_AEAD_FRAMING_ERROR);
    expect(await raw.reader.waitClosed(3000)).toBe(true);
  });

  it('an oversized length with a stalled body times out with Termination reason 14', async () => {
    const raw = await rawHandshake(makeRouter(), bob, port, { localAddress: '127.0.35.1' });
    const probe = raw.sealer.seal(new Uint8Array(0));
    const mask = ((probe[0]! << 8) | probe[1]!) ^ 16;
    raw.sock.write(Uint8Array.of(((65535 ^ mask) >>> 8) & 0xff, (65535 ^ mask) & 0xff));
    raw.sock.write(new Uint8Array(1000));
    const t0 = Date.now();
    expect(await terminationOf(raw)).toBe(TERM_INTRA_FRAME_TIMEOUT);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    expect(await raw.reader.waitClosed(3000)).toBe(true);
  });

  it('a frame read timeout is per frame: a trickle that always leaves a partial frame, but completes each in time, stays up', async () => {
    const raw = await rawHandshake(makeRouter(), bob, port, { localAddress: '127.0.38.1' });
    const frames = Buffer.concat(
      Array.from({ length: 12 }, (_, i) =>
        raw.sealer.seal(Uint8Array.of(0, 0, 4, 0, 0, 0, i, 0xfe, 0, 180, ...new Uint8Array(180))),
      ),
    );
    // 150-byte pieces every 120 ms: each ~210-byte frame completes within 2 pieces (< 500 ms), yet a partial frame
    // is almost always buffered; the whole trickle lasts far longer than the 500 ms timeout.
    for (let o = 0; o < frames.length; o += 150) {
      raw.sock.write(frames.subarray(o, o + 150));
      await sleep(120);
    }
    await sleep(100);
    expect(raw.reader.closed).toBe(false);
    expect(raw.reader.available).toBe(0); // no Termination frame came back
    raw.sock.destroy();
  });

  it('a slow sender in the handshake is cut off by the handshake timeout, unanswered', async () => {
    const m = new Initiator(makeRouter().staticKey, bob.target('127.0.0.1', port)).createSessionRequest({
      m3p2Len: 100,
      tsA: ntcp2Seconds(Date.now()),
    });
    const sock = await openSocket(port, '127.0.36.1');
    const rd = new ByteReader(sock);
    const t0 = Date.now();
    for (let i = 0; i < 64 && !rd.closed; i++) {
      sock.write(m.subarray(i, i + 1));
      await sleep(50);
    }
    expect(await rd.waitClosed(3000)).toBe(true);
    expect(rd.total).toBe(0);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(tb.stats.dropped['handshake-timeout']).toBeGreaterThanOrEqual(1);
  });

  it('RouterInfo failures in msg3 get Termination 15 / 16 / 13', async () => {
    const cases: Array<[(r: TestRouter) => Uint8Array, number]> = [
      [
        (r) => {
          const ri = stubRouterInfo(r.identity, Date.now(), r.staticKey.publicKey);
          ri[90] ^= 1;
          return ri;
        },
        TERM_RI_SIGNATURE_FAILURE,
      ],
      [(r) => stubRouterInfo(r.identity, Date.now(), new Uint8Array(32).fill(1)), TERM_STATIC_KEY_MISMATCH],
      [(r) => stubRouterInfo(r.identity, Date.now() - 91 * 60_000, r.staticKey.publicKey), TERM_MSG3_ERROR],
      [(r) => stubRouterInfo(r.identity, Date.now() + 5 * 60_000, r.staticKey.publicKey), TERM_MSG3_ERROR],
    ];
    let ip = 1;
    for (const [ri, code] of cases) {
      const alice = makeRouter();
      alice.riOverride = () => ri(alice);
      const raw = await rawHandshake(alice, bob, port, { localAddress: `127.0.37.${ip++}` });
      expect(await terminationOf(raw)).toBe(code);
      expect(await raw.reader.waitClosed(3000)).toBe(true);
    }
  });

  it('per-IP and pending-handshake limits close the excess at once; other IPs still get in', async () => {
    const socks: Socket[] = [];
    const readers: ByteReader[] = [];
    for (let i = 0; i < 10; i++) {
      const s = await openSocket(port, '127.0.40.1');
      socks.push(s);
      readers.push(new ByteReader(s));
    }
    await sleep(200);
    expect(readers.filter((r) => r.closed).length).toBe(6);
    expect(tb.stats.dropped['limit-per-ip']).toBeGreaterThanOrEqual(6);
    const other = await rawHandshake(makeRouter(), bob, port, { localAddress: '127.0.41.1' });
    expect(other.reader.closed).toBe(false);
    for (const s of socks) s.destroy();
    other.sock.destroy();
  });

  it('a junk flood on a probed connection is discarded, not buffered', async () => {
    const sock = await openSocket(port, '127.0.42.1');
    const rd = new ByteReader(sock);
    const heap0 = process.memoryUsage().heapUsed;
    const junk = new Uint8Array(64 << 10);
    let sent = 0;
    while (!rd.closed && sent < 32 << 20) {
      if (!sock.write(junk))
        await new Promise((r) => {
          sock.once('drain', r);
          setTimeout(r, 50);
        });
      sent += junk.length;
    }
    expect(await rd.waitClosed(3000)).toBe(true);
    expect(rd.total).toBe(0);
    expect(sent).toBeLessThan(32 << 20);
    expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(16 << 20);
  });

  it('after all of it, the good session is untouched and only it remains', async () => {
    expect(goodSession.state).toBe('established');
    const sent = goodSent;
    expect(await until(() => goodReceived >= sent, 5000)).toBe(true);
    expect(goodSent).toBeGreaterThan(100);
    expect(await until(() => tb.stats.connections === 1, 5000)).toBe(true);
    expect(tb.stats.pendingInbound).toBe(0);
    expect(tb.stats.established).toBe(1);
    expect(closes.filter((c) => c.reason === 'internal-error')).toEqual([]);
    console.log('[ntcp2 hostile] dropped', tb.stats.dropped);
  });
});
