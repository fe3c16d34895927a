// Router workloads: whole steps of a router rather than one primitive.
//   router-forward    TunnelData in over NTCP2, one AES participant hop, out over NTCP2 to the next router, through
//                     our router B in its own process (router-forward.ts; docs/router-data-path.md). One run sends a
//                     batch from A and waits until all of it has reached C, so msg/s is what passes through B. B's
//                     own CPU per message is a figure of the row. Target: >= 100 000 msg/s through B on one core.
//                     Checked: the first bodies at C against a node:crypto computation of the participant transform.
//   tunnel-build-hop  ShortTunnelBuild records processed as a hop (tunnel-build-ecies.md §5-§7.2): our record found
//                     and opened (Noise N: one X25519), checked against the replay filter, answered (accept), the
//                     other slots layered and, as OBEP, the reply garlic-wrapped for the reply gateway: the most a
//                     record costs. Floor: the X25519 operation it cannot avoid, timed with node:crypto (a figure).
import { diffieHellman, generateKeyPairSync } from 'node:crypto';
import { createShortTunnelBuild, type ShortBuildRequest } from '../../router/tunnel-build/creator.js';
import { EphemeralKeyFilter } from '../../router/tunnel-build/ephemeral-key-filter.js';
import { TunnelBuildHop } from '../../router/tunnel-build/hop.js';
import { wipe, x25519PrivateKeyObject, x25519RawPublic } from '../../router/tunnel-build/primitives.js';
import { ForwardPath, TUNNEL_DATA_BYTES } from '../router-forward.js';
import { concatBytes, defineWorkload, type Rng, type Runner } from '../types.js';

// ------------------------------------------------------------------ router-forward

interface ForwardInput {
  layerKey: Uint8Array;
  ivKey: Uint8Array;
  base: Uint8Array;
}

/** How long one batch may take to reach C before the run counts as failed (a lost message, a stalled B). */
const FORWARD_BATCH_TIMEOUT_MS = 20_000;
/**
 * Messages in flight from A to C that a run leaves behind: the next run overlaps them, as traffic would. Below B's
 * data-plane queue (16 batches of 256), so B never has to refuse one: a message missing at C is then a failure.
 */
const FORWARD_WINDOW = 2048;

const routerForward = defineWorkload<ForwardInput>({
  id: 'router-forward',
  description:
    'TunnelData A -> B (AES participant hop) -> C over NTCP2 on loopback, B in its own process; target >= 100k msg/s through B',
  bytesPerMessage: TUNNEL_DATA_BYTES,
  // --quick takes the first.
  batches: [256, 1024],
  quickBatches: [256],
  baselines: [],
  input: (_batch, rng) => ({ layerKey: rng.bytes(32), ivKey: rng.bytes(32), base: rng.bytes(TUNNEL_DATA_BYTES) }),
  impls: {
    tunnelplane: {
      description: 'B = createRouter (data plane on 1 worker thread, default frame AEAD); A and C in this process',
      async setup(inp, ctx): Promise<Runner> {
        const path = await ForwardPath.start({ ...inp, threads: 1, check: ctx.batch });
        let output: Uint8Array | undefined;
        const sendBatch = async () => {
          const end = path.sent + ctx.batch;
          while (path.sent < end) {
            // A's session queue is full: let some arrive first.
            if (!path.sendOne()) await path.waitReceived(path.received + 1, FORWARD_BATCH_TIMEOUT_MS);
          }
        };
        return {
          // Pipelined (Runner.finish): a run sends its batch and returns once at most FORWARD_WINDOW messages are
          // still in flight, so msg/s is the steady rate through B rather than one batch's round trip.
          async run() {
            if (output) {
              await sendBatch();
              // One turn of the event loop per batch at least, so A's session flushes it as a router's would.
              await new Promise((r) => setImmediate(r));
              return path.waitReceived(path.sent - FORWARD_WINDOW, FORWARD_BATCH_TIMEOUT_MS);
            }
            path.capture = [];
            await sendBatch();
            await path.waitReceived(path.sent, FORWARD_BATCH_TIMEOUT_MS);
            output = concatBytes(path.capture);
            path.capture = undefined;
            if (path.mismatches > 0)
              throw new Error(`${path.mismatches} bodies at C differ from the node:crypto participant transform`);
            await path.hop.request('mark', 'marked'); // B's CPU is counted from here
          },
          finish: () => path.waitReceived(path.sent, FORWARD_BATCH_TIMEOUT_MS),
          output: () => output!,
          async figures() {
            const r = await path.hop.request('cpu', 'cpu');
            const cpuMs = r.cpuMs as number,
              forwarded = r.forwarded as number;
            return {
              'B CPU µs/msg': (cpuMs * 1000) / forwarded,
              'msg per B CPU-second': forwarded / (cpuMs / 1000),
              'B cores busy': cpuMs / (r.wallMs as number),
            };
          },
          close: async () => void (await path.close()),
        };
      },
    },
  },
});

