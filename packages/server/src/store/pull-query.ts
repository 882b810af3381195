/**
 * A pull reads the scope row and the page of records in one snapshot (one statement), so the
 * purge horizon and the records agree (a concurrent purge cannot slip between them).
 *
 * Because every push holds the scope's row lock while it assigns versions, the versions
 * visible in any snapshot are exactly 1..version: a row committed later always has a larger
 * version than any checkpoint handed out before it. So "revision > checkpoint" never skips.
 *
 * The answer is built as JSON text: the database hands each record over in its wire shape and
 * only the envelope (and the commas between records) is written here, so no record is parsed
 * or serialised in JavaScript on the way from the database to the socket (the dominant cost of
 * a 1000-record page otherwise).
 *
 * @module
 */
import type { PullRequest } from '@syncline/sync-core/protocol';
import { behindPurge, decodeCheckpointParts, encodeCheckpoint } from './checkpoint.js';
import type { SqlQueryable } from './executor.js';
import { toNumber } from './rows.js';
import type { PullPageText } from './types.js';

/** A row of `syncline.pull_rows`: the head columns, and one record of the page (or none). */
interface PageRow {
  version: string | number;
  purged_through: string | number;
  /** `null` on the one row of a page without records. */
  revision: string | number | null;
  /** The record in wire shape; `null` on the one row of a page without records. */
  wire: string | null;
}

/** The head of a page read by {@link readPage}, and its records' wire texts in revision order. */
interface PageRead {
  version: number;
  purgedThrough: number;
  wires: string[];
  /** Revision of the page's last record; `undefined` for an empty page. */
  lastRevision: number | undefined;
  hasMore: boolean;
}

/** Reads one page with `syncline.pull_rows` (see `pull-sql.ts`): one statement, one snapshot. */
async function readPage(
  db: SqlQueryable,
  scope: string,
  after: number | null,
  limit: number,
): Promise<PageRead> {
  const rows = await db.query<PageRow>(
    'SELECT * FROM syncline.pull_rows($1, $2, $3) ORDER BY revision',
    [scope, after, limit],
  );
  const head = rows[0];
  const wires: string[] = [];
  let lastRevision: number | undefined;
  // The function reads one row past the page: it says that more follow, and is left out.
  const count = Math.min(rows.length, limit);
  for (let i = 0; i < count; i++) {
    const row = rows[i] as PageRow;
    if (row.wire === null) continue;
    wires.push(row.wire);
    lastRevision = toNumber(row.revision);
  }
  return {
    version: toNumber(head?.version),
    purgedThrough: toNumber(head?.purged_through),
    wires,
    lastRevision,
    hasMore: rows.length > limit,
  };
}

/**
 * Reads a pull page (see {@link readPage}) and answers the `PullResponse` as its JSON text,
 * with its checkpoint and `hasMore` beside it.
 */
export async function pullPageText(
  db: SqlQueryable,
  request: PullRequest,
  options: { epoch: string; defaultLimit: number },
): Promise<PullPageText> {
  const parts =
    request.checkpoint === null
      ? undefined
      : decodeCheckpointParts(request.checkpoint, options.epoch);
  const limit = request.limit ?? options.defaultLimit;
  const read = (after: number | null) => readPage(db, request.scope, after, limit);
  let page = await read(parts?.version ?? null);
  let { version, purgedThrough } = page;

  // The same rule as the function's: it read from 0 when the checkpoint is ahead of the scope.
  let after = 0;
  let resetRequired = false;
  if (request.checkpoint !== null) {
    // Never issued here, ahead of the scope, or behind the purge horizon: start over.
    if (parts === undefined || parts.version > version) {
      resetRequired = true;
    } else if (behindPurge(parts, purgedThrough)) {
      // The function read from the checkpoint; a reset reads from the start.
      resetRequired = true;
      page = await read(null);
      ({ version, purgedThrough } = page);
    } else {
      after = parts.version;
    }
  }

  const { hasMore, lastRevision } = page;
  // A full page ends at its last row; the final page covers the whole scope version, which
  // may be past the last row (superseded or purged rows leave gaps).
  const through = hasMore && lastRevision !== undefined ? lastRevision : Math.max(version, after);
  const checkpoint = encodeCheckpoint(options.epoch, through, purgedThrough);
  const tail = resetRequired ? ',"resetRequired":true}' : '}';
  const text = `{"changes":[${page.wires.join(',')}],"checkpoint":${JSON.stringify(checkpoint)},"hasMore":${hasMore}${tail}`;
  return { text, checkpoint, hasMore };
}
