// The reference server for the adapter benches, in its OWN process, so that on a multi-core
// machine the server and the measured clients do not share one event loop (as in production).
//
//   node bench/lib/rest-server-child.mjs pglite
//   node bench/lib/rest-server-child.mjs postgres <admin url>
//
// Prints one line `READY <json>` with { url } once it answers; a fresh PostgreSQL database is
// created for the run and dropped on SIGTERM/SIGINT or when stdin closes (parent died).
import { randomUUID } from 'node:crypto';
import { createSyncHandler, devAuth, pgliteStore, postgresStore } from '@syncline/server';
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
let store;
if (kind === 'postgres') {
  database = await freshDatabase(adminUrl);
  store = await postgresStore({ connectionString: database.url, maxConnections: 20 });
} else {
  store = await pgliteStore();
}
const auth = devAuth();
const handler = createSyncHandler({
  store,
  authenticate: auth.authenticate,
  devAuth: auth,
  // The benches drive 20 devices of ONE user; the per-user default (50 req/s) would measure
  // the rate limiter, not the sync path.
  limits: { rateLimit: false },
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
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
process.stdout.write(`READY ${JSON.stringify({ url: running.url })}\n`);
