#!/usr/bin/env node
// @ts-check
/**
 * Size check of what a browser app ships for syncline (`npm run check:size`, part of
 * `npm test`): sync-core + adapter-rest + react, bundled by esbuild, minified, tree-shaken and
 * gzipped (bench/lib/browser-bundle.mjs). Fails above the budget. Run after `npm run build`.
 *
 * The budget is a ratchet on the way to the 15 kB target (docs/decisions.md, issue 13): lower
 * it when the bundle shrinks, never raise it without writing down why.
 */
import { measureBundle } from '../bench/lib/browser-bundle.mjs';

/** Budget of the min+gzip bundle, in bytes. */
const BUDGET_BYTES = 29 * 1024;
/** Where the design wants it. */
const TARGET_BYTES = 15 * 1024;

const kb = (/** @type {number} */ bytes) => `${(bytes / 1024).toFixed(1)} kB`;
const { minified, gzipped } = await measureBundle();
console.log(
  `browser bundle (sync-core + adapter-rest + react): ${kb(minified)} minified, ${kb(gzipped)} min+gzip; budget ${kb(BUDGET_BYTES)}, target ${kb(TARGET_BYTES)}`,
);
if (gzipped > BUDGET_BYTES) {
  console.error(`FAILED: ${kb(gzipped)} is over the budget of ${kb(BUDGET_BYTES)}`);
  process.exitCode = 1;
}
