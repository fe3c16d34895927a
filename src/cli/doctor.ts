// `tunnelplane doctor [--json]`: what this machine runs and why. Every answer comes from the function the code itself
// decides with (the engine's own 'auto', the addon loader, each primitive family's factory), never a second copy of
// the rules; docs/install.md explains the outcomes.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from './args.js';
import { cpuHasAes, createAes256 } from '../crypto/aes.js';
import { createChaCha20 } from '../crypto/chacha20.js';
import { createChaCha20Poly1305 } from '../crypto/chacha20-poly1305.js';
import { createSha256 } from '../crypto/sha256.js';
import type { CryptoBackend } from '../crypto/types.js';
import { multiKeyKernel, nativeAes, nativeAesPath, nativeAesProblem } from '../tunnel/aes-native.js';
import { LayerEngine } from '../tunnel/engine.js';
import { addonSource, NATIVE_DIR, type AddonSource } from '../native/locate.js';
import type { EngineBackend } from '../tunnel/types.js';
import { chooseFlavor, simdSupported, type WasmFlavor } from '../wasm/loader.js';

export const usage = `usage: tunnelplane doctor [--json]

What this machine runs and why: Node and OpenSSL, AES instructions, WASM SIMD, the native AES layer (loaded, or
why not), the backend 'auto' picks for the tunnel layers and each primitive, the data plane's worker threads, and
whether i2pd is installed; a hint under anything missing.
--json   one JSON object instead (field aesLayer: the backend 'auto' picks for the tunnel AES layer)
Exit status 0.`;

export interface DoctorReport {
  tunnelplane: string;
  node: string;
  openssl: string;
  napi: string;
  platform: string;
  /** cpuHasAes(): AES-NI / ARMv8 AES reported by the CPU. */
  aesInstructions: boolean;
  wasmSimd: boolean;
  /** The WASM build the wasm backends load (chooseFlavor()). */
  wasmFlavor: WasmFlavor;
  native: {
    loaded: boolean;
    source: AddonSource | null;
    path: string | null;
    problem: string | null;
    installLog: string | null;
    /** The multi-key AES kernel the native layer runs here ('aesni'), or '' (none, or TUNNELPLANE_NO_MULTIKEY=1). */
    multiKey: string;
  };
  /** The backend LayerEngine's 'auto' picks for AES tunnels. */
  aesLayer: Exclude<EngineBackend, 'auto'>;
  /** ... and for ChaCha tunnels. */
  chachaLayer: 'wasm' | 'node';
  /** The backend each primitive family's factory picks with default options. */
  primitives: {
    aes: CryptoBackend;
    chacha20: CryptoBackend;
    'chacha20-poly1305': CryptoBackend;
    sha256: CryptoBackend;
  };
  /** Worker threads a data plane made with default options runs (its `threads` default). */
  dataPlaneThreads: number;
  i2pd: { installed: boolean; path: string | null; version: string | null };
  /** The TUNNELPLANE_* variables that change these choices, as set. */
  env: Record<string, string>;
  /** One line per item that is missing or degraded, keyed like the fields above. */
  hints: Record<string, string>;
}

const ENV_VARS = ['TUNNELPLANE_NO_NATIVE', 'TUNNELPLANE_BACKEND', 'TUNNELPLANE_WASM'];

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(dirname(NATIVE_DIR), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** i2pd on PATH, or where Debian puts it (/usr/sbin is not on every user's PATH). */
export function findI2pd(
  dirs: string[] = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/usr/local/sbin'],
): DoctorReport['i2pd'] {
  for (const dir of dirs) {
    const path = join(dir, process.platform === 'win32' ? 'i2pd.exe' : 'i2pd');
    try {
      accessSync(path, constants.X_OK);
    } catch {
      continue;
    }
    const r = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 5000 });
    const version = /version\s+(\S+)/.exec(`${r.stdout ?? ''}`)?.[1] ?? null;
    return { installed: true, path, version };
  }
  return { installed: false, path: null, version: null };
}

