/**
 * Pull from the app's tables: each table read in `(revision, id)` order after its cursor
 * through `syncline_tables_pull`, the tables one after another. The checkpoint holds one cursor
 * per collection (JSON text, opaque to the client). The SQL returns only rows below the
 * oldest running transaction, so a cursor never passes a row still being written.
 *
 * @module
 */
import type { JsonObject, PullRequest, PullResponse, SyncRecord } from '@syncline/sync-core';
import type { SupabaseClientLike } from './client-like.js';
import { callRpc, validatedAnswer } from './rpc-call.js';
import { type ResolvedTable, recordOfRow } from './tables-options.js';

/** A collection's cursor: the last delivered row's revision and id (as text). */
type Cursor = [revision: number, id: string];

const CHECKPOINT_VERSION = 1;

/** What one pull found, besides the page. */
export interface TablesPullResult extends PullResponse {
  /** Rows were committed but held back behind a running transaction: pull again soon. */
  held: boolean;
}

/** Options of {@link pullTables}. */
export interface TablesPullOptions {
  client: Pick<SupabaseClientLike, 'rpc'>;
  tables: readonly ResolvedTable[];
  /** Most rows per request. */
  pageSize: number;
  signal?: AbortSignal | undefined;
}

/** One page of changes of the signed-in user's scope after `request.checkpoint`. */
export async function pullTables(
  request: PullRequest,
  options: TablesPullOptions,
): Promise<TablesPullResult> {
  const cursors = decodeCheckpoint(request.checkpoint, options.tables);
  if (cursors === undefined) {
    // Not a checkpoint of ours (another transport's, or another set of tables): start over.
    return {
      changes: [],
      checkpoint: encodeCheckpoint(initialCursors(options.tables)),
      hasMore: false,
      resetRequired: true,
      held: false,
    };
  }
  const limit = Math.max(1, Math.min(request.limit ?? options.pageSize, options.pageSize));
  const changes: SyncRecord[] = [];
  let hasMore = false;
  let held = false;
  for (const table of options.tables) {
    const room = limit - changes.length;
    if (room <= 0) {
      hasMore = true;
      break;
    }
    const [afterRevision, afterId] = cursors[table.collection] as Cursor;
    const data = await callRpc(
      options.client.rpc('syncline_tables_pull', {
        table_name: table.table,
        after_revision: afterRevision,
        after_id: afterId,
        max_rows: room,
      }),
      options.signal,
    );
    const page = validatedAnswer(`syncline_tables_pull on ${table.table}`, () => pageOf(data));
    held ||= page.held;
    for (const row of page.rows) {
      const record = recordOfRow(table, request.scope, row);
      changes.push(record);
      cursors[table.collection] = [record.revision, record.id];
    }
    if (page.rows.length >= room) hasMore = true;
    if (hasMore) break;
  }
  return { changes, checkpoint: encodeCheckpoint(cursors), hasMore, held };
}

function pageOf(data: unknown): { rows: JsonObject[]; held: boolean } {
  const page = data as { rows?: unknown; held?: unknown } | null;
  if (
    page === null ||
    typeof page !== 'object' ||
    !Array.isArray(page.rows) ||
    typeof page.held !== 'boolean' ||
    !page.rows.every((row) => typeof row === 'object' && row !== null && !Array.isArray(row))
  ) {
    throw new TypeError('expected { rows: object[], held: boolean }');
  }
  return { rows: page.rows as JsonObject[], held: page.held };
}

function initialCursors(tables: readonly ResolvedTable[]): Record<string, Cursor> {
  return Object.fromEntries(tables.map((t) => [t.collection, [0, ''] as Cursor]));
}

function encodeCheckpoint(cursors: Record<string, Cursor>): string {
  return JSON.stringify({ v: CHECKPOINT_VERSION, tables: cursors });
}

/** The cursors of a checkpoint (`null`: a first pull); `undefined` if not ours. */
function decodeCheckpoint(
  checkpoint: string | null,
  tables: readonly ResolvedTable[],
): Record<string, Cursor> | undefined {
  const cursors = initialCursors(tables);
  if (checkpoint === null) return cursors;
  let parsed: { v?: unknown; tables?: Record<string, unknown> } | undefined;
  try {
    parsed = JSON.parse(checkpoint);
  } catch {
    return undefined;
  }
  if (parsed?.v !== CHECKPOINT_VERSION || typeof parsed.tables !== 'object') return undefined;
  for (const [collection, cursor] of Object.entries(parsed.tables ?? {})) {
    if (!(collection in cursors)) return undefined;
    if (!Array.isArray(cursor) || typeof cursor[0] !== 'number' || typeof cursor[1] !== 'string') {
      return undefined;
    }
    cursors[collection] = [cursor[0], cursor[1]];
  }
  return cursors;
}
