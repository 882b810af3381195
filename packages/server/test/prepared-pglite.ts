/**
 * A migrated PGlite database that starts in about a second instead of several: the server's
 * migrations run once on a new database, its data directory is dumped to a file
 * (`dumpDataDir`), and every later start loads that file (`loadDataDir`) and skips both
 * `initdb` and the migrations. The PGlite suites that open a store per file (and Stryker, which
 * starts those suites again for every server mutant) use it.
 *
 * The file lives in `node_modules/.cache/syncline-pglite/`, named by a hash of everything that
 * decides its content: the migrations' ids, names and SQL, the migration runner's source and
 * PGlite's version. A change to any of them names another file, so a stale database is never
 * loaded. Two processes preparing it at once each write a file of their own and rename it into
 * place, so a reader never sees half of one.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { MIGRATIONS, type Migration, runMigrations } from '../src/store/migrations.js';
import { pgliteExecutor } from '../src/store/pglite-store.js';
import {
  checkSqlStoreOptions,
  createSqlStore,
  type SqlStoreOptions,
  type SqlStoreTestHooks,
} from '../src/store/sql-store.js';
import type { SyncStore } from '../src/store/types.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The cache file of a database made by `migrations` (the server's) on this PGlite version. */
export function preparedFile(migrations: readonly Migration[] = MIGRATIONS): string {
  const hash = createHash('sha256');
  for (const m of migrations) hash.update(`${m.id}\0${m.name}\0${m.sql}\0`);
  hash.update(readFileSync(new URL('../src/store/migrations.ts', import.meta.url)));
  hash.update(
    readFileSync(join(repoRoot, 'node_modules/@electric-sql/pglite/package.json'), 'utf8'),
  );
  const key = hash.digest('hex').slice(0, 16);
  return join(repoRoot, 'node_modules/.cache/syncline-pglite', `migrated-${key}.tar`);
}

/** Reads the prepared data directory, making it first if no file of this key exists. */
async function preparedDataDir(): Promise<Blob> {
  const file = preparedFile();
  try {
    return new Blob([readFileSync(file)]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const db = await PGlite.create();
  try {
    await runMigrations(pgliteExecutor(db));
    const dump = await db.dumpDataDir('none');
    const bytes = new Uint8Array(await dump.arrayBuffer());
    mkdirSync(join(file, '..'), { recursive: true });
    const partial = `${file}.${randomUUID()}.partial`;
    try {
      writeFileSync(partial, bytes);
      renameSync(partial, file);
    } finally {
      rmSync(partial, { force: true });
    }
    return new Blob([bytes]);
  } finally {
    await db.close();
  }
}

/** A new in-memory PGlite database with the server's schema already migrated. */
export async function preparedPglite(): Promise<PGlite> {
  return PGlite.create({ loadDataDir: await preparedDataDir() });
}

/**
 * What `pgliteStore(options, hooks)` opens in memory, on a {@link preparedPglite} database:
 * the same store (its migration check finds nothing to do).
 */
export async function preparedPgliteStore(
  options: SqlStoreOptions = {},
  hooks?: SqlStoreTestHooks,
): Promise<SyncStore> {
  checkSqlStoreOptions(options);
  const executor = pgliteExecutor(await preparedPglite());
  try {
    return await createSqlStore(executor, options, hooks);
  } catch (error) {
    await executor.close();
    throw error;
  }
}
