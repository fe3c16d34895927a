// Framing overhead over its irreducible SHA-256 cost, measured in one process with interleaved rounds (the shared
// 2-core machines are noisy: medians of alternating rounds are steadier than tinybench runs taken minutes apart).
// Run: npm run build:ts && node dist/bench/frame/overhead.js [rounds]
import { hash } from 'node:crypto';
import { createSha256 } from '../../src/crypto/sha256.js';
import { InboundEndpointReassembler } from '../../src/frame/endpoint.js';
import { GatewayPacker, packMessages } from '../../src/frame/gateway.js';
import { encodeI2np } from '../../src/i2np/header.js';

const rounds = Number(process.argv[2] ?? 15);
const SIZES = [1024, 4096, 16384];
const PER_ROUND_BYTES = Number(process.env.FRAME_ROUND_BYTES ?? 1 << 20);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}
function min(xs: number[]): number {
  return Math.min(...xs);
}

function time(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t);
}

console.log(`node ${process.version}, ${rounds} interleaved rounds of ${PER_ROUND_BYTES >> 10} KiB of messages per size`);
console.log('ns per body, median of rounds (min of rounds); ratio = (pack + reassemble) / (2 x SHA-256 of the body)');
console.log("sha x2 string: node:crypto 'binary' digest (cheapest); sha x2 project: createSha256().hash (as sha256-1008)");
console.log('size    bodies/msg  sha x2 string    sha x2 project   pack             reassemble       ratio vs string  ratio vs project');
for (const size of SIZES) {
  const n = Math.ceil(PER_ROUND_BYTES / size);
  const messages = Array.from({ length: n }, (_, i) => encodeI2np(20, i, 1_700_000_000_000, new Uint8Array(size - 16).fill(i)));
  const bodies = packMessages(messages.map((message) => ({ delivery: 'LOCAL' as const, message })), { tunnelId: 7 });
  let sink = 0;
  // The cheapest SHA-256 node offers (one-shot, string output), as src/frame/hash.ts checksum32 uses.
  const sha = () => {
    for (const b of bodies) {
      const d = b.subarray(20);
      sink ^= hash('sha256', d, 'binary').charCodeAt(0);
      sink ^= hash('sha256', d, 'binary').charCodeAt(0);
    }
  };
  let count = 0;
  const gw = new GatewayPacker({ tunnelId: 7, onBody: () => void count++, flushDelayMs: null });
  const pack = () => {
    for (const m of messages) gw.send(m);
    gw.close();
  };
  const ep = new InboundEndpointReassembler({ onMessage: () => void count++ });
  const reassemble = () => {
    for (const b of bodies) ep.receive(b);
  };
  // The same two hashes through the project's interface, as the sha256-1008 row measures them.
  const project = createSha256();
  const shaProject = () => {
    for (const b of bodies) {
      const d = b.subarray(20);
      sink ^= project.hash(d)[0]!;
      sink ^= project.hash(d)[0]!;
    }
  };
  const t: Record<string, number[]> = { sha: [], shaProject: [], pack: [], reassemble: [] };
  sha(); shaProject(); pack(); reassemble(); // warm up
  for (let r = 0; r < rounds; r++) {
    t.sha!.push(time(sha));
    t.shaProject!.push(time(shaProject));
    t.pack!.push(time(pack));
    t.reassemble!.push(time(reassemble));
  }
  const per = (k: string, f = median) => f(t[k]!) / bodies.length;
  const cell = (k: string) => `${per(k).toFixed(0)} (${per(k, min).toFixed(0)})`.padEnd(16);
  const ratio = (k: string, f: (xs: number[]) => number) => (per('pack', f) + per('reassemble', f)) / per(k, f);
  const r = (k: string) => `${ratio(k, median).toFixed(2)} (${ratio(k, min).toFixed(2)})`.padEnd(16);
  console.log(
    `${sink & 0 || ''}${String(size).padEnd(7)} ${(bodies.length / n).toFixed(2).padStart(10)}  ${cell('sha')} ${cell('shaProject')} ${cell('pack')} ${cell('reassemble')} ${r('sha')} ${r('shaProject')}`,
  );
}
