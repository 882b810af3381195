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

/** The one row of `syncline.pull_page`. */
interface PageRow {
  version: string | number;
  purged_through: string | number;
  /** `[[scope, collection, id, data, revision, hlc, deleted], ...]`, in revision order. */
  page: string;
}

type PageTuple = [string, string, string, RecordRow['data'], number, string, boolean];

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
  const [head] = await db.query<PageRow>('SELECT * FROM syncline.pull_page($1, $2, $3)', [
    request.scope,
    decoded ?? null,
    limit + 1,
  ]);
  const version = toNumber(head?.version);
  const purgedThrough = toNumber(head?.purged_through);
  const page = (JSON.parse(head?.page ?? '[]') as PageTuple[]).map(
    ([scope, collection, id, data, revision, hlc, deleted]): RecordRow => ({
      scope,
      collection,
      id,
      data,
      revision,
      hlc,
      deleted,
    }),
  );

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
