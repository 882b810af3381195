import { SyncError } from '../errors/sync-error.js';
import { isCollection, isRecordId } from '../protocol/formats.js';
import { DEFAULT_LIMITS } from '../protocol/limits.js';
import type { Json, JsonObject } from '../protocol/types.js';
import { validateRecordData } from '../protocol/validate.js';

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

/** Thrown by the fast path; the slow path then produces the precise error. */
const REJECT = Symbol('reject');

type WellFormed = { isWellFormed?: () => boolean };
const hasIsWellFormed = typeof ('' as unknown as WellFormed).isWellFormed === 'function';

function checkString(value: string): void {
  if (value.length > DEFAULT_LIMITS.maxStringLength) throw REJECT;
  if (hasIsWellFormed) {
    if (!(value as unknown as Required<WellFormed>).isWellFormed() || value.includes('\u0000')) {
      throw REJECT;
    }
    return;
  }
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0) throw REJECT;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) throw REJECT;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      throw REJECT;
    }
  }
}

function copyValue(value: unknown, depth: number): Json {
  switch (typeof value) {
    case 'string':
      checkString(value);
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw REJECT;
      return value === 0 ? 0 : value;
    case 'boolean':
      return value;
    case 'object': {
      if (value === null) return null;
      if (depth > DEFAULT_LIMITS.maxJsonDepth) throw REJECT;
      if (Array.isArray(value)) {
        const out: Json[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) out[i] = copyValue(value[i], depth + 1);
        return Object.freeze(out) as Json[];
      }
      return copyObject(value, depth);
    }
    default:
      throw REJECT;
  }
}

function copyObject(value: object, depth: number): JsonObject {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw REJECT;
  if (depth > DEFAULT_LIMITS.maxJsonDepth) throw REJECT;
  const out: JsonObject = {};
  let count = 0;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (key === '__proto__' || ++count > DEFAULT_LIMITS.maxFieldsPerRecord) throw REJECT;
    checkString(key);
    out[key] = copyValue((value as Record<string, unknown>)[key], depth + 1);
  }
  return Object.freeze(out);
}

/**
 * Validates record data and returns a deeply frozen copy, so a later change to the caller's
 * object cannot alter what was queued. The rules are those of `validateRecordData` (JSON only,
 * no `__proto__` key, no NUL or lone surrogate, default protocol limits). This is the hot path
 * of every local write, so it checks and copies in one allocation-light pass and asks
 * `validateRecordData` only for the precise error (with its JSON path) when the data is bad.
 *
 * @throws SyncError `invalid`
 */
export function freezeData(data: unknown): JsonObject {
  if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
    try {
      return copyObject(data, 1);
    } catch (error) {
      if (error !== REJECT) throw error;
    }
  }
  checkNoCycle(data);
  // Throws the precise error; returns a copy when the fast path refused something the full
  // validator accepts (then the full validator is trusted).
  return freezeDeep(validateRecordData(data));
}

function freezeDeep<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) freezeDeep((value as Record<string, unknown>)[key]);
  }
  return value;
}

/**
 * A cycle would otherwise be reported as nesting deeper than the limit, which sends the app
 * looking for the wrong mistake. Only walked when the fast path refused the data.
 * @throws SyncError `invalid` naming the path where the cycle closes
 */
function checkNoCycle(data: unknown): void {
  const open = new Set<object>();
  const walk = (value: unknown, path: string): void => {
    if (typeof value !== 'object' || value === null) return;
    if (open.has(value)) {
      throw new SyncError('invalid', `${path}: the data contains a cycle (it refers to itself)`, {
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
