/**
 * The reference server, in-process on a free loopback port, over PGlite or a fresh database
 * on a real PostgreSQL server, with development auth.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import {
  createSyncHandler,
  devAuth,
  pgliteStore,
  postgresStore,
  type SyncStore,
} from '../../../server/src/index.js';
import { serve } from '../../../server/src/node.js';

/** Which database the server runs on. */
export type StoreKind = { kind: 'pglite' } | { kind: 'postgres'; adminUrl: string };

/** A running server. */
export interface TestServer {
  url: string;
  store: SyncStore;
  close(): Promise<void>;
}

/** Starts the server; `close` stops it and drops its database. */
export async function startServer(kind: StoreKind): Promise<TestServer> {
  let dropDatabase = async () => {};
  let store: SyncStore;
  if (kind.kind === 'pglite') {
    store = await pgliteStore();
  } else {
    const database = await freshDatabase(kind.adminUrl);
    dropDatabase = database.drop;
    store = await postgresStore({ connectionString: database.url });
  }
  const auth = devAuth();
  const handler = createSyncHandler({
    store,
    authenticate: auth.authenticate,
    devAuth: auth,
    limits: { rateLimit: false },
  });
  const running = await serve(handler, { port: 0, onError: () => undefined });
  return {
    url: running.url,
    store,
    async close() {
      handler.closeStreams();
      await running.close();
      await store.close();
      await dropDatabase();
    },
  };
}

async function freshDatabase(
  adminUrl: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `syncline_rest_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
