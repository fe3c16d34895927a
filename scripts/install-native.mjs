#!/usr/bin/env node
// The package's install step: makes the native AES layer (native/aes_layer.c) available when it can, and says in
// one line what tunnel AES will run on. In order: the prebuilt binary the package carries for this platform
// (native/prebuilds, made by scripts/prebuild-native.mjs when packing), else a build from source
// (scripts/build-native.mjs, needs a C compiler), else nothing: the engine's 'auto' then picks a fallback backend and
// installing still succeeds. Downloads nothing itself. docs/install.md describes the outcomes.
//
//   npm install --build-from-source      compile even when a prebuild matches
//   TUNNELPLANE_REQUIRE_NATIVE=1          no native layer is an error (CI)
//   TUNNELPLANE_NO_NATIVE=1               the addon is never loaded; nothing is built
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LOG = join(root, 'native', 'install.log');

// A development checkout (tsconfig.json is never packed): `npm install` there runs 'prepare' (npm run build) next,
// which builds the addon with its own message.
if (existsSync(join(root, 'tsconfig.json'))) process.exit(0);

const required = process.env.TUNNELPLANE_REQUIRE_NATIVE === '1';
const fromSource = process.env.npm_config_build_from_source === 'true';

/**
 * What the package's own code decides on this machine, asked of a child process (a binary that crashes on load
 * must not take the install with it): whether the addon loaded, from where, and the AES layer 'auto' picks.
 */
function probe() {
  const url = (p) => pathToFileURL(join(root, 'dist', 'src', p)).href;
  const code = `
    const n = await import(${JSON.stringify(url('native/addon.js'))});
    const a = await import(${JSON.stringify(url('native/locate.js'))});
    const { LayerEngine } = await import(${JSON.stringify(url('tunnel/engine.js'))});
    console.log(JSON.stringify({
      loaded: n.nativeAes !== null, problem: n.nativeAesProblem ?? null,
      source: n.nativeAesPath ? a.addonSource(n.nativeAesPath) : null, path: n.nativeAesPath ?? null,
      aesLayer: new LayerEngine({}).aesBackend,
    }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
  if (r.status === 0) {
    try {
      return JSON.parse(r.stdout.trim().split('\n').pop());
    } catch {
      /* reported below */
    }
  }
  const why = `${r.stderr ?? ''}`.trim().split('\n').pop() || `exit ${r.status ?? r.signal}`;
  return { loaded: false, problem: `the package's loader failed: ${why}`, source: null, path: null, aesLayer: null };
}

const say = (line) => console.log(`tunnelplane: ${line}`);
const rel = (p) => relative(root, p);

let state = process.env.TUNNELPLANE_NO_NATIVE === '1' || fromSource ? null : probe();
if (state?.loaded) {
  say(`native AES layer: ${state.source === 'prebuilt' ? 'prebuilt binary' : 'compiled'} (${rel(state.path)})`);
  process.exit(0);
}
if (process.env.TUNNELPLANE_NO_NATIVE === '1') {
  say('native AES layer not installed (TUNNELPLANE_NO_NATIVE=1)');
  process.exit(0);
}

// No prebuild for this platform (or it did not load, or --build-from-source): compile. build-native.mjs's output
// goes to native/install.log, so a missing compiler costs the user one line here, not a page of node-gyp.
const before = state?.problem;
const build = spawnSync(process.execPath, [join(root, 'scripts', 'build-native.mjs')], {
  encoding: 'utf8',
  timeout: 600_000,
  env: { ...process.env, TUNNELPLANE_REQUIRE_NATIVE: '1' },
});
writeFileSync(LOG, `${build.stdout ?? ''}${build.stderr ?? ''}${build.error ? `\n${build.error.message}\n` : ''}`);
state = probe();
if (state.loaded) {
  const why = fromSource
    ? '--build-from-source'
    : before?.includes('did not load')
      ? 'the binary found did not load'
      : `no prebuilt binary for ${process.platform}-${process.arch}`;
  say(`native AES layer: compiled from source (${why})`);
  process.exit(0);
}
const why =
  build.status === 0
    ? state.problem
    : `no prebuilt binary for ${process.platform}-${process.arch} and the ` +
      `source build failed (C compiler? see ${rel(LOG)})`;
const layer = state.aesLayer ? `tunnel AES runs on the '${state.aesLayer}' backend` : 'tunnel AES uses a fallback';
if (required) {
  console.error(
    `tunnelplane: native AES layer unavailable: ${why}\nTUNNELPLANE_REQUIRE_NATIVE=1: failing the install.`,
  );
  process.exit(1);
}
console.warn(`tunnelplane: native AES layer unavailable (${why}); ${layer}. \`npx tunnelplane doctor\` explains.`);
