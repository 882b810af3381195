/**
 * The store on a real PostgreSQL server (node-postgres): a pool for pushes and pulls, and one
 * dedicated connection that LISTENs for pokes, so every server process on the database hears
 * every push.
 *
 * `pg` is an optional peer dependency, loaded when a PostgreSQL store is opened: an app on the
 * embedded PGlite store installs nothing more, and one without `pg` that asks for PostgreSQL is
 * told which package to install.
 *
 * @module
 */
import { SyncError } from '@syncline/sync-core/protocol';
import type pg from 'pg';
import type { SqlExecutor, SqlQueryable } from './executor.js';
import {
  checkSqlStoreOptions,
  createSqlStore,
  type SqlStoreOptions,
  type SqlStoreTestHooks,
} from './sql-store.js';
import type { SyncStore } from './types.js';

/** Options of {@link postgresStore}. */
export interface PostgresStoreOptions extends SqlStoreOptions {
  /** A `postgres://user:password@host:port/database` URL. */
  connectionString: string;
  /** Most pooled connections. @default 10 */
  maxConnections?: number;
  /** Delay before the LISTEN connection reconnects after it dropped. @default 1000 */
  listenReconnectMs?: number;
}

/**
 * Connects to PostgreSQL, applies the migrations (schema `syncline`) and returns the store.
 *
 * @example
 * ```ts
 * const store = await postgresStore({ connectionString: process.env.DATABASE_URL! });
 * ```
 */
export async function postgresStore(
  options: PostgresStoreOptions,
  hooks?: SqlStoreTestHooks,
): Promise<SyncStore> {
  checkSqlStoreOptions(options);
  const executor = await postgresExecutor(options);
  try {
    return await createSqlStore(executor, options, hooks);
  } catch (error) {
    await executor.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Loads node-postgres. A missing `pg` is a setup mistake with a one-line fix, so it is a
 * `SyncError` (`invalid`, code `missing_dependency`) that names the package to install.
 */
async function loadPg(): Promise<typeof pg> {
  try {
    const loaded = (await import('pg')) as { default?: typeof pg } & typeof pg;
    return loaded.default ?? loaded;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const missing =
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      /['"]pg['"]/.test(String((error as { message?: unknown }).message));
    if (!missing) throw error;
    throw new SyncError(
      'invalid',
      'the PostgreSQL store needs the driver package `pg`, which is not installed: npm install pg',
      { code: 'missing_dependency', cause: error },
    );
  }
}

/**
 * Builds a {@link SqlExecutor} on a node-postgres pool. Rejects with a `SyncError` (code
 * `missing_dependency`) when `pg` is not installed.
 */
export async function postgresExecutor(options: PostgresStoreOptions): Promise<SqlExecutor> {
  const pg = await loadPg();
  const onError = options.onError ?? ((error: unknown) => console.error('[syncline]', error));
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
  });
  // An idle client that dies must not crash the process; the pool replaces it.
  pool.on('error', onError);
  const wrap = (client: pg.Pool | pg.PoolClient): SqlQueryable => ({
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await client.query(sql, [...params]);
      return result.rows as Row[];
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  });
  const direct = wrap(pool);
  const listeners: Array<{ stop: () => void }> = [];
  let closed = false;

  return {
    query: direct.query,
    exec: direct.exec,
    async transaction(fn) {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await fn(wrap(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        throw error;
      } finally {
        client.release(broken);
      }
    },
    async listen(channel, onPayload) {
      const listener = listenForever(pg, options, channel, onPayload, onError);
      listeners.push(listener);
      await listener.ready;
      return async () => listener.stop();
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const listener of listeners) listener.stop();
      await pool.end();
    },
  };
}

/**
 * Keeps one connection LISTENing on `channel`, reconnecting after a drop. Pokes sent while it
 * was down are lost; that is fine, because a poke is only a hint and clients also pull on
 * reconnect and periodically.
 */
function listenForever(
  pg: typeof import('pg').default,
  options: PostgresStoreOptions,
  channel: string,
  onPayload: (payload: string) => void,
  onError: (error: unknown) => void,
): { ready: Promise<void>; stop: () => void } {
  let stopped = false;
  let client: pg.Client | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: options.connectionString });
    next.on('notification', (message) => {
      if (message.channel === channel && message.payload !== undefined) onPayload(message.payload);
    });
    next.on('error', (error) => {
      onError(error);
      next.end().catch(() => undefined);
      if (!stopped && client === next) {
        client = undefined;
        timer = setTimeout(() => {
          connect().catch(onError);
        }, options.listenReconnectMs ?? 1000);
      }
    });
    await next.connect();
    // The channel name is our own constant, never user input; LISTEN takes no parameters.
    await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    if (stopped) {
      await next.end();
      return;
    }
    client = next;
  };
  return {
    ready: connect(),
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      client?.end().catch(() => undefined);
      client = undefined;
    },
  };
}
