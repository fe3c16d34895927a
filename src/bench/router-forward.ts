// The router-forward path (docs/benchmarks.md, docs/router-data-path.md): TunnelData sent by router A over NTCP2 to
// our router B, through one AES participant hop on B's data plane, and out over NTCP2 to router C, all on 127.0.0.1.
// A and C run in the calling process; B runs in its own process (router-forward-hop.ts) so that its CPU time is its
// own. Used by the `router-forward` workload of `tunnelplane bench` and by the bench/router-forward.ts script, which
// adds a CPU profile of B. Bodies reaching C are checked against an independent node:crypto computation of the
// participant transform (tunnel-crypto-aes.md §2), not against src/tunnel/.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { createCipheriv } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRouter, type PeerEntry, type Router } from '../router/router.js';
import { Unavailable } from './types.js';

/** The participant tunnel B forwards: what A's bodies carry, and what C's must carry. */
export const FORWARD_RECEIVE_ID = 0x2000_0001;
export const FORWARD_NEXT_ID = 0x3000_0002;
export const TUNNEL_DATA_BYTES = 1028;
const I2NP_TUNNEL_DATA = 18;

/** B's frame AEAD: hybrid (the default), core (WASM crypto core only) or node (node:crypto only). */
export type HopAead = 'hybrid' | 'core' | 'node';

export interface HopConfig {
  dir: string;
  /** C's router.info, which B dials to forward. */
  peer: string;
  layerKey: string;
  ivKey: string;
  threads: number | 'inline';
  aead: HopAead;
}

function aesEcb(key: Uint8Array, block: Uint8Array): Buffer {
  const c = createCipheriv('aes-256-ecb', key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

/** Participant transform with node:crypto only (tunnel-crypto-aes.md §2): what C must receive for `body`. */
export function expectedAtC(body: Uint8Array, layerKey: Uint8Array, ivKey: Uint8Array): Buffer {
  const x = aesEcb(ivKey, body.subarray(4, 20));
  const cbc = createCipheriv('aes-256-cbc', layerKey, x);
  cbc.setAutoPadding(false);
  const data = Buffer.concat([cbc.update(body.subarray(20)), cbc.final()]);
  const out = Buffer.alloc(TUNNEL_DATA_BYTES);
  out.writeUInt32BE(FORWARD_NEXT_ID, 0);
  aesEcb(ivKey, x).copy(out, 4);
  data.copy(out, 20);
  return out;
}

/**
 * The compiled entry of B's process. B needs plain JavaScript (node runs it without a loader), so from the sources
 * (tests) the build in dist/ is used; without one, the workload cannot run here.
 */
export function hopEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, 'router-forward-hop.js');
  if (existsSync(beside)) return beside;
  let dir = here;
  for (let i = 0; i < 5; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'tunnelplane') {
      const built = join(dir, 'dist', 'src', 'bench', 'router-forward-hop.js');
      if (existsSync(built)) return built;
      break;
    }
    dir = dirname(dir);
  }
  throw new Unavailable('router B runs from the compiled dist/src/bench/router-forward-hop.js: run npm run build:ts');
}

type Line = Record<string, unknown>;

/** B's process: one JSON object a line on stdout, commands on stdin (see router-forward-hop.ts). */
export class HopProcess {
  readonly child: ChildProcessByStdio<Writable, Readable, null>;
  readonly exited: Promise<void>;
  private readonly lines: Line[] = [];
  private wake: (() => void) | undefined;

