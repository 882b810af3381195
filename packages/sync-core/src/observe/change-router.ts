import type { SyncClient } from '../api/client.js';
import { recordKey } from '../store/record-key.js';

type Listener = () => void;

/**
 * Routes the client's batched `change` events to the listeners of one record or one collection,
 * so a change of one record wakes only the observers that read it, and a change of another
 * collection wakes none. Each batch (one local write, one pulled page) calls each interested
 * listener once.
 */
export interface ChangeRouter {
  /** Calls `listener` once per batch that changed record `id` of `collection`. */
  subscribeRecord(collection: string, id: string, listener: () => void): () => void;
  /** Calls `listener` once per batch that changed any record of `collection`. */
  subscribeCollection(collection: string, listener: () => void): () => void;
}

/**
 * Creates a {@link ChangeRouter} over `client`. It listens to the client's `change` event only
 * while it has listeners of its own; create one per client and share it (the React provider
 * does).
 *
 * @example
 * ```ts
 * const router = createChangeRouter(client);
 * const stop = router.subscribeRecord('todos', 't1', () => render(client.get('todos', 't1')));
 * ```
 */
export function createChangeRouter(client: SyncClient): ChangeRouter {
  // Listeners by collection name, and by `recordKey` for one record (a collection name has no
  // NUL, so the two never meet); a set goes when it empties, so the map is empty exactly when
  // nobody listens.
  const byKey = new Map<string, Set<Listener>>();
  // A copy of the set: a listener may unsubscribe (or subscribe) while it runs.
  const run = (key: string): void => {
    const listeners = byKey.get(key);
    if (listeners !== undefined) for (const listener of [...listeners]) listener();
  };
  // One batch names a record once per collection, so each interested listener runs once per
  // event, whatever the number of ids.
  const onChange = ({ collection, ids }: { collection: string; ids: string[] }): void => {
    run(collection);
    for (const id of ids) run(recordKey(collection, id));
  };
  const subscribe = (key: string, listener: Listener) => {
    if (byKey.size === 0) client.on('change', onChange);
    const own = byKey.get(key) ?? new Set();
    byKey.set(key, own);
    // A wrapper per subscription: the same function subscribed twice stays two subscriptions.
    const entry: Listener = () => listener();
    own.add(entry);
    return () => {
      // A second call finds nothing to delete. A set leaves the map only once empty, so the
      // map still holds `own` here.
      if (!own.delete(entry) || own.size > 0) return;
      byKey.delete(key);
      if (byKey.size === 0) client.off('change', onChange);
    };
  };
  return {
    subscribeCollection: subscribe,
    subscribeRecord: (collection, id, listener) => subscribe(recordKey(collection, id), listener),
  };
}
