// The hardware ceiling: what OpenSSL's EVP layer (AES-NI, SHA extensions, hand-written assembly) does on one core
// with 1008-byte operations, measured by the `openssl` binary in the same run as the benchmarks.
import { spawnSync } from 'node:child_process';
import type { CeilingAlgorithm } from './types.js';

export const CEILING_BYTES = 1008;

export interface OpensslRate {
  algorithm: CeilingAlgorithm;
  /** Operations per second on one core (1008 bytes each unless the workload's ceiling names another size). */
  opsPerSec: number;
  /** The command that produced it. */
  command: string;
}

/** The `openssl version` line of the binary on PATH, or null when there is none. */
export function opensslVersion(binary = 'openssl'): string | null {
  try {
    const r = spawnSync(binary, ['version'], { encoding: 'utf8', timeout: 10_000 });
    if (r.error || r.status !== 0) return null;
    return r.stdout.trim() || null;
  } catch {
    return null;
  }
}

/**
 * Parses `openssl speed -mr` output. OpenSSL 1.1 and 3.x print `+F:<n>:<alg>:<bytes/s>[:...]` (one rate per -bytes
 * size) and `+R:<count>:<alg>:<seconds>`; the rate line is preferred, the count line is the fallback.
 */
export function parseSpeed(output: string, bytes = CEILING_BYTES): number | null {
  for (const line of output.split('\n')) {
    const m = /^\+F:\d+:[^:]+:([\d.]+)/.exec(line.trim());
    if (m) {
      const bytesPerSec = Number(m[1]);
      if (bytesPerSec > 0) return bytesPerSec / bytes;
    }
  }
  for (const line of output.split('\n')) {
    const m = /^\+R:(\d+):[^:]+:([\d.]+)/.exec(line.trim());
    if (m && Number(m[2]) > 0) return Number(m[1]) / Number(m[2]);
  }
  return null;
}

/**
 * Runs `openssl speed -mr -evp <alg> -bytes <bytes, default 1008> -seconds <s>` (single process: one core). Returns null with a
 * reason when the binary is missing or does not know the algorithm.
 */
export function measureCeiling(
  algorithm: CeilingAlgorithm,
  seconds: number,
  binary = 'openssl',
  bytes = CEILING_BYTES,
): OpensslRate | { algorithm: CeilingAlgorithm; error: string } {
  const args = ['speed', '-mr', '-evp', algorithm, '-bytes', String(bytes), '-seconds', String(seconds)];
  const command = `openssl ${args.filter((a) => a !== '-mr').join(' ')}`;
  const r = spawnSync(binary, args, { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  if (r.error) return { algorithm, error: `${binary}: ${r.error.message}` };
  if (r.status !== 0)
    return { algorithm, error: `${command} exited with ${r.status}: ${(r.stderr || '').trim().split('\n')[0]}` };
  const ops = parseSpeed(r.stdout, bytes);
  if (ops === null) return { algorithm, error: `${command}: no rate in its output` };
  return { algorithm, opsPerSec: ops, command };
}