  constructor(cfg: HopConfig, execArgv: string[] = []) {
    this.child = spawn(process.execPath, [...execArgv, hopEntry(), JSON.stringify(cfg)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let buf = '';
    this.child.stdout.setEncoding('utf8').on('data', (c: string) => {
      buf += c;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        this.lines.push(JSON.parse(buf.slice(0, nl)) as Line);
        buf = buf.slice(nl + 1);
      }
      this.wake?.();
    });
    this.exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.once('exit', () => this.wake?.());
  }

  /** The next line carrying `key`; rejects after `ms` or when B has exited. */
  async next(key: string, ms = 20_000): Promise<Line> {
    const end = Date.now() + ms;
    for (;;) {
      const i = this.lines.findIndex((l) => key in l);
      if (i >= 0) return this.lines.splice(i, 1)[0]!;
      if (this.child.exitCode !== null) throw new Error(`router B exited (${this.child.exitCode}) before ${key}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`router B did not report ${key} within ${ms / 1000} s`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.wake = () => {
          clearTimeout(t);
          r();
        };
      });
      this.wake = undefined;
    }
  }

  /** Sends a command and waits for the line carrying `key`. */
  request(command: 'mark' | 'cpu' | 'stop', key: string): Promise<Line> {
    this.child.stdin.write(`${command}\n`);
    return this.next(key);
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill();
  }
}

export interface ForwardPathOptions {
  layerKey: Uint8Array;
  ivKey: Uint8Array;
  /** 1028 bytes: every body is this with a counter in its IV, so B's replay filter passes each one. */
  base: Uint8Array;
  threads?: number | 'inline';
  aead?: HopAead;
  /** The first `check` bodies at C are compared with expectedAtC. */
  check?: number;
  /** Extra node options for B (the script's --cpu-prof). */
  hopExecArgv?: string[];
}

/** A, B and C up, A connected to B; send() and waitReceived() drive it, close() ends all three. */
export class ForwardPath {
  sent = 0;
  received = 0;
  mismatches = 0;
  /** Bodies at C are kept here while set (the workload's first run). */
  capture: Uint8Array[] | undefined;
  private readonly firstSent: Buffer[] = [];
  private waiter: { target: number; resolve: () => void } | undefined;

  private constructor(
    readonly opts: ForwardPathOptions,
    readonly root: string,
    readonly a: Router,
    readonly c: Router,
    readonly hop: HopProcess,
    readonly bPeer: PeerEntry,
  ) {
    const check = opts.check ?? 1000;
    c.handle(I2NP_TUNNEL_DATA, (m) => {
      const i = this.received++;
      if (i < check && !expectedAtC(this.firstSent[i]!, opts.layerKey, opts.ivKey).equals(m.body)) this.mismatches++;
      this.capture?.push(m.body.slice());
      if (this.waiter && this.received >= this.waiter.target) {
        const w = this.waiter;
        this.waiter = undefined;
        w.resolve();
      }
    });
  }

  static async start(opts: ForwardPathOptions): Promise<ForwardPath> {
    const root = mkdtempSync(join(tmpdir(), 'tp-router-forward-'));
    const routers: Router[] = [];
    let hop: HopProcess | undefined;
    try {
      const a = createRouter({ dataDir: join(root, 'a'), port: 0, dataPlane: { threads: 'inline' }, tunnels: false });
      const c = createRouter({ dataDir: join(root, 'c'), port: 0, dataPlane: { threads: 'inline' }, tunnels: false });
      routers.push(a, c);
      await a.start();
      const cReady = await c.start();
      hop = new HopProcess(
        {
          dir: join(root, 'b'),
          peer: cReady.routerInfo,
          layerKey: Buffer.from(opts.layerKey).toString('hex'),
          ivKey: Buffer.from(opts.ivKey).toString('hex'),
          threads: opts.threads ?? 1,
          aead: opts.aead ?? 'hybrid',
        },
        opts.hopExecArgv,
      );
      const bRi = (await hop.next('routerInfo')).routerInfo as string;
      const bPeer = a.addPeerFile(bRi);
      await a.connect(bPeer.identHash);
      return new ForwardPath(opts, root, a, c, hop, bPeer);
    } catch (e) {
      hop?.kill();
      await Promise.all(routers.map((r) => r.stop(500)));
      rmSync(root, { recursive: true, force: true });
      throw e;
    }
  }

  /** Sends the next body from A to B; false when A's session queue is full (nothing sent). */
  sendOne(): boolean {
    const body = Buffer.allocUnsafe(TUNNEL_DATA_BYTES);
    body.set(this.opts.base);
    body.writeUInt32BE(FORWARD_RECEIVE_ID, 0);
    body.writeUInt32BE(this.sent >>> 0, 4);
    body.writeUInt32BE((this.sent / 2 ** 32) >>> 0, 8);
    if (this.sent < (this.opts.check ?? 1000)) this.firstSent.push(Buffer.from(body));
    if (!this.a.send(this.bPeer.identHash, I2NP_TUNNEL_DATA, body)) {
      if (this.firstSent.length > this.sent) this.firstSent.pop();
      return false;
    }
    this.sent++;
    return true;
  }

  /** Resolves once C has received `target` bodies; rejects after `ms` (a message was lost or B stalled). */
  waitReceived(target: number, ms = 20_000): Promise<void> {
    if (this.received >= target) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`C received ${this.received} of ${target} bodies within ${ms / 1000} s`));
      }, ms);
      this.waiter = {
        target,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      };
    });
  }

  /** Stops B (it exits after answering) and A and C, and removes their directories. */
  async close(): Promise<Line | undefined> {
    let last: Line | undefined;
    try {
      if (this.hop.child.exitCode === null) last = await this.hop.request('stop', 'cpuMs');
      await Promise.race([this.hop.exited, new Promise((r) => setTimeout(r, 5_000))]);
    } finally {
      this.hop.kill();
      await Promise.all([this.a.stop(500), this.c.stop(500)]);
      rmSync(this.root, { recursive: true, force: true });
    }
    return last;
  }
}
