// Where should the 1028-byte body parsing run? Times, per body, in one process with interleaved rounds:
//   ts        the TypeScript whole-body validation loop of src/frame/reassembler.ts (separator + pairs), no checksum
//   ts+hash   the same plus the checksum as shipped: copy pairs || IV to scratch, node:crypto SHA-256
//   wasm      copy each body into the WASM MSG region + assembly/frame.ts frameParseBatch (no checksum)
//   wasm+hash the same with the checksum in WASM (assembly/sha256.ts sha256Two)
// and the same for packing's share (copying bodies in or out of WASM memory is the part TypeScript does not pay).
// Run:  npx asc assembly/frame.ts -o /tmp/f.wasm --runtime stub -O3 --noAssert
//       npm run build:ts && node dist/bench/frame/parse-wasm-vs-ts.js /tmp/f.wasm [rounds]
import { hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { packMessages } from '../../src/frame/gateway.js';
import { encodeI2np } from '../../src/i2np/header.js';

const wasmPath = process.argv[2] ?? '/tmp/f.wasm';
const rounds = Number(process.argv[3] ?? 21);
const N = 1024;

const bodies = packMessages(
  Array.from({ length: 256 }, (_, i) => ({ delivery: 'LOCAL' as const, message: encodeI2np(20, i, 1, new Uint8Array(4080).fill(i)) })),
  { tunnelId: 7 },
).slice(0, N);
while (bodies.length < N) bodies.push(bodies[bodies.length % 64]!);

const inst = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmPath)), { env: { abort: () => { throw new Error('abort'); } } });
const x = inst.exports as { memory: WebAssembly.Memory; frameParseBatch(n: number, c: number): number; frameMsgBase(): number };
const u8 = new Uint8Array(x.memory.buffer);
const base = x.frameMsgBase();

const scratch = new Uint8Array(1019);
function tsParse(body: Uint8Array, withHash: boolean): number {
  const sep = body.indexOf(0, 24);
  if (sep < 0) return 1;
  const start = sep + 1;
  if (withHash) {
    const n = 1028 - start;
    scratch.set(body.subarray(start), 0);
    for (let i = 0; i < 16; i++) scratch[n + i] = body[4 + i]!;
    // As shipped (src/frame/hash.ts checksum32): one-shot hash with a string digest.
    const h = hash('sha256', n === 1003 ? scratch : scratch.subarray(0, n + 16), 'binary');
    for (let i = 0; i < 4; i++) if (h.charCodeAt(i) !== body[20 + i]) return 2;
  }
  let off = start;
  while (off < 1028) {
    const flag = body[off]!;
    let p: number;
    if (flag & 0x80) {
      if (((flag >> 1) & 0x3f) === 0) return 3;
      p = off + 7;
    } else {
      const code = (flag >> 5) & 3;
      if (code === 3 || (flag & 0x17) !== 0) return 3;
      p = off + 3 + (code === 1 ? 36 : code === 2 ? 32 : 0) + (flag & 0x08 ? 4 : 0);
    }
    if (p > 1028) return 3;
    const size = (body[p - 2]! << 8) | body[p - 1]!;
    if (size === 0 || p + size > 1028) return 3;
    off = p + size;
  }
  return 0;
}

const variants: Record<string, () => number> = {
  ts: () => { let ok = 0; for (const b of bodies) if (tsParse(b, false) === 0) ok++; return ok; },
  'ts+hash': () => { let ok = 0; for (const b of bodies) if (tsParse(b, true) === 0) ok++; return ok; },
  wasm: () => { for (let i = 0; i < N; i++) u8.set(bodies[i]!, base + i * 1028); return x.frameParseBatch(N, 0); },
  'wasm+hash': () => { for (let i = 0; i < N; i++) u8.set(bodies[i]!, base + i * 1028); return x.frameParseBatch(N, 1); },
  'copy-in only': () => { for (let i = 0; i < N; i++) u8.set(bodies[i]!, base + i * 1028); return N; },
  'copy-out only': () => { for (let i = 0; i < N; i++) bodies[i]!.set(u8.subarray(base + i * 1028, base + i * 1028 + 1028)); return N; },
};
for (const [k, f] of Object.entries(variants)) {
  if (k !== 'copy-out only' && f() !== N) throw new Error(`${k}: not every body parsed OK`);
}
const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  for (const [k, f] of Object.entries(variants)) {
    const t = process.hrtime.bigint();
    f();
    times[k]!.push(Number(process.hrtime.bigint() - t) / N);
  }
}
console.log(`node ${process.version}; ${N} full bodies (4 KB messages), ${rounds} interleaved rounds; ns per body`);
for (const [k, xs] of Object.entries(times)) {
  xs.sort((a, b) => a - b);
  console.log(`${k.padEnd(14)} min ${xs[0]!.toFixed(0).padStart(6)}  median ${xs[xs.length >> 1]!.toFixed(0).padStart(6)}`);
}
