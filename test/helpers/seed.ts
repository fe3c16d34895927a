// The seed of a seeded test run and the deterministic generators drawn from it. Every seeded suite reads its seed here
// and logs it the same way, so one variable replays any failure: TUNNELPLANE_SEED=<integer>.
import type { RefHop } from '../reference/layer-reference.js';

export const SEED_VARIABLE = 'TUNNELPLANE_SEED';
/** Names the suites read before they shared this helper; still honoured for one release. */
const DEPRECATED_SEED_VARIABLES = ['TUNNELPLANE_TEST_SEED', 'TEST_SEED', 'FC_SEED'] as const;

/** The seed of this run for `what`: TUNNELPLANE_SEED (or an older name) if set, else a fresh one; always logged. */
export function testSeed(what: string): number {
  for (const name of [SEED_VARIABLE, ...DEPRECATED_SEED_VARIABLES]) {
    const value = process.env[name];
    if (value === undefined || value === '') continue;
    if (!/^-?\d+$/.test(value.trim())) throw new Error(`${name}=${value}: a seed is an integer`);
    const seed = Number(value) >>> 0;
    const note = name === SEED_VARIABLE ? '' : `, read from ${name} (deprecated: use ${SEED_VARIABLE})`;
    console.log(`[${what}] seed ${seed} (replay with ${SEED_VARIABLE}=${seed})${note}`);
    return seed;
  }
  const seed = (Date.now() ^ (Math.random() * 2 ** 32)) >>> 0;
  console.log(`[${what}] seed ${seed} (replay with ${SEED_VARIABLE}=${seed})`);
  return seed;
}

/** xorshift32-based byte generator: deterministic for a seed. */
export function seededRandom(seed: number): (n: number) => Uint8Array {
  let s = seed >>> 0 || 0x9e3779b9;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
  return (n: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = next() & 0xff;
    return out;
  };
}

/** Fresh AES hop keys (layer key, IV key) from a seeded generator. */
export function randomHop(rnd: (n: number) => Uint8Array): RefHop {
  return { layerKey: rnd(32), ivKey: rnd(32) };
}
