// The AES tunnel layer P per backend object, without the engine: 256 messages spread over 256 / k tunnels (k
// messages per tunnel), one call per tunnel, timed with tinybench. Rows: the native addon with its CBC run sideways
// (the default from two messages of a tunnel), the native addon with one CBC call per message, and node:crypto
// through the long-lived NodeAesHop objects the 'node' backend uses. Every row is first checked against the
// per-message node:crypto reference (aes-hop-reference.ts) on the same bytes.
//   npm run build && node dist/bench/aes-native.js [--time MS]
import { randomBytes } from 'node:crypto';
import { Bench } from 'tinybench';
import { NATIVE_SIDEWAYS_MIN, NativeAesHop, nativeAes, nativeAesProblem } from '../src/tunnel/aes-native.js';
import { NodeAesHop } from '../src/tunnel/aes-node.js';
import { hopEncrypt } from '../src/tunnel/aes-hop-reference.js';
import { arg } from './argv.js';

const BODY = 1028;
const N = 256;

if (!nativeAes) {
  console.error(`native AES layer unavailable: ${nativeAesProblem}`);
  process.exit(1);
}
const time = Number(arg('time', '500'));
console.log(
  `node ${process.version}, ${new Date().toISOString()}, ${N} messages per run, us per message (median of tinybench samples)`,
);
console.log('msgs/tunnel  native sideways  native CBC  node:crypto  native / node:crypto');
for (const k of [1, 2, 4, 16, 64, 256]) {
  const tunnels = N / k;
  const keys = Array.from({ length: tunnels }, () => ({ layerKey: randomBytes(32), ivKey: randomBytes(32) }));
  const at = Array.from({ length: tunnels }, (_, t) =>
    Int32Array.from({ length: k }, (_, m) => (m * tunnels + t) * BODY),
  );
  const input = new Uint8Array(randomBytes(N * BODY));
  const expected = input.slice();
  for (let i = 0; i < N; i++) hopEncrypt(expected.subarray(i * BODY, (i + 1) * BODY), keys[i % tunnels]!);
  const native = keys.map((h) => new NativeAesHop(h.layerKey, h.ivKey));
  const node = keys.map((h) => new NodeAesHop(h.layerKey, h.ivKey));
  const scratch = new Uint8Array(N * 16);
  const rows: [string, number, () => void][] = [
    [
      'sideways',
      NATIVE_SIDEWAYS_MIN,
      () => {
        for (let t = 0; t < tunnels; t++) native[t]!.encrypt(buf, at[t]!, k);
      },
    ],
    [
      'cbc',
      1e9,
      () => {
        for (let t = 0; t < tunnels; t++) native[t]!.encrypt(buf, at[t]!, k);
      },
    ],
    [
      'node',
      0,
      () => {
        for (let t = 0; t < tunnels; t++) node[t]!.encrypt(buf, at[t]!, k, scratch);
      },
    ],
  ];
  let buf = input.slice();
  for (const [name, min, run] of rows) {
    if (min > 0) for (const h of native) h.setSidewaysMin(min);
    buf = input.slice();
    // Fresh objects per check: the long-lived contexts chain, but the output must not depend on that.
    run();
    if (!Buffer.from(buf).equals(Buffer.from(expected)))
      throw new Error(`${name} at ${k} messages per tunnel differs from aes-hop-reference.ts`);
  }
  const us: number[] = [];
  for (const [, min, run] of rows) {
    if (min > 0) for (const h of native) h.setSidewaysMin(min);
    const b = new Bench({ time, warmupTime: 100 });
    b.add('run', run);
    await b.run();
    const r = b.tasks[0]!.result as { latency?: { p50?: number }; median?: number } | undefined;
    const ms = r?.latency?.p50 ?? r?.median ?? NaN;
    us.push((ms * 1000) / N);
  }
  console.log(
    `${String(k).padStart(11)}  ${us[0]!.toFixed(3).padStart(15)}  ${us[1]!.toFixed(3).padStart(10)}  ${us[2]!.toFixed(3).padStart(11)}  ${(us[2]! / Math.min(us[0]!, us[1]!)).toFixed(2).padStart(19)}x`,
  );
  for (const h of native) h.wipe();
  for (const h of node) h.wipe();
}
