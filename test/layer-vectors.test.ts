// Conformance: the hop and strip cases through the CLI (public AES sample, our ChaCha vectors), the published ChaCha
// vectors against an independent computation (the noble-based reference), and malformed cases rejected.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { refChachaHop, refChachaStrip } from './reference/layer-reference.js';
import { hex } from './helpers/batch.js';
import { LAYER_KINDS } from '../src/vectors/layer-kinds.js';
import { VectorsFormatError } from '../src/vectors/format.js';

const CLI = join(import.meta.dirname, '..', 'bin', 'tunnelplane.js');
const SAMPLE = join(import.meta.dirname, '..', '..', 'shared', 'spec', 'vectors', 'tunnel-aes-sample.json');
const CHACHA = join(import.meta.dirname, '..', 'docs', 'vectors', 'chacha-layer.json');
const h = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

function runCli(file: string): { results: { name: string; pass: boolean | null; output: unknown }[] } {
  return JSON.parse(execFileSync('node', [CLI, 'vectors', 'run', file], { encoding: 'utf8' }));
}

describe('layer vectors', () => {
  it('the CLI passes every hop and strip case of the public AES sample', () => {
    const cases = (JSON.parse(readFileSync(SAMPLE, 'utf8')).cases as { kind: string; name: string }[]).filter(
      (c) => c.kind === 'hop' || c.kind === 'strip',
    );
    const dir = mkdtempSync(join(tmpdir(), 'tp-layer-'));
    const file = join(dir, 'layer-only.json');
    writeFileSync(file, JSON.stringify({ format: 'tunnelplane-vectors/1', cases }));
    const out = runCli(file);
    expect(out.results.length).toBe(cases.length);
    for (const r of out.results) expect(r.pass, r.name).toBe(true);
  });

  it('docs/vectors/chacha-layer.json agrees with the independent reference and passes through the CLI', () => {
    const file = JSON.parse(readFileSync(CHACHA, 'utf8')) as { cases: Record<string, any>[] };
    expect(file.cases.length).toBeGreaterThanOrEqual(10);
    for (const c of file.cases) {
      expect(c.layer).toBe('chacha');
      const opt = (k: string): Uint8Array | undefined => (c[k] ? h(c[k]) : undefined);
      let ref: Uint8Array | null;
      if (c.kind === 'hop') {
        ref = refChachaHop(
          h(c.input),
          { layerKey: h(c.layerKey), ivKey: h(c.nonceKey), inAeadKey: opt('inAeadKey'), outAeadKey: opt('outAeadKey') },
          c.nextTunnelId,
        );
      } else {
        const hops = c.hops.map((x: any) => ({ layerKey: h(x.layerKey), ivKey: h(x.nonceKey) }));
        ref = refChachaStrip(h(c.input), hops, { inAeadKey: opt('inAeadKey'), outAeadKey: opt('outAeadKey') });
      }
      expect(ref === null ? null : hex(ref), c.name).toBe(c.expect);
    }
    const out = runCli(CHACHA);
    for (const r of out.results) expect(r.pass, r.name).toBe(true);
  });

  it('the generator reproduces docs/vectors/chacha-layer.json without importing the code under test', () => {
    const generator = join(import.meta.dirname, '..', 'docs', 'vectors', 'generate-chacha-layer.mjs');
    const imports = [...readFileSync(generator, 'utf8').matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
    expect(imports.length).toBeGreaterThan(0);
    for (const spec of imports)
      expect(spec, 'the generator may use node: built-ins and @noble only').toMatch(/^(node:|@noble\/)/);
    const out = execFileSync('node', [generator], { encoding: 'utf8' });
    expect(out).toBe(readFileSync(CHACHA, 'utf8'));
  });

  it('malformed hop/strip cases are VectorsFormatError (CLI exit 2)', () => {
    const good = JSON.parse(readFileSync(SAMPLE, 'utf8')).cases.find((c: any) => c.kind === 'hop');
    const bad = [
      { ...good, layerKey: 'abcd' },
      { ...good, ivKey: undefined },
      { ...good, input: good.input.slice(0, 100) },
      { ...good, nextTunnelId: -1 },
      { ...good, expect: 42 },
      { ...good, expect: null },
      { kind: 'strip', name: 's', hops: [], input: good.input },
      {
        kind: 'strip',
        name: 's',
        hops: Array(9).fill({ layerKey: good.layerKey, ivKey: good.ivKey }),
        input: good.input,
      },
      { kind: 'strip', name: 's', hops: [{ layerKey: good.layerKey }], input: good.input },
      {
        kind: 'strip',
        name: 's',
        layer: 'chacha',
        hops: [{ layerKey: good.layerKey, ivKey: good.ivKey }],
        input: good.input,
      },
    ];
    for (const c of bad)
      expect(() => LAYER_KINDS[c.kind]!.validate(c as never), JSON.stringify(c).slice(0, 80)).toThrow(
        VectorsFormatError,
      );
    const dir = mkdtempSync(join(tmpdir(), 'tp-layer-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ format: 'tunnelplane-vectors/1', cases: [bad[0]] }));
    const r = spawnSync('node', [CLI, 'vectors', 'run', file], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/layerKey/);
  });
});
