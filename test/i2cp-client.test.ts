// The I2CP client against an in-process router with a fake clock: handshake, sessions, and every way a router can
// end the conversation (socket close, garbage, oversize frame, Disconnect, silence).
import { describe, expect, it } from 'vitest';
import { I2cpClient, I2cpError } from '../src/i2cp/client.js';
import { encodeMessage, fromHex } from '../src/i2cp/index.js';
import { connectionPair, type Connection } from '../src/i2cp/transport.js';
import { generatePrivateKeys } from '../src/keys/index.js';
import { FakeClock, FakeRouter, fakeNetwork, settle } from './helpers/fake-i2cp-router.js';

const keys = generatePrivateKeys();

async function setup() {
  const clock = new FakeClock();
  const router = new FakeRouter(7654, clock);
  const connector = fakeNetwork(clock, [router]);
  const client = await I2cpClient.connect({ host: '127.0.0.1', port: 7654, connector, clock });
  return { clock, router, client };
}

/** A TCP server that answers GetDate with SetDate and then does `then` to the socket. */
async function tcpRouter(
  then: (sock: import('node:net').Socket) => void,
): Promise<{ port: number; close: () => void }> {
  const { createServer } = await import('node:net');
  const srv = createServer((sock) => {
    sock.once('data', () => {
      sock.write(encodeMessage({ type: 'SetDate', date: Date.now(), version: '0.9.57' }));
      then(sock);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as { port: number }).port, close: () => srv.close() };
}

describe('I2CP client over node:net', () => {
  it('ends with the reason when the router closes the socket', async () => {
    const r = await tcpRouter((s) => setTimeout(() => s.end(), 20));
    const c = await I2cpClient.connect({ host: '127.0.0.1', port: r.port });
    expect(c.routerVersion).toBe('0.9.57');
    const reason = await new Promise((res) => c.onClose(res));
    expect(reason).toBe('router closed the connection');
    r.close();
  });
  it('ends with the reason when the router sends garbage', async () => {
    const r = await tcpRouter((s) => setTimeout(() => s.write(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')), 20));
    const c = await I2cpClient.connect({ host: '127.0.0.1', port: r.port });
    const reason = await new Promise((res) => c.onClose(res));
    expect(reason).toMatch(/^router sent garbage: frame length \d+ exceeds 65535$/);
    r.close();
  });
  it('a throwing message listener ends the connection with the reason, not the process (socket data handler)', async () => {
    const r = await tcpRouter((s) =>
      setTimeout(() => s.write(encodeMessage({ type: 'BandwidthLimits', limits: new Array(16).fill(0) })), 20),
    );
    const c = await I2cpClient.connect({ host: '127.0.0.1', port: r.port });
    c.onMessage(() => {
      throw new Error('listener bug');
    });
    const reason = await new Promise((res) => {
      c.onClose(res);
      setTimeout(() => res('still open after 5 s'), 5000).unref();
    });
    expect(reason).toBe('a listener threw on BandwidthLimits: listener bug');
    expect(c.listenerErrors).toBe(1);
    r.close();
  });
  it('reports a refused connection', async () => {
    const r = await tcpRouter(() => undefined);
    r.close();
    await expect(I2cpClient.connect({ host: '127.0.0.1', port: r.port })).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('I2CP client', () => {
  it('sends 0x2A then GetDate, learns the router version and clock offset', async () => {
    const { router, client } = await setup();
    expect(router.received[0]).toMatchObject({ type: 'GetDate', version: '0.9.62' });
    expect(client.routerVersion).toBe('0.9.62');
    expect(client.clockOffset).toBe(0);
  });

  it('creates a session with a signed config the router verifies, then destroys it', async () => {
    const { router, client } = await setup();
    const sid = await client.createSession(keys, { 'inbound.length': '0' });
    expect(sid).toBe(100);
    expect(await client.getBandwidthLimits()).toHaveLength(16);
    await client.destroySession();
    expect(router.received.map((m) => m.type)).toEqual([
      'GetDate',
      'CreateSession',
      'GetBandwidthLimits',
      'DestroySession',
    ]);
    expect(client.closed).toBe(true);
  });

  it('reports a refused session with the status', async () => {
    const { client } = await setup();
    const bad = { ...keys, signingPrivateKey: generatePrivateKeys().signingPrivateKey };
    await expect(client.createSession(bad, {})).rejects.toThrow(/status 3 \(Invalid\)/);
  });

  it('ends cleanly with the reason when the router closes the socket', async () => {
    const { router, client } = await setup();
    await client.createSession(keys, {});
    const reasons: string[] = [];
    client.onClose((r) => reasons.push(r));
    router.down();
    await settle();
    expect(reasons).toEqual(['router closed the connection']);
    expect(() => client.send({ type: 'GetBandwidthLimits' })).toThrow(I2cpError);
  });

  it('ends cleanly when the router sends garbage or an oversize frame', async () => {
    for (const [bytes, why] of [
      [fromHex('0000000214ff'), /invalid SessionStatus/], // truncated body
      [fromHex('00000000c8'), /invalid type 200/], // unknown type
      [fromHex('00ffffff14'), /garbage: frame length/],
    ] as const) {
      const { router, client } = await setup();
      await client.createSession(keys, {});
      const pending = client.getBandwidthLimits().catch((e: Error) => e.message);
      router.sendRaw(bytes);
      await settle();
      expect(client.closeReason).toMatch(why);
      expect(await pending).toMatch(why);
    }
  });

  it('contains throwing listeners and matchers: the connection ends with the reason, pending waits reject', async () => {
    const { router, client } = await setup();
    await client.createSession(keys, {});
    const seen: string[] = [];
    client.onMessage(() => {
      throw new TypeError('bad listener');
    });
    client.onMessage((m) => seen.push(m.type)); // registered after the thrower: never sees the message
    client.onClose(() => {
      throw new Error('bad close listener');
    });
    const closes: string[] = [];
    client.onClose((r) => closes.push(r)); // still told, after the throwing close listener
    const pending = client.getBandwidthLimits().catch((e: Error) => e.message);
    await settle();
    expect(client.closeReason).toBe('a listener threw on BandwidthLimits: bad listener');
    expect(closes).toEqual([client.closeReason]);
    expect(seen).toEqual([]);
    expect(client.listenerErrors).toBe(2);
    // the waiter was resolved before the listener threw
    expect(await pending).toEqual(new Array(16).fill(0));
    expect(router.openConnections).toBe(0);

    const second = await setup();
    await second.client.createSession(keys, {});
    const waiting = second.client
      .waitFor(() => {
        throw new Error('bad matcher');
      }, 5000)
      .catch((e: Error) => e.message);
    second.router.requestLeaseSet(1);
    await settle();
    expect(second.client.closeReason).toBe('a listener threw on RequestVariableLeaseSet: bad matcher');
    expect(await waiting).toMatch(/bad matcher/);
  });

  it('reports a Disconnect reason', async () => {
    const { router, client } = await setup();
    await client.createSession(keys, {});
    router.sendRaw(encodeMessage({ type: 'Disconnect', reason: 'shutting down' }));
    await settle();
    expect(client.closeReason).toBe('router disconnected: shutting down');
  });

  it('times out a silent router with the injected clock', async () => {
    const clock = new FakeClock();
    let server: Connection | undefined;
    const connector = async () => {
      const [c, s] = connectionPair();
      server = s;
      return c;
    };
    const p = I2cpClient.connect({ host: 'h', port: 1, connector, clock, timeoutMs: 5000 }).catch(
      (e: Error) => e.message,
    );
    await clock.advance(4999);
    expect(server).toBeDefined();
    await clock.advance(1);
    expect(await p).toMatch(/no SetDate within 5000 ms/);
  });
});
