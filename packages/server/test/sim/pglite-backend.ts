/**
 * Mode B of the simulator: the real server (the fetch handler with its validation and
 * authorisation, over the SQL store on PGlite) behind the simulated network. Requests go through
 * `handler(new Request(...))` exactly as over HTTP; errors come back as the status codes a real
 * adapter maps to `SyncError` kinds.
 *
 * Pokes: the store NOTIFYs them after commit, but a NOTIFY lands at a real-time moment the
 * virtual clock cannot order, so this backend derives the pokes from the push answers instead
 * (a poke is a hint; the client must converge either way).
 */

import { PGlite } from '@electric-sql/pglite';
import {
  errorKindForStatus,
  type Poke,
  type PullResponse,
  type PushResponse,
  SyncError,
  type SyncRecord,
} from '@syncline/sync-core/protocol';
import type { AppliedLogEntry, SimBackend, SimScheduler } from '@syncline/sync-core/testing';
import { createSyncHandler } from '../../src/handler.js';
import { pgliteExecutor } from '../../src/store/pglite-store.js';
import { createSqlStore } from '../../src/store/sql-store.js';

const SIM_EPOCH_MS = 1_767_225_600_000;

interface Watcher {
  scopes: ReadonlySet<string>;
  session: () => { userId: string; sessionId: string } | null;
  onPoke: (poke: Poke) => void;
}

type SentMutation = {
  id: string;
  scope: string;
  collection: string;
  recordId: string;
  op: AppliedLogEntry['op'];
};

/** One PGlite database shared by the seeds of a test file (opening one costs seconds). */
export interface PgliteSim {
  /** A backend for one seed: empties the tables and binds the store's clock to `scheduler`. */
  backend(scheduler: SimScheduler): Promise<SimBackend>;
  /** Closes the database. */
  close(): Promise<void>;
}

/** Opens an in-memory PGlite database with the syncline schema, for {@link PgliteSim.backend}. */
export async function openPgliteSim(): Promise<PgliteSim> {
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
    authenticate: async (request) => {
      const userId = request.headers.get('x-user');
      const sessionId = request.headers.get('x-session');
      return userId === null || sessionId === null ? null : { userId, sessionId };
    },
    limits: { rateLimit: false, maxFieldsPerRecord: 24 },
  });
  return {
    async backend(scheduler) {
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
      return seedBackend({ scheduler, executor, store, handler });
    },
    close: () => store.close(),
  };
}

function seedBackend(ctx: {
  scheduler: SimScheduler;
  executor: ReturnType<typeof pgliteExecutor>;
  store: Awaited<ReturnType<typeof createSqlStore>>;
  handler: ReturnType<typeof createSyncHandler>;
}): SimBackend {
  const { scheduler, executor, store, handler } = ctx;
  const watchers = new Set<Watcher>();
  const mutations = new Map<string, SentMutation>();
  const stored = new Set<string>();
  let dedupeHits = 0;

  const call = async (
    session: { userId: string; sessionId: string },
    path: string,
    body?: string,
  ): Promise<unknown> => {
    const response = await handler(
      new Request(`http://sim${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: {
          'x-user': session.userId,
          'x-session': session.sessionId,
          'content-type': 'application/json',
        },
        ...(body === undefined ? {} : { body }),
      }),
    );
    const json = (await response.json()) as { error?: { code?: string; message?: string } };
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

  const pullAll = async (scope: string): Promise<SyncRecord[]> => {
    const user = scope.slice('user:'.length);
    const records: SyncRecord[] = [];
    let checkpoint: string | null = null;
    for (;;) {
      const query = new URLSearchParams({
        scope,
        limit: '1000',
        ...(checkpoint === null ? {} : { checkpoint }),
      });
      const page = (await call(
        { userId: user, sessionId: 'oracle' },
        `/v1/pull?${query}`,
      )) as PullResponse;
      records.push(...page.changes);
      checkpoint = page.checkpoint;
      if (!page.hasMore) return records;
    }
  };

  return {
    name: 'pglite',
    async push(session, body) {
      const request = body as { mutations?: Array<Record<string, unknown>> };
      for (const m of request.mutations ?? []) {
        const id = String(m.id);
        if (stored.has(id)) dedupeHits++;
        if (!mutations.has(id)) {
          mutations.set(id, {
            id,
            scope: String(m.scope),
            collection: String(m.collection),
            recordId: String(m.recordId),
            op: m.op as AppliedLogEntry['op'],
          });
        }
      }
      const answer = (await call(session, '/v1/push', JSON.stringify(body))) as PushResponse;
      const changed = new Set<string>();
      for (const result of answer.results) {
        if (result.status !== 'conflict') stored.add(result.id);
        const scope = mutations.get(result.id)?.scope;
        if (result.status === 'applied' && scope !== undefined) changed.add(scope);
      }
      for (const scope of changed) {
        const version = Math.max(
          ...answer.results.map((r) =>
            r.status === 'applied' && mutations.get(r.id)?.scope === scope ? r.revision : 0,
          ),
        );
        for (const watcher of watchers) {
          if (!watcher.scopes.has(scope)) continue;
          scheduler.schedule(0, () => {
            const current = watcher.session();
            if (!watchers.has(watcher) || current === null || `user:${current.userId}` !== scope)
              return;
            watcher.onPoke({
              scope,
              version,
              originClientId: String((body as { clientId?: unknown }).clientId),
            });
          });
        }
      }
      return answer;
    },
    async pull(session, query) {
      const q = query as { scope: string; checkpoint: string | null; limit?: number };
      const params = new URLSearchParams({ scope: q.scope });
      if (q.checkpoint !== null) params.set('checkpoint', q.checkpoint);
      if (q.limit !== undefined) params.set('limit', String(q.limit));
      return (await call(session, `/v1/pull?${params}`)) as PullResponse;
    },
    watch(scopes, session, onPoke) {
      const watcher: Watcher = { scopes: new Set(scopes), session, onPoke };
      watchers.add(watcher);
      return () => {
        watchers.delete(watcher);
      };
    },
    records: pullAll,
    async appliedLog() {
      const rows = await executor.query<{
        id: string;
        user_id: string;
        client_id: string;
        outcome: { status: string; revision?: number };
      }>(
        "SELECT id, user_id, client_id, outcome FROM syncline.mutations WHERE outcome->>'status' = 'applied'",
      );
      const log: AppliedLogEntry[] = [];
      for (const row of rows) {
        const m = mutations.get(row.id);
        if (m === undefined || row.outcome.revision === undefined) continue;
        log.push({
          mutationId: row.id,
          scope: m.scope,
          version: Number(row.outcome.revision),
          collection: m.collection,
          recordId: m.recordId,
          op: m.op,
          userId: row.user_id,
          clientId: row.client_id,
          sessionId: '',
        });
      }
      return log.sort((a, b) =>
        a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : a.version - b.version,
      );
    },
    async purgeTombstones() {
      return (await store.purgeTombstones({ olderThanMs: 0 })).purged;
    },
    // The SQL store keeps no cache that matters: a restart loses what was in flight (the
    // network drops it) and keeps the database.
    async restart() {},
    async dedupeHits() {
      return dedupeHits;
    },
    // The sim knows the format (`c1.<epoch>.<version>`) only to check that a device's
    // checkpoints never go back (INV-5); clients treat them as opaque.
    compareCheckpoints: (a, b) => checkpointVersion(a) - checkpointVersion(b),
  };
}

function checkpointVersion(checkpoint: string): number {
  const version = Number(checkpoint.split('.').at(-1));
  return Number.isSafeInteger(version) ? version : -1;
}
