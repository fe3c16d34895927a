// Runs a tunnelplane-vectors/1 file: every case goes to the handler of its kind (src/vectors/kinds.ts).
import { type CaseResult, type VectorsFile, VectorsFormatError } from './format.js';
import { KIND_HANDLERS } from './kinds.js';

export interface RunSummary {
  results: CaseResult[];
  failed: number;
}

/** Validates every case first (a malformed case aborts the run), then runs them. */
export function runVectors(file: VectorsFile): RunSummary {
  for (const c of file.cases) {
    const handler = KIND_HANDLERS[c.kind];
    if (!handler) throw new VectorsFormatError(`case "${c.name}": unknown kind "${c.kind}"`);
    handler.validate(c);
  }
  const results = file.cases.map((c) => KIND_HANDLERS[c.kind]!.run(c));
  return { results, failed: results.filter((r) => r.pass === false).length };
}
