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
import { PGlite } from '@electric-sql/pglite';
import { errorKindForStatus, SyncError } from '@syncline/sync-core/protocol';
import type { DeliveryBackend, SimScheduler } from '@syncline/sync-core/testing';
import { createSyncHandler } from '../../src/handler.js';
import { pgliteExecutor } from '../../src/store/pglite-store.js';
import { createSqlStore } from '../../src/store/sql-store.js';

const SIM_EPOCH_MS = 1_767_225_600_000;

type Auth = { userId: string; sessionId: string };

/** One PGlite database shared by the seeds of a test file (opening one costs seconds). */
export interface PgliteDeliverySim {
  /** A backend for one seed: empties the tables and binds the server's clock to `scheduler`. */
  backend(setup: {
    scheduler: SimScheduler;
    sessionActiveWindowMs: number;
    members: Readonly<Record<string, readonly string[]>>;
  }): Promise<DeliveryBackend>;
  /** Closes the database. */
  close(): Promise<void>;
}

/**
 * Opens an in-memory PGlite database with the syncline schema. The active window and the scope
 * members are fixed by the first seed's setup (every seed of the simulation uses the same).
 */
export async function openPgliteDeliverySim(options: {
  sessionActiveWindowMs: number;
  members: Readonly<Record<string, readonly string[]>>;
}): Promise<PgliteDeliverySim> {
  const db = await PGlite.create();
  const executor = pgliteExecutor(db);
  let clock: () => number = () => SIM_EPOCH_MS;
  const store = await createSqlStore(executor, {
    environment: { now: () => clock() },
    sessionActiveWindowMs: options.sessionActiveWindowMs,
    onError: () => {},
  });
  const targeting = store.targeting;
  if (targeting === undefined) throw new Error('the SQL store has no targeting part');
  const handler = createSyncHandler({
    store,
    authenticate: async (request) => {
      const userId = request.headers.get('x-user');
      const sessionId = request.headers.get('x-session');
      return userId === null || sessionId === null ? null : { userId, sessionId };
    },
    listScopeMembers: async (scope) => options.members[scope] ?? [],
    limits: { rateLimit: false },
  });
  const call = async (auth: Auth, method: string, path: string, body?: unknown) => {
    const response = await handler(
      new Request(`http://sim${path}`, {
        method,
        headers: {
          'x-user': auth.userId,
          'x-session': auth.sessionId,
          'content-type': 'application/json',
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    );
    const text = await response.text();
    const json = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> & {
      error?: { code?: string; message?: string };
    };
    if (!response.ok) {
      throw new SyncError(
        errorKindForStatus(response.status),
        json.error?.message ?? `HTTP ${response.status}`,
        {
          status: response.status,
          ...(json.error?.code === undefined ? {} : { code: json.error.code }),
        },
      );
    }
    return json;
  };
  return {
    async backend(setup) {
      const tables = await executor.query<{ tablename: string }>(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'syncline' AND tablename NOT IN ('meta', 'migrations')",
      );
      if (tables.length > 0) {
        await executor.exec(
          `TRUNCATE ${tables.map((t) => `syncline."${t.tablename}"`).join(', ')}`,
        );
      }
      if (setup.sessionActiveWindowMs !== options.sessionActiveWindowMs) {
        throw new Error('the simulation and the store disagree on the active window');
      }
      const { scheduler } = setup;
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
        sweep: async () => {
          await targeting.sweep();
        },
        // The reference server completes a delivery whose remaining targets went stale or were
        // revoked in its sweeper (every minute in `startServer`); the audit judges its result.
        settle: async () => {
          await targeting.sweep();
        },
      };
    },
    close: () => store.close(),
  };
}
