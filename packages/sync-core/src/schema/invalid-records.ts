import type { SyncRecord } from '../protocol/types.js';
import type { ReplicaBatch } from '../replica/batch.js';
import type { CollectionGuard } from '../write/collection-guard.js';
import type { InvalidRecord } from './check-schema.js';

/**
 * Decides whether a record from the server may be applied. One that fails its collection's
 * schema is quarantined instead (`ReplicaBatch.quarantine`, written with the page), so the view
 * never shows it as valid. A valid
 * version or a delete of a quarantined record ends the quarantine.
 *
 * @returns `null` to apply the record (nothing changed in the quarantine); the new
 *   {@link InvalidRecord} when it was quarantined (to announce); `undefined` when it may be
 *   applied and a quarantine ended (the list changed)
 */
export function admitServerRecord(
  guard: CollectionGuard,
  record: SyncRecord,
  write: ReplicaBatch,
): InvalidRecord | null | undefined {
  const issues = guard.serverRecordIssues(record);
  if (issues === null) {
    return write.endQuarantine(record.collection, record.id) ? undefined : null;
  }
  const invalid: InvalidRecord = Object.freeze({
    collection: record.collection,
    id: record.id,
    record,
    issues,
  });
  write.quarantine(invalid);
  return invalid;
}