/** What this machine runs, from the same functions the code decides with. */
export function diagnose(i2pdDirs?: string[]): DoctorReport {
  const engine = new LayerEngine({});
  const primitives = {
    aes: createAes256().backend,
    chacha20: createChaCha20().backend,
    'chacha20-poly1305': createChaCha20Poly1305().backend,
    sha256: createSha256().backend,
  };
  const log = join(NATIVE_DIR, 'install.log');
  const native = {
    loaded: nativeAes !== null,
    source: nativeAesPath ? addonSource(nativeAesPath) : null,
    path: nativeAesPath ?? null,
    problem: nativeAesProblem ?? null,
    installLog: nativeAes === null && existsSync(log) ? log : null,
    multiKey: multiKeyKernel,
  };
  const report: DoctorReport = {
    tunnelplane: packageVersion(),
    node: process.versions.node,
    openssl: process.versions.openssl ?? 'none',
    napi: process.versions.napi ?? 'none',
    platform: `${process.platform}-${process.arch}`,
    aesInstructions: cpuHasAes(),
    wasmSimd: simdSupported(),
    wasmFlavor: chooseFlavor(),
    native,
    aesLayer: engine.aesBackend,
    chachaLayer: engine.chachaBackend,
    primitives,
    dataPlaneThreads: availableParallelism(),
    i2pd: findI2pd(i2pdDirs),
    env: Object.fromEntries(ENV_VARS.filter((k) => process.env[k]).map((k) => [k, process.env[k]!])),
    hints: {},
  };
  const h = report.hints;
  if (!report.aesInstructions) {
    h.aesInstructions =
      "no AES instructions reported: OpenSSL's AES (native, hybrid and node backends) is not " +
      "counted on to be constant time on this CPU; the bitsliced 'wasm' backend is";
  }
  if (!report.wasmSimd) h.wasmSimd = 'this engine rejects WASM SIMD: the plain WASM build runs, several times slower';
  if (!native.loaded) {
    // A development checkout (tsconfig.json is never packed) builds with its own script; an installed package rebuilds.
    const build = existsSync(join(dirname(NATIVE_DIR), 'tsconfig.json'))
      ? '`npm run build:native`'
      : '`npm rebuild tunnelplane --foreground-scripts`';
    h.native = native.problem?.includes('TUNNELPLANE_NO_NATIVE')
      ? 'unset TUNNELPLANE_NO_NATIVE to load it'
      : 'with a C compiler and make (Debian: apt-get install build-essential; macOS: xcode-select --install), ' +
        `${build} compiles it` +
        (native.installLog ? `; last attempt: ${native.installLog}` : '');
  }
  if (report.dataPlaneThreads < 2)
    h.dataPlaneThreads = 'one core: the data plane has no second worker to spread tunnels over';
  if (!report.i2pd.installed) {
    h.i2pd =
      'no i2pd found: sessions, LeaseSets and `tunnelplane balance` need an I2P router with I2CP ' +
      '(Debian: apt-get install i2pd)';
  }
  return report;
}

const LAYER_WHAT: Record<string, string> = {
  native: 'OpenSSL EVP through the native layer',
  hybrid: 'node:crypto CBC, WASM for the IV steps',
  node: 'node:crypto',
  wasm: 'constant-time WASM',
};

export function formatReport(r: DoctorReport): string {
  const rows: [string, string, string | undefined][] = [];
  const row = (name: string, value: string, hint?: string) => rows.push([name, value, hint]);
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  row('node', `${r.node} (Node-API ${r.napi}), OpenSSL ${r.openssl}, ${r.platform}`);
  row('AES instructions', yes(r.aesInstructions), r.hints.aesInstructions);
  row('WASM SIMD', `${yes(r.wasmSimd)} (runs the ${r.wasmFlavor} build)`, r.hints.wasmSimd);
  const n = r.native;
  row(
    'native AES layer',
    n.loaded
      ? `loaded, ${n.source === 'prebuilt' ? 'prebuilt binary' : 'compiled here'} (${n.path})`
      : `not loaded: ${n.problem}`,
    r.hints.native,
  );
  const kernel =
    r.aesLayer === 'native' && n.multiKey
      ? `${n.multiKey} multi-key kernel for tunnels with 1-4 messages a batch, OpenSSL EVP for the others`
      : undefined;
  row('tunnel AES layer', `${r.aesLayer} (${kernel ?? LAYER_WHAT[r.aesLayer] ?? r.aesLayer})`);
  row('tunnel ChaCha layer', `${r.chachaLayer} (${LAYER_WHAT[r.chachaLayer] ?? r.chachaLayer})`);
  row(
    'primitives',
    Object.entries(r.primitives)
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
  );
  row(
    'data plane',
    `${r.dataPlaneThreads} worker thread${r.dataPlaneThreads === 1 ? '' : 's'} (one per core)`,
    r.hints.dataPlaneThreads,
  );
  row('i2pd', r.i2pd.installed ? `${r.i2pd.version ?? 'version unknown'} (${r.i2pd.path})` : 'not found', r.hints.i2pd);
  if (Object.keys(r.env).length > 0)
    row(
      'environment',
      Object.entries(r.env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    );
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  const lines = [`tunnelplane ${r.tunnelplane} doctor ('auto' choices on this machine)`];
  for (const [k, v, hint] of rows) {
    lines.push(`  ${k.padEnd(width)}${v}`);
    if (hint) lines.push(`  ${''.padEnd(width)}hint: ${hint}`);
  }
  return lines.join('\n') + '\n';
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } });
  const report = diagnose();
  process.stdout.write(values.json ? JSON.stringify(report) + '\n' : formatReport(report));
  return 0;
}
