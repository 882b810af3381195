/**
 * The embedded default store: PostgreSQL compiled to WASM (PGlite), in memory or in a data
 * directory. Nothing to install.
 *
 * @module
 */
import { PGlite } from '@electric-sql/pglite';
import { lockDataDir } from './data-dir-lock.js';
import type { SqlExecutor, SqlQueryable } from './executor.js';
import { createSqlStore, type SqlStoreOptions, type SqlStoreTestHooks } from './sql-store.js';
import type { SyncStore } from './types.js';

/** Options of {@link pgliteStore}. */
export interface PgliteStoreOptions extends SqlStoreOptions {
  /**
   * Directory of the database files. Omit it for an in-memory database that is gone when the
   * process exits (tests, demos). One process at a time: the directory holds a lock file
   * (`syncline.lock`) while the store is open, and a second process is refused.
   * @default undefined (in memory)
   */
  dataDir?: string;
}

/**
 * Opens (or creates) an embedded PGlite database and the sync store on it.
 *
 * @example
 * ```ts
 * const store = await pgliteStore({ dataDir: './.syncline-data' });
 * ```
 */
export async function pgliteStore(
  options: PgliteStoreOptions = {},
  hooks?: SqlStoreTestHooks,
): Promise<SyncStore> {
  if (options.dataDir === undefined) {
    return createSqlStore(pgliteExecutor(await PGlite.create()), options, hooks);
  }
  // One process per directory (see data-dir-lock.ts); released when the store closes.
  const lock = await lockDataDir(options.dataDir);
  let db: PGlite | undefined;
  try {
    db = await PGlite.create({ dataDir: options.dataDir });
    const executor = pgliteExecutor(db);
    const close = executor.close;
    executor.close = () => close().finally(() => lock.release());
    return await createSqlStore(executor, options, hooks);
  } catch (error) {
    await db?.close().catch(() => undefined);
    await lock.release();
    throw error;
  }
}

/** Wraps a PGlite instance as a {@link SqlExecutor}. PGlite has one connection, so transactions run one at a time. */
export function pgliteExecutor(db: PGlite): SqlExecutor {
  let queue: Promise<unknown> = Promise.resolve();
  // One transaction at a time on the single connection; a failed one does not stop the queue.
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };
  const wrap = (q: { query: PGlite['query']; exec: PGlite['exec'] }): SqlQueryable => ({
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await q.query<Row>(sql, [...params]);
      return result.rows;
    },
    async exec(sql: string) {
      await q.exec(sql);
    },
  });
  const direct = wrap(db);
  return {
    query: (sql, params) => serialized(() => direct.query(sql, params)),
    exec: (sql) => serialized(() => direct.exec(sql)),
    transaction: (fn) => serialized(() => db.transaction((tx) => fn(wrap(tx)))),
    async listen(channel, onPayload) {
      const stop = await db.listen(channel, onPayload);
      return async () => {
        await stop();
      };
    },
    close: () => serialized(() => db.close()),
  };
}
