import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { browserBuildOptions, APP_ENTRY } from '../lib/browser-bundle.mjs';
const r = await build({ ...browserBuildOptions(APP_ENTRY), minify: false, minifySyntax: true, minifyIdentifiers: true, minifyWhitespace: false });
const text = r.outputFiles[0].text;
const parts = text.split(/^(?=\/\/ (?:packages|node_modules|\.\.)\S*$)/m);
const squash = (s) => s.replace(/^\s*\/\/.*$/gm, '').replace(/\n\s*/g, '\n');
const all = squash(text);
const base = gzipSync(all).length;
console.log('total gz', base);
for (const p of parts) {
  const name = p.split('\n')[0];
  if (!/replica|outbox|push-results|pull-page|settlement|claim|local-writer|device-clock|invalid-records|pull-loop|push-loop/.test(name)) continue;
  const without = squash(text.replace(p, ''));
  console.log(String(base - gzipSync(without).length).padStart(6), name);
}
