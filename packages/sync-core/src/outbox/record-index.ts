/**
 * A map keyed by (collection, record id), as nested maps: no key string is built per lookup,
 * which matters on the write path (every local write looks its record up several times).
 */
export class RecordIndex<T> {
  readonly #byCollection = new Map<string, Map<string, T>>();

  /** The value of a record, if any. */
  get(collection: string, id: string): T | undefined {
    return this.#byCollection.get(collection)?.get(id);
  }

  /** Sets the value of a record. */
  set(collection: string, id: string, value: T): void {
    let ids = this.#byCollection.get(collection);
    if (ids === undefined) {
      ids = new Map();
      this.#byCollection.set(collection, ids);
    }
    ids.set(id, value);
  }

  /** Removes a record's value. */
  delete(collection: string, id: string): void {
    const ids = this.#byCollection.get(collection);
    if (ids === undefined) return;
    ids.delete(id);
    if (ids.size === 0) this.#byCollection.delete(collection);
  }
}
