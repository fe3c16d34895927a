// NTCP2 data-phase frames (ntcp2-routerinfo.md §5.1), for frames carrying 1 KB and 16 KB of blocks:
//   ntcp2-frame-<n>k   one message = one frame sealed (SipHash-masked length, ChaCha20-Poly1305 with the frame's
//                      nonce, empty AD) and opened again (length unmasked, tag checked, decrypted), on the sending and
//                      the receiving side of the same sessions. A batch spreads its frames over up to 8 sessions
//                      (frame i belongs to session i mod 8), so consecutive nonces and the SipHash chain advance as
//                      they would on a router with several busy peers.
// Validation: every implementation's first run yields the wire bytes of all frames followed by the opened plaintexts;
// they must equal the `noble` row, which seals with @noble/ciphers and masks with the reference SipHash.
// Ceiling: `openssl speed -evp chacha20-poly1305 -bytes <n>`, two operations per frame (seal and open).
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import {
  FrameBatch,
  FrameOpener,
  FrameSealer,
  coreFrameAead,
  defaultFrameAead,
  nodeFrameAead,
  wasmFrameAead,
  type FrameAead,
} from '../../transport/ntcp2/frames.js';
import { aeadNonce } from '../../transport/ntcp2/noise.js';
import { SipHashLengthMask } from '../../transport/ntcp2/siphash.js';
import { createInstance, type WasmFlavor, type WasmInstance } from '../../wasm/loader.js';
import { defineWorkload, Unavailable, type Implementation, type Runner } from '../types.js';

const SIZES = [1024, 16384] as const;
const BATCHES = [1, 16, 64] as const;
const QUICK = [16] as const;
const MAX_SESSIONS = 8;
const TAG = 16;

interface Ntcp2Input {
  batch: number;
  size: number;
  /** Per session: 32-byte frame key, 32-byte SipHash key material (key 16 || IV 8 || unused 8). */
  keys: Uint8Array[];
  sips: Uint8Array[];
  /** Frame i's plaintext (blocks), `size` bytes. */
  plaintexts: Uint8Array[];
}

const sessionOf = (i: number) => i % MAX_SESSIONS;

/** Wire buffer and plaintext buffer of one run, and where frame i sits in each. */
interface Buffers {
  wire: Uint8Array;
  plain: Uint8Array;
  wireAt: (i: number) => number;
  plainAt: (i: number) => number;
}

function buffers(inp: Ntcp2Input): Buffers {
  const w = 2 + inp.size + TAG;
  return {
    wire: new Uint8Array(w * inp.batch),
    plain: new Uint8Array(inp.size * inp.batch),
    wireAt: (i) => w * i,
    plainAt: (i) => inp.size * i,
  };
}

