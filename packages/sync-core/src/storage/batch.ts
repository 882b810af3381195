import { SyncError } from '../errors/sync-error.js';
import type { StorageWrite } from './types.js';

/**
 * Builds the one error every storage adapter rejects with (kind `storage`). A full disk or
 * browser quota gets the code `quota_exceeded`, so an app can tell the user what to free:
 * `quota` says whether `cause` is one (by default: the browser's `QuotaExceededError`; the file
 * storage passes its own test of the disk's `ENOSPC`/`EDQUOT`).
 */
export function storageError(
  message: string,
  cause?: unknown,
  quota = (cause as { name?: unknown } | null)?.name === 'QuotaExceededError',
): SyncError {
  return new SyncError('storage', message, quota ? { cause, code: 'quota_exceeded' } : { cause });
}

/**
 * Checks the shape of a batch before any op of it is applied, so a malformed op fails the
 * whole batch instead of leaving its earlier ops behind. Values are not walked here: that
 * would make every write O(value size), and the client hands over JSON values already.
 */
export function validateBatch(
  namespace: unknown,
  ops: unknown,
): asserts ops is readonly StorageWrite[] {
  if (typeof namespace !== 'string') throw storageError('Storage namespace must be a string');
  if (!Array.isArray(ops)) throw storageError('Storage batch must be an array of ops');
  for (let i = 0; i < ops.length; i++) {
    // `null` and non-objects have no string key and fail with the rest.
    const op = ((ops as unknown[])[i] ?? {}) as { type?: unknown; key?: unknown; value?: unknown };
    if (
      typeof op.key !== 'string' ||
      (op.type === 'set' ? op.value === undefined : op.type !== 'delete')
    ) {
      throw storageError(
        `Storage op ${i} is not { type: 'set', key: string, value } or { type: 'delete', key: string }`,
      );
    }
  }
}

/**
 * The smallest string greater than every string that starts with `prefix` (code-unit order),
 * or `undefined` when there is none (empty prefix, or a prefix of only U+FFFF units).
 */
export function prefixUpperBound(prefix: string): string | undefined {
  let end = prefix.length;
  while (end > 0 && prefix.charCodeAt(end - 1) === 0xffff) end--;
  if (end === 0) return undefined;
  return prefix.slice(0, end - 1) + String.fromCharCode(prefix.charCodeAt(end - 1) + 1);
}

/** Code-unit comparison, the order `list` promises (what `Array#sort` does for strings). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
