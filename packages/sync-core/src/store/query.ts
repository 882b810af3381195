import type { Json, JsonObject } from '../protocol/types.js';
import type { FieldOf } from '../schema/collections.js';

/**
 * A record as the view shows it: its id and its (frozen) data, typed by its collection. A record
 * confirmed by the server and not changed locally is stored once, so its view record is the
 * server's frozen record and carries its other fields too (`revision`, `hlc`, ...): read `id`
 * and `data`, which are the contract.
 */
export interface ViewRecord<Data = JsonObject> {
  /** The record id. */
  readonly id: string;
  /** The record's current data in the optimistic view (confirmed base + pending writes). */
  readonly data: Readonly<Data>;
}

/** Sort direction of {@link QueryOptions.orderBy}. */
export type SortDirection = 'asc' | 'desc';

/**
 * A local, synchronous query of one collection. Deleted records never appear.
 *
 * @example
 * ```ts
 * const open = client.query('todos', { where: (t) => !t.done, orderBy: ['createdAt', 'desc'], limit: 20 });
 * ```
 */
export interface QueryOptions<Data = JsonObject> {
  /** Keeps the records for which it returns `true`. Pass a stable function to get cached results. */
  where?: ((data: Readonly<Data>) => boolean) | undefined;
  /**
   * A top-level field to sort by, ascending, or `[field, direction]`. Numbers sort numerically,
   * strings by code unit, values of different types by the name of their type; records missing
   * the field come last; ties are broken by id.
   * @default insertion order of the records in the view
   */
  orderBy?: FieldOf<Data> | readonly [field: FieldOf<Data>, direction: SortDirection] | undefined;
  /**
   * Keeps at most this many records (after sorting).
   * @default no limit
   */
  limit?: number | undefined;
}

/**
 * Two present (neither missing nor `null`) sort keys, ascending: keys of different types by the
 * name of their type (booleans, numbers, objects, strings), then by value (objects tie).
 */
function compareValues(a: Json, b: Json): number {
  const ta = typeof a;
  const tb = typeof b;
  if (ta !== tb) return ta < tb ? -1 : 1;
  if (ta === 'object' || a === b) return 0;
  return (a as number | string | boolean) < (b as number | string | boolean) ? -1 : 1;
}

/** The smallest batch {@link firstInOrder} sorts at a time. */
const MIN_BATCH = 1024;

/** A record with its sort key, read once. */
interface Keyed {
  readonly record: ViewRecord;
  readonly key: Json | undefined;
}

/** The comparator of an `orderBy`: missing keys last, then by key in its direction, then by id. */
function orderOf(orderBy: NonNullable<QueryOptions['orderBy']>): (x: Keyed, y: Keyed) => number {
  const sign = typeof orderBy === 'string' || orderBy[1] !== 'desc' ? 1 : -1;
  return (x, y) => {
    const missingX = x.key === undefined || x.key === null;
    const missingY = y.key === undefined || y.key === null;
    // Missing or null keys sort last whatever the direction, and tie among themselves.
    if (missingX !== missingY) return missingX ? 1 : -1;
    const c = missingX ? 0 : compareValues(x.key as Json, y.key as Json) * sign;
    if (c !== 0) return c;
    return x.record.id < y.record.id ? -1 : x.record.id > y.record.id ? 1 : 0;
  };
}

/**
 * The first `limit` records in `compare` order, without sorting them all: candidates collect in
 * a batch (twice `limit`, and at least {@link MIN_BATCH}), which is sorted and cut back to
 * `limit` when full. From then on a record that sorts after the last one kept cannot make it
 * and costs one comparison. Rows that arrive already in order all make it: the large batch
 * keeps their sorts few, and each is cheap (its rows are one run for the sort).
 */
function firstInOrder(
  records: readonly ViewRecord[],
  field: string,
  compare: (x: Keyed, y: Keyed) => number,
  limit: number,
): Keyed[] {
  const batch = Math.max(2 * limit, MIN_BATCH);
  const kept: Keyed[] = [];
  let last: Keyed | undefined; // the last of the `limit` kept at the latest cut
  for (const record of records) {
    const keyed: Keyed = { record, key: record.data[field] };
    if (last !== undefined && compare(keyed, last) >= 0) continue;
    kept.push(keyed);
    if (kept.length >= batch) {
      kept.sort(compare);
      kept.length = limit;
      last = kept[limit - 1];
    }
  }
  kept.sort(compare);
  if (kept.length > limit) kept.length = limit;
  return kept;
}

/**
 * The first `limit` of `records` (the rows a query's `where` kept, in insertion order) in the
 * order of `orderBy`. Sorting reads each sort key once; with a `limit` below the row count only
 * the rows that can make it are sorted, and without one every row is kept and sorted once. (A
 * query without `orderBy` needs none of this: its first `limit` rows are the result.)
 */
export function firstByOrder(
  records: readonly ViewRecord[],
  orderBy: NonNullable<QueryOptions['orderBy']>,
  limit: number,
): ViewRecord[] {
  const field = typeof orderBy === 'string' ? orderBy : orderBy[0];
  return firstInOrder(records, field, orderOf(orderBy), limit).map((k) => k.record);
}
