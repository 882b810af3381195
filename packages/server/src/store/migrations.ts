/**
 * The schema, as ordered SQL migrations shared by every store. They run inside one transaction
 * under an advisory lock, so two server processes starting on one database do not race, and
 * each applied migration is recorded in `syncline.migrations`.
 *
 * @module
 */

import { DELIVERY_FUNCTIONS_SQL } from '../targeting/delivery-sql.js';
import {
  ASSET_UPLOADS_SQL,
  DELIVERY_COUNTS_SQL,
  TARGETING_SQL,
  UPLOAD_QUOTA_SQL,
} from '../targeting/targeting-sql.js';
import type { SqlExecutor } from './executor.js';
import { PULL_BELOW_HORIZON_SQL, PULL_FUNCTIONS_SQL, PULL_ROWS_SQL } from './pull-sql.js';
import { PUSH_FUNCTIONS_SQL } from './push-sql.js';
import { TABLES_SQL } from './schema-sql.js';

/** One schema step. */
export interface Migration {
  /** Increasing number; never reused. */
  readonly id: number;
  /** Short name, for humans. */
  readonly name: string;
  /** The SQL script. */
  readonly sql: string;
}

const BASELINE_NAME = 'baseline';

/**
 * The migrations, oldest first. Migration 1 is the baseline: the whole schema of the first
 * release, squashed from the steps that built it during development (so every function is
 * defined once). A later change is a new entry appended here with the next id; an applied
 * migration is never edited.
 */
export const MIGRATIONS: readonly Migration[] = [
  { id: 1, name: BASELINE_NAME, sql: `${TABLES_SQL}${PUSH_FUNCTIONS_SQL}${PULL_FUNCTIONS_SQL}` },
  { id: 2, name: 'sessions, deliveries, assets, transfers', sql: TARGETING_SQL },
  { id: 3, name: 'pull pages below the purge horizon', sql: PULL_BELOW_HORIZON_SQL },
  { id: 4, name: 'delivery target and acknowledgement counts', sql: DELIVERY_COUNTS_SQL },
  { id: 5, name: 'delivery send and acknowledgement functions', sql: DELIVERY_FUNCTIONS_SQL },
  { id: 6, name: 'pull pages as rows', sql: PULL_ROWS_SQL },
  { id: 7, name: 'asset uploads by id', sql: ASSET_UPLOADS_SQL },
  { id: 8, name: 'the quota of uploads by id as they grow', sql: UPLOAD_QUOTA_SQL },
];

/**
 * Brings a database made by the development migrations (ids 1-6, before the baseline: id 1 was
 * then named `scopes, records, mutations`) to the baseline: the tables are the same but for the
 * `wire` column (migration 6), and every function is redefined. Any prefix of those steps
 * upgrades, since each of them only added functions or that column. Afterwards the database
 * records the baseline alone, so migrations appended later (whatever their ids) apply to it as
 * to a new one.
 */
const LEGACY_UPGRADE_SQL = `
ALTER TABLE syncline.records ADD COLUMN IF NOT EXISTS wire text;
DROP FUNCTION IF EXISTS syncline.pull_page(text, bigint, integer);
${PUSH_FUNCTIONS_SQL}${PULL_FUNCTIONS_SQL}
DELETE FROM syncline.migrations WHERE id BETWEEN 1 AND 6;
INSERT INTO syncline.migrations (id, name) VALUES (1, '${BASELINE_NAME}');
`;

// An arbitrary constant: the advisory lock key of migrations.
const MIGRATION_LOCK = 7_462_019_311;

/**
 * Applies the migrations that `db` has not seen yet, after bringing a database of the
 * development migrations to the baseline. Safe to run from several processes. Returns the ids
 * applied (1 for such an upgrade).
 */
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
    const rows = await tx.query<{ id: number; name: string }>(
      'SELECT id, name FROM syncline.migrations',
    );
    const first = rows.find((row) => Number(row.id) === 1);
    const applied: number[] = [];
    if (first !== undefined && first.name !== BASELINE_NAME) {
      await tx.exec(LEGACY_UPGRADE_SQL);
      applied.push(1);
    }
    const done = new Set(
      (await tx.query<{ id: number }>('SELECT id FROM syncline.migrations')).map((row) =>
        Number(row.id),
      ),
    );
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
