/**
 * The entries of one namespace held in memory, with the key-ordered, prefix-filtered listing
 * the storage contract asks for. Writes are O(1) per op; a `list` sorts what it returns.
 *
 * Keys are filed by folder: the folder is the key up to and including its last `/`, the name
 * is the rest (`r/todos/` and `a1` for `r/todos/a1`). One string per folder is kept, and a
 * value that names itself lends its name: an object whose `id` is the key's name (a base
 * record) is filed under that `id` string, so storing 1,000,000 records keeps no key string of
 * its own for them (see docs/decisions.md, issue 10, memory).
 */
export class EntryMap<Stored> {
  /** Entries by folder, then by name. A folder with no entries is removed. */
  readonly #folders = new Map<string, Map<string, Stored>>();
  #size = 0;
  /** The folder of the latest `set`: the records of a pulled page share one, found once. */
  #lastFolder: { readonly key: string; readonly entries: Map<string, Stored> } | undefined;

  /** Number of entries. */
  get size(): number {
    return this.#size;
  }

  get(key: string): Stored | undefined {
    const cut = nameStart(key);
    return this.#folders.get(key.slice(0, cut))?.get(key.slice(cut));
  }

  set(key: string, value: Stored): void {
    const cut = nameStart(key);
    const folder = this.#folderOf(key, cut);
    const sizeBefore = folder.size;
    folder.set(nameOf(key, cut, value), value);
    this.#size += folder.size - sizeBefore;
  }

  delete(key: string): void {
    const cut = nameStart(key);
    const folderKey = key.slice(0, cut);
    const folder = this.#folders.get(folderKey);
    if (folder === undefined || !folder.delete(key.slice(cut))) return;
    this.#size--;
    if (folder.size === 0) {
      this.#folders.delete(folderKey);
      this.#lastFolder = undefined;
    }
  }

  clear(): void {
    this.#folders.clear();
    this.#size = 0;
    this.#lastFolder = undefined;
  }

  /** The folder of `key` (its name starts at `cut`), created when it is new. */
  #folderOf(key: string, cut: number): Map<string, Stored> {
    const last = this.#lastFolder;
    if (last !== undefined && last.key.length === cut && key.startsWith(last.key)) {
      return last.entries;
    }
    const folderKey = key.slice(0, cut);
    let entries = this.#folders.get(folderKey);
    if (entries === undefined) {
      entries = new Map();
      this.#folders.set(folderKey, entries);
    }
    this.#lastFolder = { key: folderKey, entries };
    return entries;
  }

  /** Entries whose key starts with `prefix`, in key (code-unit) order. */
  list(prefix: string): Array<[key: string, value: Stored]> {
    const result: Array<[string, Stored]> = [];
    let folderCount = 0;
    for (const folderKey of [...this.#folders.keys()].sort()) {
      // Every key of a folder matches when the folder starts with the prefix; when the prefix
      // goes past the folder, the names must start with the rest of it.
      let namePrefix: string;
      if (folderKey.startsWith(prefix)) namePrefix = '';
      else if (prefix.startsWith(folderKey)) namePrefix = prefix.slice(folderKey.length);
      else continue;
      const folder = this.#folders.get(folderKey) as Map<string, Stored>;
      let names = [...folder.keys()];
      if (namePrefix !== '') names = names.filter((name) => name.startsWith(namePrefix));
      names.sort();
      if (names.length > 0) folderCount++;
      for (const name of names) result.push([folderKey + name, folder.get(name) as Stored]);
    }
    // Folders sorted one after the other are not always keys in order (`b` sorts after `a/c`
    // although folder `` sorts before `a/`); the sort merges the sorted runs.
    if (folderCount > 1) result.sort(byKey);
    return result;
  }
}

/** Where the name of `key` starts: after its last `/` (0 when it has none). */
function nameStart(key: string): number {
  return key.lastIndexOf('/') + 1;
}

/**
 * The name of `key` (from `cut` on) as the string to file it under: the value's own `id` when
 * that is the name, else a copy.
 */
function nameOf(key: string, cut: number, value: unknown): string {
  const id =
    typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined;
  if (typeof id === 'string' && id.length === key.length - cut && key.endsWith(id)) return id;
  return key.slice(cut);
}

function byKey(a: readonly [string, unknown], b: readonly [string, unknown]): number {
  if (a[0] === b[0]) return 0;
  return a[0] < b[0] ? -1 : 1;
}
