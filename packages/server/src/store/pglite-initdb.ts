/**
 * Creating a PGlite data directory in a child process. PGlite creates a new database by running
 * `initdb` in WASM inside the calling process, and what that leaves behind is never given back:
 * a server that created its data directory at start held ~750 MB of RSS, idle, while the same
 * server opening an existing directory holds ~165 MB (measured with `bench/server-memory.mjs`;
 * see docs/decisions.md, issue 11). So a directory without a database is created by a short-lived
 * `node` child that opens and closes PGlite on it, and the server then opens the existing one.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SyncError } from '@syncline/sync-core/protocol';

// CommonJS, so it runs under `node -e` whatever the app's module type; PGlite is imported by URL.
const CHILD = `
const [entry, dataDir] = process.argv.slice(1);
import(entry)
  .then(async ({ PGlite }) => {
    const db = await PGlite.create({ dataDir });
    await db.close();
  })
  .catch((error) => {
    process.stderr.write(String((error && error.stack) || error));
    process.exit(1);
  });
`;

/** The URL of PGlite's entry point, as this build of the server resolves it. */
function pgliteEntry(): string {
  // The ESM build has `import.meta.resolve`; in the CommonJS build `import.meta` is empty and
  // `require` is Node's.
  const meta = import.meta as { resolve?: (specifier: string) => string };
  if (typeof meta.resolve === 'function') return meta.resolve('@electric-sql/pglite');
  return pathToFileURL(require.resolve('@electric-sql/pglite')).href;
}

/**
 * Makes sure `dataDir` holds a database, creating it in a child process when it does not (no
 * `PG_VERSION` file). Rejects with a `SyncError` (`storage`) carrying the child's error output.
 */
export async function createDataDirApart(dataDir: string): Promise<void> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return;
  const child = spawn(process.execPath, ['-e', CHILD, pgliteEntry(), dataDir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) {
    throw new SyncError(
      'storage',
      `could not create the PGlite database in ${dataDir} (exit ${code}): ${stderr.trim()}`,
      { code: 'create_failed' },
    );
  }
}
