/**
 * A pull reads the scope row and the page of records in one REPEATABLE READ snapshot, so the
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
import { RECORD_COLUMNS, type RecordRow, toNumber, toRecord } from './rows.js';

/** Runs a pull in `tx` (a transaction the caller opened). */
export async function pullInTransaction(
  tx: SqlQueryable,
  request: PullRequest,
  options: { epoch: string; defaultLimit: number },
): Promise<PullResponse> {
  await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
  const [scopeRow] = await tx.query<{ version: string | number; purged_through: string | number }>(
    'SELECT version, purged_through FROM syncline.scopes WHERE scope = $1',
    [request.scope],
  );
  const version = toNumber(scopeRow?.version);
  const purgedThrough = toNumber(scopeRow?.purged_through);

  let after = 0;
  let resetRequired = false;
  if (request.checkpoint !== null) {
    const decoded = decodeCheckpoint(request.checkpoint, options.epoch);
    // Never issued here, ahead of the scope, or behind the purge horizon: start over.
    if (decoded === undefined || decoded > version || decoded < purgedThrough) resetRequired = true;
    else after = decoded;
  }

  const limit = request.limit ?? options.defaultLimit;
  const rows = await tx.query<RecordRow>(
    `SELECT ${RECORD_COLUMNS} FROM syncline.records
     WHERE scope = $1 AND revision > $2
     ORDER BY revision
     LIMIT $3`,
    [request.scope, after, limit + 1],
  );
  const hasMore = rows.length > limit;
  const changes = (hasMore ? rows.slice(0, limit) : rows).map(toRecord);
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
