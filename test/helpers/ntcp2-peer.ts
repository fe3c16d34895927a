// Test-only helpers for the NTCP2 transport: a STUB RouterInfo (not the I2P format -- the real codec is in
// src/router/, injected through ParsePeerRouterInfo), routers built on it, and a raw client that performs the
// handshake by hand over a socket so tests can send crafted, corrupted or slow bytes afterwards.
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Initiator, ntcp2Seconds } from '../../src/transport/ntcp2/handshake.js';
import { FrameOpener, FrameSealer, nodeFrameAead } from '../../src/transport/ntcp2/frames.js';
import { BlockWriter } from '../../src/transport/ntcp2/blocks.js';
import { x25519FromPrivate, type X25519Pair } from '../../src/transport/ntcp2/noise.js';
import type { DialTarget, LocalRouter, ParsePeerRouterInfo } from '../../src/transport/ntcp2/peer-info.js';

const MAGIC = Buffer.from('STUBRI', 'ascii');
/** STUB RouterInfo: 'STUBRI' | identity(32) | published(8, ms BE) | NTCP2 static key(32) | check = SHA-256(all before). */
export const STUB_RI_SIZE = 6 + 32 + 8 + 32 + 32;

export function stubRouterInfo(identity: Uint8Array, published: number, staticKey: Uint8Array): Uint8Array {
  const b = Buffer.alloc(STUB_RI_SIZE);
  MAGIC.copy(b, 0);
  b.set(identity, 6);
  b.writeBigUInt64BE(BigInt(published), 38);
  b.set(staticKey, 46);
  b.set(createHash('sha256').update(b.subarray(0, 78)).digest(), 78);
  return new Uint8Array(b);
}

/** Parser for the stub: the "signature" is the trailing SHA-256; identHash = SHA-256(identity). */
export const parseStubRouterInfo: ParsePeerRouterInfo = (bytes) => {
  if (bytes.length !== STUB_RI_SIZE) return { ok: false, error: 'stub RI size' };
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (!b.subarray(0, 6).equals(MAGIC)) return { ok: false, error: 'stub RI magic' };
  if (!createHash('sha256').update(b.subarray(0, 78)).digest().equals(b.subarray(78)))
    return { ok: false, error: 'stub RI signature' };
  return {
    ok: true,
    value: {
      identHash: new Uint8Array(createHash('sha256').update(b.subarray(6, 38)).digest()),
      staticKey: new Uint8Array(b.subarray(46, 78)),
      published: Number(b.readBigUInt64BE(38)),
    },
  };
};

export interface TestRouter {
  identity: Uint8Array;
  local: LocalRouter;
  staticKey: X25519Pair;
  /** Override to publish a different RouterInfo (e.g. a stale or mismatched one). */
  riOverride?: () => Uint8Array;
  target(host: string, port: number): DialTarget;
}

export function makeRouter(): TestRouter {
  const identity = new Uint8Array(randomBytes(32));
  const staticKey = x25519FromPrivate(randomBytes(32));
  const iv = new Uint8Array(randomBytes(16));
  const identHash = new Uint8Array(createHash('sha256').update(identity).digest());
  const r: TestRouter = {
    identity,
    staticKey,
    local: {
      identHash,
      staticKey,
      iv,
      routerInfo: () => (r.riOverride ? r.riOverride() : stubRouterInfo(identity, Date.now(), staticKey.publicKey)),
    },
    target: (host, port) => ({ identHash, staticKey: staticKey.publicKey, iv, host, port }),
  };
  return r;
}

/** Collects socket bytes and hands out exact-length reads. */
export class ByteReader {
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  closed = false;
  total = 0;
  constructor(readonly sock: Socket) {
    sock.on('data', (c: Buffer) => {
      this.total += c.length;
      this.buf = Buffer.concat([this.buf, c]);
      this.waiter?.();
    });
    sock.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    sock.on('error', () => {});
  }
  get available(): number {
    return this.buf.length;
  }
  /** Resolves with n bytes, or undefined if the socket closes first or `timeoutMs` passes. */
  async read(n: number, timeoutMs = 5000): Promise<Uint8Array | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (this.buf.length < n) {
      if (this.closed || Date.now() > deadline) return undefined;
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 20);
      });
    }
    const out = new Uint8Array(this.buf.subarray(0, n));
    this.buf = this.buf.subarray(n);
    return out;
  }
  /** Resolves true when the socket has closed within `timeoutMs`. */
  async waitClosed(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline)
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 20);
      });
    return this.closed;
  }
}

export function openSocket(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

export interface RawSession {
  sock: Socket;
  reader: ByteReader;
  sealer: FrameSealer;
  opener: FrameOpener;
  msg1: Uint8Array;
  /** Reads and opens one frame; undefined on close/timeout/bad tag. */
  readFrame(timeoutMs?: number): Promise<Uint8Array | undefined>;
}

/** Our own handshake driven by hand over a fresh socket, as `alice` dialling `bob` listening on `port`. */
export async function rawHandshake(
  alice: TestRouter,
  bob: TestRouter,
  port: number,
  opts: { localAddress?: string; tsA?: number; padding?: number } = {},
): Promise<RawSession> {
  const sock = await openSocket(port, opts.localAddress);
  const reader = new ByteReader(sock);
  const ini = new Initiator(alice.staticKey, bob.target('127.0.0.1', port));
  const w = new BlockWriter(200);
  w.routerInfo(0, alice.local.routerInfo());
  const m3p2 = w.bytes().slice();
  const msg1 = ini.createSessionRequest({
    m3p2Len: m3p2.length + 16,
    tsA: opts.tsA ?? ntcp2Seconds(Date.now()),
    padding: new Uint8Array(opts.padding ?? 7),
  });
  sock.write(msg1);
  const m2 = await reader.read(64);
  if (!m2) throw new Error('no SessionCreated');
  const r = ini.readSessionCreated(m2);
  if (!r.ok) throw new Error(r.error);
  const pad = await reader.read(r.value.padLen);
  ini.sessionCreatedPadding(pad!);
  const { message, keys } = ini.createSessionConfirmed(m3p2);
  sock.write(message);
  const sealer = new FrameSealer(keys.kAB, keys.sipAB, nodeFrameAead);
  const opener = new FrameOpener(keys.kBA, keys.sipBA, nodeFrameAead);
  return {
    sock,
    reader,
    sealer,
    opener,
    msg1,
    async readFrame(timeoutMs = 5000) {
      const l = await reader.read(2, timeoutMs);
      if (!l) return undefined;
      const len = opener.readLength(l[0]!, l[1]!);
      if (len < 0) return undefined;
      const body = await reader.read(len, timeoutMs);
      if (!body) return undefined;
      const out = new Uint8Array(len - 16);
      return opener.open(body, out) ? out : undefined;
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 10 ms until true or `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}
