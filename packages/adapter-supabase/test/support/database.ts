/**
 * A Supabase-shaped database for the tests: the bootstrap stand-in (roles, auth, realtime,
 * storage), then the package's migrations from `sql/`, on PGlite (in process, nothing to
 * install) or on a throwaway database of the real PostgreSQL server (SYNCLINE_PG_URL).
 *
 * `admin` is a superuser connection (setup and assertions). `api` is how PostgREST and the
 * Realtime server connect: on PostgreSQL a pool logged in as the non-superuser
 * `authenticator`, so a missing grant fails here as it would on Supabase; PGlite has a
 * single connection, so there both are the same one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import {
  pgliteExecutor,
  postgresExecutor,
  type SqlExecutor,
  type SqlQueryable,
} from '@syncline/server';
import { freshDatabase } from '../../../../test/support/postgres.js';

/**
 * Timeout of a suite's `beforeAll` that opens a database: a few seconds on an idle machine, far
 * more when several suites start PGlite at once on a busy one.
 */
export const SETUP_TIMEOUT_MS = 180_000;

/** Which database engine a suite runs on. */
export type DatabaseKind = 'pglite' | 'postgres';

/** A Supabase-shaped test database. */
export interface SupabaseDatabase {
  readonly kind: DatabaseKind;
  /** Superuser: setup and assertions. */
  readonly admin: SqlExecutor;
  /** As PostgREST connects (role `authenticator` on PostgreSQL). */
  readonly api: SqlExecutor;
  /** Closes the connections and drops the database. */
  close(): Promise<void>;
}

const SQL_DIR = new URL('../../sql/', import.meta.url);
const BOOTSTRAP = new URL('./supabase-bootstrap.sql', import.meta.url);

/** The package's migration files, in the order they are applied. */
export function migrationFiles(): Array<{ name: string; sql: string }> {
  return readdirSync(SQL_DIR)
    .filter((name) => name.endsWith('.sql'))
    .sort()
    .map((name) => ({ name, sql: readFileSync(new URL(name, SQL_DIR), 'utf8') }));
}

/** Applies the Supabase stand-in's bootstrap script. */
export async function applyBootstrap(db: SqlQueryable): Promise<void> {
  await db.exec(readFileSync(BOOTSTRAP, 'utf8'));
}

/** Applies every migration file, each in its own transaction as `supabase migration up` does. */
export async function applyMigrations(db: SqlExecutor): Promise<void> {
  for (const file of migrationFiles()) {
    await db.transaction((tx) => tx.exec(file.sql));
  }
}

/** Opens a fresh Supabase-shaped database with the migrations applied. */
export async function openSupabaseDatabase(
  kind: DatabaseKind,
  options: { adminUrl?: string; maxConnections?: number } = {},
): Promise<SupabaseDatabase> {
  if (kind === 'pglite') {
    const db = pgliteExecutor(await PGlite.create());
    await applyBootstrap(db);
    await applyMigrations(db);
    return { kind, admin: db, api: db, close: () => db.close() };
  }
  const adminUrl = options.adminUrl;
  if (adminUrl === undefined) throw new Error('openSupabaseDatabase(postgres) needs adminUrl');
  const fresh = await freshDatabase(adminUrl, 'syncline_supabase');
  const admin = await postgresExecutor({ connectionString: fresh.url, maxConnections: 2 });
  try {
    await applyBootstrap(admin);
    await applyMigrations(admin);
  } catch (error) {
    await admin.close();
    await fresh.drop();
    throw error;
  }
  const apiUrl = new URL(fresh.url);
  apiUrl.username = 'authenticator';
  apiUrl.password = 'syncline-authenticator';
  const api = await postgresExecutor({
    connectionString: apiUrl.toString(),
    maxConnections: options.maxConnections ?? 24,
  });
  return {
    kind,
    admin,
    api,
    async close() {
      await api.close();
      await admin.close();
      await fresh.drop();
    },
  };
}

const TABLES_HELPER = new URL('../../sql/tables/syncline_tables.sql', import.meta.url);
const TABLES_APP = new URL('./tables-app.sql', import.meta.url);
const TABLES_CONFORMANCE = new URL('./tables-conformance.sql', import.meta.url);

/**
 * Applies the tables-mode helper (`sql/tables/`) and the test app's own tables (projects;
 * conversations and their messages; the conformance kit's items), each with its RLS policies
 * and the helper installed.
 */
export async function applyTablesApp(db: SqlExecutor): Promise<void> {
  await db.transaction((tx) => tx.exec(readFileSync(TABLES_HELPER, 'utf8')));
  await db.transaction((tx) => tx.exec(readFileSync(TABLES_APP, 'utf8')));
  await db.transaction((tx) => tx.exec(readFileSync(TABLES_CONFORMANCE, 'utf8')));
}
