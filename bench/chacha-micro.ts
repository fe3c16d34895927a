// Quick side-by-side of the ChaCha20 / ChaCha20-Poly1305 / SHA-256 backends per 1008-byte message (the TunnelData
// layer size), in one process so the ratios are comparable. Not the benchmark harness (bench/harness.ts): a short
// check used while optimising assembly/chacha20.ts. Every implementation is validated on the same input first.
//
//   npm run build && node dist/bench/chacha-micro.js [milliseconds per implementation / 3, default 300]
import { createCipheriv, hash as nodeHash } from 'node:crypto';
import { cpus } from 'node:os';
import { chacha20 as nobleChaCha, chacha20poly1305 as nobleAead } from '@noble/ciphers/chacha.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { createChaCha20 } from '../src/crypto/chacha20.js';
import { createChaCha20Poly1305 } from '../src/crypto/poly1305.js';
import { createSha256 } from '../src/crypto/sha256.js';
import { createInstance, simdSupported } from '../src/wasm/loader.js';
import { createRng } from './random.js';

const MS = Number(process.argv[2] ?? 300);
const LEN = 1008;
const STRIDE = 1028;
const OFFSET = 20;

/**
 * Messages per CPU second of fn(), which processes `per` messages, run for `ms` wall milliseconds. Everything timed
 * here is synchronous on this thread, so process CPU time (user + system, GC threads included) is the fair basis;
 * unlike wall time it barely moves when other jobs load the shared machine.
 */
function timeFor(per: number, fn: () => void, ms: number): number {
  let n = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  while (performance.now() - t0 < ms) {
    fn();
    n += per;
  }
  const cpu = process.cpuUsage(c0);
  return n / ((cpu.user + cpu.system) / 1e6);
}

/**
 * Rates of several implementations measured round-robin (ROUNDS slices of MS/ROUNDS*3 ms each, best slice kept), so
 * that load from other processes on a shared machine hits all of them alike and the ratios stay meaningful.
 */
const ROUNDS = 6;
function rates(cases: Record<string, [per: number, fn: () => void]>): Record<string, number> {
  const best: Record<string, number> = {};
  for (const [name, [, fn]] of Object.entries(cases)) {
    for (let i = 0; i < 20; i++) fn();
    best[name] = 0;
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, [per, fn]] of Object.entries(cases)) {
      best[name] = Math.max(best[name]!, timeFor(per, fn, (MS * 3) / ROUNDS));
    }
  }
  return best;
}

function eq(a: Uint8Array, b: Uint8Array, what: string): void {
  if (Buffer.compare(Buffer.from(a), Buffer.from(b)) !== 0) throw new Error(`validation failed: ${what}`);
}

const rng = createRng('chacha-micro');
const bytes = (n: number) => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rng.u32() & 0xff;
  return b;
};
const key = bytes(32);
const fmt = (x: number) => `${(x / 1000).toFixed(0)}k/s`.padStart(9);

console.log(`# chacha-micro: ${new Date().toISOString()} node ${process.version} ${cpus()[0]?.model} x${cpus().length}; per row, implementations interleaved in ${ROUNDS} slices of ${(MS * 3) / ROUNDS} ms, best slice, messages per CPU second`);
console.log(`# per ${LEN}-byte message; WASM batches in place in the MSG region (stride ${STRIDE}), and staged from a JS buffer`);

const flavors = simdSupported() ? (['simd', 'plain'] as const) : (['plain'] as const);
const insts = Object.fromEntries(flavors.map((f) => [f, createInstance({ flavor: f })]));

