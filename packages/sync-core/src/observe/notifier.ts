import type { SyncEvents } from '../api/events.js';
import type { Emitter } from './emitter.js';

/** A settled promise: `.then` on it queues a microtask. */
const SETTLED = Promise.resolve();

/** Where a part that batches its own notifications (the status machine) queues its flush. */
export interface NotificationBatch {
  /**
   * Runs `step` at the start of the next batch, before `change` events and subscribers (once,
   * however often it is deferred in one batch). A batch runs one step, the last deferred: the
   * status machine's flush is the only one.
   */
  defer(step: () => void): void;
}

/**
 * Batches change notifications: every record change of a synchronous burst (one local write,
 * a transaction, a pulled page of 1000 records) becomes one `change` event per collection
 * and one call of each subscriber, delivered on a microtask. This is what lets a pulled page
 * cause a single React render (TanStack's `notifyManager.batch`). While the client's emitter
 * has no `change` listener, changed ids are not collected (subscribers are still woken).
 */
export class Notifier implements NotificationBatch {
  readonly #events: Emitter<SyncEvents>;
  readonly #listeners = new Set<() => void>();
  readonly #changes = new Map<string, Set<string>>();
  /** The step deferred to the next batch (the status machine's flush). */
  #step: (() => void) | undefined;
  #scheduled = false;

  /** @param events - the client's emitter, which gets the `change` events */
  constructor(events: Emitter<SyncEvents>) {
    this.#events = events;
  }

  /** Records that a record of the view changed. */
  changed(collection: string, id: string): void {
    if (this.#events.listenerCount('change') > 0) {
      let ids = this.#changes.get(collection);
      if (ids === undefined) {
        ids = new Set();
        this.#changes.set(collection, ids);
      }
      ids.add(id);
    }
    this.touch();
  }

  defer(step: () => void): void {
    this.#step = step;
    this.touch();
  }

  /** Adds a subscriber; returns the function that removes it. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Schedules the next batch (once, however often it is called before it runs): every change
   * does; called alone, something else observable changed (status, dead letters, conflicts) and
   * the batch only wakes subscribers.
   */
  touch(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // A microtask through a settled promise rather than queueMicrotask: in Node, every
    // queueMicrotask call creates an AsyncResource and binds the callback to it (a few hundred
    // bytes and an async-hooks round per write); browsers treat both alike.
    void SETTLED.then(this.#flush);
  }

  /** Delivers what is batched now (an arrow field: scheduling a batch allocates no closure). */
  readonly #flush = (): void => {
    this.#scheduled = false;
    // The status machine commits here, so a write costs one microtask of notification, not two.
    const step = this.#step;
    this.#step = undefined;
    step?.();
    // Reused between batches: a burst of single writes allocates no new maps. (forEach and
    // Array.from rather than for-of and spreads: this runs after every write, and the builtins
    // cost far less than the iterator protocol while V8 still interprets this code.)
    if (this.#changes.size > 0) this.#changes.forEach(this.#deliver);
    if (this.#listeners.size > 0) {
      const listeners = Array.from(this.#listeners);
      for (let i = 0; i < listeners.length; i++) (listeners[i] as () => void)();
    }
  };

  readonly #deliver = (ids: Set<string>, collection: string): void => {
    if (ids.size === 0) return;
    const list = Array.from(ids);
    ids.clear();
    this.#events.emit('change', { collection, ids: list });
  };
}
