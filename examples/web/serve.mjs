#!/usr/bin/env node
// @ts-check
/**
 * `npm start` at the repository root: the reference server (embedded PGlite, development
 * sign-in) serving the example app, at http://127.0.0.1:8787 unless told otherwise.
 *
 *   node serve.mjs [--port 8787] [--data DIR | --memory]
 *
 * --data DIR  where PGlite keeps the server's data (default examples/web/.data)
 * --memory    keep the server's data in memory (gone when it stops)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { distDir, startExampleServer } from './server.mjs';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '8787' },
    data: { type: 'string' },
    memory: { type: 'boolean', default: false },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be a port number, got ${values.port}`);
  process.exit(2);
}
if (!existsSync(join(distDir, 'app.js'))) {
  console.log('building the app first...');
  await import('./build.mjs');
}
const dataDir = values.memory ? undefined : (values.data ?? join(import.meta.dirname, '.data'));
const server = await startExampleServer({ port, ...(dataDir === undefined ? {} : { dataDir }) });
console.log(`
  syncline example app: ${server.url}

  The reference server answers on the same origin (PGlite ${dataDir ?? 'in memory'},
  development sign-in: any user id signs in, so never expose it). Open the URL in two windows
  or two browser profiles, sign in as the same user, and watch them sync. Ctrl-C stops it.
`);
let stopping = false;
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    server.close().then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
