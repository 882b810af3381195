/**
 * The entries of one namespace held in memory, with the key-ordered, prefix-filtered listing
 * the storage contract asks for. Writes stay O(1) per op: the sorted key index is rebuilt
 * lazily, only on the first `list` after the key set changed (overwrites keep it).
 */
export class EntryMap<Stored> {
  readonly #entries = new Map<string, Stored>();
  /** Keys in code-unit order; `undefined` until a `list` needs it after the key set changed. */
  #sortedKeys: string[] | undefined;

  /** Number of entries. */
  get size(): number {
    return this.#entries.size;
  }

  get(key: string): Stored | undefined {
    return this.#entries.get(key);
  }

  set(key: string, value: Stored): void {
    const sizeBefore = this.#entries.size;
    this.#entries.set(key, value);
    if (this.#entries.size !== sizeBefore) this.#sortedKeys = undefined;
  }

  delete(key: string): void {
    if (this.#entries.delete(key)) this.#sortedKeys = undefined;
  }

  clear(): void {
    this.#entries.clear();
    this.#sortedKeys = undefined;
  }

  /** Entries whose key starts with `prefix`, in key (code-unit) order. */
  list(prefix: string): Array<[key: string, value: Stored]> {
    this.#sortedKeys ??= [...this.#entries.keys()].sort();
    const keys = this.#sortedKeys;
    const result: Array<[string, Stored]> = [];
    for (let i = lowerBound(keys, prefix); i < keys.length; i++) {
      const key = keys[i] as string;
      if (!key.startsWith(prefix)) break;
      result.push([key, this.#entries.get(key) as Stored]);
    }
    return result;
  }
}

/** Index of the first key `>= target` in sorted `keys`. */
function lowerBound(keys: readonly string[], target: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((keys[mid] as string) < target) low = mid + 1;
    else high = mid;
  }
  return low;
}
