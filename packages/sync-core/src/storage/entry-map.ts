import type { StorageWrite } from './types.js';

/**
 * The values of one folder: those filed by name, and the records written since, not filed yet.
 * A record (a value that names itself: an object whose `id` is the key's name) written by
 * {@link EntryMap.write} is appended to `unfiled`, in order; it is filed under its `id` when
 * the folder is first read, or once more than {@link MAX_UNFILED} records are unfiled. An
 * initial sync writes 100,000 records that nothing reads back until the next start: they cost
 * the storage one array slot each instead of a second table of 100,000 entries beside the
 * record store's (see docs/decisions.md, issue 10, session 14).
 */
class Folder<Stored> {
  readonly #named = new Map<string, Stored>();
  #unfiled: Stored[] = [];

  /** The values by name, with every unfiled record filed first (in the order written). */
  filed(): Map<string, Stored> {
    const unfiled = this.#unfiled;
    if (unfiled.length > 0) {
      this.#unfiled = [];
      for (let i = 0; i < unfiled.length; i++) {
        const record = unfiled[i] as Stored & { id: string };
        this.#named.set(record.id, record);
      }
    }
    return this.#named;
  }

  /** Appends a record (a value whose `id` is its name), filed later (see {@link Folder}). */
  append(record: Stored): void {
    const unfiled = this.#unfiled;
    unfiled.push(record);
    // A record written again is kept twice until filed: the bound keeps that waste at most
    // MAX_UNFILED records.
    if (unfiled.length > MAX_UNFILED) this.filed();
  }
}

/**
 * Most records a folder keeps unfiled. Above it they are filed at once, so a folder written
 * over and over (the same records updated) does not keep every old version until it is read,
 * and a folder of a million records is one table (filed in steps of this size), not a table of
 * half of them beside an array of the rest (issue 10's W2 retained heap at 1,000,000 records:
 * 183.0-183.6 -> 179.3-179.9 MiB; docs/decisions.md, session 19).
 */
const MAX_UNFILED = 1 << 17;

/**
 * The entries of one namespace held in memory, with the key-ordered, prefix-filtered listing
 * the storage contract asks for. Writes are O(1) per op; a `list` sorts what it returns.
 *
 * Keys are filed by folder: the folder is the key up to and including its last `/`, the name
 * is the rest (`r/todos/` and `a1` for `r/todos/a1`). One string per folder is kept, and a
 * value that names itself lends its name: an object whose `id` is the key's name (a base
 * record) is filed under that `id` string, so storing 1,000,000 records keeps no key string of
 * its own for them (see docs/decisions.md, issue 10, memory). Records written in a batch are
 * filed when their folder is read (see {@link Folder}).
 */
export class EntryMap<Stored> {
  /** The folders by key. A folder whose values are all deleted is removed. */
  readonly #folders = new Map<string, Folder<Stored>>();

  get(key: string): Stored | undefined {
    const [folderKey, name] = split(key);
    return this.#folders.get(folderKey)?.filed().get(name);
  }

  set(key: string, value: Stored): void {
    const cut = key.lastIndexOf('/') + 1;
    const name = ownName(key, cut, value) ?? key.slice(cut);
    this.#folder(key.slice(0, cut)).filed().set(name, value);
  }

  /**
   * Applies a storage batch's ops in order (each set's value from `values` when given: the
   * encoded ones). A page of pulled records is one folder: it is looked up once, and its
   * records are appended to it, filed when it is read (see {@link Folder}).
   */
  write(ops: readonly StorageWrite[], values?: readonly unknown[]): void {
    // The folder of the last set, while it is still in #folders (a delete may remove it).
    let folderKey = '';
    let folder: Folder<Stored> | undefined;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as StorageWrite;
      const { key } = op;
      if (op.type === 'delete') {
        this.delete(key);
        folder = undefined;
        continue;
      }
      const value = (values === undefined ? op.value : values[i]) as Stored;
      const cut = key.lastIndexOf('/') + 1;
      if (folder === undefined || cut !== folderKey.length || !key.startsWith(folderKey)) {
        folderKey = key.slice(0, cut);
        folder = this.#folder(folderKey);
      }
      if (ownName(key, cut, value) !== undefined) folder.append(value);
      else folder.filed().set(key.slice(cut), value);
    }
  }

  delete(key: string): void {
    const [folderKey, name] = split(key);
    const named = this.#folders.get(folderKey)?.filed();
    if (named?.delete(name) && named.size === 0) this.#folders.delete(folderKey);
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
      for (const name of folder.filed().keys()) {
        const key = folderKey + name;
        if (key.startsWith(prefix)) keys.push(key);
      }
    }
    // Folder by folder is not key order (`b` sorts after `a/c`): one sort of every key.
    return keys.sort().map((key) => [key, this.get(key) as Stored]);
  }

  /** The folder of `folderKey`, made when there is none. */
  #folder(folderKey: string): Folder<Stored> {
    let folder = this.#folders.get(folderKey);
    if (folder === undefined) {
      folder = new Folder<Stored>();
      this.#folders.set(folderKey, folder);
    }
    return folder;
  }
}

/**
 * The value's own `id` when it names itself (its `id` is the name of `key`, the part after
 * `cut`): it is filed under that string, and no copy of the name is made.
 */
function ownName(key: string, cut: number, value: unknown): string | undefined {
  const id = (value as { id?: unknown } | null | undefined)?.id;
  return typeof id === 'string' && id.length === key.length - cut && key.endsWith(id)
    ? id
    : undefined;
}

/** A key's folder (up to and including its last `/`, `` when it has none) and name. */
function split(key: string): [folder: string, name: string] {
  const cut = key.lastIndexOf('/') + 1;
  return [key.slice(0, cut), key.slice(cut)];
}
