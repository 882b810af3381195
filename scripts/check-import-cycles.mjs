#!/usr/bin/env node
// Fails when a package's source has an import cycle (type-only imports count: a cycle of types
// still ties two concerns together, and makes the load order matter). `npm run check:cycles`
// (part of `npm test`); `node scripts/check-import-cycles.mjs <srcDir>...` checks other folders.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** Every non-test `.ts` file under `dir`. */
function sourceFiles(dir) {
  const files = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !/\.(test|spec|bench)\.ts$/.test(name)) files.push(path);
  }
  return files;
}

/** The relative imports of `file`, resolved to `.ts` paths. */
function importsOf(file) {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles
    .map((ref) => ref.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
}

/** The cycles of the import graph of `files` (each found once, by a depth-first search). */
function findCycles(files) {
  const graph = new Map(
    files.map((file) => [file, importsOf(file).filter((to) => files.includes(to))]),
  );
  const cycles = [];
  const state = new Map(); // file -> 'open' | 'done'
  const stack = [];
  const visit = (file) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return cycles;
}

const roots = process.argv.slice(2);
// The server's routes and stores still import each other (not yet untangled): not checked.
const PACKAGES = ['sync-core', 'adapter-rest', 'adapter-supabase', 'react'];
const dirs = roots.length > 0 ? roots : PACKAGES.map((name) => `packages/${name}/src`);
let failed = false;
for (const dir of dirs) {
  const cycles = findCycles(sourceFiles(resolve(dir)));
  for (const cycle of cycles) {
    failed = true;
    console.error(
      `import cycle in ${dir}: ${cycle.map((f) => relative(resolve(dir), f)).join(' -> ')}`,
    );
  }
}
if (failed) process.exit(1);
console.log(`no import cycles in ${dirs.join(', ')}`);
