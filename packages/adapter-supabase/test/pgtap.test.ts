/**
 * Runs the pgTAP files of `test/pgtap/` with `pg_prove` (Debian: postgresql-15-pgtap and
 * libtap-parser-sourcehandler-pgtap-perl) against a fresh Supabase-shaped database on the real
 * PostgreSQL server. Skips loudly where pg_prove, pgTAP or PostgreSQL is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWhen, postgresUrl } from '../../../test/support/env.js';
import {
  openSupabaseDatabase,
  SETUP_TIMEOUT_MS,
  type SupabaseDatabase,
} from './support/database.js';

const pgProve = ['/usr/bin/pg_prove', '/usr/local/bin/pg_prove'].find((p) => existsSync(p));
const pgTapInstalled = ['15', '16', '17'].some((v) =>
  existsSync(`/usr/share/postgresql/${v}/extension/pgtap.control`),
);
const dir = fileURLToPath(new URL('./pgtap/', import.meta.url));

describeWhen(
  pgProve !== undefined && pgTapInstalled && postgresUrl(),
  'pg_prove with pgTAP and PostgreSQL (SYNCLINE_PG_URL)',
  'apt-get install postgresql-15-pgtap libtap-parser-sourcehandler-pgtap-perl',
)('pgTAP files under pg_prove', () => {
  let db: SupabaseDatabase;
  let url: string;
  beforeAll(async () => {
    db = await openSupabaseDatabase('postgres', { adminUrl: postgresUrl() as string });
    await db.admin.exec('CREATE EXTENSION IF NOT EXISTS pgtap');
    const [row] = await db.admin.query<{ name: string }>('SELECT current_database() AS name');
    const admin = new URL(postgresUrl() as string);
    admin.pathname = `/${row?.name}`;
    url = admin.toString();
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    await db?.close();
  });

  it('every pgTAP file passes', () => {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.sql'))
      .sort()
      .map((f) => `${dir}${f}`);
    expect(files.length).toBeGreaterThanOrEqual(2);
    const run = spawnSync(pgProve as string, ['--dbname', url, ...files], { encoding: 'utf8' });
    expect(`${run.stdout}\n${run.stderr}`).toMatch(/Result: PASS/);
    expect(run.status).toBe(0);
  });
});
