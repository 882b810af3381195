/**
 * Push to the app's tables: the whole batch in one `syncline_tables_push` call (one
 * transaction, a savepoint per mutation), each with the revision check done in SQL and a
 * conflict answered with the row as it is, for the collection's resolver.
 *
 * The tables keep no mutation ids, so a re-sent mutation whose first answer was lost meets its
 * own write and conflicts. It is taken as applied when the row holds what it wrote: every
 * column it named has the value sent (a delete: the row is a tombstone). Nothing is written
 * twice and nothing is lost; a lost answer followed by another device's write before the retry
 * surfaces as a conflict for the resolver. Mutations sharing a `txId` are not atomic.
 *
 * @module
 */
import type {
  JsonObject,
  Mutation,
  MutationResult,
  PushRequest,
  PushResponse,
  SyncRecord,
} from '@syncline/sync-core';
import { jsonEqual } from '@syncline/sync-core/protocol';
import type { SupabaseClientLike } from './client-like.js';
import { callRpc, validatedAnswer } from './rpc-call.js';
import { type ResolvedTable, recordOfRow, SYSTEM_COLUMNS } from './tables-options.js';

/** Options of {@link pushTables}. */
export interface TablesPushOptions {
  client: Pick<SupabaseClientLike, 'rpc'>;
  /** The signed-in user's scope: the only one these tables serve. */
  scope: string;
  table: (collection: string) => ResolvedTable | undefined;
  signal?: AbortSignal | undefined;
}

interface SqlResult {
  id: string;
  status: 'applied' | 'conflict' | 'rejected';
  revision?: number;
  server?: JsonObject | null;
  code?: string;
  message?: string;
}

/** Pushes `request.mutations`; one result per mutation, in order. */
export async function pushTables(
  request: PushRequest,
  options: TablesPushOptions,
): Promise<PushResponse> {
  const results: Array<MutationResult | undefined> = [];
  const sent: Array<{ mutation: Mutation; table: ResolvedTable; row: JsonObject }> = [];
  for (const mutation of request.mutations) {
    const table = options.table(mutation.collection);
    if (mutation.scope !== options.scope) {
      results.push(rejected(mutation, 'forbidden', `only ${options.scope} is synced here`));
    } else if (table === undefined) {
      const message = `no table is configured for collection ${mutation.collection}`;
      results.push(rejected(mutation, 'invalid', message));
    } else {
      results.push(undefined);
      const row =
        mutation.op === 'delete'
          ? {}
          : serverless(table.toRow(mutation.data ?? {}, { op: mutation.op }));
      sent.push({ mutation, table, row });
    }
  }
  if (sent.length > 0) {
    const data = await callRpc(
      options.client.rpc('syncline_tables_push', {
        client_id: request.clientId,
        mutations: sent.map(({ mutation, table, row }) => ({
          id: mutation.id,
          table: table.table,
          record_id: mutation.recordId,
          op: mutation.op,
          data: row,
          base_revision: mutation.baseRevision,
        })),
      }),
      options.signal,
    );
    const answers = validatedAnswer('syncline_tables_push', () => answersOf(data, sent.length));
    let next = 0;
    for (const [index, result] of results.entries()) {
      if (result !== undefined) continue;
      const { mutation, table, row } = sent[next] as (typeof sent)[number];
      results[index] = settle(mutation, answers[next] as SqlResult, table, row, options.scope);
      next += 1;
    }
  }
  return { results: results as MutationResult[] };
}

function settle(
  mutation: Mutation,
  answer: SqlResult,
  table: ResolvedTable,
  row: JsonObject,
  scope: string,
): MutationResult {
  if (answer.status === 'applied') {
    return { id: mutation.id, status: 'applied', revision: answer.revision as number };
  }
  if (answer.status === 'rejected') {
    return rejected(mutation, answer.code ?? 'invalid', answer.message ?? 'rejected by the table');
  }
  const serverRow = answer.server ?? null;
  const server: SyncRecord | null =
    serverRow === null ? null : recordOfRow(table, scope, serverRow);
  if (server !== null && serverRow !== null && alreadyApplied(mutation, server, serverRow, row)) {
    return { id: mutation.id, status: 'applied', revision: server.revision };
  }
  return { id: mutation.id, status: 'conflict', server };
}

/** The row already holds this mutation's write (its first answer was lost). */
function alreadyApplied(
  mutation: Mutation,
  server: SyncRecord,
  serverRow: JsonObject,
  row: JsonObject,
): boolean {
  if (mutation.op === 'delete') return server.deleted;
  if (server.deleted) return false;
  return Object.entries(row).every(([column, value]) => jsonEqual(serverRow[column], value));
}

function serverless(row: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [column, value] of Object.entries(row)) {
    if (!SYSTEM_COLUMNS.includes(column)) out[column] = value;
  }
  return out;
}

function rejected(mutation: Mutation, code: string, message: string): MutationResult {
  return { id: mutation.id, status: 'rejected', code, message };
}

function answersOf(data: unknown, count: number): SqlResult[] {
  const results = (data as { results?: unknown } | null)?.results;
  if (!Array.isArray(results) || results.length !== count) {
    throw new TypeError(`expected { results } with ${count} entries`);
  }
  for (const result of results as SqlResult[]) {
    const ok =
      (result?.status === 'applied' && typeof result.revision === 'number') ||
      (result?.status === 'conflict' && result.server !== undefined) ||
      (result?.status === 'rejected' && typeof result.message === 'string');
    if (!ok) throw new TypeError(`unexpected result ${JSON.stringify(result)}`);
  }
  return results as SqlResult[];
}
