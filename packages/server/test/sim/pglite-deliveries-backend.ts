/**
 * The delivery simulation against the reference server: the fetch handler (validation,
 * authentication, revocation, the targeting routes) over the SQL store on PGlite. Requests go
 * through `handler(new Request(...))` as over HTTP; an error answer comes back as the `SyncError`
 * a real adapter makes of it. The auditor reads the store's own status of a delivery.
 *
 * Hints: the store NOTIFYs them after commit, at a real-time moment the virtual clock cannot
 * order, so this backend derives the `delivery` hints from the send answers instead (a hint is
 * never needed for correctness: the client lists pending deliveries on its own too).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { DeliveryBackend, SimulateDeliveriesOptions } from '@syncline/sync-core/testing';
import { fileBlobStore } from '../../src/assets/blob-store.js';
import { createSyncHandler, type SyncHandler } from '../../src/handler.js';
import type { SqlExecutor } from '../../src/store/executor.js';
import { pgliteExecutor } from '../../src/store/pglite-store.js';
import { createSqlStore } from '../../src/store/sql-store.js';
import type { SyncStore } from '../../src/store/types.js';
import { callHandler, simAuthenticate } from './handler-call.js';
import { handlerAssetBackend } from './pglite-delivery-assets.js';

const SIM_EPOCH_MS = 1_767_225_600_000;

type Auth = { userId: string; sessionId: string };

/** The setup the simulation hands each seed's backend. */
type Setup = Parameters<NonNullable<SimulateDeliveriesOptions['backend']>>[0];

/** One PGlite database shared by the seeds of a test file (opening one costs seconds). */
export interface PgliteDeliverySim {
  /**
   * A backend for one seed: empties the tables and binds the server's clock to the run's
   * scheduler. The first seed's active window builds the store; every later seed must use it.
   */
  backend(setup: Setup): Promise<DeliveryBackend>;
  /** Closes the database and removes the blob directory. */
  close(): Promise<void>;
}

/** Options of {@link openPgliteDeliverySim}. */
export interface PgliteDeliverySimOptions {
  /** Wraps the store's database (a canary's planted bug). */
  wrapExecutor?: (executor: SqlExecutor) => SqlExecutor;
}

/** Opens an in-memory PGlite database; the store and handler come with the first seed. */
export async function openPgliteDeliverySim(
  options: PgliteDeliverySimOptions = {},
): Promise<PgliteDeliverySim> {
  const db = await PGlite.create();
  const real = pgliteExecutor(db);
  const executor = options.wrapExecutor?.(real) ?? real;
  const blobDirectory = await mkdtemp(join(tmpdir(), 'syncline-sim-blobs-'));
  let clock: () => number = () => SIM_EPOCH_MS;
  let members: Setup['members'] = {};
  const blobStore = fileBlobStore({ directory: blobDirectory });
  let server: { handler: SyncHandler; store: SyncStore; policy: string } | undefined;
  const open = async (setup: Setup) => {
    const policy = `${setup.sessionActiveWindowMs}/${setup.uploadGraceSeconds}`;
    if (server !== undefined) {
      if (policy !== server.policy)
        throw new Error('every seed of a PGlite delivery sim must use one active window and grace');
      return server;
    }
    const store = await createSqlStore(executor, {
      environment: { now: () => clock() },
      sessionActiveWindowMs: setup.sessionActiveWindowMs,
      assetGraceMs: setup.uploadGraceSeconds * 1000,
      onError: () => {},
    });
    const handler = createSyncHandler({
      store,
      authenticate: simAuthenticate,
      listScopeMembers: async (scope) => members[scope] ?? [],
      blobStore,
      limits: { rateLimit: false },
    });
    server = { handler, store, policy };
    return server;
  };
  return {
    async backend(setup) {
      const { handler, store } = await open(setup);
      const targeting = store.targeting;
      if (targeting === undefined) throw new Error('the SQL store has no targeting part');
      const call = (auth: Auth, method: string, path: string, body?: unknown) =>
        callHandler(handler, auth, {
          method,
          path,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      const tables = await executor.query<{ tablename: string }>(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'syncline' AND tablename NOT IN ('meta', 'migrations')",
      );
      if (tables.length > 0) {
        await executor.exec(
          `TRUNCATE ${tables.map((t) => `syncline."${t.tablename}"`).join(', ')}`,
        );
      }
      for (const key of await blobStore.keys()) await blobStore.delete(key);
      const { scheduler } = setup;
      members = setup.members;
      clock = () => SIM_EPOCH_MS + scheduler.now;
      const watchers = new Set<{
        auth: () => Auth | null;
        listener: (event: { type: 'delivery'; id: string }) => void;
      }>();
      return {
        name: 'pglite',
        heartbeat: async (auth, body) =>
          (await call(auth, 'POST', '/v1/sessions/heartbeat', body)).session as never,
        listSessions: async (auth) => (await call(auth, 'GET', '/v1/sessions')).sessions as never,
        revoke: async (auth, sessionId) => {
          await call(
            auth,
            'DELETE',
            sessionId === undefined
              ? '/v1/sessions'
              : `/v1/sessions/${encodeURIComponent(sessionId)}`,
          );
        },
        send: async (auth, body) => {
          const delivery = (await call(auth, 'POST', '/v1/deliveries', body)).delivery as {
            id: string;
            originSessionId: string;
          };
          for (const watcher of watchers) {
            scheduler.schedule(0, () => {
              const current = watcher.auth();
              if (!watchers.has(watcher) || current === null) return;
              if (current.sessionId !== delivery.originSessionId) {
                watcher.listener({ type: 'delivery', id: delivery.id });
              }
            });
          }
          return delivery as never;
        },
        pending: async (auth) =>
          (await call(auth, 'GET', '/v1/deliveries?pending=1')).deliveries as never,
        ack: async (auth, id) =>
          (await call(auth, 'POST', `/v1/deliveries/${encodeURIComponent(id)}/ack`, {})) as never,
        watch: (auth, listener) => {
          const watcher = { auth, listener };
          watchers.add(watcher);
          return () => {
            watchers.delete(watcher);
          };
        },
        pull: async (auth, query) => {
          const q = query as { scope: string; checkpoint: string | null };
          const params = new URLSearchParams({ scope: q.scope });
          if (q.checkpoint !== null) params.set('checkpoint', q.checkpoint);
          return (await call(auth, 'GET', `/v1/pull?${params}`)) as never;
        },
        push: async (auth, body) => (await call(auth, 'POST', '/v1/push', body)) as never,
        audit: async (id, senderUserId) =>
          (await targeting.deliveryStatus({ userId: senderUserId, sessionId: 'auditor' }, id))
            ?.status,
        // The handler's sweep is the one `startServer` runs every minute: the store's (expiry,
        // completion of deliveries whose remaining targets went stale or were revoked) and the
        // blob store's. It runs before each audit, which judges the state it leaves.
        sweep: async () => {
          await handler.sweep();
        },
        settle: async () => {
          await handler.sweep();
        },
        assets: handlerAssetBackend({
          handler,
          targeting,
          blobStore,
          scheduler,
          epochMs: SIM_EPOCH_MS,
        }),
      };
    },
    async close() {
      await (server?.store.close() ?? db.close());
      await rm(blobDirectory, { recursive: true, force: true });
    },
  };
}
