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

  get(key: string): Stored | undefined {
    const [folderKey, name] = split(key);
    return this.#folders.get(folderKey)?.get(name);
  }

  set(key: string, value: Stored): void {
    const [folderKey, name] = split(key);
    let folder = this.#folders.get(folderKey);
    if (folder === undefined) {
      folder = new Map<string, Stored>();
      this.#folders.set(folderKey, folder);
    }
    // A value that names itself lends its own `id`: then no string is kept for the name.
    const id = (value as { id?: unknown } | null | undefined)?.id;
    folder.set(id === name ? id : name, value);
  }

  delete(key: string): void {
    const [folderKey, name] = split(key);
    const folder = this.#folders.get(folderKey);
    if (folder?.delete(name) && folder.size === 0) this.#folders.delete(folderKey);
  }

  clear(): void {
    this.#folders.clear();
  }

  /** Entries whose key starts with `prefix`, in key (code-unit) order. */
  list(prefix: string): Array<[key: string, value: Stored]> {
    const keys: string[] = [];
    for (const [folderKey, folder] of this.#folders) {
      // A folder holds keys with the prefix only if one of the two starts with the other.
      if (!folderKey.startsWith(prefix) && !prefix.startsWith(folderKey)) continue;
      for (const name of folder.keys()) {
        const key = folderKey + name;
        if (key.startsWith(prefix)) keys.push(key);
      }
    }
    // Folder by folder is not key order (`b` sorts after `a/c`): one sort of every key.
    return keys.sort().map((key) => [key, this.get(key) as Stored]);
  }
}

/** A key's folder (up to and including its last `/`, `` when it has none) and name. */
function split(key: string): [folder: string, name: string] {
  const cut = key.lastIndexOf('/') + 1;
  return [key.slice(0, cut), key.slice(cut)];
}
