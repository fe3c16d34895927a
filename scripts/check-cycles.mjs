#!/usr/bin/env node
// Fails when a file or a folder under src/ imports itself through a chain of imports, and lists each cycle.
// Folder level: every top-level folder of a root (src/crypto, src/frame, ...) is one node, and a file directly in the
// root (src/constants.ts) is a node of its own, so layering between folders shows as well as between files.
// Type-only imports count: they are erased at run time but still tie the folders together.
// Uses the TypeScript parser the project already has (no extra dependency), so comments and strings never match.
//
//   node scripts/check-cycles.mjs [--runtime-only] [--json] [root ...]    (default root: src)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every .ts file under dir (declaration files excluded), as paths relative to the repository. */
function listSources(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listSources(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(relative(repo, path).split(sep).join('/'));
  }
  return out;
}

/** Module specifiers a file imports: static imports, `export ... from`, `import x = require()` and literal import(). */
function importsOf(file, runtimeOnly) {
  const text = readFileSync(join(repo, file), 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const specs = [];
  const typeOnlyClause = (clause) => {
    if (!clause) return false; // `import './x.js'` runs x
    if (clause.isTypeOnly) return true;
    if (clause.name) return false;
    const b = clause.namedBindings;
    return !!b && ts.isNamedImports(b) && b.elements.length > 0 && b.elements.every((e) => e.isTypeOnly);
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      if (!(runtimeOnly && typeOnlyClause(node.importClause))) specs.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const typeOnly =
        node.isTypeOnly ||
        (!!node.exportClause &&
          ts.isNamedExports(node.exportClause) &&
          node.exportClause.elements.length > 0 &&
          node.exportClause.elements.every((e) => e.isTypeOnly));
      if (!(runtimeOnly && typeOnly)) specs.push(node.moduleSpecifier.text);
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      if (!(runtimeOnly && node.isTypeOnly)) specs.push(node.moduleReference.expression.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments.length >= 1 &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      specs.push(node.arguments[0].text);
    } else if (!runtimeOnly && ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const lit = node.argument.literal;
      if (ts.isStringLiteral(lit)) specs.push(lit.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return specs;
}

/** The repository-relative .ts file a relative specifier names, or null (packages, node: builtins, non-TS files). */
function resolveSpec(from, spec, known) {
  if (!spec.startsWith('.')) return null;
  const base = join(dirname(from), spec).split(sep).join('/');
  const stem = base.replace(/\.(m|c)?js$/, '');
  for (const c of [`${stem}.ts`, `${stem}.mts`, `${base}.ts`, `${base}/index.ts`, base]) {
    if (known.has(c)) return c;
  }
  return null;
}

/** Strongly connected components (Tarjan, iterative), as arrays of nodes. */
function sccs(graph) {
  let next = 0;
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const out = [];
  for (const start of [...graph.keys()].sort()) {
    if (index.has(start)) continue;
    const work = [[start, [...(graph.get(start) ?? [])].sort(), 0]];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const [v, succ] = frame;
      if (frame[2] < succ.length) {
        const w = succ[frame[2]++];
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          work.push([w, [...(graph.get(w) ?? [])].sort(), 0]);
        } else if (onStack.has(w)) {
          low.set(v, Math.min(low.get(v), index.get(w)));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(v)));
      }
      if (low.get(v) === index.get(v)) {
        const comp = [];
        let w;
        do {
          w = stack.pop();
          onStack.delete(w);
          comp.push(w);
        } while (w !== v);
        if (comp.length > 1 || graph.get(v)?.has(v)) out.push(comp.sort());
      }
    }
  }
  return out;
}

/** One shortest cycle through each member of a component (breadth-first inside it), without repeats. */
function cyclesIn(comp, graph) {
  const inside = new Set(comp);
  const seen = new Set();
  const out = [];
  for (const start of comp) {
    const prev = new Map([[start, null]]);
    const queue = [start];
    let closing = null;
    for (let i = 0; i < queue.length && closing === null; i++) {
      const v = queue[i];
      for (const w of [...(graph.get(v) ?? [])].sort()) {
        if (w === start) {
          closing = v;
          break;
        }
        if (inside.has(w) && !prev.has(w)) {
          prev.set(w, v);
          queue.push(w);
        }
      }
    }
    if (closing === null) continue;
    const path = [];
    for (let v = closing; v !== null; v = prev.get(v)) path.unshift(v);
    // The same cycle found from another member is the same rotation set: keep one.
    const m = path.indexOf([...path].sort()[0]);
    const key = [...path.slice(m), ...path.slice(0, m)].join(' -> ');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(path);
  }
  return out;
}

function main() {
  const args = process.argv.slice(2);
  const runtimeOnly = args.includes('--runtime-only');
  const json = args.includes('--json');
  const roots = args.filter((a) => !a.startsWith('--'));
  if (roots.length === 0) roots.push('src');

  const files = [];
  for (const r of roots) {
    const dir = resolve(repo, r);
    if (!existsSync(dir)) throw new Error(`no such folder: ${r}`);
    files.push(...listSources(dir));
  }
  const known = new Set(files);
  const fileGraph = new Map(files.map((f) => [f, new Set()]));
  for (const f of files) {
    for (const spec of importsOf(f, runtimeOnly)) {
      const to = resolveSpec(f, spec, known);
      if (to !== null) fileGraph.get(f).add(to);
    }
  }

  // Folder node: root/<first folder>, or the file itself when it sits directly in a root.
  const rootOf = (f) =>
    roots.map((r) => relative(repo, resolve(repo, r)).split(sep).join('/')).find((r) => f.startsWith(`${r}/`));
  const folderOf = (f) => {
    const r = rootOf(f);
    const rest = f.slice(r.length + 1).split('/');
    return rest.length > 1 ? `${r}/${rest[0]}` : f;
  };
  const folderGraph = new Map();
  const via = new Map(); // "a -> b" folder edge -> the file imports that make it
  for (const [f, tos] of fileGraph) {
    const a = folderOf(f);
    if (!folderGraph.has(a)) folderGraph.set(a, new Set());
    for (const t of tos) {
      const b = folderOf(t);
      if (a === b) continue;
      folderGraph.get(a).add(b);
      const k = `${a} -> ${b}`;
      if (!via.has(k)) via.set(k, []);
      via.get(k).push(`${f} -> ${t}`);
    }
  }

  const fileCycles = sccs(fileGraph).flatMap((c) => cyclesIn(c, fileGraph));
  const folderCycles = sccs(folderGraph).flatMap((c) => cyclesIn(c, folderGraph));

  if (json) {
    const edges = (p) => p.map((a, i) => via.get(`${a} -> ${p[(i + 1) % p.length]}`));
    console.log(
      JSON.stringify({ files: fileCycles, folders: folderCycles.map((p) => ({ cycle: p, via: edges(p) })) }, null, 2),
    );
  } else {
    for (const p of fileCycles) console.log(`file cycle: ${[...p, p[0]].join(' -> ')}`);
    for (const p of folderCycles) {
      console.log(`folder cycle: ${[...p, p[0]].join(' -> ')}`);
      p.forEach((a, i) => {
        const b = p[(i + 1) % p.length];
        for (const e of via.get(`${a} -> ${b}`)) console.log(`    ${a} -> ${b}: ${e}`);
      });
    }
    const kind = runtimeOnly ? 'runtime imports' : 'imports';
    console.log(
      `${files.length} files in ${roots.join(', ')}: ${fileCycles.length} file cycle(s), ${folderCycles.length} folder cycle(s) (${kind})`,
    );
  }
  process.exitCode = fileCycles.length + folderCycles.length > 0 ? 1 : 0;
}

main();
