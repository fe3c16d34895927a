// Kind handlers of the conformance runner. Each kind validates a case (throwing VectorsFormatError for malformed
// input) and runs it, returning the runner's own verdict.
import type { CaseResult, VectorCase } from './format.js';

export interface KindHandler {
  validate(c: VectorCase): void;
  run(c: VectorCase): CaseResult;
}

export const KIND_HANDLERS: Record<string, KindHandler> = {};
