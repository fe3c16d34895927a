// Memory of N transit tunnels (default 10 000) in one process: real build requests (a third each participant, OBEP,
// IBGW) processed by TransitTunnels and joined on a real data plane (one worker thread, as the router's default), each
// IBGW given a message (its gateway packer exists) and each OBEP an output body (its reassembler exists), so every
// per-tunnel object is there. Prints the process's rss (main thread + worker) before and after, and per tunnel.
//   npm run build && node --expose-gc dist/bench/transit-memory.js [--tunnels N] [--threads T]
import { randomBytes } from 'node:crypto';
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
console.log(
  `${live} transit tunnels: process rss ${result.rssAfterMB} MB (before ${result.rssBeforeMB} MB), ` +
    `${result.rssPerTunnelBytes} B rss and ${result.heapPerTunnelBytes} B main-thread heap per tunnel; target <= 200 MB`,
);
// Everything ended (keys wiped, tables emptied): what stays is the allocators' high-water mark, not tunnel state.
transit.close();
await plane.idle();
await settle();
const ended = mem();
console.log(JSON.stringify({ rssAfterEndMB: mb(ended.rss), heapUsedAfterEndMB: mb(ended.heapUsed) }));
await plane.close();
