/**
 * Helpers of the server tests: mutation builders, fresh PostgreSQL databases.
 */
import { randomUUID } from 'node:crypto';
import type { JsonObject, Mutation, MutationResult } from '@syncline/sync-core/protocol';
import { freshDatabase } from '../../../test/support/postgres.js';
import { postgresStore } from '../src/store/postgres-store.js';
import type { SqlStoreOptions, SqlStoreTestHooks } from '../src/store/sql-store.js';
import type {
  AuthContext,
  StorePushEntry,
  StorePushRequest,
  SyncStore,
} from '../src/store/types.js';

/** Fresh PostgreSQL databases, shared with the adapter's tests. */
export { freshDatabase };

/**
 * A `postgresStore` on a fresh database of the server at `adminUrl`; `close` closes the store
 * and drops the database.
 */
export async function openPostgresStore(
  adminUrl: string,
  options: SqlStoreOptions = {},
  hooks?: SqlStoreTestHooks,
): Promise<{ store: SyncStore; close(): Promise<void> }> {
  const db = await freshDatabase(adminUrl);
  const store = await postgresStore({ ...options, connectionString: db.url }, hooks);
  return {
    store,
    async close() {
      await store.close();
      await db.drop();
    },
  };
}

/** A fresh scope id for one test, so tests share a store without seeing each other. */
export function freshUser(): string {
  return `u${randomUUID().slice(0, 8)}`;
}

/** The auth context of a user. */
export function authOf(userId: string, sessionId = 's1'): AuthContext {
  return { userId, sessionId };
}

// An HLC names one write of one client, and the server recognises a re-sent write by it (DESIGN
// §3.2): two mutations of these helpers must never share one, even within a millisecond.
let hlcCounter = 0;

/** A fresh HLC of node `c1`: the wall clock now, and a counter that makes it unique. */
function freshHlc(): string {
  hlcCounter = (hlcCounter + 1) % 0x10000;
  return `${Date.now().toString(16).padStart(12, '0')}:${hlcCounter.toString(16).padStart(4, '0')}:c1`;
}

/** A put mutation. */
export function put(
  scope: string,
  recordId: string,
  data: JsonObject,
  baseRevision = 0,
  extra: Partial<Mutation> = {},
): Mutation {
  return {
    id: randomUUID(),
    scope,
    collection: 'todos',
    recordId,
    op: 'put',
    data,
    baseRevision,
    hlc: freshHlc(),
    ...extra,
  };
}

/** A patch mutation. */
export function patch(
  scope: string,
  recordId: string,
  data: JsonObject,
  baseRevision: number,
  extra: Partial<Mutation> = {},
): Mutation {
  return { ...put(scope, recordId, data, baseRevision, extra), op: 'patch' };
}

/** A delete mutation. */
export function del(
  scope: string,
  recordId: string,
  baseRevision: number,
  extra: Partial<Mutation> = {},
): Mutation {
  const { data: _data, ...rest } = put(scope, recordId, {}, baseRevision, extra);
  return { ...rest, op: 'delete' };
}

/** A push request of valid mutations. */
export function request(
  mutations: Array<Mutation | StorePushEntry>,
  clientId = 'client-1',
): StorePushRequest {
  return {
    clientId,
    sessionId: 's1',
    entries: mutations.map((m) => ('ok' in m ? m : { ok: true as const, mutation: m })),
  };
}

/** Narrows a result to `applied` and returns its revision. */
export function revisionOf(result: MutationResult | undefined): number {
  if (result?.status !== 'applied')
    throw new Error(`expected applied, got ${JSON.stringify(result)}`);
  return result.revision;
}
