// What a browser app ships of sync-core + adapter-rest: esbuild, minified, tree-shaken, gzip.
// Also reports whether the push-request validators (the server's job) made it into the bundle.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** What an app imports: the client, a resolver, a session source and the REST transport. */
const APP = `
import { createSessionSource, createSyncClient, lww } from '@syncline/sync-core';
import { restTransport } from '@syncline/adapter-rest';
export { createSessionSource, createSyncClient, lww, restTransport };
`;

/** Texts that only the push-request validators contain (parsePushRequest and its helpers). */
const PUSH_VALIDATOR_MARKERS = ['duplicate mutation id in one request'];

export const meta = {
  title: 'bundle sync-core + adapter-rest',
  runs: 1,
  metrics: [
    {
      key: 'gzipKb',
      label: 'min + gzip (browser, tree-shaken)',
      unit: 'kB',
      target: 23.3,
      better: 'lower',
    },
    { key: 'minKb', label: 'min', unit: 'kB', better: 'lower' },
    {
      key: 'pushValidators',
      label: 'push-request validators shipped (1 = yes)',
      better: 'lower',
      target: 0,
    },
  ],
};

export async function run() {
  const { build } = await import('esbuild');
  const result = await build({
    stdin: { contents: APP, resolveDir: root, loader: 'js' },
    bundle: true,
    minify: true,
    treeShaking: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['browser', 'import'],
    write: false,
    logLevel: 'silent',
    // The repository's tsconfig maps @syncline/sync-core to its sources; an app gets dist/.
    tsconfigRaw: '{}',
  });
  const code = result.outputFiles[0].contents;
  const text = new TextDecoder().decode(code);
  return {
    gzipKb: gzipSync(code, { level: 9 }).length / 1000,
    minKb: code.length / 1000,
    pushValidators: PUSH_VALIDATOR_MARKERS.some((marker) => text.includes(marker)) ? 1 : 0,
  };
}
