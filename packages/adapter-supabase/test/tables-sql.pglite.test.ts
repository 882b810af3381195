/**
 * The tables-mode helper (`sql/tables/syncline_tables.sql`) checked in the database, calls made
 * as PostgREST makes them: install refuses tables it cannot make safe, with a clear error;
 * the API roles get exactly the functions they need; the trigger owns revision and updated_at.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  applyTablesApp,
  openSupabaseDatabase,
  SETUP_TIMEOUT_MS,
  type SupabaseDatabase,
} from './support/database.js';
import { ANON_CLAIMS, asRequest, sqlstate, userClaims } from './support/request-context.js';

let db: SupabaseDatabase;
const alice = randomUUID();

beforeAll(async () => {
  db = await openSupabaseDatabase('pglite');
  await applyTablesApp(db.admin);
  await db.admin.query('INSERT INTO auth.users (id) VALUES ($1)', [alice]);
}, SETUP_TIMEOUT_MS);
afterAll(async () => {
  await db?.close();
});

it('install refuses a table without an id, or with an id that is not unique', async () => {
  await db.admin.exec('CREATE TABLE public.no_id (name text)');
  await db.admin.exec('CREATE TABLE public.loose_id (id text, name text)');
  const install = (table: string) =>
    db.admin.query(`SELECT syncline_tables.install('${table}')`).then(
      () => undefined,
      (e: { code?: string; message?: string }) => [e.code, e.message],
    );
  expect(await install('public.no_id')).toEqual(['42703', expect.stringMatching(/no id column/)]);
  expect(await install('public.loose_id')).toEqual([
    '42P10',
    expect.stringMatching(/id of public.loose_id is not unique/),
  ]);
  // A mistyped owner expression fails at install, not at the first write.
  await db.admin.exec('CREATE TABLE public.owned (id uuid PRIMARY KEY, owner_id uuid)');
  const bad = await db.admin
    .query(`SELECT syncline_tables.install('public.owned', owner => 'user_id')`)
    .then(
      () => undefined,
      (e: { code?: string }) => e.code,
    );
  expect(bad).toBe('42703');
  // A good one adds the columns the helper needs.
  await db.admin.query(`SELECT syncline_tables.install('public.owned', owner => 'owner_id')`);
  const columns = await db.admin.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_name = 'owned' ORDER BY 1`,
  );
  expect(columns.map((c) => c.column_name)).toEqual([
    'deleted_at',
    'id',
    'owner_id',
    'revision',
    'updated_at',
  ]);
});

it('the API roles may call pull and push when signed in, never install', async () => {
  const claims = userClaims(alice, randomUUID());
  expect(
    await sqlstate(
      asRequest(db.api, ANON_CLAIMS, (tx) =>
        tx.query(`SELECT public.syncline_tables_pull('projects', 0, '', 10)`),
      ),
    ),
  ).toBe('42501');
  expect(
    await sqlstate(
      asRequest(db.api, claims, (tx) =>
        tx.query(`SELECT public.syncline_tables_pull('projects', 0, '', 10)`),
      ),
    ),
  ).toBeUndefined();
  expect(
    await sqlstate(
      asRequest(db.api, claims, (tx) =>
        tx.query(`SELECT syncline_tables.install('public.projects')`),
      ),
    ),
  ).toBe('42501');
  // A table the helper is not installed on: 55000, which PostgREST answers 500 (retried).
  expect(
    await sqlstate(
      asRequest(db.api, claims, (tx) =>
        tx.query(`SELECT public.syncline_tables_pull('no_id', 0, '', 10)`),
      ),
    ),
  ).toBe('55000');
});

it('revision and updated_at are the server’s, whatever a writer sets', async () => {
  const id = randomUUID();
  const [row] = await asRequest(db.api, userClaims(alice, randomUUID()), (tx) =>
    tx.query<{ revision: string | number; updated_at: Date }>(
      `INSERT INTO public.projects (id, name, revision, updated_at)
       VALUES ($1, 'direct', 999999999, 'epoch') RETURNING revision, updated_at`,
      [id],
    ),
  );
  expect(Number(row?.revision)).toBeLessThan(999999999);
  expect(new Date(row?.updated_at as Date).getFullYear()).toBeGreaterThan(2000);
  const [updated] = await db.admin.query<{ revision: string | number }>(
    `UPDATE public.projects SET revision = 1 WHERE id = $1 RETURNING revision`,
    [id],
  );
  expect(Number(updated?.revision)).toBeGreaterThan(Number(row?.revision));
});
