import { SyncError } from '../errors/sync-error.js';
import type { PullRequest, PullResponse, SyncRecord } from '../protocol/types.js';

function isPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function bad(message: string): never {
  throw new SyncError('server', `Malformed pull response: ${message}`);
}

/**
 * Checks, without copying, the shape of a pull page that the replica relies on: the fields'
 * types, records of the pulled scope, strictly increasing revisions, tombstones without data.
 *
 * Deep validation of record data (JSON only, limits, no `__proto__` keys) is the transport's
 * job at the wire boundary, where it parses the body (`adapter-rest` runs
 * `validatePullResponse`; the memory server validated every record when it was pushed and
 * hands pages over frozen); doing it again here would copy every pulled record a second time,
 * which is what a 100k-record initial sync cannot afford.
 * A malformed page is a `server` error, so it is retried, never applied.
 */
export function checkPullPage(page: unknown, request: PullRequest): PullResponse {
  if (!isPlainObject(page)) bad('not an object');
  const { changes, checkpoint, hasMore, resetRequired } = page as Record<string, unknown>;
  if (!Array.isArray(changes)) bad('changes is not an array');
  if (typeof checkpoint !== 'string') bad('checkpoint is not a string');
  if (typeof hasMore !== 'boolean') bad('hasMore is not a boolean');
  if (resetRequired !== undefined && typeof resetRequired !== 'boolean') {
    bad('resetRequired is not a boolean');
  }
  let previous = 0;
  // Indexed: a page is checked a few hundred times per sync, often before V8 optimizes this,
  // and an array iterator then allocates a result object per record.
  for (let i = 0; i < changes.length; i++) {
    const item: unknown = changes[i];
    if (!isPlainObject(item)) bad('a change is not an object');
    const r = item as SyncRecord;
    if (r.scope !== request.scope) bad('a change of another scope');
    if (
      typeof r.collection !== 'string' ||
      r.collection.length === 0 ||
      r.collection.includes('/')
    ) {
      bad('bad collection');
    }
    if (typeof r.id !== 'string' || r.id.length === 0) bad('bad record id');
    if (typeof r.hlc !== 'string') bad('bad hlc');
    if (typeof r.deleted !== 'boolean') bad('bad deleted flag');
    if (!Number.isSafeInteger(r.revision) || r.revision <= previous) bad('revisions out of order');
    previous = r.revision;
    if (r.deleted ? r.data !== null : !isPlainObject(r.data)) bad('bad data');
  }
  return page as PullResponse;
}
