#!/usr/bin/env node
// @ts-check
/**
 * What each module costs in the browser bundle that `npm run check:size` measures: the same app
 * entry (bench/lib/browser-bundle.mjs), bundled by esbuild from the packages' SOURCES (so every
 * module shows by name, not as a tsup chunk), minified and tree-shaken; prints, largest first,
 * the minified bytes each input contributes and its gzip share: how many bytes the min+gzip
 * bundle loses when that module's output is cut out of it (found through the source map). The
 * gzip share is what a change saves: repeated patterns cost little once gzipped, distinct code
 * and text cost their bytes. Use it to find what a basic app ships and need not.
 *
 * `node scripts/bundle-breakdown.mjs [--top N] [--core-rest] [--groups]` (`--core-rest`: the entry
 * without the React bindings, issue 10's figure; `--groups`: the gzip share of each part of the
 * engine, module groups by what they do (GROUPS below), and of the local engine alone: what the
 * bundle would be without any part that syncs).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { APP_ENTRY, browserBuildOptions, CORE_REST_ENTRY } from '../bench/lib/browser-bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = (/** @type {string} */ path) => join(root, 'packages', path);
const topIndex = process.argv.indexOf('--top');
const top = topIndex === -1 ? 40 : Number(process.argv[topIndex + 1]);
const entry = process.argv.includes('--core-rest') ? CORE_REST_ENTRY : APP_ENTRY;

// The check's options without their empty tsconfig: this script reads the sources.
const { tsconfigRaw: _ignored, ...options } = browserBuildOptions(entry);
const result = await build({
  ...options,
  metafile: true,
  sourcemap: 'external',
  outfile: join(root, 'bundle-breakdown.js'), // never written (write: false); names the map
  // sync-core's entries come from the repository's tsconfig paths; the others by alias.
  tsconfig: join(root, 'tsconfig.base.json'),
  alias: {
    '@syncline/adapter-rest': source('adapter-rest/src/index.ts'),
    '@syncline/react': source('react/src/index.ts'),
  },
  plugins: [
    {
      // sync-core's main entry as a browser build resolves it (its `browser` export condition).
      name: 'sync-core-browser-entry',
      setup(build) {
        build.onResolve({ filter: /^@syncline\/sync-core$/ }, () => ({
          path: source('sync-core/src/browser.ts'),
        }));
      },
    },
  ],
});
const output = Object.values(result.metafile.outputs).find((out) => out.entryPoint !== undefined);
const code = result.outputFiles.find((file) => file.path.endsWith('.js'))?.text ?? '';
const map = JSON.parse(result.outputFiles.find((file) => file.path.endsWith('.map'))?.text ?? '{}');
const gzipped = (/** @type {string} */ text) => gzipSync(text, { level: 9 }).byteLength;
const total = gzipped(code);

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * The segments of a source map's `mappings`, per output line, as `[column, sourceIndex]`
 * (Source Map v3: base64 VLQ, fields relative to the previous segment; only the first two are
 * needed here).
 * @param {string} mappings
 * @returns {Array<Array<[number, number]>>}
 */
function decodeMappings(mappings) {
  let sourceIndex = 0;
  return mappings.split(';').map((line) => {
    let column = 0;
    /** @type {Array<[number, number]>} */
    const segments = [];
    for (const text of line.split(',')) {
      if (text === '') continue;
      /** @type {number[]} */
      const fields = [];
      let value = 0;
      let shift = 0;
      for (const char of text) {
        const digit = BASE64.indexOf(char);
        value += (digit & 31) << shift;
        if (digit & 32) {
          shift += 5;
          continue;
        }
        fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
        value = 0;
        shift = 0;
      }
      column += fields[0] ?? 0;
      if (fields.length > 1) {
        sourceIndex += fields[1] ?? 0;
        segments.push([column, sourceIndex]);
      } else {
        segments.push([column, -1]); // a segment of generated code, from no source
      }
    }
    return segments;
  });
}

/**
 * The output with every character mapped to one of the sources `indices` cut out, per line. A
 * mapping segment owns the characters up to the next segment of its line. What is left does not
 * run (its references dangle); its gzip size is what the cut part costs.
 * @param {Set<number>} indices
 */
