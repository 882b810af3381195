import type { SyncClient } from '../api/client.js';
import type { JsonObject } from '../protocol/types.js';
import type { SyncStatus } from '../status/types.js';
import type { QueryOptions, ViewRecord } from '../store/query.js';
import type { ChangeRouter } from './change-router.js';
import { stableReader } from './stable-reader.js';

/**
 * A value that changes over time: read it with `getSnapshot` (the same reference until it really
 * changes), hear of changes with `subscribe`. The shape React's `useSyncExternalStore` takes.
 */
export interface Observer<T> {
  /** Calls `listener` when the snapshot may have changed; returns the function that unsubscribes. */
  subscribe(listener: () => void): () => void;
  /** The current value; referentially stable until it changes. */
  getSnapshot(): T;
}

/**
 * Observes one record's data in the view (`undefined` when absent or deleted). Only changes of
 * that record wake its listeners.
 */
export function observeRecord(
  client: SyncClient,
  router: ChangeRouter,
  collection: string,
  id: string,
): Observer<Readonly<JsonObject> | undefined> {
  return {
    subscribe: (listener) => router.subscribeRecord(collection, id, listener),
    getSnapshot: () => client.get(collection, id),
  };
}

/**
 * Observes a local query of one collection. Only changes of that collection wake its listeners,
 * and the result array keeps its identity while it holds the same records in the same order,
 * even when `options.where` is a new function on every call (pass a stable one and the client's
 * query cache also skips re-running it).
 */
export function observeQuery(
  client: SyncClient,
  router: ChangeRouter,
  collection: string,
  options: QueryOptions,
): Observer<readonly ViewRecord[]> {
  return {
    subscribe: (listener) => router.subscribeCollection(collection, listener),
    getSnapshot: stableReader(() => client.query(collection, options)),
  };
}

/**
 * Observes the client's {@link SyncStatus}: {@link observeClient} of `client.status`, which is a
 * new object only when a field changed (every status change is committed in a batch of changes).
 */
export function observeStatus(client: SyncClient): Observer<SyncStatus> {
  return observeClient(client, (c) => c.status);
}

/**
 * Observes anything read from the client (`read` must return the same value, by `Object.is`,
 * while nothing changed: a string, a number, or one of the client's stable lists such as
 * `conflicts()` and `deadLetters()`). Its listeners are woken once per batch of changes.
 *
 * @example
 * ```ts
 * const pending = observeClient(client, (c) => c.recordStatus('todos', 't1'));
 * ```
 */
export function observeClient<T>(client: SyncClient, read: (client: SyncClient) => T): Observer<T> {
  return {
    subscribe: (listener) => client.subscribe(listener),
    getSnapshot: () => read(client),
  };
}
