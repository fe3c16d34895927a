// Memory of N transit tunnels (default 10 000) in one process: real build requests (a third each participant, OBEP,
// IBGW) processed by TransitTunnels and joined on a real data plane (one worker thread, as the router's default), each
// IBGW given a message (its gateway packer exists) and each OBEP an output body (its reassembler exists), so every
// per-tunnel object is there. Prints the process's rss (main thread + worker) before and after, and per tunnel; then
// again once V8's memory reducer has run (--settle-s, default 30: it gives back the young generation a burst of
// joins grew), and where the rss is (/proc/self/smaps by kind, the main thread's V8 spaces).
//   npm run build && node --expose-gc dist/bench/transit-memory.js [--tunnels N] [--threads T] [--settle-s S]
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import { I2NP_DATA } from '../src/constants.js';
import { createDataPlane } from '../src/dataplane/index.js';
import { encodeData } from '../src/i2np/bodies.js';
import { encodeI2np } from '../src/i2np/header.js';
import { I2NP_SHORT_TUNNEL_BUILD } from '../src/i2np/message-types.js';
import { x25519Generate } from '../src/keys/ed25519.js';
import { createShortTunnelBuild } from '../src/router/tunnel-build/creator.js';
import { TransitTunnels } from '../src/router/tunnels/transit.js';
import type { EngineBackend } from '../src/tunnel/types.js';
import { arg } from './argv.js';

const N = Number(arg('tunnels', '10000'));
const threadsArg = arg('threads', '1');
const threads = threadsArg === 'inline' ? 'inline' : Number(threadsArg);
const framing = arg('framing', 'yes') === 'yes';
const mps = Number(arg('messages-per-second', '10000'));
/** --refuse: every request answered with code 30 (the same crypto, no tunnel kept): the churn's share of rss. */
const refuse = process.argv.includes('--refuse');
const gc = (globalThis as { gc?: () => void }).gc;
const mb = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;

async function settle(): Promise<void> {
  gc?.();
  await new Promise((r) => setTimeout(r, 300));
  gc?.();
}

function mem() {
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  };
}

/** Resident MB by kind of mapping (Linux; {} elsewhere): what the rss is made of. */
function rssByKind(): Record<string, number> {
  let text: string;
  try {
    text = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return {};
  }
  const kb: Record<string, number> = {};
  let kind = '';
  for (const line of text.split('\n')) {
    const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      const name = m[1]!;
      const [lo, hi] = line
        .split(' ')[0]!
        .split('-')
        .map((h) => parseInt(h, 16));
      const size = (hi! - lo!) / 1024;
      // V8 pages are 256 KiB mappings; [heap] is the main thread's malloc; the rest of the anonymous memory holds the
      // worker's malloc arena (native AES contexts), the shared buffers (replay filter, slots) and V8 large objects.
      kind = name.startsWith('[heap]')
        ? 'malloc (main thread)'
        : name !== ''
          ? name.startsWith('[')
            ? 'other'
            : 'code and libraries'
          : size === 256
            ? 'V8 heap pages (both threads)'
            : 'other anonymous (worker malloc, shared buffers, V8 large objects)';
      continue;
    }
    const r = /^Rss:\s+(\d+) kB/.exec(line);
    if (r) kb[kind] = (kb[kind] ?? 0) + Number(r[1]);
  }
  return Object.fromEntries(Object.entries(kb).map(([k, v]) => [k, mb(v * 1024)]));
}

/** The main thread's V8 spaces: committed MB (physical) and used MB. */
function v8Spaces(): Record<string, [number, number]> {
  return Object.fromEntries(
    getHeapSpaceStatistics()
      .filter((sp) => sp.physical_space_size > 0)
      .map((sp) => [sp.space_name, [mb(sp.physical_space_size), mb(sp.space_used_size)]]),
  );
}

