/**
 * A Firestore-style document database, in process: documents under paths, each with an
 * `updateTime`; transactions that read, check preconditions and write atomically; and a query
 * for the documents of a collection changed after a commit number. It stands for the backend an
 * adapter author would call over its SDK.
 */

/** A stored document. */
export interface Doc {
  /** `users/<uid>/<collection>/<id>`. */
  path: string;
  fields: Record<string, unknown>;
  /** Raised by every write of this document: its optimistic-concurrency token. */
  version: number;
  /** Global commit number of the document's last write (commits are serialized). */
  commit: number;
  /** Server time of the last write, epoch milliseconds. */
  updateTime: number;
}

/** A transaction: reads see committed state; writes apply together at commit. */
export interface Transaction {
  get(path: string): Doc | undefined;
  set(path: string, fields: Record<string, unknown>): void;
}

/** The database. */
export class DocumentDb {
  readonly #docs = new Map<string, Doc>();
  #commits = 0;

  /** Runs `body` atomically: all its writes commit together, or none if it throws. */
  async runTransaction<T>(body: (tx: Transaction) => T): Promise<T> {
    const writes = new Map<string, Record<string, unknown>>();
    const result = body({
      get: (path) => this.#docs.get(path),
      set: (path, fields) => {
        writes.set(path, structuredClone(fields));
      },
    });
    if (writes.size > 0) {
      const commit = ++this.#commits;
      for (const [path, fields] of writes) {
        const version = (this.#docs.get(path)?.version ?? 0) + 1;
        this.#docs.set(path, { path, fields, version, commit, updateTime: Date.now() });
      }
    }
    return result;
  }

  /**
   * Documents under `prefix` written after `cursor`, in (commit, path) order. A cursor names a
   * position inside a commit too, so a page may end in the middle of one.
   */
  async changedAfter(prefix: string, cursor: Cursor | null, limit: number): Promise<Doc[]> {
    const after = (d: Doc) =>
      cursor === null ||
      d.commit > cursor.commit ||
      (d.commit === cursor.commit && d.path > cursor.path);
    return [...this.#docs.values()]
      .filter((d) => d.path.startsWith(prefix) && after(d))
      .sort((a, b) => a.commit - b.commit || (a.path < b.path ? -1 : 1))
      .slice(0, limit);
  }
}

/** A position in the change order: after this document of this commit. */
export interface Cursor {
  commit: number;
  path: string;
}
