/**
 * The fixture of the SEC-* suite: one store per runner file (PGlite or PostgreSQL) with direct
 * SQL access for read-backs, and the servers the suite talks to over loopback:
 * - `dev`: dev auth (tokens from `POST /v1/dev/token`), default limits;
 * - `jwt`: `jwtAuth` with a shared HS256 secret, issuer `test`, audience `syncline`;
 * - `limited`: dev auth (the same issuer as `dev`) with a tiny rate limit.
 *
 * Read-backs go around HTTP: `fingerprint()` hashes every record and scope version in the
 * database, so a "must reject" case proves that nothing at all changed, not only the row it
 * aimed at.
 */
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, expect } from 'vitest';
import { jwtAuth } from '../../src/auth/jwt-auth.js';
import { createSyncHandler } from '../../src/handler.js';
import type { Logger } from '../../src/http/problem.js';
import { type RunningServer, serve } from '../../src/node/serve.js';
import { type StartedServer, startServer } from '../../src/node/start-server.js';
import type { SqlExecutor } from '../../src/store/executor.js';
import { pgliteExecutor } from '../../src/store/pglite-store.js';
import { postgresExecutor, postgresStore } from '../../src/store/postgres-store.js';
import { createSqlStore } from '../../src/store/sql-store.js';
import type { SyncStore } from '../../src/store/types.js';
import { type Answer, call, devToken, wirePut } from '../http-support.js';
import { freshDatabase, freshUser } from '../support.js';

/** The HS256 secret of the `jwt` server. */
export const SECRET = 'sec-suite-secret-of-at-least-32-bytes!!';

/** A store with raw SQL access to its database. */
export interface OpenedStore {
  store: SyncStore;
  db: SqlExecutor;
  /** Another store on the same database over exactly one connection (PostgreSQL only). */
  singleConnection?: () => Promise<SyncStore>;
  close(): Promise<void>;
}

/** An embedded PGlite store (one per runner file: `PGlite.create` takes seconds). */
export async function openPglite(): Promise<OpenedStore> {
  const db = pgliteExecutor(await PGlite.create());
  const store = await createSqlStore(db);
  return { store, db, close: () => store.close() };
}

/** A store on a fresh database of the PostgreSQL server at `adminUrl`. */
export async function openPostgres(adminUrl: string): Promise<OpenedStore> {
  const database = await freshDatabase(adminUrl);
  const db = await postgresExecutor({ connectionString: database.url });
  const store = await createSqlStore(db);
  return {
    store,
    db,
    singleConnection: () => postgresStore({ connectionString: database.url, maxConnections: 1 }),
    async close() {
      await store.close();
      await database.drop();
    },
  };
}

/** A signed-in user of the `dev` server. */
export interface User {
  userId: string;
  token: string;
  sessionId: string;
  scope: string;
  clientId: string;
}

/** What the SEC describes share. */
export interface SecFixture {
  dev: StartedServer;
  jwt: RunningServer;
  limited: RunningServer;
  store: SyncStore;
  db: SqlExecutor;
  /** 500s and other unexpected errors logged by any server (must stay empty). */
  logged: unknown[];
  signIn(): Promise<User>;
  /** A put mutation with a fresh id. */
  mutation(
    scope: string,
    recordId: string,
    data: unknown,
    extra?: Record<string, unknown>,
  ): Record<string, unknown>;
  /** `POST /v1/push` as `who` with a JSON body. */
  push(
    who: { token: string; clientId: string },
    mutations: unknown[],
    options?: { url?: string; sessionId?: string },
  ): Promise<Answer>;
  /** `POST /v1/push` with a raw body. */
  rawPush(
    who: { token: string },
    body: string | Uint8Array<ArrayBuffer>,
    type?: string,
  ): Promise<Answer>;
  /** `GET /v1/pull?scope=` as `who`. */
  pull(who: { token: string }, scope: string, url?: string): Promise<Answer>;
  /** Every live record and tombstone of `scope`, read from the store, not over HTTP. */
  stored(
    scope: string,
  ): Promise<Array<{ id: string; data: unknown; revision: number; deleted: boolean }>>;
  /**
   * A hash of every record, tombstone and scope version in the database. A scope row still at
   * version 0 counts as absent: a push locks (upserts) the scopes it writes before it knows
   * the outcome, and an empty scope reads exactly like a missing one.
   */
  fingerprint(): Promise<string>;
  /** Names of the tables of the `syncline` schema. */
  tables(): Promise<string[]>;
  /**
   * A dev-auth server (tokens of `dev` work) whose store has exactly one database connection:
   * on PostgreSQL a second store with a pool of one, on PGlite `dev` itself (one connection).
   */
  singleConnectionServer(): Promise<{ url: string; close(): Promise<void> }>;
}

