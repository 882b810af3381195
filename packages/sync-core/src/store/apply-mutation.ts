import type { JsonObject, Mutation } from '../protocol/types.js';
import { deepFreeze } from './freeze.js';

/**
 * The record data after `mutation`, given the data before it (`null`: absent or deleted).
 * `put` replaces, `patch` merges top-level fields (a patch of an absent record creates it with
 * those fields), `delete` yields `null`. Every op is idempotent, so replaying a mutation the
 * base already contains (a pull raced the push answer) changes nothing.
 *
 * The result is frozen; `data` objects handed in must already be frozen (they are: they come
 * from validated, frozen copies), so unchanged subtrees are shared, never copied.
 */
export function applyMutation(
  data: JsonObject | null,
  mutation: Pick<Mutation, 'op' | 'data'>,
): JsonObject | null {
  switch (mutation.op) {
    case 'put':
      return mutation.data ?? null;
    case 'patch':
      // Object spread defines own properties (no setter, no prototype write), and the data was
      // validated free of `__proto__` keys anyway. Spreading `null` or `undefined` adds nothing.
      return Object.freeze({ ...data, ...mutation.data });
    case 'delete':
      return null;
  }
}

/** Re-exported so callers that build record data import one module. */
export { deepFreeze };
