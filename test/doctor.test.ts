// `tunnelplane doctor` (src/cli/doctor.ts) as users run it (bin/tunnelplane.js over dist/, built by `npm test`): each
// answer must equal what the code decides in the same environment, computed here in a separate process straight from
// the engine and the factories; the native layer disabled, the backend forced by TUNNELPLANE_BACKEND; i2pd found or
// not; and the data plane's thread count against a real default data plane.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { diagnose, findI2pd, formatReport, type DoctorReport } from '../src/cli/doctor.js';
import { createDataPlane } from '../src/dataplane/index.js';
import { nativeAes } from '../src/tunnel/aes-native.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'tunnelplane.js');
if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'doctor.js'))) {
  throw new Error('dist/ is missing: run `npm run build` (npm test does) before these tests');
}
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: 60_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function doctorJson(env: Record<string, string> = {}): Promise<DoctorReport> {
  const r = await run([BIN, 'doctor', '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as DoctorReport;
}

/** What the code itself picks in `env`, asked directly of the engine and the factories in another process. */
async function decided(env: Record<string, string> = {}) {
  const url = (p: string) => JSON.stringify(pathToFileURL(join(ROOT, 'dist', 'src', p)).href);
  const code = `
    const { LayerEngine } = await import(${url('tunnel/engine.js')});
    const { createAes256 } = await import(${url('crypto/aes.js')});
    const { createChaCha20 } = await import(${url('crypto/chacha20.js')});
    const { createChaCha20Poly1305 } = await import(${url('crypto/chacha20-poly1305.js')});
    const { createSha256 } = await import(${url('crypto/sha256.js')});
    const { nativeAes, multiKeyKernel } = await import(${url('tunnel/aes-native.js')});
    const e = new LayerEngine({});
    console.log(JSON.stringify({ aesLayer: e.aesBackend, chachaLayer: e.chachaBackend, loaded: nativeAes !== null,
      multiKey: multiKeyKernel,
      primitives: { aes: createAes256().backend, chacha20: createChaCha20().backend,
        'chacha20-poly1305': createChaCha20Poly1305().backend, sha256: createSha256().backend } }));`;
  const r = await run(['--input-type=module', '-e', code], env);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as {
    aesLayer: string;
    chachaLayer: string;
    loaded: boolean;
    multiKey: string;
    primitives: Record<string, string>;
  };
}

describe('tunnelplane doctor', () => {
  it("--json: one object whose choices equal the engine's and the factories' own", async () => {
    const [d, want] = await Promise.all([doctorJson(), decided()]);
    expect(d.aesLayer).toBe(want.aesLayer);
    expect(d.chachaLayer).toBe(want.chachaLayer);
    expect(d.primitives).toEqual(want.primitives);
    expect(d.native.loaded).toBe(want.loaded);
    expect(d.native.multiKey).toBe(want.multiKey);
    expect(d.node).toBe(process.versions.node);
    expect(d.openssl).toBe(process.versions.openssl);
    // CI builds the native layer (TUNNELPLANE_REQUIRE_NATIVE): there it must be loaded, and 'auto' runs it where
    // the CPU has AES instructions (README, "Backends"; the constant-time WASM layer without them).
    if (process.env.CI) {
      expect([d.native.loaded, d.native.source]).toEqual([true, 'compiled']);
      expect(d.aesLayer).toBe(d.aesInstructions ? 'native' : 'wasm');
    }
    if (d.native.loaded) expect(d.hints.native).toBeUndefined();
  });

  it('with TUNNELPLANE_NO_NATIVE=1: not loaded, why, a hint, and the fallback the engine takes', async () => {
    const env = { TUNNELPLANE_NO_NATIVE: '1' };
    const [d, want] = await Promise.all([doctorJson(env), decided(env)]);
    expect(d.native).toMatchObject({ loaded: false, source: null, path: null });
    expect(d.native.problem).toMatch(/TUNNELPLANE_NO_NATIVE/);
    expect(d.hints.native).toMatch(/unset TUNNELPLANE_NO_NATIVE/);
    expect(d.aesLayer).toBe(want.aesLayer);
    expect(d.aesLayer).not.toBe('native');
    expect(d.env).toEqual({ TUNNELPLANE_NO_NATIVE: '1' });
    const text = await run([BIN, 'doctor'], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/native AES layer +not loaded: disabled by TUNNELPLANE_NO_NATIVE=1\n +hint: unset/);
    expect(text.stdout).toContain(`tunnel AES layer     ${want.aesLayer} (`);
  });

  it('follows TUNNELPLANE_BACKEND=node for the primitives as the factories do', async () => {
    const env = { TUNNELPLANE_BACKEND: 'node' };
    const [d, want] = await Promise.all([doctorJson(env), decided(env)]);
    expect(d.primitives).toEqual(want.primitives);
    expect(Object.values(d.primitives)).toEqual(['node', 'node', 'node', 'node']);
    expect(d.env).toEqual(env);
  });

  it('finds i2pd on the given path with its version, or says it is missing with a hint', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tp-doctor-'));
    dirs.push(dir);
    expect(findI2pd([dir])).toEqual({ installed: false, path: null, version: null });
    writeFileSync(join(dir, 'i2pd'), '#!/bin/sh\necho "i2pd version 9.8.7 (0.9.99)"\n');
    chmodSync(join(dir, 'i2pd'), 0o755);
    expect(findI2pd([dir])).toEqual({ installed: true, path: join(dir, 'i2pd'), version: '9.8.7' });
    const missing = diagnose([join(dir, 'nothing-here')]);
    expect(missing.hints.i2pd).toMatch(/apt-get install i2pd/);
    expect(formatReport(missing)).toMatch(/i2pd +not found\n +hint: no i2pd found/);
  });

  it('reports the worker threads a default data plane starts', async () => {
    const plane = createDataPlane({ onOutput: () => {} });
    try {
      expect(diagnose().dataPlaneThreads).toBe(plane.threads);
    } finally {
      await plane.close();
    }
  });

  it('in-process report agrees with the loaded addon', () => {
    const d = diagnose();
    expect(d.native.loaded).toBe(nativeAes !== null);
    expect(formatReport(d).split('\n')[0]).toMatch(/^tunnelplane \S+ doctor/);
  });
});
