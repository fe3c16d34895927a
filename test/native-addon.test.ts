// Where the native AES layer is looked for (src/tunnel/native-addon.ts, docs/install.md): a binary compiled here
// before the package's prebuild, the prebuild only for this platform, arch and libc, and a prebuild laid out as
// scripts/prebuild-native.mjs files it really loads and computes P like the @noble reference (reference/layer-reference.ts).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nativeAes, nativeAesPath, nativeAesProblem, type NativeAesBinding } from '../src/tunnel/aes-native.js';
import { locateNativeAddon, NATIVE_ADDON_NAME } from '../src/native/locate.js';
import { refHopEncrypt } from './reference/layer-reference.js';
import { randomHop, seededRandom, testSeed } from './helpers/seed.js';

const tuple = `${process.platform}-${process.arch}`;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fake native/ folder with the given files (contents irrelevant: locating does not load). */
function nativeDir(files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'tp-addon-'));
  dirs.push(dir);
  for (const f of files) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), 'not a binary');
  }
  return dir;
}

describe('locating the native AES layer', () => {
  const prebuild = `prebuilds/${tuple}/${NATIVE_ADDON_NAME}.napi.node`;
  const compiled = `build/Release/${NATIVE_ADDON_NAME}.node`;

  it('takes the prebuild for this platform-arch when nothing was compiled here', () => {
    const dir = nativeDir([prebuild]);
    expect(locateNativeAddon(dir)).toEqual({ ok: true, path: join(dir, prebuild), source: 'prebuilt' });
  });

  it('prefers a binary compiled on this machine over the prebuild', () => {
    const dir = nativeDir([prebuild, compiled]);
    expect(locateNativeAddon(dir)).toEqual({ ok: true, path: join(dir, compiled), source: 'compiled' });
  });

  it('ignores prebuilds of another platform, arch or libc and names the platform it needed', () => {
    const otherPlatform = process.platform === 'linux' ? 'darwin' : 'linux';
    const otherArch = process.arch === 'x64' ? 'arm64' : 'x64';
    const files = [
      `prebuilds/${otherPlatform}-${process.arch}/${NATIVE_ADDON_NAME}.napi.node`,
      `prebuilds/${process.platform}-${otherArch}/${NATIVE_ADDON_NAME}.napi.node`,
    ];
    if (process.platform === 'linux') {
      // node-gyp-build's libc rule: musl on Alpine, glibc elsewhere.
      const otherLibc = existsSync('/etc/alpine-release') ? 'glibc' : 'musl';
      files.push(`prebuilds/${tuple}/${NATIVE_ADDON_NAME}.napi.${otherLibc}.node`);
    }
    const found = locateNativeAddon(nativeDir(files));
    expect(found.ok).toBe(false);
    expect(!found.ok && found.error).toContain(`no prebuilt binary for ${tuple}`);
    expect(locateNativeAddon(nativeDir([])).ok).toBe(false);
  });

  it('the addon this process loaded is the file the lookup names', () => {
    if (!nativeAes) {
      expect(nativeAesPath).toBeUndefined();
      expect(nativeAesProblem).toBeTruthy();
      return;
    }
    const found = locateNativeAddon();
    expect(found.ok && found.path).toBe(nativeAesPath);
  });

  // Needs a binary to copy; CI builds one (aes-native.test.ts fails there without it).
  it.skipIf(!nativeAesPath)(
    `a prebuild filed like prebuild-native.mjs does loads and computes P like the reference${nativeAesPath ? '' : ` (skipped: ${nativeAesProblem})`}`,
    () => {
      const libc = process.platform === 'linux' ? (existsSync('/etc/alpine-release') ? '.musl' : '.glibc') : '';
      const dir = nativeDir([]);
      const file = join(dir, 'prebuilds', tuple, `${NATIVE_ADDON_NAME}.napi${libc}.node`);
      mkdirSync(join(file, '..'), { recursive: true });
      copyFileSync(nativeAesPath!, file);
      const found = locateNativeAddon(dir);
      expect(found).toEqual({ ok: true, path: file, source: 'prebuilt' });
      const lib = createRequire(import.meta.url)(file) as NativeAesBinding;

      const seed = testSeed('native prebuild');
      const rnd = seededRandom(seed);
      const hop = randomHop(rnd);
      const body = rnd(1028);
      const expected = refHopEncrypt(body, hop);
      const h = lib.createHop(hop.layerKey, hop.ivKey);
      lib.encrypt(h, body, new Int32Array([0]), 1);
      lib.wipeHop(h);
      expect(Buffer.from(body).equals(Buffer.from(expected)), `seed ${seed}`).toBe(true);
    },
  );
});
