import { SyncError } from '../errors/sync-error.js';
import { isCollection, isRecordIdWithin } from '../protocol/formats.js';
import { DEFAULT_LIMITS } from '../protocol/limits.js';
import type { JsonObject } from '../protocol/types.js';
import { recordDataWithin } from '../protocol/validate.js';
import { at, fail, type Path, ROOT } from '../protocol/validate-json.js';
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
 * looking for the wrong mistake. Only walked when the data was refused; reported as every
 * other refusal of the data is (`fail`: the JSON path in the message and `details.path`).
 * @throws SyncError `invalid` naming the path where the cycle closes
 */
function checkNoCycle(data: unknown): void {
  const open = new Set<object>();
  const walk = (value: unknown, path: Path): void => {
    if (typeof value !== 'object' || value === null) return;
    if (open.has(value)) fail(path, 'the data refers to itself (a cycle)');
    open.add(value);
    const list = Array.isArray(value);
    for (const key of Object.keys(value)) {
      walk((value as Record<string, unknown>)[key], at(path, list ? Number(key) : key));
    }
    open.delete(value);
  };
  walk(data, ROOT);
}