const settleS = Number(arg('settle-s', '30'));
const backend = arg('backend', 'auto') as EngineBackend;
const plane = createDataPlane({ threads, backend, messagesPerSecond: mps, onOutput: () => {} });
plane.on('error', (e) => console.error('join error', e));
const keys = x25519Generate();
const identHash = new Uint8Array(randomBytes(32));
const peers = Array.from({ length: 64 }, () => ({
  identHash: new Uint8Array(randomBytes(32)),
  encryptionKey: x25519Generate().publicKey,
}));
const peerIds = new Map<string, number>();
let sent = 0;
const transit = new TransitTunnels({
  identHash,
  staticPrivateKey: keys.privateKey,
  plane,
  limits: { maxTunnels: refuse ? 0 : N + 1, maxPerPreviousHop: N + 1, requestBurst: N + 1, requestsPerSecond: 1e6 },
  net: {
    send: () => (sent++, true),
    peerIdOf: (h) => {
      const k = Buffer.from(h).toString('hex');
      let id = peerIds.get(k);
      if (id === undefined) peerIds.set(k, (id = peerIds.size + 1));
      return id;
    },
  },
  deliverLocal: () => {},
});
const me = { identHash, encryptionKey: keys.publicKey };
const ibgwIds: number[] = [];
const obepIds: number[] = [];
// Requests are made first (the creator's X25519 work is not the hop's memory), then the baseline is taken.
const requests: { body: Uint8Array; from: Uint8Array }[] = [];
const planeOnly = process.argv.includes('--plane-only');
for (let i = 0; !planeOnly && i < N; i++) {
  const peer = peers[i % peers.length]!;
  const other = peers[(i + 1) % peers.length]!;
  const kind = i % 3;
  const receiveTunnelId = i + 1;
  const b =
    kind === 0
      ? createShortTunnelBuild({
          direction: 'outbound',
          hops: [{ ...me, receiveTunnelId }, other],
          replyIdent: peer.identHash,
        })
      : createShortTunnelBuild({
          direction: kind === 1 ? 'outbound' : 'inbound',
          hops: [{ ...me, receiveTunnelId }],
          replyIdent: other.identHash,
        });
  b.pending.discard();
  requests.push({ body: b.message.body, from: peer.identHash });
  if (kind === 1) obepIds.push(receiveTunnelId);
  if (kind === 2) ibgwIds.push(receiveTunnelId);
}
await plane.idle();
await settle();
const before = mem();
const t0 = performance.now();
for (let i = 0; planeOnly && i < N; i++) {
  const role = (['participant', 'obep', 'ibgw'] as const)[i % 3]!;
  plane.join({
    role,
    layer: 'aes',
    receiveTunnelId: i + 1,
    nextTunnelId: i + 7,
    nextHop: 1 + (i % 64),
    layerKey: new Uint8Array(randomBytes(32)),
    ivKey: new Uint8Array(randomBytes(32)),
  });
}
for (let i = 0; !planeOnly && i < N; i++) {
  const r = transit.handleBuild(I2NP_SHORT_TUNNEL_BUILD, requests[i]!.body, requests[i]!.from);
  if (r !== (refuse ? 'rejected' : 'accepted'))
    throw new Error(`request ${i} ${r}: ${JSON.stringify(transit.stats())}`);
}
requests.length = 0;
const buildMs = performance.now() - t0;
const msg = encodeI2np(I2NP_DATA, 1, Date.now() + 8000, encodeData(new Uint8Array(64)));
if (framing && !planeOnly) {
  for (const id of ibgwIds) transit.injectGateway(id, msg);
  const junk = new Uint8Array(1028);
  for (const id of obepIds) transit.handleEndpointOutput(id, junk);
}
await plane.idle();
await settle();
const after = mem();
const afterKinds = rssByKind();
const afterSpaces = v8Spaces();
const s = transit.stats();
const live = planeOnly ? N : s.participant + s.obep + s.ibgw;
const result = {
  baselineNote: 'rss before = node + data plane (worker, replay filter sized for messages-per-second, slots)',
  tunnels: live,
  participant: s.participant,
  obep: s.obep,
  ibgw: s.ibgw,
  threads,
  joinErrors: plane.stats().joinErrors,
  buildsPerSecond: Math.round(N / (buildMs / 1000)),
  forwarded: sent,
  rssBeforeMB: mb(before.rss),
  rssAfterMB: mb(after.rss),
  heapUsedAfterMB: mb(after.heapUsed),
  heapTotalBeforeMB: mb(before.heapTotal),
  heapTotalAfterMB: mb(after.heapTotal),
  externalBeforeMB: mb(before.external),
  externalAfterMB: mb(after.external),
  rssPerTunnelBytes: Math.round((after.rss - before.rss) / live),
  heapPerTunnelBytes: Math.round((after.heapUsed - before.heapUsed) / live),
  gcExposed: gc !== undefined,
};
console.log(JSON.stringify(result));
console.log(JSON.stringify({ rssByKindMB: afterKinds, mainV8SpacesMB: afterSpaces }));
console.log(
  `${live} transit tunnels: process rss ${result.rssAfterMB} MB (before ${result.rssBeforeMB} MB), ` +
    `${result.rssPerTunnelBytes} B rss and ${result.heapPerTunnelBytes} B main-thread heap per tunnel; target <= 200 MB`,
);
// The same tunnels once V8's memory reducer has run (a few seconds without a burst of allocation): it shrinks the young
// generation the burst of joins grew. Read every 5 s, the lowest kept.
let settled = after.rss;
for (let t = 0; t < settleS; t += 5) {
  await new Promise((r) => setTimeout(r, 5000));
  gc?.();
  settled = Math.min(settled, process.memoryUsage().rss);
}
if (settleS > 0) {
  console.log(
    JSON.stringify({ settleS, rssSettledMB: mb(settled), rssByKindMB: rssByKind(), mainV8SpacesMB: v8Spaces() }),
  );
  console.log(`after ${settleS} s: process rss ${mb(settled)} MB with the same ${live} tunnels`);
}
// Everything ended (keys wiped, tables emptied): what stays is the allocators' high-water mark, not tunnel state.
transit.close();
await plane.idle();
await settle();
const ended = mem();
console.log(JSON.stringify({ rssAfterEndMB: mb(ended.rss), heapUsedAfterEndMB: mb(ended.heapUsed) }));
await plane.close();
