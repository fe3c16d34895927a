// The router's data directory, with i2pd's file names and formats (ntcp2-routerinfo.md §2.5): `router.keys` (455
// bytes) and `ntcp2.keys` (80 bytes), both mode 0600, created on the first run and loaded on every later one, so a
// directory can move between this router and i2pd. A present but unreadable key file is an error, never replaced:
// new keys would be a new identity.
import { chmodSync, closeSync, fstatSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail, ok, type Result } from '../common/bytes.js';
import { decodeNtcp2Keys, encodeNtcp2Keys, generateNtcp2Keys, type Ntcp2Keys } from './ntcp2-keys.js';
import { decodeRouterKeys, encodeRouterKeys, generateRouterKeys, type RouterKeys } from './router-keys.js';

export const ROUTER_KEYS_FILE = 'router.keys';
export const NTCP2_KEYS_FILE = 'ntcp2.keys';
export const ROUTER_INFO_FILE = 'router.info';
/** Key files are tiny; anything larger is not one (and is not read whole). */
const MAX_KEY_FILE = 4096;

export interface RouterSecrets {
  readonly keys: RouterKeys;
  readonly ntcp2: Ntcp2Keys;
}

/** Reads a small file, or undefined if it does not exist; refuses files over `max` bytes. */
function readSmall(path: string, max: number): Result<Uint8Array | undefined> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? ok(undefined) : fail(`cannot read ${path}: ${code ?? (err as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return fail(`${path} is not a regular file`);
    if (st.size > max) return fail(`${path} is ${st.size} bytes, more than ${max}`);
    // key files hold secrets: keep them owner-only even if another tool wrote them with a wider mode
    if ((st.mode & 0o077) !== 0) {
      try {
        chmodSync(path, 0o600);
      } catch (err) {
        return fail(
          `${path} is readable by others and cannot be made private: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        );
      }
    }
    const buf = new Uint8Array(st.size);
    let got = 0;
    while (got < st.size) {
      const n = readSync(fd, buf, got, st.size - got, got);
      if (n === 0) break;
      got += n;
    }
    return ok(buf.subarray(0, got));
  } catch (err) {
    return fail(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

function loadOrCreate<T>(
  path: string,
  decode: (b: Uint8Array) => Result<T>,
  create: () => T,
  encode: (v: T) => Uint8Array,
): Result<{ value: T; created: boolean }> {
  const existing = readSmall(path, MAX_KEY_FILE);
  if (!existing.ok) return existing;
  if (existing.value !== undefined) {
    const res = decode(existing.value);
    existing.value.fill(0);
    return res.ok ? ok({ value: res.value, created: false }) : fail(`${path}: ${res.error}`);
  }
  const value = create();
  const bytes = encode(value);
  try {
    writeFileSync(path, bytes, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    return fail(`cannot create ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  } finally {
    bytes.fill(0);
  }
  return ok({ value, created: true });
}

/**
 * Loads router.keys and ntcp2.keys from `dir`, creating whichever is missing (and `dir` itself, mode 0700).
 * `created` lists the files written by this call.
 */
export function loadOrCreateRouterSecrets(dir: string): Result<RouterSecrets & { created: string[] }> {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    return fail(`cannot create ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const created: string[] = [];
  const keys = loadOrCreate(join(dir, ROUTER_KEYS_FILE), decodeRouterKeys, generateRouterKeys, encodeRouterKeys);
  if (!keys.ok) return keys;
  if (keys.value.created) created.push(ROUTER_KEYS_FILE);
  const ntcp2 = loadOrCreate(join(dir, NTCP2_KEYS_FILE), decodeNtcp2Keys, generateNtcp2Keys, encodeNtcp2Keys);
  if (!ntcp2.ok) return ntcp2;
  if (ntcp2.value.created) created.push(NTCP2_KEYS_FILE);
  return ok({ keys: keys.value.value, ntcp2: ntcp2.value.value, created });
}
