#!/usr/bin/env node
// The package as users get it: `npm pack` (its prepack / prepare steps included), the tarball's file list, then an
// install into a fresh project outside the checkout, where the public API, a data-plane round trip (checked against
// node:crypto computed here), the CLI (--help, doctor, vectors run) and each outcome of the native layer's install
// step are exercised: prebuilt, compiled from source, disabled, and no binary with no compiler (docs/install.md).
// Run by .ci/run after the tests; `npm run test:pack` runs it by hand. Dependencies come from the npm cache that
// `npm ci` filled (--prefer-offline); nothing else is fetched. Needs a C compiler (CI has one).
//
//   node scripts/pack-smoke.mjs [--keep]     --keep: leave the temporary folder for inspection
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');
const tmp = mkdtempSync(join(tmpdir(), 'tunnelplane-pack-'));
const app = join(tmp, 'app');
const sample = resolve(repo, '..', 'shared', 'spec', 'vectors', 'tunnel-aes-sample.json');
const tuple = `${process.platform}-${process.arch}`;
// The user's side: the package imported by name, one participant tunnel per key pair through a default data plane
// (worker threads, the installed worker file), every output body compared with P computed by node:crypto here
// (tunnel-crypto-aes.md §3: X = E(ivKey, IV); D' = CBC(layerKey, X, D); IV' = E(ivKey, X); then the next tunnel id).
// Inputs from a logged seed.
const ROUNDTRIP = String.raw`
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import * as tp from 'tunnelplane';

for (const name of ['createDataPlane', 'LayerEngine', 'createAes256', 'cpuHasAes', 'createChaCha20', 'createSha256']) {
  if (typeof tp[name] !== 'function') throw new Error('missing export ' + name);
}
const seed = process.env.SMOKE_SEED ?? randomBytes(8).toString('hex');
let counter = 0;
const bytes = (n) => {
  const out = Buffer.alloc(n);
  for (let o = 0; o < n; o += 32) createHash('sha256').update(seed + ':' + counter++).digest().copy(out, o);
  return out;
};
const ecb = (key, block) => { const c = createCipheriv('aes-256-ecb', key, null); c.setAutoPadding(false); return Buffer.concat([c.update(block), c.final()]); };
const cbc = (key, iv, data) => { const c = createCipheriv('aes-256-cbc', key, iv); c.setAutoPadding(false); return Buffer.concat([c.update(data), c.final()]); };

const TUNNELS = 6, PER_TUNNEL = 40, SIZE = 1028;
const tunnels = [];
for (let t = 0; t < TUNNELS; t++) {
  tunnels.push({ receiveTunnelId: 1000 + t, nextTunnelId: 5000 + t, nextHop: 77 + t, prevHop: 9 + t,
    layerKey: bytes(32), ivKey: bytes(32), expected: [], got: [] });
}
const got = new Map(tunnels.map((t) => [t.nextTunnelId, t]));
let statusBad = 0;
const plane = tp.createDataPlane({
  onOutput(b) {
    for (let i = 0; i < b.count; i++) {
      if (b.status[i] !== tp.STATUS_OK) { statusBad++; continue; }
      got.get(b.nextTunnelIds[i])?.got.push(Buffer.from(b.bodies.subarray(i * SIZE, (i + 1) * SIZE)));
    }
  },
});
for (const t of tunnels) {
  plane.join({ role: 'participant', layer: 'aes', receiveTunnelId: t.receiveTunnelId, nextTunnelId: t.nextTunnelId,
    nextHop: t.nextHop, layerKey: new Uint8Array(t.layerKey), ivKey: new Uint8Array(t.ivKey) });
}
for (let k = 0; k < PER_TUNNEL; k++) {
  for (const t of tunnels) {
    const body = bytes(SIZE);
    body.writeUInt32BE(t.receiveTunnelId, 0);
    const x = ecb(t.ivKey, body.subarray(4, 20));
    const exp = Buffer.alloc(SIZE);
    exp.writeUInt32BE(t.nextTunnelId, 0);
    ecb(t.ivKey, x).copy(exp, 4);
    cbc(t.layerKey, x, body.subarray(20)).copy(exp, 20);
    t.expected.push(exp);
    while (!plane.push(new Uint8Array(body), t.prevHop)) await plane.ready();
  }
}
await plane.idle();
const threads = plane.threads;
await plane.close();
let bad = statusBad;
for (const t of tunnels) {
  if (t.got.length !== t.expected.length) bad++;
  t.expected.forEach((e, i) => { if (!t.got[i] || !e.equals(t.got[i])) bad++; });
}
const engine = new tp.LayerEngine({});
if (bad > 0) { console.error('seed ' + seed + ': ' + bad + ' of ' + TUNNELS * PER_TUNNEL + ' messages differ from node:crypto'); process.exit(1); }
console.log('seed ' + seed + ': ' + TUNNELS * PER_TUNNEL + ' messages equal to node:crypto, ' + threads + ' worker threads, tunnel AES on ' + engine.aesBackend);
`;

