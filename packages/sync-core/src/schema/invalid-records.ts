import { invalidKey, type Replica } from '../client/replica.js';
import type { SyncRecord } from '../protocol/types.js';
import type { StorageWrite } from '../storage/types.js';
import type { CollectionGuard } from '../write/collection-guard.js';
import type { InvalidRecord } from './check-schema.js';

/**
 * Decides whether a record from the server may be applied. One that fails its collection's
 * schema is quarantined instead: kept in `replica.invalidRecords` and stored under `q/` (the op
 * is added to `ops`, written with the page), so the view never shows it as valid. A valid
 * version or a delete of a quarantined record ends the quarantine.
 *
 * @returns `null` to apply the record (nothing changed in the quarantine); the new
 *   {@link InvalidRecord} when it was quarantined (to announce); `undefined` when it may be
 *   applied and a quarantine ended (the list changed)
 */
export function admitServerRecord(
  guard: CollectionGuard,
  replica: Replica,
  record: SyncRecord,
  ops: StorageWrite[],
): InvalidRecord | null | undefined {
  const key = invalidKey(record.collection, record.id);
  const issues = guard.serverRecordIssues(record);
  if (issues === null) {
    if (!replica.invalidRecords.delete(key)) return null;
    ops.push({ type: 'delete', key });
    return undefined;
  }
  const invalid: InvalidRecord = Object.freeze({
    collection: record.collection,
    id: record.id,
    record,
    issues,
  });
  replica.invalidRecords.set(key, invalid);
  ops.push({ type: 'set', key, value: invalid });
  return invalid;
}
