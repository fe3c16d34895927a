#!/usr/bin/env node
// Run by `npm pack` / `npm publish` ('prepack'): compiles the native AES layer on this machine and files it as the
// package's prebuild for this platform, native/prebuilds/<platform>-<arch>/tunnelplane_aes.napi[.<libc>].node
// (node-gyp-build's naming, read by src/native/locate.ts). The addon is Node-API, so the one file serves every
// Node version on that platform. A pack without it would silently ship only the fallbacks, so a failed build fails.
// Also empties dist/, which 'prepare' then rebuilds, so no stale compiled file from a renamed source is packed.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'native', 'build', 'Release', 'tunnelplane_aes.node');

rmSync(join(root, 'dist'), { recursive: true, force: true });

const b = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], {
  stdio: 'inherit',
  env: { ...process.env, TUNNELPLANE_REQUIRE_NATIVE: '1' },
});
if (b.status !== 0 || !existsSync(built)) {
  console.error('tunnelplane: cannot pack without the prebuilt native AES layer for this platform (see above)');
  process.exit(1);
}

// It must load into this node and export the layer's entry points before it is shipped.
const check = spawnSync(
  process.execPath,
  [
    '-e',
    `
  const m = require(${JSON.stringify(built)});
  for (const f of ['createHop', 'wipeHop', 'encrypt', 'decrypt', 'copyBlocks']) {
    if (typeof m[f] !== 'function') throw new Error('missing export ' + f);
  }`,
  ],
  { encoding: 'utf8' },
);
if (check.status !== 0) {
  console.error(`tunnelplane: the native AES layer built but does not load: ${check.stderr.trim()}`);
  process.exit(1);
}

// libc tag as node-gyp-build detects it, so a glibc binary is never picked on musl (Alpine) and vice versa.
const libc = process.platform === 'linux' ? (existsSync('/etc/alpine-release') ? 'musl' : 'glibc') : '';
const dir = join(root, 'native', 'prebuilds', `${process.platform}-${process.arch}`);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const dest = join(dir, `tunnelplane_aes.napi${libc ? `.${libc}` : ''}.node`);
copyFileSync(built, dest);
console.log(`tunnelplane: prebuilt native AES layer for ${process.platform}-${process.arch}: ${relative(root, dest)}`);