// ------------------------------------------------------------------ tunnel-build-hop

export interface HopBuilds {
  staticPrivateKey: Uint8Array;
  identHash: Uint8Array;
  builds: ShortBuildRequest[];
}

/**
 * `n` one-hop outbound ShortTunnelBuilds (4 slots, one real record) for a hop that is their OBEP, so answering one
 * garlic-wraps the reply: the dearest kind of record. Shared with bench/tunnel-build-hop.ts.
 */
export function obepBuilds(n: number, random: (n: number) => Uint8Array, now = Date.now()): HopBuilds {
  const staticPrivateKey = random(32);
  const identHash = random(32);
  const encryptionKey = x25519RawPublic(x25519PrivateKeyObject(staticPrivateKey));
  const builds = Array.from({ length: n }, () => {
    const b = createShortTunnelBuild({
      direction: 'outbound',
      hops: [{ identHash, encryptionKey }],
      replyIdent: random(32),
      now,
      random,
    });
    b.pending.discard(); // the creator's reply keys are not needed here
    return b;
  });
  return { staticPrivateKey, identHash, builds };
}

/** Opens and answers (accept) one build as the hop; returns the reply message body. Throws if it does not process. */
export function processAsHop(hop: TunnelBuildHop, build: ShortBuildRequest): Uint8Array {
  const o = hop.open(build.message.type, build.message.body);
  if (!o.ok) throw new Error(`build not opened: ${o.error}`);
  const a = hop.answer(o.value, 0);
  if (a.forward.kind !== 'reply-gateway') throw new Error(`OBEP reply expected, got ${a.forward.kind}`);
  if (a.tunnel) wipe(a.tunnel.layerKey, a.tunnel.ivKey);
  return a.forward.message.body;
}

/** X25519 operations per second with node:crypto (the floor of a record's cost), over `n` operations. */
export function x25519PerSecond(n: number): number {
  const a = generateKeyPairSync('x25519');
  const b = generateKeyPairSync('x25519');
  const t = performance.now();
  for (let i = 0; i < n; i++) diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey });
  return n / ((performance.now() - t) / 1000);
}

const tunnelBuildHop = defineWorkload<HopBuilds>({
  id: 'tunnel-build-hop',
  description: 'ShortTunnelBuild records opened and answered as OBEP (one X25519 each; floor: X25519 with node:crypto)',
  bytesPerMessage: 528,
  batches: [16, 64],
  quickBatches: [16],
  baselines: [],
  input: (batch, rng: Rng) => obepBuilds(batch, (n) => rng.bytes(n)),
  impls: {
    tunnelplane: {
      description: 'TunnelBuildHop.open + answer, replay filter on',
      setup(inp, ctx): Runner {
        // The same batch runs again and again; a filter holding one key fewer than the batch has forgotten each key
        // just before it comes round again, so every record pays the filter's lookup and insert but none is a replay.
        const hop = new TunnelBuildHop({
          staticPrivateKey: inp.staticPrivateKey,
          identHash: inp.identHash,
          replayFilter: new EphemeralKeyFilter({ capacity: Math.max(1, ctx.batch - 1) }),
        });
        if (ctx.batch < 2) throw new Error('tunnel-build-hop needs batches of 2 or more (the replay filter)');
        let output: Uint8Array | undefined;
        let runs = 0;
        let ms = 0;
        return {
          run() {
            const t = performance.now();
            if (output) for (const b of inp.builds) processAsHop(hop, b);
            else output = concatBytes(inp.builds.map((b) => processAsHop(hop, b)));
            ms += performance.now() - t;
            runs++;
          },
          output: () => output!,
          figures() {
            const x = x25519PerSecond(ctx.quick ? 200 : 1000);
            const records = (runs * ctx.batch) / (ms / 1000);
            return { 'X25519/s (node:crypto)': x, 'records/s over X25519/s': records / x };
          },
          close: () => wipe(inp.staticPrivateKey),
        };
      },
    },
  },
});

export const workloads = [routerForward, tunnelBuildHop];
