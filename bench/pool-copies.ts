// How much a copy of 1028-byte bodies costs, by kind of memory and size of copy (issue 6: why the data plane stages
// and groups batches in ordinary memory and touches shared memory only with bulk copies). Not part of `tunnelplane
// bench`.
//
//   node dist/bench/pool-copies.js [--batch B] [--reps R]
//
// V8 copies into and out of a SharedArrayBuffer with relaxed atomic stores: word by word when source and destination
// addresses agree modulo 8, byte by byte when they do not -- and consecutive 1028-byte bodies alternate between the
// two. Prints ns per message (median of 5 passes of R batches of B messages).
import { arg } from './argv.js';

const BODY = 1028;
const batch = Number(arg('batch', '256'));
const reps = Number(arg('reps', '2000'));
if (!Number.isInteger(batch) || batch < 2 || !Number.isInteger(reps) || reps < 1) {
  process.stderr.write('usage: node dist/bench/pool-copies.js [--batch B >= 2] [--reps R >= 1]\n');
  process.exit(2);
}

const size = batch * BODY;
const sab = new SharedArrayBuffer(2 * size);
const shared = new Uint8Array(sab, 0, size);
const privateA = new Uint8Array(2 * size);
const privateB = new Uint8Array(size);
// A grouping-like permutation: message i goes to position perm[i] (64 groups, arrival order kept inside each).
const groups = Math.min(64, batch);
const perm = Array.from({ length: batch }, (_, i) => (i % groups) * Math.ceil(batch / groups) + Math.floor(i / groups));
for (let i = 0; i < batch; i++) perm[i] = Math.min(perm[i]!, batch - 1);

function time(fn: () => void): number {
  for (let k = 0; k < Math.min(200, reps); k++) fn();
  const passes: number[] = [];
  for (let p = 0; p < 5; p++) {
    const t0 = performance.now();
    for (let k = 0; k < reps; k++) fn();
    passes.push(((performance.now() - t0) * 1e6) / (reps * batch));
  }
  return passes.sort((a, b) => a - b)[2]!;
}

const rows: [string, () => void][] = [
  ['one message at a time into shared memory, addresses equal mod 8', () => {
    for (let i = 0; i < batch; i++) shared.set(privateA.subarray(i * BODY, (i + 1) * BODY), i * BODY);
  }],
  ['one message at a time into shared memory, addresses differ mod 8', () => {
    for (let i = 0; i < batch - 1; i++) shared.set(privateA.subarray((i + 1) * BODY, (i + 2) * BODY), i * BODY);
  }],
  ['one message at a time, ordinary memory, grouped order (set)', () => {
    for (let i = 0; i < batch; i++) privateB.set(privateA.subarray(i * BODY, (i + 1) * BODY), perm[i]! * BODY);
  }],
  ['one message at a time, one buffer, grouped order (copyWithin)', () => {
    for (let i = 0; i < batch; i++) privateA.copyWithin(size + perm[i]! * BODY, i * BODY, (i + 1) * BODY);
  }],
  ['whole batch into shared memory (one set)', () => shared.set(privateA.subarray(0, size))],
  ['whole batch out of shared memory (one set)', () => privateB.set(shared)],
  ['whole batch, ordinary memory (one set)', () => privateB.set(privateA.subarray(0, size))],
];

process.stdout.write(`copies of ${BODY}-byte bodies, batch ${batch}, ns per message (median of 5 x ${reps} batches)\n`);
for (const [name, fn] of rows) process.stdout.write(`${time(fn).toFixed(0).padStart(6)}  ${name}\n`);
