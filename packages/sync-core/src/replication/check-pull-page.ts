import { SyncError } from '../errors/sync-error.js';
import type { PullRequest, PullResponse, SyncRecord } from '../protocol/types.js';
import { recordKey } from '../store/record-key.js';

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
 * types, records of the pulled scope, positive revisions that increase for a record that appears
 * more than once, tombstones without data.
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
  let seen: Map<string, number> | undefined;
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
    if (!Number.isSafeInteger(r.revision) || r.revision <= 0) bad('bad revision');
    if (r.revision <= previous) {
      // Revisions are per record (DESIGN §6): a syncline server's pages increase across the
      // page, a resource API's need not. Only a record that appears twice must move forward.
      seen ??= revisionsBefore(changes as SyncRecord[], i);
      const before = seen.get(recordKey(r.collection, r.id));
      if (before !== undefined && r.revision <= before) bad('revisions of one record out of order');
    } else {
      previous = r.revision;
    }
    seen?.set(recordKey(r.collection, r.id), r.revision);
    if (r.deleted ? r.data !== null : !isPlainObject(r.data)) bad('bad data');
  }
  return page as PullResponse;
}

/** The last revision of each record among `changes[0..end)`. */
function revisionsBefore(changes: readonly SyncRecord[], end: number): Map<string, number> {
  const seen = new Map<string, number>();
  for (let i = 0; i < end; i++) {
    const r = changes[i] as SyncRecord;
    seen.set(recordKey(r.collection, r.id), r.revision);
  }
  return seen;
}
