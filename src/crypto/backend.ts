// Backend choice shared by every primitive family (AES-256, ChaCha20, SHA-256, ...): the `backend` option wins, then
// TUNNELPLANE_BACKEND=wasm|node, then the family's own default (chosen by measurement, documented in docs/aes.md and docs/chacha.md).
import type { CryptoBackend } from './types.js';

const BACKENDS: readonly CryptoBackend[] = ['wasm', 'node'];

/** Per-family defaults for 'auto'; a family registers its own with `setDefaultBackend`. */
const defaults = new Map<string, CryptoBackend>();

/** Records the backend 'auto' resolves to for `family` (call once at module load of the family). */
export function setDefaultBackend(family: string, backend: CryptoBackend): void {
  if (!BACKENDS.includes(backend)) throw new TypeError(`tunnelplane: unknown backend '${String(backend)}'`);
  defaults.set(family, backend);
}

/**
 * The backend to use for `family`: `option` if it is 'wasm' or 'node', else TUNNELPLANE_BACKEND if set, else the
 * family's registered default (`fallback` when none is registered, 'wasm' when neither is given).
 * Unknown names throw a TypeError: a typo must not silently select another implementation.
 */
export function resolveBackend(
  family: string,
  option?: CryptoBackend | 'auto',
  fallback?: CryptoBackend,
): CryptoBackend {
  if (option !== undefined && option !== 'auto') {
    if (!BACKENDS.includes(option)) {
      throw new TypeError(`tunnelplane: unknown ${family} backend '${String(option)}' (expected wasm, node or auto)`);
    }
    return option;
  }
  const env = process.env.TUNNELPLANE_BACKEND;
  if (env !== undefined && env !== '' && env !== 'auto') {
    if (!BACKENDS.includes(env as CryptoBackend)) {
      throw new TypeError(`tunnelplane: TUNNELPLANE_BACKEND='${env}' is not wasm, node or auto`);
    }
    return env as CryptoBackend;
  }
  return defaults.get(family) ?? fallback ?? 'wasm';
}
