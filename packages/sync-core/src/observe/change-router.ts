import type { SyncClient } from '../api/client.js';

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
  const byCollection = new Map<string, Set<Listener>>();
  const byRecord = new Map<string, Map<string, Set<Listener>>>();
  let count = 0;
  // One batch may name a record twice only across collections, never within one, but a
  // collection listener must still run once per event whatever the number of ids.
  const onChange = ({ collection, ids }: { collection: string; ids: string[] }): void => {
    const collectionListeners = byCollection.get(collection);
    if (collectionListeners !== undefined)
      for (const listener of [...collectionListeners]) listener();
    const records = byRecord.get(collection);
    if (records === undefined) return;
    if (ids.length <= records.size) {
      for (const id of ids) {
        const listeners = records.get(id);
        if (listeners !== undefined) for (const listener of [...listeners]) listener();
      }
    } else {
      const changed = new Set(ids);
      for (const [id, listeners] of [...records]) {
        if (changed.has(id)) for (const listener of [...listeners]) listener();
      }
    }
  };
  const added = (): void => {
    if (count++ === 0) client.on('change', onChange);
  };
  const removed = (): void => {
    if (--count === 0) client.off('change', onChange);
  };
  const subscribeIn = (sets: Map<string, Set<Listener>>, key: string, listener: Listener) => {
    let set = sets.get(key);
    if (set === undefined) {
      set = new Set();
      sets.set(key, set);
    }
    const own = set;
    // A wrapper per subscription: the same function subscribed twice stays two subscriptions.
    const entry: Listener = () => listener();
    own.add(entry);
    added();
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      own.delete(entry);
      if (own.size === 0 && sets.get(key) === own) sets.delete(key);
      removed();
    };
  };
  return {
    subscribeCollection: (collection, listener) => subscribeIn(byCollection, collection, listener),
    subscribeRecord(collection, id, listener) {
      let records = byRecord.get(collection);
      if (records === undefined) {
        records = new Map();
        byRecord.set(collection, records);
      }
      const unsubscribe = subscribeIn(records, id, listener);
      const own = records;
      return () => {
        unsubscribe();
        if (own.size === 0 && byRecord.get(collection) === own) byRecord.delete(collection);
      };
    },
  };
}
