// RouterInfo files as i2pd reads and writes them (ntcp2-routerinfo.md §2.5): `<datadir>/router.info` (the router's
// own) and `<datadir>/netDb/r<C>/routerInfo-<B64>.dat`, where <B64> is the I2P Base64 of the ident hash and <C> its
// first character. Each file is the raw signed RouterInfo, nothing before or after it.
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fail, type Result } from '../common/bytes.js';
import { identHashBase64 } from './identity.js';
import { MAX_ROUTER_INFO_SIZE, parseRouterInfo, type RouterInfo } from './router-info.js';

export const NETDB_DIR = 'netDb';

/** `netDb/r<C>/routerInfo-<B64>.dat` relative to a data directory. */
export function netDbRelativePath(hash: Uint8Array): string {
  const b64 = identHashBase64(hash);
  return join(NETDB_DIR, `r${b64[0]}`, `routerInfo-${b64}.dat`);
}

/** Writes signed RouterInfo bytes atomically (temporary file, then rename), creating the directory if needed. */
export function writeRouterInfoFile(path: string, bytes: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes, { mode: 0o644 });
  renameSync(tmp, path);
}

/** Stores a RouterInfo in a data directory's netDb under its canonical name; returns the path. */
export function writeNetDbEntry(dataDir: string, ri: RouterInfo): string {
  const path = join(dataDir, netDbRelativePath(ri.identHash));
  writeRouterInfoFile(path, ri.bytes);
  return path;
}

/** Reads and parses a RouterInfo file (signature not checked: see verifyRouterInfo). Never throws. */
export function readRouterInfoFile(path: string): Result<RouterInfo> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    return fail(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return fail(`${path} is not a regular file`);
    if (st.size > MAX_ROUTER_INFO_SIZE)
      return fail(`${path}: ${st.size} bytes is larger than a RouterInfo may be (${MAX_ROUTER_INFO_SIZE})`);
    const buf = new Uint8Array(st.size);
    let got = 0;
    while (got < st.size) {
      const n = readSync(fd, buf, got, st.size - got, got);
      if (n === 0) break;
      got += n;
    }
    const res = parseRouterInfo(buf.subarray(0, got));
    return res.ok ? res : fail(`${path}: ${res.error}`);
  } catch (err) {
    return fail(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Regular files under `<dataDir>/netDb`, recursively, as i2pd loads them (it does not check names on load); at
 * most `limit` paths, so a hostile directory cannot make this unbounded.
 */
export function listNetDbFiles(dataDir: string, limit = 100_000): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 4 || out.length >= limit) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (out.length >= limit) return;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(join(dataDir, NETDB_DIR), 0);
  return out.sort();
}
