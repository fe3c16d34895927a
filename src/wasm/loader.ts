// Loads the tunnelplane WASM module: compiled once per thread and flavor, instantiated per user (one instance per
// worker thread in the pool). The SIMD flavor is chosen when this engine validates it, the plain one otherwise;
// `flavor` (option) or TUNNELPLANE_WASM=simd|plain|debug forces one.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type WasmFlavor = 'simd' | 'plain' | 'debug';

const FILES: Record<WasmFlavor, string> = {
  simd: 'tunnelplane-simd.wasm',
  plain: 'tunnelplane.wasm',
  debug: 'tunnelplane-debug.wasm',
};

/** Names of the exported region bases (assembly/layout.ts). */
const REGION_NAMES = [
  'MSG',
  'MSG_SLOT_A',
  'MSG_SLOT_B',
  'MSG_PARAM',
  'MSG_LEN',
  'MSG_OUT',
  'MSG_STATUS',
  'KEY_IN',
  'AES_SLOTS',
  'CHACHA_SLOTS',
  'IO',
  'SCRATCH',
] as const;
export type RegionName = (typeof REGION_NAMES)[number];

/** Byte offsets of the named regions in WASM memory. */
export type Regions = Readonly<Record<RegionName, number>>;

/** The kernels' exports; each primitive family types the functions it calls (src/crypto/*). */
export type WasmExports = { readonly memory: WebAssembly.Memory } & { readonly [name: string]: unknown };

export interface WasmInstance {
  readonly flavor: WasmFlavor;
  readonly exports: WasmExports;
  readonly memory: WebAssembly.Memory;
  /** Byte view of the whole memory (memory never grows, so views never detach). */
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly regions: Regions;
}

function buildDir(): string {
  // Works from src/wasm (vitest, tsx) and from dist/src/wasm (compiled).
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'build');
    if (existsSync(join(candidate, FILES.plain))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('tunnelplane: WASM build not found (build/tunnelplane.wasm); run `npm run build:wasm`');
}

const bytesCache = new Map<WasmFlavor, Uint8Array<ArrayBuffer>>();
const moduleCache = new Map<WasmFlavor, WebAssembly.Module>();

export function wasmBytes(flavor: WasmFlavor): Uint8Array<ArrayBuffer> {
  let bytes = bytesCache.get(flavor);
  if (!bytes) {
    bytes = new Uint8Array(readFileSync(join(buildDir(), FILES[flavor])));
    bytesCache.set(flavor, bytes);
  }
  return bytes;
}

/** True when this engine accepts the SIMD build. */
export function simdSupported(): boolean {
  return WebAssembly.validate(wasmBytes('simd'));
}

/** Picks the flavor: explicit option, then TUNNELPLANE_WASM, then SIMD if it validates. */
export function chooseFlavor(flavor?: WasmFlavor): WasmFlavor {
  const requested = flavor ?? (process.env.TUNNELPLANE_WASM as WasmFlavor | undefined);
  if (requested !== undefined && requested !== ('' as WasmFlavor)) {
    if (!(requested in FILES)) {
      throw new TypeError(`tunnelplane: unknown WASM flavor '${requested}' (expected simd, plain or debug)`);
    }
    if (requested === 'simd' && !simdSupported()) {
      throw new RangeError('tunnelplane: WASM SIMD was requested but this engine does not support it');
    }
    return requested;
  }
  return simdSupported() ? 'simd' : 'plain';
}

/** The compiled module for a flavor, compiled once per thread (a Module can also be posted to workers). */
export function wasmModule(flavor: WasmFlavor): WebAssembly.Module {
  let mod = moduleCache.get(flavor);
  if (!mod) {
    mod = new WebAssembly.Module(wasmBytes(flavor));
    moduleCache.set(flavor, mod);
  }
  return mod;
}

function abort(msg: number, file: number, line: number, col: number): never {
  // Only the debug flavor keeps assertions; release builds import nothing.
  throw new Error(`tunnelplane WASM abort at ${line}:${col} (message ptr ${msg}, file ptr ${file})`);
}

/** A new, independent instance (own memory, own key slots). */
export function createInstance(options: { flavor?: WasmFlavor; module?: WebAssembly.Module } = {}): WasmInstance {
  const flavor = chooseFlavor(options.flavor);
  const mod = options.module ?? wasmModule(flavor);
  const instance = new WebAssembly.Instance(mod, { env: { abort } });
  const exports = instance.exports as unknown as WasmExports;
  const memory = exports.memory;
  const regions = {} as Record<RegionName, number>;
  for (const name of REGION_NAMES) {
    const g = exports[`${name}_BASE`] as WebAssembly.Global | undefined;
    if (!g) throw new Error(`tunnelplane: WASM export ${name}_BASE missing`);
    regions[name] = Number(g.value);
  }
  return {
    flavor,
    exports,
    memory,
    regions: Object.freeze(regions),
    u8: new Uint8Array(memory.buffer),
    u32: new Uint32Array(memory.buffer),
  };
}

const shared = new Map<WasmFlavor, WasmInstance>();

/** This thread's default instance of a flavor, created on first use. */
export function sharedInstance(flavor?: WasmFlavor): WasmInstance {
  const f = chooseFlavor(flavor);
  let inst = shared.get(f);
  if (!inst) {
    inst = createInstance({ flavor: f });
    shared.set(f, inst);
  }
  return inst;
}
