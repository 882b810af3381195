import { type JsonObject, observeQuery, type SortDirection } from '@syncline/sync-core';
import { useMemo } from 'react';
import { useSyncContext } from './context.js';
import { NO_ITEMS } from './server-snapshots.js';
import type { AnyCollections, CollectionTypes, TypedViewRecord } from './types.js';
import { useObserver } from './use-observer.js';

/** The query of {@link useCollection}. */
export interface CollectionQuery<T extends JsonObject> {
  /**
   * Keeps the records for which it returns `true`. Pass a stable function (module level, or
   * `useCallback`): a new function on every render runs the query again on every render.
   * @default every record
   */
  where?: (data: Readonly<T>) => boolean;
  /**
   * A top-level field to sort by, ascending, or `[field, direction]`; ties are broken by id.
   * @default insertion order
   */
  orderBy?: (keyof T & string) | readonly [field: keyof T & string, direction: SortDirection];
  /**
   * Keeps at most this many records (after sorting).
   * @default no limit
   */
  limit?: number;
}

/**
 * A live local query of one collection: the records (id and frozen data) that match, sorted and
 * limited. The array keeps its identity until the result really changes, so a change of another
 * collection, or of a record that is not in the result and does not enter it, renders nothing;
 * a pulled page of many records renders once. Renders `[]` on the server and during hydration.
 *
 * @example
 * ```tsx
 * const open = useCallback((t: Todo) => !t.done, []);
 * const todos = useCollection<MyCollections, 'todos'>('todos', { where: open, orderBy: ['createdAt', 'desc'] });
 * ```
 */
export function useCollection<
  C extends CollectionTypes = AnyCollections,
  K extends keyof C & string = keyof C & string,
>(collection: K, query: CollectionQuery<C[K]> = {}): readonly TypedViewRecord<C[K]>[] {
  const { client, router } = useSyncContext();
  const { where, orderBy, limit } = query;
  // An inline `['field', 'desc']` is a new array each render: key the observer on its content.
  const [orderField, orderDirection = 'asc'] =
    typeof orderBy === 'string' ? [orderBy] : (orderBy ?? []);
  const observer = useMemo(
    () =>
      observeQuery(client, router, collection, {
        where: where as ((data: Readonly<JsonObject>) => boolean) | undefined,
        orderBy: orderField === undefined ? undefined : [orderField, orderDirection],
        limit,
      }),
    [client, router, collection, where, orderField, orderDirection, limit],
  );
  return useObserver(observer, NO_ITEMS) as readonly TypedViewRecord<C[K]>[];
}
