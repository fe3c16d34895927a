// The tunnelplane-vectors/1 conformance format (../shared/spec/vectors-format.md): parsing with exact errors.
export const VECTORS_FORMAT = 'tunnelplane-vectors/1';

/** A vectors file or case that does not follow the format: the CLI reports it with exit status 2. */
export class VectorsFormatError extends Error {
  override name = 'VectorsFormatError';
}

export type Layer = 'aes' | 'chacha';
export type Delivery = 'LOCAL' | 'TUNNEL' | 'ROUTER';

export interface VectorCase {
  kind: string;
  name: string;
  layer?: Layer;
  [field: string]: unknown;
}

export interface VectorsFile {
  format: typeof VECTORS_FORMAT;
  cases: VectorCase[];
}

export interface CaseResult {
  name: string;
  pass: boolean | null;
  output: unknown;
  error?: string;
}

/** One case kind of the runner: validate throws VectorsFormatError for malformed input, run returns the verdict. */
export interface KindHandler {
  validate(c: VectorCase): void;
  run(c: VectorCase): CaseResult;
}

export function parseVectorsFile(text: string): VectorsFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new VectorsFormatError(`not JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new VectorsFormatError('top level must be an object');
  const obj = data as Record<string, unknown>;
  if (obj.format !== VECTORS_FORMAT)
    throw new VectorsFormatError(`unknown format ${JSON.stringify(obj.format)} (expected "${VECTORS_FORMAT}")`);
  if (!Array.isArray(obj.cases)) throw new VectorsFormatError('"cases" must be an array');
  const names = new Set<string>();
  obj.cases.forEach((c, i) => {
    if (typeof c !== 'object' || c === null || Array.isArray(c))
      throw new VectorsFormatError(`case ${i} is not an object`);
    const vc = c as Record<string, unknown>;
    if (typeof vc.kind !== 'string') throw new VectorsFormatError(`case ${i} has no "kind"`);
    if (typeof vc.name !== 'string' || vc.name === '') throw new VectorsFormatError(`case ${i} has no "name"`);
    if (names.has(vc.name)) throw new VectorsFormatError(`case name "${vc.name}" is not unique`);
    names.add(vc.name);
    if (vc.layer !== undefined && vc.layer !== 'aes' && vc.layer !== 'chacha') {
      throw new VectorsFormatError(`case "${vc.name}": unknown layer ${JSON.stringify(vc.layer)}`);
    }
  });
  return obj as unknown as VectorsFile;
}

// --- field readers used by the kind handlers: each throws VectorsFormatError naming the case and field ---

export function hexField(c: VectorCase, field: string, size?: number): Uint8Array {
  return hexValue(c, field, c[field], size);
}

export function hexValue(c: VectorCase, field: string, value: unknown, size?: number): Uint8Array {
  if (typeof value !== 'string' || value.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(value)) {
    throw new VectorsFormatError(`case "${c.name}": ${field} must be a hex string`);
  }
  const bytes = Uint8Array.from(Buffer.from(value, 'hex'));
  if (size !== undefined && bytes.length !== size) {
    throw new VectorsFormatError(`case "${c.name}": ${field} must be ${size} bytes, not ${bytes.length}`);
  }
  return bytes;
}

export function uintField(c: VectorCase, field: string, value: unknown = c[field], max = 0xffffffff): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new VectorsFormatError(`case "${c.name}": ${field} must be an integer 0..${max}`);
  }
  return value;
}

export function arrayField(c: VectorCase, field: string): unknown[] {
  const v = c[field];
  if (!Array.isArray(v)) throw new VectorsFormatError(`case "${c.name}": ${field} must be an array`);
  return v;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
