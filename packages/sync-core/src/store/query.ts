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
  where?: (data: Readonly<Data>) => boolean;
  /**
   * A top-level field to sort by, ascending, or `[field, direction]`. Numbers sort numerically,
   * strings by code unit; records missing the field come last; ties are broken by id.
   * @default insertion order of the records in the view
   */
  orderBy?: FieldOf<Data> | readonly [field: FieldOf<Data>, direction: SortDirection];
  /**
   * Keeps at most this many records (after sorting).
   * @default no limit
   */
  limit?: number;
}

const TYPE_RANK: Record<string, number> = { number: 0, string: 1, boolean: 2, object: 3 };

function compareValues(a: Json | undefined, b: Json | undefined): number {
  if (a === b) return 0;
  // Missing/null values sort last whatever the direction of the rest.
  if (a === undefined || a === null) return b === undefined || b === null ? 0 : 1;
  if (b === undefined || b === null) return -1;
  const ta = typeof a;
  const tb = typeof b;
  if (ta !== tb) return (TYPE_RANK[ta] ?? 9) - (TYPE_RANK[tb] ?? 9);
  if (ta === 'object') return 0;
  return (a as number | string | boolean) < (b as number | string | boolean) ? -1 : 1;
}

/**
 * Runs `options` over `records` (the collection's live view records, in insertion order). The
 * array is the caller's fresh copy: a query without `where` returns it as its result, so the
 * rows are copied once. Sorting extracts each sort key once, so sorting 100k records stays cheap.
 */
export function runQuery(records: ViewRecord[], options: QueryOptions): ViewRecord[] {
  const { where, orderBy, limit } = options;
  let result: ViewRecord[] = [];
  if (where === undefined) {
    result = records;
  } else {
    for (const record of records) if (where(record.data)) result.push(record);
  }
  if (orderBy !== undefined) {
    const field = typeof orderBy === 'string' ? orderBy : orderBy[0];
    const sign = typeof orderBy === 'string' || orderBy[1] !== 'desc' ? 1 : -1;
    const keyed = result.map((record) => ({ record, key: record.data[field] }));
    keyed.sort((x, y) => {
      const missingX = x.key === undefined || x.key === null;
      const missingY = y.key === undefined || y.key === null;
      if (missingX !== missingY) return missingX ? 1 : -1;
      const c = compareValues(x.key, y.key) * sign;
      if (c !== 0) return c;
      return x.record.id < y.record.id ? -1 : x.record.id > y.record.id ? 1 : 0;
    });
    result = keyed.map((k) => k.record);
  }
  if (limit !== undefined && limit >= 0 && result.length > limit) result.length = limit;
  return result;
}

/** `true` when both arrays hold the same records (by reference) in the same order. */
export function sameRecords(a: readonly ViewRecord[], b: readonly ViewRecord[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Cache key of the non-function part of a query. */
export function queryShapeKey(options: QueryOptions): string {
  const { orderBy, limit } = options;
  const order =
    orderBy === undefined
      ? ''
      : typeof orderBy === 'string'
        ? `${orderBy}:asc`
        : `${orderBy[0]}:${orderBy[1]}`;
  return `${order}|${limit ?? ''}`;
}
