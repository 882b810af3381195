/**
 * A pull reads the scope row and the page of records in one snapshot (one statement), so the
 * purge horizon and the records agree (a concurrent purge cannot slip between them).
 *
 * Because every push holds the scope's row lock while it assigns versions, the versions
 * visible in any snapshot are exactly 1..version: a row committed later always has a larger
 * version than any checkpoint handed out before it. So "revision > checkpoint" never skips.
 *
 * @module
 */
import type { PullRequest, PullResponse } from '@syncline/sync-core/protocol';
import { decodeCheckpoint, encodeCheckpoint } from './checkpoint.js';
import type { SqlQueryable } from './executor.js';
import { type RecordRow, toNumber, toRecord } from './rows.js';

/** A row of `syncline.pull_page`: one `scope` row (version, purge horizon), then the page. */
interface PageRow extends RecordRow {
  kind: 'scope' | 'record';
  purged_through: string | number | null;
}

/**
 * Runs a pull as one statement (`syncline.pull_page`, see `sql-functions.ts`): one snapshot
 * for the scope row and the page, no transaction round trips.
 */
export async function pullPage(
  db: SqlQueryable,
  request: PullRequest,
  options: { epoch: string; defaultLimit: number },
): Promise<PullResponse> {
  let decoded: number | undefined;
  if (request.checkpoint !== null) decoded = decodeCheckpoint(request.checkpoint, options.epoch);
  const limit = request.limit ?? options.defaultLimit;
  const rows = await db.query<PageRow>('SELECT * FROM syncline.pull_page($1, $2, $3)', [
    request.scope,
    decoded ?? null,
    limit + 1,
  ]);
  const [head, ...page] = rows;
  const version = toNumber(head?.revision);
  const purgedThrough = toNumber(head?.purged_through);

  // The same rule as the function's: it read from 0 when the checkpoint is refused.
  let after = 0;
  let resetRequired = false;
  if (request.checkpoint !== null) {
    // Never issued here, ahead of the scope, or behind the purge horizon: start over.
    if (decoded === undefined || decoded > version || decoded < purgedThrough) resetRequired = true;
    else after = decoded;
  }

  const hasMore = page.length > limit;
  const changes = (hasMore ? page.slice(0, limit) : page).map(toRecord);
  const last = changes[changes.length - 1];
  // A full page ends at its last row; the final page covers the whole scope version, which
  // may be past the last row (superseded or purged rows leave gaps).
  const through = hasMore && last !== undefined ? last.revision : Math.max(version, after);
  const response: PullResponse = {
    changes,
    checkpoint: encodeCheckpoint(options.epoch, through),
    hasMore,
  };
  if (resetRequired) response.resetRequired = true;
  return response;
}
