// Quick AES-256-CBC micro-benchmark (not the tinybench harness): encryption of 1008-byte messages, each its own key
// and IV, batches of 1, 16, 64, 256 (BATCHES=1,2,4 to change, MS=ms per measurement). Every implementation first
// produces the same bytes as node:crypto; the ratios are measured in one run. The machine may be shared: rates are
// per CPU second of this process, and each implementation is timed in ROUNDS short rounds, interleaved with the
// others, keeping its best round.
//   npm run build && node dist/bench/aes-micro.js
import { createCipheriv, randomBytes } from 'node:crypto';
import { unsafe as nobleAes } from '@noble/ciphers/aes.js';
import { createAes256 } from '../src/crypto/aes.js';
import { createInstance, type WasmInstance } from '../src/wasm/loader.js';

const MSG = 1008;
const batches = (process.env.BATCHES ?? '1,16,64,256').split(',').map(Number);
const minMs = Number(process.env.MS ?? 100);
const rounds = Number(process.env.ROUNDS ?? 5);

/**
 * Messages per CPU second of `fn` (which processes `msgs` messages per call). CPU time of this process, not wall
 * time: on a shared machine other jobs take the cores away for a while, which wall time would count against us.
 */
function rate(fn: () => void, msgs: number): number {
  fn();
  let n = 0;
  const t0 = performance.now(), c0 = process.cpuUsage();
  do { fn(); n++; } while (performance.now() - t0 < minMs);
  const c = process.cpuUsage(c0);
  return (n * msgs) / ((c.user + c.system) / 1e6);
}

function nodeCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const c = createCipheriv('aes-256-cbc', key, iv);
  c.setAutoPadding(false);
  return c.update(data);
}

type Kernel = (...a: number[]) => number;

console.log(`node ${process.version}, ${new Date().toISOString()}, ${MSG}-byte messages, messages per CPU second (k)`);
for (const b of batches) {
  const keys = randomBytes(32 * b), ivs = randomBytes(16 * b), data = randomBytes(MSG * b);
  const expected = Buffer.concat(Array.from({ length: b }, (_, m) =>
    nodeCbc(keys.subarray(32 * m, 32 * m + 32), ivs.subarray(16 * m, 16 * m + 16), data.subarray(MSG * m, MSG * m + MSG))));
  const res: Record<string, number> = {};
  const runners: [string, () => void][] = [];
  const check = (name: string, got: Uint8Array): void => {
    if (!Buffer.from(got).equals(expected)) throw new Error(`${name}: output differs from node:crypto`);
  };

  // WASM kernels directly on the IO region (what a data-plane worker does: no copies beyond the input)
  for (const flavor of ['simd', 'plain'] as const) {
    const inst: WasmInstance = createInstance({ flavor });
    const { u8, u32, regions } = inst;
    const aesSetKeys = inst.exports.aesSetKeys as Kernel, aesCbcIo = inst.exports.aesCbcIo as Kernel;
    u8.set(keys, regions.KEY_IN);
    for (let i = 0; i < b; i++) u32[(regions.MSG_SLOT_A >>> 2) + i] = i;
    if (aesSetKeys(b) !== 0) throw new Error('aesSetKeys');
    u8.set(ivs, regions.MSG_PARAM);
    const run = (): void => { u8.set(data, regions.IO); aesCbcIo(b, MSG, 0); };
    run();
    check(`wasm ${flavor}`, u8.subarray(regions.IO, regions.IO + MSG * b));
    runners.push([`wasm-${flavor}`, run]);
  }

  // the public API, both backends: validation + staging copies included
  for (const backend of ['wasm', 'node'] as const) {
    const aes = backend === 'wasm'
      ? createAes256({ backend, flavor: 'simd', instance: createInstance({ flavor: 'simd' }) })
      : createAes256({ backend });
    for (let i = 0; i < b; i++) aes.setKey(i, keys.subarray(32 * i, 32 * i + 32));
    const buf = new Uint8Array(MSG * b);
    const batch = { count: b, data: buf, stride: MSG, offset: 0, length: MSG, slots: Uint32Array.from({ length: b }, (_, i) => i), ivs };
    const run = (): void => { buf.set(data); aes.cbcEncryptBatch(batch); };
    run();
    check(`api ${backend}`, buf);
    runners.push([`api-${backend}`, run]);
  }

  // noble with keys expanded once (unsafe.expandKeyLE / encrypt), CBC loop here
  {
    const xks = Array.from({ length: b }, (_, i) => nobleAes.expandKeyLE(keys.subarray(32 * i, 32 * i + 32)));
    const src = new Uint32Array(data.buffer, data.byteOffset, data.length >>> 2);
    const out = new Uint8Array(MSG * b), dst = new Uint32Array(out.buffer);
    const iv = new Uint32Array(ivs.buffer.slice(ivs.byteOffset, ivs.byteOffset + ivs.length));
    const W = MSG >>> 2;
    const run = (): void => {
      for (let m = 0; m < b; m++) {
        const xk = xks[m]!;
        let s0 = iv[4 * m]!, s1 = iv[4 * m + 1]!, s2 = iv[4 * m + 2]!, s3 = iv[4 * m + 3]!;
        for (let i = m * W; i < m * W + W; i += 4) {
          ({ s0, s1, s2, s3 } = nobleAes.encrypt(xk, s0 ^ src[i]!, s1 ^ src[i + 1]!, s2 ^ src[i + 2]!, s3 ^ src[i + 3]!));
          dst[i] = s0; dst[i + 1] = s1; dst[i + 2] = s2; dst[i + 3] = s3;
        }
      }
    };
    run();
    check('noble', out);
    runners.push(['noble', run]);
  }

  // node:crypto, a cipher per message (the IV differs per message)
  {
    const out = new Uint8Array(MSG * b);
    const run = (): void => {
      for (let m = 0; m < b; m++) {
        out.set(nodeCbc(keys.subarray(32 * m, 32 * m + 32), ivs.subarray(16 * m, 16 * m + 16), data.subarray(MSG * m, MSG * m + MSG)), MSG * m);
      }
    };
    run();
    check('node', out);
    runners.push(['node', run]);
  }

  for (let r = 0; r < rounds; r++) {
    for (const [name, run] of runners) res[name] = Math.max(res[name] ?? 0, rate(run, b));
  }
  const k = (x: number): string => (x / 1000).toFixed(1).padStart(6);
  const line = Object.entries(res).map(([n, v]) => `${n} ${k(v)}`).join('  ');
  console.log(`batch ${String(b).padStart(3)}: ${line}  | simd/noble ${(res['wasm-simd']! / res.noble!).toFixed(2)}x` +
    `  plain/noble ${(res['wasm-plain']! / res.noble!).toFixed(2)}x  simd/node ${(res['wasm-simd']! / res.node!).toFixed(2)}x`);
}
