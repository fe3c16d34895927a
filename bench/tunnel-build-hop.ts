// Tunnel build records processed per second as a hop (open + answer of a 4-record ShortTunnelBuild, OBEP role so the
// reply is garlic-wrapped: the most work a record costs), against the floor of one X25519 operation with node:crypto;
// plus one-shot router garlic opened per second and 3-hop builds created per second. Every message is first checked to
// process correctly. Runs a few seconds; the machine's load moves the absolute numbers, the ratio less.
//   npm run build && node dist/bench/tunnel-build-hop.js [--count N]
import { randomBytes } from 'node:crypto';
import { openRouterGarlic, sealRouterGarlic } from '../src/router/garlic/router-garlic.js';
import { createShortTunnelBuild } from '../src/router/tunnel-build/creator.js';
import { TunnelBuildHop } from '../src/router/tunnel-build/hop.js';
import { x25519PrivateKeyObject, x25519RawPublic } from '../src/router/tunnel-build/primitives.js';
import { obepBuilds, processAsHop, x25519PerSecond } from '../src/bench/workloads/router.js';
import { arg } from './argv.js';

const N = Number(arg('count', '2000'));
const now = Date.now();

function rate(n: number, fn: () => void): number {
  const t = performance.now();
  fn();
  return Math.round(n / ((performance.now() - t) / 1000));
}

// The same builds, hop and floor as the `tunnel-build-hop` workload of `tunnelplane bench`.
const x25519PerS = Math.round(x25519PerSecond(N));
const { staticPrivateKey: priv, identHash: hash, builds } = obepBuilds(N, (n) => new Uint8Array(randomBytes(n)), now);
const pub = x25519RawPublic(x25519PrivateKeyObject(priv));
const hop = new TunnelBuildHop({ staticPrivateKey: priv, identHash: hash, now: () => now });
const hopRecordsPerS = rate(N, () => {
  for (const m of builds) processAsHop(hop, m);
});

const M = Math.max(50, N >> 3);
const create3HopPerS = rate(M, () => {
  for (let i = 0; i < M; i++)
    createShortTunnelBuild({
      direction: 'outbound',
      hops: [1, 2, 3].map(() => ({ identHash: hash, encryptionKey: pub })),
      replyIdent: hash,
      now,
    }).pending.discard();
});

const garlics = Array.from({ length: N }, () =>
  sealRouterGarlic(pub, [{ type: 1, msgId: 1, expiration: now, body: new Uint8Array(600) }], { now }),
);
const routerGarlicOpenPerS = rate(N, () => {
  for (const g of garlics) if (!openRouterGarlic(hop.noise, g).ok) throw new Error('garlic did not open');
});

console.log(
  JSON.stringify({
    node: process.version,
    count: N,
    x25519PerS,
    hopRecordsPerS,
    hopOverX25519: +(hopRecordsPerS / x25519PerS).toFixed(3),
    create3HopPerS,
    routerGarlicOpenPerS,
  }),
);