function concat2(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function runner(b: Buffers, run: () => void): Runner {
  return { run, output: () => concat2(b.wire, b.plain) };
}

function opened(ok: boolean, i: number): void {
  if (!ok) throw new Error(`frame ${i} did not open`);
}

/** Our FrameSealer / FrameOpener, one frame at a time, as the session runs them. */
function perFrame(description: string, aead: () => FrameAead): Implementation<Ntcp2Input> {
  return {
    description,
    setup(inp) {
      const a = aead();
      const sealers = inp.keys.map((k, s) => new FrameSealer(k, inp.sips[s]!, a));
      const openers = inp.keys.map((k, s) => new FrameOpener(k, inp.sips[s]!, a));
      const b = buffers(inp);
      return {
        ...runner(b, () => {
          for (let i = 0; i < inp.batch; i++) sealers[sessionOf(i)]!.sealInto(inp.plaintexts[i]!, b.wire, b.wireAt(i));
          for (let i = 0; i < inp.batch; i++) {
            const o = openers[sessionOf(i)]!,
              at = b.wireAt(i);
            const len = o.readLength(b.wire[at]!, b.wire[at + 1]!);
            const p = b.plainAt(i);
            opened(o.open(b.wire.subarray(at + 2, at + 2 + len), b.plain.subarray(p, p + len - TAG)), i);
          }
        }),
        close: () => {
          for (const x of [...sealers, ...openers]) x.wipe();
        },
      };
    },
  };
}

const instances = new Map<WasmFlavor, WasmInstance>();
function benchInstance(flavor: WasmFlavor): WasmInstance {
  let inst = instances.get(flavor);
  if (!inst) {
    try {
      inst = createInstance({ flavor });
    } catch (err) {
      throw new Unavailable(`WASM ${flavor} flavor: ${(err as Error).message}`);
    }
    instances.set(flavor, inst);
  }
  return inst;
}

/** FrameBatch: the whole batch sealed in one WASM call, then opened in one. */
function batched(flavor: WasmFlavor): Implementation<Ntcp2Input> {
  return {
    description: `FrameBatch (${flavor} WASM): the batch's frames sealed in one call, opened in one call`,
    setup(inp) {
      const fb = new FrameBatch(benchInstance(flavor));
      const sealers = inp.keys.map((k, s) => new FrameSealer(k, inp.sips[s]!));
      const openers = inp.keys.map((k, s) => new FrameOpener(k, inp.sips[s]!));
      const b = buffers(inp);
      const frameSealers = inp.plaintexts.map((_, i) => sealers[sessionOf(i)]!);
      const frameOpeners = inp.plaintexts.map((_, i) => openers[sessionOf(i)]!);
      const outs = inp.plaintexts.map((_, i) => b.plain.subarray(b.plainAt(i), b.plainAt(i) + inp.size));
      const sealed: Uint8Array[] = new Array(inp.batch);
      const status = new Uint8Array(inp.batch);
      return {
        ...runner(b, () => {
          fb.seal(frameSealers, inp.plaintexts, b.wire);
          for (let i = 0; i < inp.batch; i++) {
            const at = b.wireAt(i);
            const len = frameOpeners[i]!.readLength(b.wire[at]!, b.wire[at + 1]!);
            sealed[i] = b.wire.subarray(at + 2, at + 2 + len);
          }
          if (fb.open(frameOpeners, sealed, outs, status) !== inp.batch) throw new Error('a frame did not open');
        }),
        close: () => {
          for (const x of [...sealers, ...openers]) x.wipe();
        },
      };
    },
  };
}

/** node:crypto's chacha20-poly1305 the straightforward way: a cipher object per frame, our SipHash mask. */
const nodeNaive: Implementation<Ntcp2Input> = {
  description: "node:crypto createCipheriv/createDecipheriv('chacha20-poly1305') per frame, SipHash mask in TypeScript",
  setup(inp) {
    const sendMasks = inp.sips.map((s) => new SipHashLengthMask(s));
    const recvMasks = inp.sips.map((s) => new SipHashLengthMask(s));
    const sent = new Array<number>(inp.keys.length).fill(0);
    const recvd = new Array<number>(inp.keys.length).fill(0);
    const b = buffers(inp);
    return runner(b, () => {
      for (let i = 0; i < inp.batch; i++) {
        const s = sessionOf(i),
          at = b.wireAt(i),
          p = inp.plaintexts[i]!;
        const m = sendMasks[s]!.next() ^ (p.length + TAG);
        b.wire[at] = m >>> 8;
        b.wire[at + 1] = m & 0xff;
        const c = createCipheriv('chacha20-poly1305', inp.keys[s]!, aeadNonce(sent[s]!++), { authTagLength: TAG });
        b.wire.set(c.update(p), at + 2);
        c.final();
        b.wire.set(c.getAuthTag(), at + 2 + p.length);
      }
      for (let i = 0; i < inp.batch; i++) {
        const s = sessionOf(i),
          at = b.wireAt(i);
        const len = (((b.wire[at]! << 8) | b.wire[at + 1]!) ^ recvMasks[s]!.next()) - TAG;
        const d = createDecipheriv('chacha20-poly1305', inp.keys[s]!, aeadNonce(recvd[s]!++), { authTagLength: TAG });
        d.setAuthTag(b.wire.subarray(at + 2 + len, at + 2 + len + TAG));
        b.plain.set(d.update(b.wire.subarray(at + 2, at + 2 + len)), b.plainAt(i));
        d.final();
      }
    });
  },
};

/** The independent reference: @noble/ciphers AEAD per frame, nonce built here, reference SipHash chain. */
const noble: Implementation<Ntcp2Input> = {
  description: '@noble/ciphers chacha20poly1305(key, nonce).encrypt/decrypt per frame, SipHash mask in TypeScript',
  setup(inp) {
    const sendMasks = inp.sips.map((s) => new SipHashLengthMask(s));
    const recvMasks = inp.sips.map((s) => new SipHashLengthMask(s));
    const sent = new Array<number>(inp.keys.length).fill(0);
    const recvd = new Array<number>(inp.keys.length).fill(0);
    const nonce = (n: number) => {
      const x = new Uint8Array(12);
      new DataView(x.buffer).setBigUint64(4, BigInt(n), true);
      return x;
    };
    const b = buffers(inp);
    return runner(b, () => {
      for (let i = 0; i < inp.batch; i++) {
        const s = sessionOf(i),
          at = b.wireAt(i),
          p = inp.plaintexts[i]!;
        const m = sendMasks[s]!.next() ^ (p.length + TAG);
        b.wire[at] = m >>> 8;
        b.wire[at + 1] = m & 0xff;
        b.wire.set(chacha20poly1305(inp.keys[s]!, nonce(sent[s]!++)).encrypt(p), at + 2);
      }
      for (let i = 0; i < inp.batch; i++) {
        const s = sessionOf(i),
          at = b.wireAt(i);
        const len = ((b.wire[at]! << 8) | b.wire[at + 1]!) ^ recvMasks[s]!.next();
        b.plain.set(
          chacha20poly1305(inp.keys[s]!, nonce(recvd[s]!++)).decrypt(b.wire.subarray(at + 2, at + 2 + len)),
          b.plainAt(i),
        );
      }
    });
  },
};

function workload(size: number) {
  return defineWorkload<Ntcp2Input>({
    id: `ntcp2-frame-${size >>> 10}k`,
    description: `NTCP2 data-phase frame carrying ${size >>> 10} KB: SipHash-masked length + ChaCha20-Poly1305 seal, then unmask + open (frames over up to 8 sessions)`,
    bytesPerMessage: size,
    batches: BATCHES,
    quickBatches: QUICK,
    ceiling: { algorithm: 'chacha20-poly1305', opsPerMessage: 2, bytes: size },
    baselines: ['node-naive', 'noble'],
    input: (batch, rng) => {
      const sessions = Math.min(batch, MAX_SESSIONS);
      return {
        batch,
        size,
        keys: Array.from({ length: sessions }, () => rng.bytes(32)),
        sips: Array.from({ length: sessions }, () => rng.bytes(32)),
        plaintexts: Array.from({ length: batch }, () => rng.bytes(size)),
      };
    },
    impls: {
      tunnelplane: perFrame(
        'FrameSealer / FrameOpener per frame with the default frame AEAD (WASM frame kernel up to 4 KB, node:crypto above), as the session runs them',
        () => defaultFrameAead(),
      ),
      'tunnelplane-wasm': perFrame(
        'FrameSealer / FrameOpener per frame over the WASM frame kernel (wasmFrameAead), every size',
        () => wasmFrameAead(),
      ),
      'tunnelplane-core': perFrame(
        "FrameSealer / FrameOpener per frame over the general AEAD API (coreFrameAead('wasm'))",
        () => coreFrameAead('wasm'),
      ),
      'tunnelplane-batch': batched('simd'),
      'tunnelplane-batch-plain': batched('plain'),
      'tunnelplane-node': perFrame(
        'FrameSealer / FrameOpener per frame with the node:crypto frame AEAD',
        () => nodeFrameAead,
      ),
      noble,
      'node-naive': nodeNaive,
    },
  });
}

export const workloads = SIZES.map(workload);
