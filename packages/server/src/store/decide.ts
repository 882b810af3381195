/**
 * The revision check (DESIGN §3.3) as a pure function, so the SQL store and its tests share
 * one reading of the rule.
 *
 * @module
 */
import type { JsonObject, Mutation, SyncRecord } from '@syncline/sync-core/protocol';

/** What a mutation does to the record it targets. */
export type Decision =
  | { kind: 'apply'; data: JsonObject | null; deleted: boolean }
  | { kind: 'conflict' };

/**
 * Applies the revision check: a mutation applies only when `baseRevision` equals the record's
 * revision, or the record is absent and `baseRevision` is 0. A `patch` also needs a live
 * record (a patch of an absent or deleted record is a conflict: there is nothing to merge
 * into). A `put` with an old `baseRevision` on a tombstone is a conflict, never a resurrection.
 */
export function decide(current: SyncRecord | null, mutation: Mutation): Decision {
  const expected = current === null ? 0 : current.revision;
  if (mutation.baseRevision !== expected) return { kind: 'conflict' };
  switch (mutation.op) {
    case 'put':
      return { kind: 'apply', data: mutation.data ?? {}, deleted: false };
    case 'delete':
      return { kind: 'apply', data: null, deleted: true };
    case 'patch':
      if (current === null || current.deleted || current.data === null) return { kind: 'conflict' };
      return {
        kind: 'apply',
        data: mergeTopLevel(current.data, mutation.data ?? {}),
        deleted: false,
      };
  }
}

/**
 * Top-level merge into a fresh object. `Object.fromEntries` defines own properties, so even a
 * key named `__proto__` (which validation already rejects) could not reach a prototype.
 */
export function mergeTopLevel(base: JsonObject, patch: JsonObject): JsonObject {
  return Object.fromEntries([...Object.entries(base), ...Object.entries(patch)]);
}
