/**
 * A pull reads the scope row and the page of records in one snapshot (one statement), so the
 * purge horizon and the records agree (a concurrent purge cannot slip between them).
 *
 * Because every push holds the scope's row lock while it assigns versions, the versions
 * visible in any snapshot are exactly 1..version: a row committed later always has a larger
 * version than any checkpoint handed out before it. So "revision > checkpoint" never skips.
 *
 * The answer is built as JSON text: the database renders the page in its wire shape and only
 * the envelope is written here, so no record is parsed or serialised in JavaScript on the way
 * from the database to the socket (the dominant cost of a 1000-record page otherwise).
 *
 * @module
 */
import type { PullRequest } from '@syncline/sync-core/protocol';
import { behindPurge, decodeCheckpointParts, encodeCheckpoint } from './checkpoint.js';
import type { SqlQueryable } from './executor.js';
import { toNumber } from './rows.js';

/** The one row of `syncline.pull_changes`. */
interface ChangesRow {
  version: string | number;
  purged_through: string | number;
  /** The page's records as a JSON array in wire shape, in revision order. */
  changes: string;
  /** Revision of the page's last record; `null` for an empty page. */
  last_revision: string | number | null;
  /** Whether the scope has records past the page. */
  has_more: boolean;
}

/**
 * Runs a pull as one statement (`syncline.pull_changes`, see `pull-sql.ts`) and answers
 * the `PullResponse` as its JSON text.
 */
export async function pullPageText(
  db: SqlQueryable,
  request: PullRequest,
  options: { epoch: string; defaultLimit: number },
): Promise<string> {
  const parts =
    request.checkpoint === null
      ? undefined
      : decodeCheckpointParts(request.checkpoint, options.epoch);
  const limit = request.limit ?? options.defaultLimit;
  const read = async (after: number | null) =>
    (
      await db.query<ChangesRow>('SELECT * FROM syncline.pull_changes($1, $2, $3)', [
        request.scope,
        after,
        limit,
      ])
    )[0];
  let head = await read(parts?.version ?? null);
  let version = toNumber(head?.version);
  let purgedThrough = toNumber(head?.purged_through);

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
      head = await read(null);
      version = toNumber(head?.version);
      purgedThrough = toNumber(head?.purged_through);
    } else {
      after = parts.version;
    }
  }

  const hasMore = head?.has_more === true;
  // A full page ends at its last row; the final page covers the whole scope version, which
  // may be past the last row (superseded or purged rows leave gaps).
  const through =
    hasMore && head?.last_revision != null
      ? toNumber(head.last_revision)
      : Math.max(version, after);
  const checkpoint = JSON.stringify(encodeCheckpoint(options.epoch, through, purgedThrough));
  const tail = resetRequired ? ',"resetRequired":true}' : '}';
  return `{"changes":${head?.changes ?? '[]'},"checkpoint":${checkpoint},"hasMore":${hasMore}${tail}`;
}
