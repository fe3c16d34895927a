// What the I2CP client needs from the outside world, injectable so tests can run routers in-process with a fake
// clock: a byte-stream connection and timers.
import { connect as netConnect } from 'node:net';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** A connected byte stream. `onClose` fires exactly once, with a human-readable reason. */
export interface Connection {
  write(data: Uint8Array): void;
  close(): void;
  onData(cb: (data: Uint8Array) => void): void;
  onClose(cb: (reason: string) => void): void;
}

/** Opens a connection or rejects with an Error whose message says why (refused, timed out, ...). */
export type Connector = (host: string, port: number, timeoutMs: number) => Promise<Connection>;

/** TCP via node:net. */
export const tcpConnector: Connector = (host, port, timeoutMs) =>
  new Promise((resolve, reject) => {
    const sock = netConnect({ host, port });
    sock.setNoDelay(true);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new Error(`cannot connect to ${host}:${port}: ${err.code ?? err.message}`));
    });
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      let closeReason: string | undefined;
      const closeCbs: ((r: string) => void)[] = [];
      let fired = false;
      sock.on('error', (err: NodeJS.ErrnoException) => {
        closeReason ??= `socket error: ${err.code ?? err.message}`;
      });
      sock.on('end', () => {
        closeReason ??= 'router closed the connection';
      });
      sock.on('close', () => {
        if (fired) return;
        fired = true;
        const reason = closeReason ?? 'connection closed';
        for (const cb of closeCbs) cb(reason);
      });
      resolve({
        write: (d) => {
          if (!sock.destroyed) sock.write(d);
        },
        close: () => {
          closeReason ??= 'closed by client';
          sock.destroy();
        },
        onData: (cb) => sock.on('data', (b: Buffer) => cb(new Uint8Array(b.buffer, b.byteOffset, b.length))),
        onClose: (cb) => closeCbs.push(cb),
      });
    });
  });

/** Two connected in-memory ends (delivery is asynchronous, like a socket). For tests and in-process routers. */
export function connectionPair(): [Connection, Connection] {
  const make = () => ({ data: [] as ((d: Uint8Array) => void)[], close: [] as ((r: string) => void)[], closed: false });
  const a = make();
  const b = make();
  const end = (self: ReturnType<typeof make>, peer: ReturnType<typeof make>, name: string): Connection => ({
    write: (d) => {
      if (self.closed) return;
      const copy = d.slice();
      queueMicrotask(() => {
        if (!peer.closed) for (const cb of peer.data) cb(copy);
      });
    },
    close: () => {
      if (self.closed) return;
      self.closed = true;
      queueMicrotask(() => {
        for (const cb of self.close) cb('closed locally');
        if (!peer.closed) {
          peer.closed = true;
          for (const cb of peer.close) cb(`${name} closed the connection`);
        }
      });
    },
    onData: (cb) => self.data.push(cb),
    onClose: (cb) => self.close.push(cb),
  });
  return [end(a, b, 'client'), end(b, a, 'router')];
}
