import type { Mutation } from '../protocol/types.js';

/**
 * Folds a later unsent mutation of a record into an earlier unsent one (DESIGN §3.2b):
 * put+patch → put, patch+patch → merged patch, anything+delete → delete, delete+put → put,
 * delete+patch → put of the patch's fields (what the view shows). The result keeps the
 * earlier mutation's id, scope and `baseRevision` (the revision the first edit started from)
 * and takes the later one's `hlc` (the time of the latest edit).
 *
 * Only call it when the earlier mutation was never sent: its id may then carry new content.
 */
export function coalesce(earlier: Mutation, later: Mutation): Mutation {
  const { data: _earlierData, ...kept } = earlier;
  const merged: Mutation = { ...kept, op: later.op, hlc: later.hlc };
  if (later.op === 'patch' && earlier.op !== 'delete') {
    // A patch over a put or a patch: the earlier operation, with the fields merged.
    merged.op = earlier.op;
    merged.data = Object.freeze({ ...earlier.data, ...later.data });
  } else if (later.data !== undefined) {
    // A put, or a patch of a deleted record: a put of the later fields.
    merged.op = 'put';
    merged.data = later.data;
  }
  return Object.freeze(merged);
}
