// `tunnelplane vectors run FILE`: the conformance runner (../shared/spec/vectors-format.md).
import { readFileSync } from 'node:fs';
import { parse, UsageError } from './args.js';
import { parseVectorsFile, VectorsFormatError } from '../vectors/format.js';
import { runVectors } from '../vectors/run.js';

export const usage = `usage: tunnelplane vectors run FILE [--summary]

Runs every case of a tunnelplane-vectors/1 file and prints { "results": [ { name, pass, output } ] } on stdout.
--summary   also print "N passed, N failed" on stderr
Exit status: 0 when no case with an expectation failed, 1 when one did, 2 for bad input.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { summary: { type: 'boolean' } }, true);
  if (positionals[0] !== 'run' || positionals.length !== 2) throw new UsageError('expected: vectors run FILE');
  const path = positionals[1]!;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    process.stderr.write(
      `tunnelplane vectors: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`,
    );
    return 2;
  }
  let summary;
  try {
    summary = runVectors(parseVectorsFile(text));
  } catch (err) {
    if (err instanceof VectorsFormatError) {
      process.stderr.write(`tunnelplane vectors: ${path}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  process.stdout.write(JSON.stringify({ results: summary.results }) + '\n');
  if (values.summary) {
    const passed = summary.results.filter((r) => r.pass === true).length;
    process.stderr.write(`${passed} passed, ${summary.failed} failed\n`);
  }
  return summary.failed === 0 ? 0 : 1;
}
