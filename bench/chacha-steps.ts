// Where the ChaCha hop's time goes, and what the best possible implementation of our Proposal 153 profile could
// reach against the `openssl speed -evp chacha20 -bytes 1008` ceiling (issue 4's target for `chacha-hop`).
// Not part of `tunnelplane bench`.
//
//   node dist/bench/chacha-steps.js [--seconds S]
//
// 1. The WASM kernel (assembly/layer.ts chachaLayerBatch, batches of 64 messages of 64 tunnels, in WASM memory: no
//    engine, no copies) for (a) the forward layer alone (nonce steps + one ChaCha20 pass over the 992-byte frame:
//    the analogue of the AES hop, which has no MAC) and (b) the full participant step (AEAD open, layer, AEAD seal).
// 2. OpenSSL on one core: chacha20 and chacha20-poly1305 at 1008 bytes. A participant of the profile does one AEAD
//    open, one ChaCha20 pass and one AEAD seal, so OpenSSL itself could do at most
//    about 1 / (2 / aead + 1 / chacha20) hops per second (fusing the passes saves memory traffic, not the three
//    keystreams and two MACs): the share of the chacha20 ceiling a native implementation reaches.
import { randomBytes } from 'node:crypto';
import { measureCeiling } from './openssl.js';
import type { CeilingAlgorithm } from './types.js';
import { MODE_FORWARD, MODE_OPEN, MODE_SEAL, MODE_SET_ID, WasmLayer } from '../src/tunnel/wasm-backend.js';
import { arg } from './argv.js';

const BATCH = 64;

/** Messages per second of `mode` over the batch in WASM memory, timed for about `ms` milliseconds. */
function rate(w: WasmLayer, mode: number, ms: number): number {
  for (let i = 0; i < 200; i++) w.chachaBatch(BATCH, mode);
  let runs = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 100; i++) w.chachaBatch(BATCH, mode);
    runs += 100;
    t = performance.now();
  }
  for (let k = 0; k < BATCH; k++) {
    if (w.statusOf(k) !== 0) throw new Error(`message ${k} failed its tag: the measurement would be of the drop path`);
  }
  return (runs * BATCH) / ((t - t0) / 1000);
}

const seconds = Number(arg('seconds', '2'));
const w = new WasmLayer();
const aead = w.chachaKey(randomBytes(32)); // one pair key both ways, so every run's output is valid input again
w.u8.set(randomBytes(BATCH * 1028), w.msg);
for (let k = 0; k < BATCH; k++) {
  w.setSlots(k, w.chachaKey(randomBytes(32)), w.chachaKey(randomBytes(32)));
  w.setChacha(k, aead, aead, 0x1234);
}
w.chachaBatch(BATCH, MODE_FORWARD | MODE_SET_ID | MODE_SEAL); // valid tags (tunnel id 0x1234 from now on)
const full = rate(w, MODE_OPEN | MODE_FORWARD | MODE_SET_ID | MODE_SEAL, seconds * 1000);
const layer = rate(w, MODE_FORWARD | MODE_SET_ID, seconds * 1000);

const chacha = measureCeiling('chacha20', seconds);
const aeadRate = measureCeiling('chacha20-poly1305' as CeilingAlgorithm, seconds);
if (!('opsPerSec' in chacha) || !('opsPerSec' in aeadRate)) {
  console.error('openssl speed failed:', 'error' in chacha ? chacha.error : '', 'error' in aeadRate ? aeadRate.error : '');
  process.exit(1);
}
const c = chacha.opsPerSec;
const a = aeadRate.opsPerSec;
const nativeHop = 1 / (2 / a + 1 / c);
const pct = (x: number): string => `${((100 * x) / c).toFixed(1)} %`;
const k = (x: number): string => `${(x / 1000).toFixed(1)}k`;
console.log(`openssl, one core, 1008 bytes: chacha20 ${k(c)}/s (${chacha.command}), chacha20-poly1305 ${k(a)}/s`);
console.log(`WASM kernel, batch ${BATCH}, in WASM memory:`);
console.log(`  forward layer only (nonce steps + one ChaCha20 pass)  ${k(layer)} msg/s = ${pct(layer)} of chacha20`);
console.log(`  participant of the profile (open + layer + seal)      ${k(full)} msg/s = ${pct(full)} of chacha20`);
console.log(`OpenSSL running the profile's steps (2 AEAD + 1 ChaCha20), from its own rates: ${k(nativeHop)} msg/s = ${pct(nativeHop)} of chacha20`);
