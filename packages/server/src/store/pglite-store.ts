/**
 * The embedded default store: PostgreSQL compiled to WASM (PGlite), in memory or in a data
 * directory. Nothing to install.
 *
 * @module
 */
import { PGlite } from '@electric-sql/pglite';
import { lockDataDir } from './data-dir-lock.js';
import type { SqlExecutor, SqlQueryable } from './executor.js';
import { createDataDirApart } from './pglite-initdb.js';
import {
  checkSqlStoreOptions,
  createSqlStore,
  type SqlStoreOptions,
  type SqlStoreTestHooks,
} from './sql-store.js';
import type { SyncStore } from './types.js';

/** Options of {@link pgliteStore}. */
export interface PgliteStoreOptions extends SqlStoreOptions {
  /**
   * Directory of the database files. Omit it for an in-memory database that is gone when the
   * process exits (tests, demos). One process at a time: the directory holds a lock file
   * (`syncline.lock`) while the store is open, and a second process is refused. A directory
   * without a database is created by a short-lived child process, which keeps ~600 MB that
   * PGlite's `initdb` leaves behind out of this one (an in-memory database cannot avoid it: its
   * process holds ~750 MB).
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
  checkSqlStoreOptions(options);
  if (options.dataDir === undefined) {
    const executor = pgliteExecutor(await PGlite.create());
    try {
      return await createSqlStore(executor, options, hooks);
    } catch (error) {
      await executor.close().catch(() => undefined);
      throw error;
    }
  }
  // One process per directory (see data-dir-lock.ts); released when the store closes.
  const lock = await lockDataDir(options.dataDir);
  let db: PGlite | undefined;
  try {
    // A new data directory is created apart, so its creation's memory is not this process's.
    await createDataDirApart(options.dataDir);
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

/** What {@link pgliteExecutor} needs of a PGlite instance (its statements and transactions). */
export interface PgliteQueryable {
  /** Runs one statement with bound parameters. */
  query<Row>(sql: string, params?: unknown[]): Promise<{ rows: Row[] }>;
  /** Runs a script of statements. */
  exec(sql: string): Promise<unknown>;
}

/**
 * The part of a `PGlite` instance that {@link pgliteExecutor} uses. A `PGlite` is one; it is
 * described here rather than imported so that the types of `@syncline/server` do not pull in
 * PGlite's own declarations (which need `skipLibCheck` in an app that type-checks them).
 */
export interface PgliteDatabase extends PgliteQueryable {
  /** Runs `callback` in a transaction. */
  transaction<T>(callback: (tx: PgliteQueryable) => Promise<T>): Promise<T>;
  /** Subscribes to a NOTIFY channel; resolves to the unsubscribe function. */
  listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
  /** Whether {@link PgliteDatabase.close} has run. */
  readonly closed: boolean;
  /** Closes the database. */
  close(): Promise<void>;
}

/** Wraps a PGlite instance as a {@link SqlExecutor}. PGlite has one connection, so transactions run one at a time. */
export function pgliteExecutor(db: PgliteDatabase): SqlExecutor {
  let queue: Promise<unknown> = Promise.resolve();
  // One transaction at a time on the single connection; a failed one does not stop the queue.
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  };
  const wrap = (q: PgliteQueryable): SqlQueryable => ({
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
    // The database lives in this process (a data directory is locked to one process).
    singleProcess: true,
    query: (sql, params) => serialized(() => direct.query(sql, params)),
    exec: (sql) => serialized(() => direct.exec(sql)),
    transaction: (fn) => serialized(() => db.transaction((tx) => fn(wrap(tx)))),
    async listen(channel, onPayload) {
      const stop = await db.listen(channel, onPayload);
      return async () => {
        await stop();
      };
    },
    // Closing twice is harmless, as with the PostgreSQL pool.
    close: () =>
      serialized(async () => {
        if (!db.closed) await db.close();
      }),
  };
}