let checks = 0;
let failures = 0;

function check(ok, what, detail = '') {
  checks++;
  if (!ok) failures++;
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${what}${!ok && detail ? `\n     ${String(detail).trim().split('\n').join('\n     ')}` : ''}`,
  );
  return ok;
}

/** Runs a command; returns { status, stdout, out } (out: stdout and stderr together). */
function sh(cmd, args, { cwd = app, env = {}, unset = [] } = {}) {
  const e = { ...process.env, ...env };
  for (const k of unset) delete e[k];
  const r = spawnSync(cmd, args, { cwd, env: e, encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 });
  const stdout = r.stdout ?? '';
  return { status: r.status, stdout, out: `${stdout}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}

const npm = (args, opts) => sh('npm', [...args, '--no-audit', '--no-fund', '--foreground-scripts'], opts);
const cli = (args, opts) =>
  sh(process.execPath, [join(app, 'node_modules', 'tunnelplane', 'bin', 'tunnelplane.js'), ...args], opts);
function doctor(opts) {
  const r = cli(['doctor', '--json'], opts);
  try {
    return JSON.parse(r.out.trim().split('\n').pop());
  } catch {
    check(false, 'doctor --json prints one JSON object', r.out);
    return null;
  }
}

function smoke() {
  // 1. Pack, as `npm publish` would.
  console.log(`== npm pack (into ${tmp})`);
  const packed = sh('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: repo });
  // --json prints the report last on stdout, after what the prepack and prepare steps printed there.
  const jsonStart = packed.stdout.lastIndexOf('\n[\n') + 1;
  if (!check(packed.status === 0 && packed.stdout.trimEnd().endsWith(']'), 'npm pack', packed.out.slice(-3000))) return;
  const info = JSON.parse(packed.stdout.slice(jsonStart))[0];
  const files = info.files.map((f) => f.path);
  const tarball = join(tmp, info.filename);
  console.log(`     ${info.filename}: ${info.size} bytes, ${info.unpackedSize} unpacked, ${info.entryCount} files`);

  // 2. What is in it: the runtime and its native layer, nothing users cannot use.
  const prebuilds = files.filter((f) => f.startsWith(`native/prebuilds/${tuple}/`) && f.endsWith('.node'));
  check(prebuilds.length === 1, `one prebuilt native layer for ${tuple}`, prebuilds.join(', '));
  for (const f of [
    'bin/tunnelplane.js',
    'dist/src/index.js',
    'dist/src/index.d.ts',
    'dist/src/dataplane/worker.js',
    'build/tunnelplane.wasm',
    'build/tunnelplane-simd.wasm',
    'native/aes_layer.c',
    'native/aes_multikey.c',
    'native/aes_multikey.h',
    'native/binding.gyp',
    'scripts/build-native.mjs',
    'scripts/install-native.mjs',
    'LICENSE',
    'README.md',
  ]) {
    check(files.includes(f), `packed: ${f}`);
  }
  const unwanted = files.filter(
    (f) =>
      /^(test|bench|assembly|src|docs|\.ci)\//.test(f) ||
      /^dist\/(bench|test)\//.test(f) ||
      f.endsWith('.map') ||
      (f.endsWith('.ts') && !f.endsWith('.d.ts')) ||
      ['tsconfig.json', 'asconfig.json', 'vitest.config.ts'].includes(f) ||
      f.startsWith('native/build/') ||
      f === 'native/install.log',
  );
  check(unwanted.length === 0, 'no tests, benchmarks, sources or build leftovers', unwanted.join('\n'));

  // 3. Install it into a fresh project (dependencies from the cache npm ci filled).
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'smoke-app', private: true, type: 'module' }) + '\n');
  console.log('== npm install <tarball> in a fresh project');
  const inst = npm(['install', '--prefer-offline', tarball]);
  if (!check(inst.status === 0, 'npm install of the tarball', inst.out)) return;
  const line = inst.out.split('\n').filter((l) => l.startsWith('tunnelplane:'));
  console.log(`     install said: ${line.join(' | ')}`);
  check(
    line.length === 1 && line[0].includes('prebuilt binary'),
    'the install step used the prebuild and said so once',
    inst.out,
  );
  const pkgDir = join(app, 'node_modules', 'tunnelplane');
  check(
    !existsSync(join(pkgDir, 'node_modules', 'assemblyscript')) &&
      !existsSync(join(app, 'node_modules', 'assemblyscript')),
    'no build toolchain (assemblyscript) installed for users',
  );

  // 4. The public API and a data-plane round trip, checked against node:crypto in the installed project.
  writeFileSync(join(app, 'roundtrip.mjs'), ROUNDTRIP);
  for (const [label, env] of [
    ['auto', {}],
    ['TUNNELPLANE_NO_NATIVE=1', { TUNNELPLANE_NO_NATIVE: '1' }],
  ]) {
    const rt = sh(process.execPath, ['roundtrip.mjs'], { env });
    check(rt.status === 0, `public API + data-plane round trip matches node:crypto (${label})`, rt.out);
    if (rt.status === 0) console.log(`     ${rt.out.trim().split('\n').pop()}`);
  }

  // 5. The CLI.
  const help = cli(['--help']);
  check(help.status === 0 && /doctor/.test(help.out) && /vectors/.test(help.out), 'tunnelplane --help', help.out);
  const text = cli(['doctor']);
  check(text.status === 0 && /tunnel AES layer/.test(text.out), 'tunnelplane doctor', text.out);
  const vec = cli(['vectors', 'run', sample, '--summary']);
  check(vec.status === 0 && / 0 failed/.test(vec.out), `tunnelplane vectors run ${sample}`, vec.out.slice(-2000));

  // 6. What 'auto' picks: the shipped prebuild here, the constant-time fallback without the native layer.
  // OpenSSL's AES (native, hybrid) is constant time with AES instructions; without them only the WASM AES is.
  let d = doctor();
  const fast = d?.aesInstructions ? 'native' : 'wasm';
  const fallback = d?.aesInstructions ? 'hybrid' : 'wasm';
  check(
    d?.native.loaded && d.native.source === 'prebuilt' && d.aesLayer === fast,
    `doctor: the prebuilt native layer loaded, 'auto' runs '${fast}'`,
    JSON.stringify(d),
  );
  d = doctor({ env: { TUNNELPLANE_NO_NATIVE: '1' } });
  check(
    d?.aesLayer === fallback && d.native.loaded === false && /TUNNELPLANE_NO_NATIVE/.test(d.hints.native ?? ''),
    `doctor with TUNNELPLANE_NO_NATIVE=1: '${fallback}' and a hint`,
    JSON.stringify(d),
  );

  // 7. No prebuild for this machine: --build-from-source compiles (npm rebuild runs the install step again).
  const prebuildDir = join(pkgDir, 'native', 'prebuilds');
  renameSync(prebuildDir, join(tmp, 'prebuilds-aside'));
  const rb = npm(['rebuild', 'tunnelplane', '--build-from-source']);
  check(
    rb.status === 0 && /compiled from source/.test(rb.out),
    'npm rebuild --build-from-source compiles the layer',
    rb.out,
  );
  d = doctor();
  check(
    d?.native.loaded && d.native.source === 'compiled' && d.aesLayer === fast,
    'doctor: the compiled layer loaded',
    JSON.stringify(d),
  );

  // 8. Neither a prebuild nor a compiler: the install still succeeds, says so once, and 'auto' falls back.
  rmSync(join(pkgDir, 'native', 'build'), { recursive: true, force: true });
  const noCc = { env: { CC: '/nonexistent/cc', CXX: '/nonexistent/c++' }, unset: ['TUNNELPLANE_REQUIRE_NATIVE'] };
  const fb = npm(['rebuild', 'tunnelplane'], noCc);
  const said = fb.out.split('\n').filter((l) => l.startsWith('tunnelplane:'));
  check(
    fb.status === 0 && said.length === 1 && /unavailable/.test(said[0]) && said[0].includes(`'${fallback}'`),
    `no prebuild, no compiler: installs with one line naming '${fallback}'`,
    fb.out,
  );
  d = doctor();
  check(
    d?.aesLayer === fallback &&
      d.native.loaded === false &&
      d.native.installLog !== null &&
      /install\.log/.test(d.hints.native ?? ''),
    "doctor: the fallback, why, and the build's log",
    JSON.stringify(d),
  );
  const rt = sh(process.execPath, ['roundtrip.mjs']);
  check(rt.status === 0, 'data-plane round trip on the fallback', rt.out);
  const req = npm(['rebuild', 'tunnelplane'], { env: { ...noCc.env, TUNNELPLANE_REQUIRE_NATIVE: '1' } });
  check(req.status !== 0, 'the same with TUNNELPLANE_REQUIRE_NATIVE=1 fails the install', req.out);
}

try {
  smoke();
} finally {
  if (keep) console.log(`kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}
console.log(`pack smoke: ${checks - failures} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
