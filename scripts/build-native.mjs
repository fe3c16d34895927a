#!/usr/bin/env node
// Builds the optional native AES layer (native/aes_layer.c, aes_multikey.c) with node-gyp, against the Node.js
// headers on this machine. Run by `npm run build` (and so by `npm install` / `npm ci` through 'prepare').
//
// Optional by design: without a C compiler the build prints why and the engine falls back to node:crypto
// ('hybrid' backend), so installing never fails here. Set TUNNELPLANE_REQUIRE_NATIVE=1 (CI does) to make a failed
// build an error instead.
//
// `--test` builds the test build instead (native/test/binding.gyp: the same source with TUNNELPLANE_TEST_HOOKS, into
// native/test/build/Release/tunnelplane_aes_test.node): debug exports the tests use to check the addon from C (its
// key schedules gone from memory after a wipe, an EVP failure mid-message). Nothing in src/ loads it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const required = process.env.TUNNELPLANE_REQUIRE_NATIVE === '1';
const test = process.argv.includes('--test');
const dir = join(root, 'native', ...(test ? ['test'] : []));
const built = test
  ? 'native/test/build/Release/tunnelplane_aes_test.node'
  : 'native/build/Release/tunnelplane_aes.node';

/** npm's own node-gyp: npm exports its path to scripts; else look beside the npm that ships with this node. */
function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(
      dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
    join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((p) => p && existsSync(p));
}

function fail(why) {
  const msg = test
    ? `tunnelplane: test build of the native AES layer not built (${why})`
    : `tunnelplane: native AES layer not built (${why}); AES tunnels use node:crypto instead ('hybrid' backend)`;
  if (required) {
    console.error(`${msg}\nTUNNELPLANE_REQUIRE_NATIVE=1: failing the build.`);
    process.exit(1);
  }
  console.warn(msg);
  process.exit(0);
}

const gyp = findNodeGyp();
if (!gyp) fail('node-gyp not found');
const args = [gyp, 'rebuild', '--directory', dir];
// Build offline against the headers of the running node when they are installed beside it (Debian's nodejs,
// the official tarballs); otherwise node-gyp uses its own cache or downloads them.
const prefix = resolve(dirname(process.execPath), '..');
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('gyp info'))
    .slice(-15)
    .join('\n');
  console.error(tail);
  fail(`node-gyp exited with ${r.status ?? r.signal}`);
}
console.log(`tunnelplane: native AES layer built (${built})`);
