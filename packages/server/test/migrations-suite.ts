/**
 * The schema's migrations on a real database: a fresh one gets the baseline alone, with every
 * function defined once; a database made by the development migrations (the frozen SQL in
 * `fixtures/legacy-0.1-schema.sql`, or any prefix of it) upgrades in place and keeps its data;
 * a migration appended later applies after the baseline on both.
 */
import { readFileSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import type { SqlExecutor } from '../src/store/executor.js';
import { MIGRATIONS, runMigrations } from '../src/store/migrations.js';
import { createSqlStore } from '../src/store/sql-store.js';
import { authOf, put, request } from './support.js';

const LEGACY = readFileSync(new URL('./fixtures/legacy-0.1-schema.sql', import.meta.url), 'utf8');

/** The legacy schema up to and including migration `last` (1-6). */
export function legacySchema(last: number): string {
  const cut = LEGACY.indexOf(`-- migration ${last + 1}:`);
  return cut < 0 ? LEGACY : LEGACY.slice(0, cut);
}

/** The functions of the baseline. */
const BASELINE_FUNCTIONS = [
  'pull_changes',
  'push_apply',
  'push_read',
  'push_snapshot',
  'push_write',
];
/**
 * Every function the migrations leave (migration 5 adds the delivery ones, migration 6
 * `pull_rows`, migration 8 `grow_upload_by_id`), sorted.
 */
const FUNCTIONS = [
  'ack_deliveries',
  'create_delivery',
  'grow_upload_by_id',
  'pull_rows',
  ...BASELINE_FUNCTIONS,
].sort();
/** Every migration the server ships: the baseline, then those appended after it. */
const SHIPPED = MIGRATIONS.map((m) => ({ id: m.id, name: m.name }));
const SHIPPED_IDS = SHIPPED.map((m) => m.id);

async function functionsOf(db: SqlExecutor): Promise<string[]> {
  const rows = await db.query<{ proname: string }>(
    `SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'syncline' ORDER BY p.proname`,
  );
  return rows.map((row) => row.proname);
}

async function migrationsOf(db: SqlExecutor): Promise<Array<{ id: number; name: string }>> {
  const rows = await db.query<{ id: number; name: string }>(
    'SELECT id, name FROM syncline.migrations ORDER BY id',
  );
  return rows.map((row) => ({ id: Number(row.id), name: row.name }));
}

/** The suite, on databases from `open` (a fresh, empty database each call). */
export function migrationSuite(open: () => Promise<{ db: SqlExecutor; drop(): Promise<void> }>) {
  const drops: Array<() => Promise<void>> = [];
  const fresh = async (): Promise<SqlExecutor> => {
    const { db, drop } = await open();
    drops.push(drop);
    return db;
  };
  afterEach(async () => {
    for (const drop of drops.splice(0)) await drop();
  });

  it('gives a fresh database the baseline and what follows it, every function defined once', async () => {
    const db = await fresh();
    expect(SHIPPED[0]).toEqual({ id: 1, name: 'baseline' });
    expect(await runMigrations(db)).toEqual(SHIPPED_IDS);
    expect(await migrationsOf(db)).toEqual(SHIPPED);
    expect(await functionsOf(db)).toEqual(FUNCTIONS);
    expect(await runMigrations(db)).toEqual([]);
  });

  it('keeps one definition of each function in the baseline; later ones only replace', () => {
    const [baseline = '', ...later] = MIGRATIONS.map((m) => m.sql);
    for (const name of BASELINE_FUNCTIONS) {
      expect(baseline.split(`FUNCTION syncline.${name}(`).length - 1, name).toBe(1);
    }
    // A later migration changes a function in place (same signature), never adds an overload.
    for (const sql of later) {
      for (const name of FUNCTIONS) {
        const definitions = sql.split(`FUNCTION syncline.${name}(`).length - 1;
        expect(sql.split(`CREATE OR REPLACE FUNCTION syncline.${name}(`).length - 1, name).toBe(
          definitions,
        );
      }
    }
  });

  for (const last of [1, 3, 6]) {
    it(`upgrades a database of development migrations 1-${last} in place, keeping its data`, async () => {
      const db = await fresh();
      await db.exec(legacySchema(last));
      await db.exec(
        `INSERT INTO syncline.scopes (scope, version) VALUES ('user:old', 1);
         INSERT INTO syncline.records (scope, collection, id, data, revision, hlc, deleted)
         VALUES ('user:old', 'todos', 't1', '{"title":"kept"}', 1, '0000000000a0:0000:c0', false);`,
      );
      const [epoch] = await db.query<{ value: string }>(
        "SELECT value FROM syncline.meta WHERE key = 'epoch'",
      );

      const store = await createSqlStore(db);
      expect(await migrationsOf(db)).toEqual(SHIPPED);
      expect(await functionsOf(db)).toEqual(FUNCTIONS);
      const [after] = await db.query<{ value: string }>(
        "SELECT value FROM syncline.meta WHERE key = 'epoch'",
      );
      expect(after?.value).toBe(epoch?.value);

      const auth = authOf('old');
      const first = await store.pull(auth, { scope: 'user:old', checkpoint: null });
      expect(first.changes.map((r) => r.data)).toEqual([{ title: 'kept' }]);
      const written = await store.push(auth, request([put('user:old', 't1', { title: 'new' }, 1)]));
      expect(written.results[0]).toMatchObject({ status: 'applied', revision: 2 });
      const next = await store.pull(auth, { scope: 'user:old', checkpoint: first.checkpoint });
      expect(next.changes.map((r) => [r.data, r.revision])).toEqual([[{ title: 'new' }, 2]]);
      await store.close();
    });
  }

  it('applies a migration appended later after the baseline, on a fresh and an upgraded database', async () => {
    const later = [
      ...MIGRATIONS,
      { id: 99, name: 'later', sql: 'CREATE TABLE syncline.later (id text PRIMARY KEY);' },
    ];
    const created = await fresh();
    expect(await runMigrations(created, later)).toEqual([...SHIPPED_IDS, 99]);
    const upgraded = await fresh();
    await upgraded.exec(legacySchema(6));
    expect(await runMigrations(upgraded, later)).toEqual([...SHIPPED_IDS, 99]);
    for (const db of [created, upgraded]) {
      expect(await migrationsOf(db)).toEqual([...SHIPPED, { id: 99, name: 'later' }]);
      expect(await db.query('SELECT * FROM syncline.later')).toEqual([]);
    }
  });
}
