import { SyncError } from '../errors/sync-error.js';
import { isCollection, isRecordIdWithin } from '../protocol/formats.js';
import { DEFAULT_LIMITS } from '../protocol/limits.js';
import type { JsonObject } from '../protocol/types.js';
import { recordDataWithin } from '../protocol/validate.js';
import { deepFreeze } from '../store/freeze.js';

/**
 * Checks a collection name and record id of a local write.
 * @throws SyncError `invalid`
 */
export function checkTarget(collection: string, id: string): void {
  if (!isCollection(collection)) {
    throw new SyncError('invalid', `Invalid collection name: ${JSON.stringify(collection)}`);
  }
  if (!isRecordIdWithin(id, DEFAULT_LIMITS.maxIdLength)) {
    throw new SyncError('invalid', 'Invalid record id (1-256 characters, no control characters)');
  }
}

/**
 * Validates record data (`validateRecordData`: JSON only, no `__proto__` key, no NUL or lone
 * surrogate, default protocol limits) and returns a deeply frozen copy, so a later change to the
 * caller's object cannot alter what was queued. One checker for every write: a second,
 * hand-tuned copy of the same rules saved ~0.1 µs a put (docs/decisions.md, issue 10, session 12).
 *
 * @throws SyncError `invalid`
 */
export function freezeData(data: unknown): JsonObject {
  try {
    return deepFreeze(recordDataWithin(data, DEFAULT_LIMITS));
  } catch (error) {
    checkNoCycle(data);
    throw error;
  }
}

/**
 * A cycle would otherwise be reported as nesting deeper than the limit, which sends the app
 * looking for the wrong mistake. Only walked when the data was refused.
 * @throws SyncError `invalid` naming the path where the cycle closes
 */
function checkNoCycle(data: unknown): void {
  const open = new Set<object>();
  const walk = (value: unknown, path: string): void => {
    if (typeof value !== 'object' || value === null) return;
    if (open.has(value)) {
      throw new SyncError('invalid', `${path}: the data refers to itself (a cycle)`, {
        code: 'invalid',
        details: { path },
      });
    }
    open.add(value);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) walk(value[i], `${path}[${i}]`);
    } else {
      for (const key of Object.keys(value)) {
        walk((value as Record<string, unknown>)[key], `${path}.${key}`);
      }
    }
    open.delete(value);
  };
  walk(data, '$');
}
