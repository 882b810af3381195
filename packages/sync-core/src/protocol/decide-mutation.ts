import type { JsonObject, Mutation, SyncRecord } from './types.js';

/** What a server does with one mutation under the revision rule. */
export type MutationVerdict =
  | { kind: 'ok'; record: SyncRecord }
  | { kind: 'conflict' }
  | { kind: 'reject'; message: string };

/**
 * The revision rule every syncline server applies (DESIGN §3.3 and §3.8), in one place so the
 * in-memory reference server and the SQL store cannot drift apart:
 * - a mutation applies only if `baseRevision` equals the record's revision, or the record is
 *   absent and `baseRevision` is 0; otherwise it is a conflict;
 * - a patch needs a live record to merge into: a patch of an absent record or of a tombstone
 *   is a conflict; a put with an old `baseRevision` on a tombstone is a conflict, never a
 *   resurrection;
 * - `put` replaces the data, `patch` merges top-level fields (rejected if the result would
 *   exceed `maxFields`), `delete` leaves a tombstone.
 *
 * Object spread defines own properties, so no key can reach a prototype (and validation
 * rejects `__proto__` keys before this runs).
 *
 * @param mutation - a validated mutation
 * @param current - the record now, or `null` when the server has none
 * @param revision - the revision the record gets if the mutation applies
 * @param maxFields - the most top-level fields a patched record may have
 * @returns `ok` with the record to store, `conflict`, or `reject` with a reason
 */
export function decideMutation(
  mutation: Mutation,
  current: SyncRecord | null,
  revision: number,
  maxFields: number,
): MutationVerdict {
  const m = mutation;
  if (current === null) {
    if (m.op === 'patch' || m.baseRevision !== 0) return { kind: 'conflict' };
  } else if (m.baseRevision !== current.revision || (m.op === 'patch' && current.deleted)) {
    return { kind: 'conflict' };
  }
  let data: JsonObject | null;
  if (m.op === 'delete') data = null;
  else if (m.op === 'put') data = m.data ?? {};
  else {
    data = { ...current?.data, ...m.data };
    if (Object.keys(data).length > maxFields) {
      return {
        kind: 'reject',
        message: `the patched record would have more than ${maxFields} fields`,
      };
    }
  }
  return {
    kind: 'ok',
    record: {
      scope: m.scope,
      collection: m.collection,
      id: m.recordId,
      data,
      revision,
      hlc: m.hlc,
      deleted: m.op === 'delete',
    },
  };
}
