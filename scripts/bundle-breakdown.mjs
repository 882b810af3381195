#!/usr/bin/env node
// @ts-check
/**
 * What each module costs in the browser bundle that `npm run check:size` measures: the same app
 * entry (bench/lib/browser-bundle.mjs), bundled by esbuild from the packages' SOURCES (so every
 * module shows by name, not as a tsup chunk), minified and tree-shaken; prints the minified
 * bytes each input contributes, largest first. Use it to find what a basic app ships and need
 * not (`node scripts/bundle-breakdown.mjs [--top N]`).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { APP_ENTRY, browserBuildOptions } from '../bench/lib/browser-bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = (/** @type {string} */ path) => join(root, 'packages', path);
const topIndex = process.argv.indexOf('--top');
const top = topIndex === -1 ? 40 : Number(process.argv[topIndex + 1]);

const result = await build({
  ...browserBuildOptions(APP_ENTRY),
  metafile: true,
  // sync-core's entries come from the repository's tsconfig paths; the others by alias.
  tsconfig: join(root, 'tsconfig.base.json'),
  alias: {
    '@syncline/adapter-rest': source('adapter-rest/src/index.ts'),
    '@syncline/react': source('react/src/index.ts'),
  },
});
const output = Object.values(result.metafile.outputs)[0];
const rows = Object.entries(output?.inputs ?? {})
  .map(([path, input]) => ({
    path: path.replace(/^.*?packages\//, ''),
    bytes: input.bytesInOutput,
  }))
  .sort((a, b) => b.bytes - a.bytes);
for (const row of rows.slice(0, top)) console.log(`${String(row.bytes).padStart(7)}  ${row.path}`);
console.log(`${String(output?.bytes ?? 0).padStart(7)}  total minified (before gzip)`);
const code = result.outputFiles[0]?.contents ?? new Uint8Array();
console.log(`${String(gzipSync(code, { level: 9 }).byteLength).padStart(7)}  total min+gzip`);
