// i2pd's own streaming over our routers (netdb-floodfill.md §8.2, docs/network.md "i2pd streaming"): a server tunnel
// on i2pd B in front of an echo server here, a client tunnel on i2pd A pointing at B's destination; bytes written into
// A's local port come back through B's echo, so i2pd's garlic sessions and streaming run end to end over our routers.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { b32Address, generatePrivateKeys } from '../keys/destination.js';
import { saveKeyFile } from '../keys/keyfile.js';

export interface StreamingReport {
  /** Bytes written into A's client tunnel, and how many came back equal. */
  bytes: number;
  echoed: number;
  ok: boolean;
  /** From the first connection attempt to the whole echo back. */
  ms: number;
  attempts: number;
  error?: string;
  /** On failure: i2pd's log lines about LeaseSets and streams. */
  i2pdLog?: string[];
}

/** i2pd tunnels.conf settings of both ends: one-hop tunnels (§8.1), two outbound, an X25519 LeaseSet2. */
const tunnelOptions = (inbound: number) => [
  'inbound.length = 1',
  'outbound.length = 1',
  `inbound.quantity = ${inbound}`,
  'outbound.quantity = 2',
  'i2cp.leaseSetType = 3',
  'i2cp.leaseSetEncType = 4',
];

/** A free TCP port on 127.0.0.1 (bound, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The echo server, the server keys and both tunnels.conf files; `args` go to i2pd-local (instance 0 = A, 1 = B). */
export class StreamingEcho {
  private server: Server | undefined;
  clientPort = 0;
  b32 = '';

  async prepare(dir: string): Promise<string[]> {
    mkdirSync(dir, { recursive: true });
    const server = createServer((sock) => {
      sock.on('error', () => sock.destroy());
      sock.pipe(sock);
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const echoPort = (server.address() as { port: number }).port;
    this.clientPort = await freePort();
    const keys = generatePrivateKeys();
    this.b32 = b32Address(keys.destination);
    saveKeyFile(join(dir, 'echo-server.dat'), keys);
    writeFileSync(
      join(dir, 'tunnels-b.conf'),
      [
        '[echo]',
        'type = server',
        'host = 127.0.0.1',
        `port = ${echoPort}`,
        'keys = echo-server.dat',
        // i2pd publishes a LeaseSet only once the destination also has an outbound tunnel, and tries again only when
        // the LeaseSet changes (§6.3): its first inbound tunnels usually come before the first outbound one (whose
        // build reply needs an inbound tunnel), so more inbound tunnels than one pass builds make a later change.
        ...tunnelOptions(4),
      ]
        .map((l) => l + '\n')
        .join(''),
    );
    writeFileSync(
      join(dir, 'tunnels-a.conf'),
      [
        '[echo-client]',
        'type = client',
        'address = 127.0.0.1',
        `port = ${this.clientPort}`,
        `destination = ${this.b32}`,
        'keys = echo-client.dat',
        ...tunnelOptions(2),
      ]
        .map((l) => l + '\n')
        .join(''),
    );
    return [
      '--tunconf',
      `0=${join(dir, 'tunnels-a.conf')}`,
      '--tunconf',
      `1=${join(dir, 'tunnels-b.conf')}`,
      '--datafile',
      `1=${join(dir, 'echo-server.dat')}`,
    ];
  }

  /**
   * Writes `bytes` random bytes into A's client tunnel and waits for them to come back; i2pd closes the connection
   * while it cannot find B's LeaseSet yet, so it retries every few seconds until `timeoutMs` ran out.
   */
  async run(bytes: number, timeoutMs: number, signal?: AbortSignal): Promise<StreamingReport> {
    const data = randomBytes(bytes);
    const t0 = performance.now();
    const end = t0 + timeoutMs;
    let attempts = 0;
    let last = '';
    while (performance.now() < end && !signal?.aborted) {
      attempts++;
      const r = await this.once(data, Math.min(60_000, end - performance.now()));
      if (r.ok) return { bytes, echoed: r.echoed, ok: true, ms: Math.round(performance.now() - t0), attempts };
      last = r.error;
      await new Promise((res) => setTimeout(res, 3000));
    }
    return { bytes, echoed: 0, ok: false, ms: Math.round(performance.now() - t0), attempts, error: last };
  }

  private once(data: Buffer, ms: number): Promise<{ ok: boolean; echoed: number; error: string }> {
    return new Promise((resolve) => {
      const got: Buffer[] = [];
      let n = 0;
      const sock = connect(this.clientPort, '127.0.0.1');
      const done = (error: string) => {
        clearTimeout(timer);
        sock.destroy();
        const all = Buffer.concat(got);
        const equal = all.length >= data.length && all.subarray(0, data.length).equals(data);
        resolve({ ok: equal, echoed: equal ? data.length : 0, error: equal ? '' : error || 'echo differs' });
      };
      const timer = setTimeout(() => done(`no echo within ${Math.round(ms)} ms (${n} bytes back)`), ms);
      sock.on('connect', () => sock.write(data));
      sock.on('data', (d: Buffer) => {
        got.push(d);
        n += d.length;
        if (n >= data.length) done('');
      });
      sock.on('error', (e) => done(e.message));
      sock.on('close', () => done(`closed after ${n} bytes`));
    });
  }

  close(): void {
    this.server?.close();
  }
}
