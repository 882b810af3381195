/**
 * Options of `supabaseTablesTransport`, and how a table's row maps to a syncline record.
 *
 * @module
 */
import {
  type AuthSession,
  formatHlc,
  type JsonObject,
  SyncError,
  type SyncRecord,
} from '@syncline/sync-core';
import type { SupabaseClientLike } from './client-like.js';

/** The columns the SQL helper owns; never part of a record's data sent back. */
export const SYSTEM_COLUMNS: readonly string[] = ['id', 'revision', 'updated_at', 'deleted_at'];

/** How one collection maps to one of the app's tables. */
export interface SupabaseTableOptions {
  /**
   * The table, optionally schema-qualified (`'public.projects'`). The SQL helper must be
   * installed on it (`syncline_tables.install`).
   * @default the collection's name
   */
  table?: string;
  /**
   * A row (every column the user may read, as PostgREST's JSON shows it) to the record's data.
   * @default the row without `id`, `revision` and `deleted_at` (`updated_at` is kept, read-only)
   */
  toData?: (row: JsonObject) => JsonObject;
  /**
   * A record's data (`op: 'put'`) or a patch's fields (`op: 'patch'`) to the columns to write.
   * Only the columns named are written, for a put too (a put that must clear the columns it
   * does not name says so here, with `null`); `id`, `revision`, `updated_at` and `deleted_at`
   * are the server's and ignored.
   * @default the data as it is
   */
  toRow?: (data: JsonObject, context: { op: 'put' | 'patch' }) => JsonObject;
}

/** Options of `supabaseTablesTransport`. */
export interface SupabaseTablesTransportOptions<Collections extends string = string> {
  /** The app's `SupabaseClient` (from `createClient`), signed in through `client.auth`. */
  client: SupabaseClientLike;
  /**
   * One entry per collection of the sync client: the table it is synced with.
   * @example
   * ```ts
   * tables: { projects: {}, messages: { table: 'public.messages' } }
   * ```
   */
  tables: Record<Collections, SupabaseTableOptions>;
  /**
   * Pokes over Supabase Realtime (the private channel `syncline:user:<user id>`, fed by the
   * helper's triggers). With `false`, changes arrive on the client's periodic pull only.
   * @default true
   */
  realtime?: boolean;
  /**
   * Where Realtime problems go (a channel the user may not join, a malformed poke). They never
   * stop syncing: pulls still run.
   * @default console.warn
   */
  onRealtimeError?: (error: Error) => void;
  /**
   * The scope the signed-in user's rows are synced in. Row-level security decides which rows
   * those are; the scope only names them for the client, and must be the scope the sync client
   * uses for the same session (its `scopeFor` option). Realtime pokes still travel on the
   * owner's channel (`syncline:user:<user id>`, where the helper's triggers send them) and are
   * heard as this scope's.
   * @default `user:<user id>`
   */
  scopeOf?: (session: AuthSession) => string;
  /**
   * Most rows of one table read per request (1–1000; the client's `limit` may lower it).
   * @default 500
   */
  pageSize?: number;
  /**
   * How long to wait before pulling again when rows were held back (committed after a
   * transaction that is still running: see the SQL helper), so they arrive without waiting
   * for the next change.
   * @default 1000
   */
  heldRetryMs?: number;
}

/** A table entry with its defaults filled in. */
export interface ResolvedTable {
  collection: string;
  table: string;
  toData: (row: JsonObject) => JsonObject;
  toRow: (data: JsonObject, context: { op: 'put' | 'patch' }) => JsonObject;
}

/** Fills in a table entry's defaults; a bad entry is a typed error at creation. */
export function resolveTable(collection: string, options: SupabaseTableOptions): ResolvedTable {
  const table = options.table ?? collection;
  if (!/^([A-Za-z_][A-Za-z0-9_$]*\.)?[A-Za-z_][A-Za-z0-9_$]*$/.test(table)) {
    throw new SyncError(
      'invalid',
      `supabaseTablesTransport: table of ${collection} must be a plain (optionally schema-qualified) name, got ${JSON.stringify(table)}`,
      { code: 'invalid_options' },
    );
  }
  return {
    collection,
    table,
    toData: options.toData ?? defaultToData,
    toRow: options.toRow ?? ((data) => data),
  };
}

function defaultToData(row: JsonObject): JsonObject {
  const { id: _id, revision: _revision, deleted_at: _deletedAt, ...data } = row;
  return data;
}

/** A row as the SQL returns it, to a syncline record of `scope`. */
export function recordOfRow(table: ResolvedTable, scope: string, row: JsonObject): SyncRecord {
  const revision = row.revision;
  if (row.id === undefined || row.id === null || typeof revision !== 'number' || revision < 1) {
    throw new SyncError(
      'server',
      `a row of ${table.table} has no id or revision: is the SQL helper installed on it?`,
      { code: 'bad_response' },
    );
  }
  const deleted = row.deleted_at !== null && row.deleted_at !== undefined;
  return {
    scope,
    collection: table.collection,
    id: String(row.id),
    data: deleted ? null : table.toData(row),
    revision,
    hlc: hlcOfTimestamp(row.updated_at),
    deleted,
  };
}

/** The server's `updated_at` as an HLC (the table keeps no HLC of its own). */
function hlcOfTimestamp(updatedAt: unknown): string {
  const ms = typeof updatedAt === 'string' ? Date.parse(updatedAt) : Number.NaN;
  const wallTime = Number.isSafeInteger(ms) && ms >= 0 && ms < 2 ** 48 ? ms : 0;
  return formatHlc({ wallTime, counter: 0, nodeId: 'server' });
}
