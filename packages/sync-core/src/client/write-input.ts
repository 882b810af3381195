import { SyncError } from '../errors/sync-error.js';
import type { JsonObject } from '../protocol/types.js';
import { isCollection, isRecordId, validateRecordData } from '../protocol/validate.js';
import { deepFreeze } from '../store/freeze.js';

/**
 * Checks a collection name and record id of a local write.
 * @throws SyncError `invalid`
 */
export function checkTarget(collection: string, id: string): void {
  if (!isCollection(collection)) {
    throw new SyncError('invalid', `Invalid collection name: ${JSON.stringify(collection)}`);
  }
  if (!isRecordId(id)) {
    throw new SyncError('invalid', 'Invalid record id (1-256 characters, no control characters)');
  }
}

/**
 * Validates record data (JSON only, no `__proto__` key, no NUL or lone surrogate, within the
 * protocol limits) and returns a frozen copy, so a later change to the caller's object cannot
 * alter what was queued.
 * @throws SyncError `invalid`
 */
export function freezeData(data: unknown): JsonObject {
  return deepFreeze(validateRecordData(data));
}
