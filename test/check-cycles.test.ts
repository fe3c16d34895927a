// scripts/check-cycles.mjs on small trees written here: it must name file and folder cycles, pass a tree without
// any, and skip type-only imports only when asked (--runtime-only).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'check-cycles.mjs');
const dirs: string[] = [];

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'check-cycles-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function check(root: string, ...flags: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [script, ...flags, root], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('scripts/check-cycles.mjs', () => {
  it('passes a layered tree (shared file at the root, index re-exports, a dynamic import, a package import)', () => {
    const root = tree({
      'constants.ts': 'export const N = 1;\n',
      'index.ts': "export * from './a/index.js';\nexport { B } from './b/b.js';\n",
      'a/index.ts': "export { A } from './a.js';\n",
      'a/a.ts': "import { N } from '../constants.js';\nimport { B } from '../b/b.js';\nexport const A = N + B;\n",
      'b/b.ts':
        "import { N } from '../constants.js';\nimport { x } from 'node:fs';\nexport const B = N;\n// import '../a/a.js'\nconst s = \"import '../a/a.js'\";\n",
      'c/c.ts': "export const load = () => import('../a/index.js');\n",
    });
    const r = check(root);
    expect(r.out).toMatch(/0 file cycle\(s\), 0 folder cycle\(s\)/);
    expect(r.status).toBe(0);
  });

  it('names a file cycle, and the folder cycle a cross-folder import makes', () => {
    const root = tree({
      'v/kinds.ts': "import { F } from './frame-kinds.js';\nexport const K = [F];\nexport interface H { x: number }\n",
      'v/frame-kinds.ts': "import type { H } from './kinds.js';\nexport const F: H = { x: 1 };\n",
      'frame/hash.ts': 'export const sha = 1;\n',
      'frame/endpoint.ts': "import { enc } from '../i2np/header.js';\nexport const E = enc;\n",
      'i2np/header.ts': "import { sha } from '../frame/hash.js';\nexport const enc = sha;\n",
    });
    const r = check(root);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/file cycle: \S*v\/frame-kinds\.ts -> \S*v\/kinds\.ts -> \S*v\/frame-kinds\.ts/);
    expect(r.out).toMatch(/folder cycle: \S*\/frame -> \S*\/i2np -> \S*\/frame/);
    expect(r.out).toMatch(/i2np\/header\.ts -> \S*frame\/hash\.ts/);
    expect(r.out).toMatch(/1 file cycle\(s\), 1 folder cycle\(s\)/);
  });

  it('--runtime-only leaves out a cycle that only type imports close', () => {
    const root = tree({
      'p/a.ts': "import { b } from './b.js';\nexport interface A { n: number }\nexport const a = b;\n",
      'p/b.ts': "import type { A } from './a.js';\nexport const b: A = { n: 1 };\n",
    });
    expect(check(root).status).toBe(1);
    const r = check(root, '--runtime-only');
    expect(r.out).toMatch(/0 file cycle\(s\)/);
    expect(r.status).toBe(0);
  });
});
