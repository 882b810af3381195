import {
  type EnqueueResult,
  Outbox,
  type OutboxEntry,
  type StoredOutboxEntry,
} from '../outbox/outbox.js';
import type { JsonObject, Mutation } from '../protocol/types.js';

/**
 * The outbox of a replica a multi-tab client opens: it hears every record whose entries
 * changed, so that a leader tab mirrors them to its followers (made by the tabs entry, so an
 * app without tabs does not ship it).
 */
export class AnnouncingOutbox extends Outbox {
  readonly #touched: (collection: string, id: string) => void;

  /** @param touched - hears each record whose entries changed */
  constructor(touched: (collection: string, id: string) => void) {
    super();
    this.#touched = touched;
  }

  #touch(mutation: Mutation): void {
    this.#touched(mutation.collection, mutation.recordId);
  }

  override restore(stored: readonly StoredOutboxEntry[]): void {
    super.restore(stored);
    for (const item of stored) this.#touch(item.mutation);
  }

  override enqueue(mutation: Mutation, base: JsonObject | null): EnqueueResult {
    this.#touch(mutation);
    return super.enqueue(mutation, base);
  }

  override remove(entry: OutboxEntry): void {
    const size = this.size;
    super.remove(entry);
    if (this.size < size) this.#touch(entry.mutation);
  }

  override replace(held: OutboxEntry, mutation: Mutation, base: JsonObject | null): void {
    this.#touch(mutation);
    super.replace(held, mutation, base);
  }

  /** The entries queued while loading were renumbered: each record is announced again. */
  override mergeLoaded(stored: readonly StoredOutboxEntry[]): void {
    super.mergeLoaded(stored);
    for (const entry of this.entries()) this.#touch(entry.mutation);
  }
}
