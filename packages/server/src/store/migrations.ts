/**
 * The schema, as ordered SQL migrations shared by every store. They run inside one transaction
 * under an advisory lock, so two server processes starting on one database do not race, and
 * each applied migration is recorded in `syncline.migrations`.
 *
 * @module
 */

import { TARGETING_SQL } from '../targeting/targeting-sql.js';
import type { SqlExecutor } from './executor.js';
import { OPTIMISTIC_PUSH_SQL } from './push-sql.js';
import { FUNCTIONS_SQL, PULL_CHANGES_SQL, PULL_PAGE_JSON_SQL } from './sql-functions.js';
import { WIRE_TEXT_SQL } from './wire-sql.js';

/** One schema step. */
export interface Migration {
  /** Increasing number; never reused. */
  readonly id: number;
  /** Short name, for humans. */
  readonly name: string;
  /** The SQL script. */
  readonly sql: string;
}

/**
 * The migrations, oldest first. Versions (`version`, `revision`, `purged_through`) are bigint
 * counters, never timestamps: the cursor of a pull is a version (DESIGN §3.1). Times that only
 * age data (`created_at`, `deleted_at`) are epoch milliseconds from the store's injected clock.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'scopes, records, mutations',
    sql: `
CREATE TABLE syncline.meta (
  key text PRIMARY KEY,
  value text NOT NULL
);
-- A random id of this database: checkpoints carry it, so a checkpoint from another (or a
-- wiped and recreated) database is recognised and answered with resetRequired.
INSERT INTO syncline.meta (key, value) VALUES ('epoch', replace(gen_random_uuid()::text, '-', ''));

-- One row per scope; its row lock orders every push to the scope (DESIGN §3.1).
CREATE TABLE syncline.scopes (
  scope text PRIMARY KEY,
  version bigint NOT NULL DEFAULT 0,
  purged_through bigint NOT NULL DEFAULT 0
);

CREATE TABLE syncline.records (
  scope text NOT NULL,
  collection text NOT NULL,
  id text NOT NULL,
  data jsonb,
  revision bigint NOT NULL,
  hlc text NOT NULL,
  deleted boolean NOT NULL,
  deleted_at bigint,
  PRIMARY KEY (scope, collection, id)
);
CREATE INDEX records_scope_revision ON syncline.records (scope, revision);
CREATE INDEX records_tombstones ON syncline.records (deleted_at) WHERE deleted;

-- The outcome of every applied or rejected mutation, written in the same transaction as its
-- effect. outcome is NULL only while the pushing transaction holds the claim. scope is NULL
-- for a mutation rejected as invalid.
CREATE TABLE syncline.mutations (
  id text PRIMARY KEY,
  user_id text NOT NULL,
  client_id text NOT NULL,
  scope text,
  outcome jsonb,
  created_at bigint NOT NULL
);
CREATE INDEX mutations_created_at ON syncline.mutations (created_at);

-- No table binds a client id to a user: a client id names an installation, and one device
-- may be used by several users in turn (DESIGN §2: sessions upsert on (userId, clientId)).
-- It carries no authority: scopes are authorised per user and stored outcomes are per user.
`,
  },
  { id: 2, name: 'push and pull functions', sql: FUNCTIONS_SQL },
  { id: 3, name: 'pull page as one JSON value', sql: PULL_PAGE_JSON_SQL },
  { id: 4, name: 'pull page in its wire shape', sql: PULL_CHANGES_SQL },
  { id: 5, name: 'push in two statements, optimistic', sql: OPTIMISTIC_PUSH_SQL },
  { id: 6, name: 'records keep their wire JSON', sql: WIRE_TEXT_SQL },
  { id: 7, name: 'sessions, deliveries, assets, transfers', sql: TARGETING_SQL },
];

// An arbitrary constant: the advisory lock key of migrations.
const MIGRATION_LOCK = 7_462_019_311;

/** Applies the migrations that `db` has not seen yet. Safe to run from several processes. */
export async function runMigrations(
  db: SqlExecutor,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.exec(`
CREATE SCHEMA IF NOT EXISTS syncline;
CREATE TABLE IF NOT EXISTS syncline.migrations (
  id integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);`);
    const rows = await tx.query<{ id: number }>('SELECT id FROM syncline.migrations');
    const done = new Set(rows.map((row) => Number(row.id)));
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.id)) continue;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO syncline.migrations (id, name) VALUES ($1, $2)', [
        migration.id,
        migration.name,
      ]);
      applied.push(migration.id);
    }
    return applied;
  });
}
