// Command-line options of the standalone bench scripts (pool-soak, pool-copies, scaling-probe, chacha-steps).

/** The value after `--name` on the command line, or `def`. */
export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}
