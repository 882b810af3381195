import type { JsonObject, Mutation } from '../protocol/types.js';

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
  let op: Mutation['op'];
  let data: JsonObject | undefined;
  if (later.op === 'delete') {
    op = 'delete';
  } else if (later.op === 'put') {
    op = 'put';
    data = later.data;
  } else if (earlier.op === 'delete') {
    op = 'put';
    data = later.data;
  } else {
    // A patch over a put or a patch: the earlier operation, with the fields merged.
    op = earlier.op;
    data = Object.freeze({ ...earlier.data, ...later.data });
  }
  const merged: Mutation = {
    id: earlier.id,
    scope: earlier.scope,
    collection: earlier.collection,
    recordId: earlier.recordId,
    op,
    baseRevision: earlier.baseRevision,
    hlc: later.hlc,
  };
  if (data !== undefined) merged.data = data;
  if (earlier.txId !== undefined) merged.txId = earlier.txId;
  return Object.freeze(merged);
}
