import {
  type JsonObject,
  observeClient,
  observeRecord,
  type RecordSyncState,
} from '@syncline/sync-core';
import { useMemo } from 'react';
import { useSyncClient, useSyncContext } from './context.js';
import type { AnyCollections, CollectionTypes } from './types.js';
import { useObserver } from './use-observer.js';

/**
 * One record's current data (frozen), or `undefined` when it does not exist, is deleted, or
 * `id` is `null`/`undefined`. Re-renders only when this record changes. Renders `undefined` on
 * the server and during hydration.
 *
 * @example
 * ```tsx
 * const todo = useRecord<MyCollections, 'todos'>('todos', id);
 * return <span>{todo?.title}</span>;
 * ```
 */
export function useRecord<
  C extends CollectionTypes = AnyCollections,
  K extends keyof C & string = keyof C & string,
>(collection: K, id: string | null | undefined): Readonly<C[K]> | undefined {
  const { client, router } = useSyncContext();
  // Without an id there is nothing to read: the client's observer then answers `undefined`
  // whatever changes, so it renders nothing more.
  const observer = useMemo(
    () =>
      id == null
        ? observeClient(client, () => undefined)
        : observeRecord(client, router, collection, id),
    [client, router, collection, id],
  );
  return useObserver(observer, undefined) as Readonly<C[K]> | undefined;
}

/**
 * The sync state of one record: `'synced'`, `'pending'` (a local write not yet confirmed),
 * `'conflict'` (parked for manual resolution) or `'rejected'` (in the dead letters). Re-renders
 * only when that state changes. Renders `'synced'` on the server and during hydration.
 */
export function useRecordStatus(collection: string, id: string): RecordSyncState {
  const client = useSyncClient();
  const observer = useMemo(
    () => observeClient(client, (c) => c.recordStatus(collection, id)),
    [client, collection, id],
  );
  return useObserver<RecordSyncState>(observer, 'synced');
}

/** The writes of one collection, bound to it (see {@link useMutations}). */
export interface CollectionMutations<T extends JsonObject> {
  /** Replaces (or creates) a record; resolves once durable locally. */
  put(id: string, data: T): Promise<void>;
  /** Merges top-level fields into a record; resolves once durable locally. */
  patch(id: string, fields: Partial<T>): Promise<void>;
  /** Deletes a record; resolves once durable locally. */
  delete(id: string): Promise<void>;
}

/**
 * The client's writes for one collection, as a stable object (safe in effect dependencies).
 * Writes change the view at once; the promise resolves when the write is durable locally and
 * rejects with a `SyncError` if it is not.
 *
 * @example
 * ```tsx
 * const todos = useMutations<MyCollections, 'todos'>('todos');
 * <input type="checkbox" onChange={(e) => todos.patch(id, { done: e.target.checked })} />
 * ```
 */
export function useMutations<
  C extends CollectionTypes = AnyCollections,
  K extends keyof C & string = keyof C & string,
>(collection: K): CollectionMutations<C[K]> {
  const client = useSyncClient();
  return useMemo(
    () => ({
      put: (id, data) => client.put(collection, id, data),
      patch: (id, fields) => client.patch(collection, id, fields as JsonObject),
      delete: (id) => client.delete(collection, id),
    }),
    [client, collection],
  );
}