function without(indices) {
  const lines = code.split('\n');
  const segmentsPerLine = decodeMappings(map.mappings ?? '');
  return lines
    .map((line, lineNo) => {
      const segments = segmentsPerLine[lineNo] ?? [];
      let kept = '';
      let from = 0;
      segments.forEach((segment, i) => {
        if (!indices.has(segment[1])) return;
        const end = segments[i + 1]?.[0] ?? line.length;
        kept += line.slice(from, segment[0]);
        from = end;
      });
      return kept + line.slice(from);
    })
    .join('\n');
}

/** @type {string[]} */
const sources = map.sources ?? [];
/** @param {string} path an input of the metafile */
const sourceIndex = (path) => sources.findIndex((name) => join(root, 'x', name).endsWith(path));
/** @param {string} path an input of the metafile, from `packages/` on */
const shortPath = (path) => path.replace(/^.*?packages\//, '');

/**
 * The engine's parts, by what they do; a module belongs to the first group whose pattern
 * matches its path from `packages/` on. `sync` marks the parts only syncing needs.
 * @type {Array<{ name: string, pattern: RegExp, sync: boolean }>}
 */
const GROUPS = [
  { name: 'react bindings', pattern: /^react\//, sync: false },
  { name: 'adapter-rest (HTTP, event stream, errors)', pattern: /^adapter-rest\//, sync: true },
  {
    name: 'replication, server answer checks, server info',
    pattern:
      /^sync-core\/src\/(replication\/|transport\/check|protocol\/(validate\.ts|fields|formats|server-info|limits|pull-headers))/,
    sync: true,
  },
  {
    name: 'account: session switch, claim',
    pattern: /^sync-core\/src\/(account|transport)\//,
    sync: true,
  },
  {
    name: 'conflict review and resolvers',
    pattern: /^sync-core\/src\/(review|conflict)\//,
    sync: false,
  },
  { name: 'status', pattern: /^sync-core\/src\/status\//, sync: false },
  {
    name: 'local writes: write path, outbox, clock, ids, schema, data check',
    pattern: /^sync-core\/src\/((write|outbox|clock|ids|schema|text)\/|protocol\/validate-json)/,
    sync: false,
  },
  {
    name: 'local data: store, replica, storage, observers, env',
    pattern: /^(sync-core\/src\/(store|replica|storage|observe|env)\/|.*idb-keyval)/,
    sync: false,
  },
  {
    name: 'client, engine, errors',
    pattern: /^sync-core\/src\/(client|engine|errors)\//,
    sync: false,
  },
];

if (process.argv.includes('--groups')) {
  const inputs = Object.keys(output?.inputs ?? {});
  /** @type {Map<string, Set<number>>} */
  const members = new Map(GROUPS.map((group) => [group.name, new Set()]));
  const syncing = new Set();
  for (const path of inputs) {
    const group = GROUPS.find(({ pattern }) => pattern.test(shortPath(path)));
    if (group === undefined) continue;
    members.get(group.name)?.add(sourceIndex(path));
    if (group.sync) syncing.add(sourceIndex(path));
  }
  console.log(' gzip share  modules  part');
  for (const group of GROUPS) {
    const indices = members.get(group.name) ?? new Set();
    const share = total - gzipped(without(indices));
    console.log(
      `${String(share).padStart(11)}  ${String(indices.size).padStart(7)}  ${group.name}`,
    );
  }
  console.log(`${String(total).padStart(11)}           total min+gzip`);
  console.log(
    `${String(gzipped(without(syncing))).padStart(11)}           without the parts that sync`,
  );
  process.exit(0);
}

const rows = Object.entries(output?.inputs ?? {})
  .map(([path, input]) => {
    const index = sourceIndex(path);
    return {
      path: shortPath(path),
      bytes: input.bytesInOutput,
      gzip:
        index === -1 || input.bytesInOutput === 0 ? 0 : total - gzipped(without(new Set([index]))),
    };
  })
  .sort((a, b) => b.bytes - a.bytes);
console.log('minified  gzip share  module');
for (const row of rows.slice(0, top)) {
  console.log(`${String(row.bytes).padStart(8)}  ${String(row.gzip).padStart(10)}  ${row.path}`);
}
console.log(`${String(output?.bytes ?? 0).padStart(8)}  total minified (before gzip)`);
console.log(`${String(total).padStart(8)}  total min+gzip`);
