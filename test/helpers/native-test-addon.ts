// The test build of the native AES layer (native/test/binding.gyp: native/aes_layer.c with TUNNELPLANE_TEST_HOOKS),
// built here on first use or when the C source is newer, through scripts/build-native.mjs --test. Its debug
// exports let tests check the addon from C: key schedules gone from process memory after a wipe, an EVP failure
// mid-message, a racing writer of the offsets, a foreign external. Never loaded by src/.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { NativeAesBinding, NativeHopHandle } from '../../src/tunnel/aes-native.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const ADDON = `${root}native/test/build/Release/tunnelplane_aes_test.node`;
const SOURCES = [
  `${root}native/aes_layer.c`,
  `${root}native/aes_multikey.c`,
  `${root}native/aes_multikey.h`,
  `${root}native/test/binding.gyp`,
];
const LOCK = `${root}native/test/.building`;

export interface NativeTestBinding extends NativeAesBinding {
  /** The k-th EVP update from now on this thread reports failure (0: off). */
  debugFailUpdate(k: number): void;
  /** The next encrypt/decrypt (copyBlocks: dstAt) writes `value` into at[index] after checking it, as a racing thread would. */
  debugRaceOffset(index: number, value: number): void;
  /** An external createHop did not make. */
  debugForeignExternal(): NativeHopHandle;
  /** Occurrences of masked ^ mask in this process's private writable memory (Linux). */
  debugCountInMemory(masked: Uint8Array, mask: Uint8Array): number;
}

function stale(): boolean {
  if (!existsSync(ADDON)) return true;
  const built = statSync(ADDON).mtimeMs;
  return SOURCES.some((s) => statSync(s).mtimeMs > built);
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Builds when stale; one builder at a time across vitest's worker processes (a lock directory). */
function build(): string | undefined {
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      if (!stale()) return undefined; // another process built it meanwhile
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 300_000) rmdirSync(LOCK); // left by a run that was killed
      } catch {
        /* gone meanwhile */
      }
      if (Date.now() > deadline) return `waited 120 s for ${LOCK} (remove it if no build is running)`;
      sleep(200);
    }
  }
  try {
    if (!stale()) return undefined;
    const r = spawnSync(process.execPath, [`${root}scripts/build-native.mjs`, '--test'], {
      encoding: 'utf8',
      env: { ...process.env, TUNNELPLANE_REQUIRE_NATIVE: '1' },
    });
    return r.status === 0
      ? undefined
      : `scripts/build-native.mjs --test exited with ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}`;
  } finally {
    rmdirSync(LOCK);
  }
}

let cached: { addon: NativeTestBinding | null; problem: string | undefined } | undefined;

/** The test build, or null and why (it is built only where the production addon built: a C compiler is there). */
export function nativeTestAddon(): { addon: NativeTestBinding | null; problem: string | undefined } {
  if (cached) return cached;
  const problem = stale() ? build() : undefined;
  if (problem) return (cached = { addon: null, problem });
  try {
    return (cached = { addon: createRequire(import.meta.url)(ADDON) as NativeTestBinding, problem: undefined });
  } catch (e) {
    return (cached = { addon: null, problem: `${ADDON} did not load: ${e instanceof Error ? e.message : String(e)}` });
  }
}

/**
 * A 32-byte key in memory V8 never moves (an off-heap ArrayBuffer: small typed arrays live in V8's heap, whose
 * collector copies them and leaves stale copies behind), and a counter of its first 16 bytes in process memory --
 * as stored (AES-NI schedules begin with the key) and with each 32-bit word byte-swapped (the C schedules) --
 * from a masked copy, so the test itself holds no second plain copy.
 */
export function trackedKey(addon: NativeTestBinding): { key: Uint8Array; count(): number } {
  const mem = new ArrayBuffer(4096);
  const key = new Uint8Array(mem, 0, 32);
  crypto.getRandomValues(key);
  const mask = crypto.getRandomValues(new Uint8Array(mem, 64, 16));
  const maskSwapped = new Uint8Array(mem, 96, 16);
  const masked = new Uint8Array(mem, 128, 16);
  const maskedSwapped = new Uint8Array(mem, 160, 16);
  crypto.getRandomValues(maskSwapped);
  for (let i = 0; i < 16; i++) {
    masked[i] = key[i]! ^ mask[i]!;
    const s = (i & ~3) | (3 - (i & 3));
    maskedSwapped[i] = key[s]! ^ maskSwapped[i]!;
  }
  return {
    key,
    count: () => addon.debugCountInMemory(masked, mask) + addon.debugCountInMemory(maskedSwapped, maskSwapped),
  };
}