console.log('\n## ChaCha20');
console.log('batch | wasm-simd in MSG | wasm-simd staged | wasm-plain in MSG | noble | node (cipher/nonce) | simd/noble | simd/node');
for (const count of [1, 16, 64, 256]) {
  const nonces = bytes(12 * count), counters = new Uint32Array(count).fill(1), slots = new Uint32Array(count);
  const src = bytes(count * STRIDE);
  // reference result (noble) for validation
  const expected = Uint8Array.from(src);
  for (let i = 0; i < count; i++) {
    const at = i * STRIDE + OFFSET;
    expected.set(nobleChaCha(key, nonces.subarray(12 * i, 12 * i + 12), src.subarray(at, at + LEN), undefined, 1), at);
  }
  const cases: Record<string, [number, () => void]> = {};
  for (const f of flavors) {
    const inst = insts[f]!;
    const c = createChaCha20({ backend: 'wasm', instance: inst });
    c.setKey(0, key);
    const view = inst.u8.subarray(inst.regions.MSG, inst.regions.MSG + count * STRIDE);
    view.set(src);
    const batchMsg = { count, data: view, stride: STRIDE, offset: OFFSET, length: LEN, slots, nonces, counters };
    c.xorBatch(batchMsg);
    eq(view, expected, `wasm-${f} in MSG`);
    cases[`${f}-msg`] = [count, () => c.xorBatch(batchMsg)];
    if (f === 'simd' || flavors.length === 1) {
      const data = Uint8Array.from(src);
      const batch = { ...batchMsg, data };
      c.xorBatch(batch);
      eq(data, expected, `wasm-${f} staged`);
      cases[`${f}-staged`] = [count, () => c.xorBatch(batch)];
    }
  }
  const out = new Uint8Array(LEN);
  eq(nobleChaCha(key, nonces.subarray(0, 12), src.subarray(OFFSET, OFFSET + LEN), out, 1), expected.subarray(OFFSET, OFFSET + LEN), 'noble');
  cases.noble = [count, () => {
    for (let i = 0; i < count; i++) {
      const at = i * STRIDE + OFFSET;
      nobleChaCha(key, nonces.subarray(12 * i, 12 * i + 12), src.subarray(at, at + LEN), out, 1);
    }
  }];
  const node = createChaCha20({ backend: 'node' });
  node.setKey(0, key);
  const nd = Uint8Array.from(src);
  node.xorBatch({ count, data: nd, stride: STRIDE, offset: OFFSET, length: LEN, slots, nonces, counters });
  eq(nd, expected, 'node');
  cases.node = [count, () => {
    for (let i = 0; i < count; i++) {
      const iv = Buffer.allocUnsafe(16);
      iv.writeUInt32LE(1, 0);
      iv.set(nonces.subarray(12 * i, 12 * i + 12), 4);
      const at = i * STRIDE + OFFSET;
      createCipheriv('chacha20', key, iv).update(src.subarray(at, at + LEN));
    }
  }];
  const res = rates(cases);
  const top = res['simd-msg'] ?? res['plain-msg']!;
  console.log([
    String(count).padStart(5), fmt(res['simd-msg'] ?? 0), fmt(res['simd-staged'] ?? 0), fmt(res['plain-msg']!), fmt(res.noble!),
    fmt(res.node!), `${(top / res.noble!).toFixed(2)}x`.padStart(7), `${(top / res.node!).toFixed(2)}x`.padStart(7),
  ].join(' | '));
}

const show = (res: Record<string, number>) => console.log(Object.entries(res).map(([k, v]) => `${k} ${fmt(v)}`).join(' | '));

console.log('\n## ChaCha20-Poly1305 seal, one message (one-shot API, 1008 bytes, 16-byte AAD)');
{
  const nonce = bytes(12), aad = bytes(16), pt = bytes(LEN);
  const exp = nobleAead(key, nonce, aad).encrypt(pt);
  const cases: Record<string, [number, () => void]> = {};
  for (const f of flavors) {
    const a = createChaCha20Poly1305({ backend: 'wasm', instance: insts[f]! });
    eq(a.seal(key, nonce, pt, aad), exp, `aead wasm-${f}`);
    cases[`wasm-${f}`] = [1, () => a.seal(key, nonce, pt, aad)];
  }
  const n = createChaCha20Poly1305({ backend: 'node' });
  eq(n.seal(key, nonce, pt, aad), exp, 'aead node');
  cases.node = [1, () => n.seal(key, nonce, pt, aad)];
  cases.noble = [1, () => nobleAead(key, nonce, aad).encrypt(pt)];
  show(rates(cases));
}

console.log('\n## ChaCha20-Poly1305 sealBatch of 64 (992 data + 16 tag at body offset 20, 4-byte AAD: Proposal 153 shape)');
{
  const count = 64;
  const nonces = bytes(12 * count), slots = new Uint32Array(count).fill(1);
  const cases: Record<string, [number, () => void]> = {};
  for (const f of flavors) {
    const inst = insts[f]!;
    const a = createChaCha20Poly1305({ backend: 'wasm', instance: inst });
    a.setKey(1, key);
    const view = inst.u8.subarray(inst.regions.MSG, inst.regions.MSG + count * STRIDE);
    const b = { count, data: view, stride: STRIDE, offset: 20, length: 992, slots, nonces, aadOffset: 0, aadLength: 4 };
    cases[`wasm-${f} in MSG`] = [count, () => a.sealBatch(b)];
  }
  const n = createChaCha20Poly1305({ backend: 'node' });
  n.setKey(1, key);
  const b = { count, data: bytes(count * STRIDE), stride: STRIDE, offset: 20, length: 992, slots, nonces, aadOffset: 0, aadLength: 4 };
  cases.node = [count, () => n.sealBatch(b)];
  show(rates(cases));
}

console.log('\n## SHA-256 of 1008 bytes');
{
  const data = bytes(LEN);
  const exp = nobleSha256(data);
  const cases: Record<string, [number, () => void]> = {};
  for (const f of flavors) {
    const h = createSha256({ backend: 'wasm', instance: insts[f]! });
    eq(h.hash(data), exp, `sha wasm-${f}`);
    cases[`wasm-${f} one-shot`] = [1, () => h.hash(data)];
    const inst = insts[f]!;
    const view = inst.u8.subarray(inst.regions.MSG, inst.regions.MSG + 64 * STRIDE);
    const out = new Uint8Array(64 * 32);
    cases[`wasm-${f} batch64 in MSG`] = [64, () => h.hashBatch({ count: 64, data: view, stride: STRIDE, offset: OFFSET, length: LEN }, out)];
  }
  eq(nodeHash('sha256', data, 'buffer'), exp, 'sha node');
  cases['node crypto.hash'] = [1, () => nodeHash('sha256', data, 'buffer')];
  cases.noble = [1, () => nobleSha256(data)];
  show(rates(cases));
}
