/**
 * The simulator's backends on the real server (the fetch handler with its validation and
 * authorisation, over the SQL store on PGlite), built with `transportBackend` of the testing kit:
 *
 * - `handler`: each request goes through `handler(new Request(...))` in process, exactly as over
 *   HTTP; error statuses come back as the `SyncError` kinds a real adapter maps them to.
 * - `rest`: `restTransport` of `@syncline/adapter-rest` over loopback HTTP to the handler served
 *   by `serve`, with seeded faults at the HTTP layer (`http-faults.ts`).
 *
 * Pokes are derived by the simulator from push answers (the store's NOTIFY lands at a real-time
 * moment the virtual clock cannot order; a poke is a hint, the client converges either way).
 */

import { PGlite } from '@electric-sql/pglite';
import { restTransport } from '@syncline/adapter-rest';
import { type AuthSession, createSessionSource, type SyncTransport } from '@syncline/sync-core';
import type { PullRequest, PushRequest } from '@syncline/sync-core/protocol';
import {
  createRandom,
  type SimBackend,
  type SimScheduler,
  transportBackend,
} from '@syncline/sync-core/testing';
import { createSyncHandler, type SyncHandler } from '../../src/handler.js';
import { pgliteExecutor } from '../../src/store/pglite-store.js';
import { createSqlStore } from '../../src/store/sql-store.js';
import { callHandler, simAuthenticate } from './handler-call.js';
import { type HttpFaultRates, type HttpFaultServer, serveWithFaults } from './http-faults.js';

const SIM_EPOCH_MS = 1_767_225_600_000;

/** How devices reach the server. */
export type PgliteSimMode =
  | { transport: 'handler' }
  | {
      transport: 'rest';
      /** Per-request probabilities of the HTTP-layer faults (seeded per run). */
      faults: HttpFaultRates;
    };

/** One PGlite database (and, in `rest` mode, one loopback server) shared by a file's seeds. */
export interface PgliteSim {
  /** The `backend` option of `simulate` for seed `seed` (empties the tables first). */
  backend(seed: number): (scheduler: SimScheduler) => Promise<SimBackend>;
  /** HTTP faults enacted so far, by kind (`rest` mode). */
  readonly httpFaults: ReadonlyMap<string, number>;
  /** Closes the server and the database. */
  close(): Promise<void>;
}

/** Opens an in-memory PGlite database with the syncline schema, for {@link PgliteSim.backend}. */
export async function openPgliteSim(
  mode: PgliteSimMode = { transport: 'handler' },
): Promise<PgliteSim> {
  const db = await PGlite.create();
  const executor = pgliteExecutor(db);
  let clock: () => number = () => SIM_EPOCH_MS;
  const store = await createSqlStore(executor, {
    environment: { now: () => clock() },
    maxFieldsPerRecord: 24,
    onError: () => {},
  });
  const handler = createSyncHandler({
    store,
    // Test tokens `<userId>~<sessionId>`: the simulator's sessions, nothing to verify.
    authenticate: simAuthenticate,
    limits: { rateLimit: false, maxFieldsPerRecord: 24 },
  });
  const http = mode.transport === 'rest' ? await serveWithFaults(handler) : undefined;
  return {
    backend(seed) {
      const random = createRandom(seed ^ 0x5eed_4777);
      if (http !== undefined && mode.transport === 'rest') http.arm(mode.faults, random);
      return transportBackend({
        name: mode.transport === 'rest' ? 'rest+pglite' : 'pglite',
        revisions: 'scope',
        async reset(scheduler) {
          // Every data table of the schema (whatever the migrations made), not the bookkeeping.
          const tables = await executor.query<{ tablename: string }>(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'syncline' AND tablename NOT IN ('meta', 'migrations')",
          );
          if (tables.length > 0) {
            await executor.exec(
              `TRUNCATE ${tables.map((t) => `syncline."${t.tablename}"`).join(', ')}`,
            );
          }
          clock = () => SIM_EPOCH_MS + scheduler.now;
        },
        connect: (session) =>
          http === undefined ? handlerTransport(handler, session) : restOver(http, session),
        heal: () => http?.disarm(),
        async appliedMutations() {
          const rows = await executor.query<{
            id: string;
            user_id: string;
            client_id: string;
            outcome: { status: string; revision?: number };
          }>(
            "SELECT id, user_id, client_id, outcome FROM syncline.mutations WHERE outcome->>'status' = 'applied'",
          );
          return rows
            .filter((row) => row.outcome.revision !== undefined)
            .map((row) => ({
              mutationId: row.id,
              version: Number(row.outcome.revision),
              userId: row.user_id,
              clientId: row.client_id,
            }));
        },
        purgeTombstones: async () => (await store.purgeTombstones({ olderThanMs: 0 })).purged,
        // The sim knows the format (`c1.<epoch>.<version>[.h<horizon>]`) only to check that a device's
        // checkpoints never go back (INV-5); clients treat them as opaque.
        compareCheckpoints: (a, b) => checkpointVersion(a) - checkpointVersion(b),
      });
    },
    get httpFaults() {
      return http?.counts ?? new Map<string, number>();
    },
    async close() {
      await http?.close();
      await store.close();
    },
  };
}

/** `restTransport` as `session`, over the loopback server, with its faults. */
function restOver(http: HttpFaultServer, session: AuthSession): SyncTransport {
  return restTransport({
    baseUrl: http.url,
    getToken: () => `${session.userId}~${session.sessionId}`,
    session: createSessionSource(session),
    fetch: http.fetch,
    // Pokes come from the simulator; a page fetched ahead would be real I/O the virtual clock
    // does not wait for.
    realtime: false,
    pullAhead: false,
  });
}

/** A transport that calls the fetch handler in process, as `session`. */
function handlerTransport(handler: SyncHandler, session: AuthSession): SyncTransport {
  const call = (path: string, body?: string): Promise<unknown> =>
    callHandler(handler, session, {
      method: body === undefined ? 'GET' : 'POST',
      path,
      ...(body === undefined ? {} : { body }),
    });
  return {
    push: async (request: PushRequest) =>
      (await call('/v1/push', JSON.stringify(request))) as never,
    pull: async (request: PullRequest) => {
      const params = new URLSearchParams({ scope: request.scope });
      if (request.checkpoint !== null) params.set('checkpoint', request.checkpoint);
      if (request.limit !== undefined) params.set('limit', String(request.limit));
      return (await call(`/v1/pull?${params}`)) as never;
    },
  };
}

function checkpointVersion(checkpoint: string): number {
  // `c1.<epoch>.<version>`, maybe followed by `.h<horizon>`.
  const version = Number(checkpoint.split('.')[2]);
  return Number.isSafeInteger(version) ? version : -1;
}