/** Starts the servers in `beforeAll` and stops them in `afterAll`; returns the fixture getter. */
export function useSecFixture(open: () => Promise<OpenedStore>): () => SecFixture {
  let opened: OpenedStore;
  let fixture: SecFixture | undefined;
  const servers: Array<{ close(): Promise<void> }> = [];
  const logged: unknown[] = [];
  const logger: Logger = { error: (m, d) => logged.push([m, d]), warn: () => undefined };

  beforeAll(async () => {
    opened = await open();
    const { store, db } = opened;
    const dev = await startServer({ port: 0, store, devAuth: true, logger, purgeIntervalMs: 0 });
    servers.push(dev);
    const jwt = await serve(
      createSyncHandler({
        store,
        authenticate: jwtAuth({ secret: SECRET, issuer: 'test', audience: 'syncline' }),
        logger,
      }),
      { port: 0 },
    );
    servers.push(jwt);
    const limited = await serve(
      createSyncHandler({
        store,
        authenticate: dev.devAuth?.authenticate ?? (async () => null),
        limits: { rateLimit: { requestsPerSecond: 0.2, burst: 1 } },
        logger,
      }),
      { port: 0 },
    );
    servers.push(limited);

    fixture = {
      dev,
      jwt,
      limited,
      store,
      db,
      logged,
      async signIn() {
        const userId = freshUser();
        const { token, sessionId } = await devToken(dev.url, userId);
        return { userId, token, sessionId, scope: `user:${userId}`, clientId: `c-${userId}` };
      },
      mutation: wirePut,
      push: (who, mutations, options = {}) =>
        call(`${options.url ?? dev.url}/v1/push`, {
          method: 'POST',
          token: who.token,
          json: { clientId: who.clientId, sessionId: options.sessionId ?? 's1', mutations },
        }),
      rawPush: (who, body, type = 'application/json') =>
        call(`${dev.url}/v1/push`, {
          method: 'POST',
          token: who.token,
          headers: { 'content-type': type },
          body,
        }),
      pull: (who, scope, url = dev.url) =>
        call(`${url}/v1/pull?scope=${encodeURIComponent(scope)}`, { token: who.token }),
      async stored(scope) {
        const page = await store.pull(
          { userId: 'sec-suite-reader', sessionId: 'r' },
          {
            scope,
            checkpoint: null,
            limit: 1000,
          },
        );
        return page.changes.map((c) => ({
          id: c.id,
          data: c.data,
          revision: c.revision,
          deleted: c.deleted,
        }));
      },
      async fingerprint() {
        const [row] = await db.query<{ records: string | null; scopes: string | null; n: string }>(
          `SELECT
             (SELECT count(*) FROM syncline.records)::text AS n,
             (SELECT md5(string_agg(concat_ws('|', scope, collection, id, data::text, revision,
                hlc, deleted), E'\\n' ORDER BY scope, collection, id)) FROM syncline.records) AS records,
             (SELECT md5(string_agg(concat_ws('|', scope, version, purged_through), E'\\n'
                ORDER BY scope)) FROM syncline.scopes
              WHERE version > 0 OR purged_through > 0) AS scopes`,
        );
        return `${row?.n}:${row?.records}:${row?.scopes}`;
      },
      async singleConnectionServer() {
        if (opened.singleConnection === undefined) return { url: dev.url, close: async () => {} };
        const single = await opened.singleConnection();
        const running = await serve(
          createSyncHandler({
            store: single,
            authenticate: dev.devAuth?.authenticate ?? (async () => null),
            logger,
          }),
          { port: 0 },
        );
        return {
          url: running.url,
          async close() {
            await running.close();
            await single.close();
          },
        };
      },
      async tables() {
        const rows = await db.query<{ name: string }>(
          `SELECT table_name AS name FROM information_schema.tables
           WHERE table_schema = 'syncline' ORDER BY table_name`,
        );
        return rows.map((r) => r.name);
      },
    };
  });

  afterAll(async () => {
    for (const server of servers.reverse()) await server.close();
    await opened?.close();
    // No request of the suite may have been answered with a 500.
    expect(logged).toEqual([]);
  });

  return () => {
    if (fixture === undefined) throw new Error('the SEC fixture is not started');
    return fixture;
  };
}

/** The tables a healthy database has (SQL metacharacters must never drop one). */
export const TABLES = ['meta', 'migrations', 'mutations', 'records', 'scopes'];

/** The results of a push answer. */
export function resultsOf(
  answer: Answer,
): Array<{ id: string; status: string; code?: string; revision?: number }> {
  expect(answer.status).toBe(200);
  return (answer.body as { results: Array<{ id: string; status: string; code?: string }> }).results;
}
