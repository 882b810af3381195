// The reference server for the adapter benches, in its OWN process, so that on a multi-core
// machine the server and the measured clients do not share one event loop (as in production).
//
//   node bench/lib/rest-server-child.mjs pglite
//   node bench/lib/rest-server-child.mjs postgres <admin url>
//   node bench/lib/rest-server-child.mjs postgres-db <database url>   (an existing database,
//                                        shared by several server processes; never dropped)
//
// SYNCLINE_BENCH_SEED=<userId>:<count> first fills scope user:<userId> with <count> records in
// one SQL statement (the initial-sync bench measures the download, not the upload).
//
// Prints one line `READY <json>` with { url, database } once it answers; a fresh PostgreSQL
// database is created for the run and dropped on SIGTERM/SIGINT or when stdin closes (parent
// died).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import {
  createSqlStore,
  createSyncHandler,
  devAuth,
  pgliteExecutor,
  postgresStore,
} from '@syncline/server';
import { serve } from '@syncline/server/node';
import pg from 'pg';

const [kind, adminUrl] = process.argv.slice(2);

async function freshDatabase(url) {
  const name = `syncline_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const dbUrl = new URL(url);
  dbUrl.pathname = `/${name}`;
  return {
    url: dbUrl.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

let database;
let cleanupDir;
let store;
let sql;
if (kind === 'postgres-db') {
  store = await postgresStore({ connectionString: adminUrl, maxConnections: 10 });
  sql = undefined;
} else if (kind === 'postgres') {
  database = await freshDatabase(adminUrl);
  store = await postgresStore({ connectionString: database.url, maxConnections: 20 });
  sql = async (text, params) => {
    const c = new pg.Client({ connectionString: database.url });
    await c.connect();
    await c.query(text, params);
    await c.end();
  };
} else {
  // The same as pgliteStore({ dataDir }), but keeping the PGlite handle for the seed. A data
  // directory, as a server that keeps its data runs it (SYNCLINE_BENCH_PGLITE_MEMORY=1 for the
  // in-memory database of tests and demos, whose WASM file system grows by copying).
  const dataDir =
    process.env.SYNCLINE_BENCH_PGLITE_MEMORY === '1'
      ? undefined
      : mkdtempSync(join(tmpdir(), 'syncline-bench-pglite-'));
  cleanupDir = dataDir;
  const db = await PGlite.create(dataDir === undefined ? {} : { dataDir });
  store = await createSqlStore(pgliteExecutor(db));
  sql = (text, params) => db.query(text, params);
}

const seed = process.env.SYNCLINE_BENCH_SEED;
if (seed) {
  const [userId, count] = seed.split(':');
  const scope = `user:${userId}`;
  await sql(
    `INSERT INTO syncline.scopes (scope, version) VALUES ($1, $2::bigint)
     ON CONFLICT (scope) DO UPDATE SET version = EXCLUDED.version`,
    [scope, Number(count)],
  );
  // Each row with its wire JSON, as a push writes it (see push-sql.ts).
  await sql(
    `INSERT INTO syncline.records (scope, collection, id, data, revision, hlc, deleted, wire)
     SELECT s.scope, s.collection, s.id, s.data, s.revision, s.hlc, s.deleted, row_to_json(s)::text
     FROM (SELECT $1::text AS scope, 'items'::text AS collection, 'r' || g AS id,
                  jsonb_build_object('title', 'item ' || g, 'n', g, 'done', g % 3 = 0,
                                     'note', 'a note of about sixty characters for record number ' || g)
                    AS data,
                  g AS revision, lpad(to_hex(1700000000000 + g), 12, '0') || ':0000:seed' AS hlc,
                  false AS deleted
           FROM generate_series(1, $2::bigint) AS g) AS s`,
    [scope, Number(count)],
  );
  // A server that holds 100,000 records of a user has had them analysed by autovacuum; a
  // freshly bulk-loaded table has no statistics, and the planner then sorts the whole rest of
  // the scope for every page (a bitmap scan of ~170 estimated rows that are really 100,000).
  await sql('ANALYZE syncline.records');
}

const auth = devAuth();
const handler = createSyncHandler({
  store,
  authenticate: auth.authenticate,
  devAuth: auth,
  // The benches drive 20 devices of ONE user; the per-user default (50 req/s) would measure
  // the rate limiter, not the sync path. SYNCLINE_BENCH_LIMITS (JSON) replaces these limits
  // (the fairness bench measures the defaults: '{}').
  limits: process.env.SYNCLINE_BENCH_LIMITS
    ? JSON.parse(process.env.SYNCLINE_BENCH_LIMITS)
    : { rateLimit: false },
});
const running = await serve(handler, { port: 0, onError: () => undefined });

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  handler.closeStreams();
  await running.close().catch(() => undefined);
  await store.close().catch(() => undefined);
  await database?.drop().catch((e) => console.error('drop failed', e));
  if (cleanupDir !== undefined) rmSync(cleanupDir, { recursive: true, force: true });
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
// `database`: the PostgreSQL database of this run (the benches read its backends' CPU time).
const databaseName = database === undefined ? undefined : new URL(database.url).pathname.slice(1);
process.stdout.write(`READY ${JSON.stringify({ url: running.url, database: databaseName })}\n`);
