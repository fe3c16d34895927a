// Where the native AES layer's binary is (native/aes_layer.c, loaded by aes-native.ts): compiled on this machine
// (native/build/Release) or prebuilt for this platform (native/prebuilds/<platform>-<arch>/, made when the package is
// packed), found by node-gyp-build's rules. The addon is Node-API, so one prebuild per platform-arch serves every
// Node version. docs/install.md says what a user gets on each kind of machine.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Base name of the addon (binding.gyp target_name); prebuilds are `<name>.napi[.glibc|.musl].node`. */
export const NATIVE_ADDON_NAME = 'tunnelplane_aes';

/** The package's native/ folder: two levels above src/native (tests), three above dist/src/native (the build). */
function packageNativeDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const roots = [join(here, '..', '..'), join(here, '..', '..', '..')];
  const root = roots.find((r) => existsSync(join(r, 'package.json'))) ?? roots[0]!;
  return join(root, 'native');
}

export const NATIVE_DIR = packageNativeDir();

export type AddonSource = 'compiled' | 'prebuilt';

export type AddonLocation = { ok: true; path: string; source: AddonSource } | { ok: false; error: string };

interface NodeGypBuild {
  path(dir: string): string;
}

// The loader proper, not index.js: the latter may hand over to a runtime's own require.addon, which has no path().
const nodeGypBuild = createRequire(import.meta.url)('node-gyp-build/node-gyp-build.js') as NodeGypBuild;

/** Whether `path` (a file node-gyp-build found under `nativeDir`) is a prebuild or this machine's own build. */
export function addonSource(path: string, nativeDir: string = NATIVE_DIR): AddonSource {
  return relative(nativeDir, path).split(sep)[0] === 'prebuilds' ? 'prebuilt' : 'compiled';
}

/**
 * The addon binary for this process: native/build/Release first (compiled here, so it matches this machine),
 * else the prebuild whose platform, arch and libc match. Does not load it.
 */
export function locateNativeAddon(nativeDir: string = NATIVE_DIR): AddonLocation {
  try {
    const path = nodeGypBuild.path(nativeDir);
    return { ok: true, path, source: addonSource(path, nativeDir) };
  } catch {
    return {
      ok: false,
      error:
        `not compiled here (${join('native', 'build', 'Release', `${NATIVE_ADDON_NAME}.node`)}) and no prebuilt ` +
        `binary for ${process.platform}-${process.arch} in native/prebuilds`,
    };
  }
}
