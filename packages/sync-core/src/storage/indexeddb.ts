import { promisifyRequest } from 'idb-keyval';
import { prefixUpperBound, storageError, validateBatch } from './batch.js';
import type { StorageAdapter, StorageWrite } from './types.js';

/** Options of {@link indexedDbStorage}. */
export interface IndexedDbStorageOptions {
  /**
   * Name of the IndexedDB database. Give each app (or each test) its own.
   * @default 'syncline'
   */
  dbName?: string;
  /**
   * Name of the object store inside the database. It is created when missing.
   * @default 'syncline'
   */
  storeName?: string;
  /**
   * The IndexedDB factory. Pass one in environments without a global `indexedDB` (Node
   * tests with `fake-indexeddb`, SSR). Read on first use, never at import time.
   * @default globalThis.indexedDB
   */
  indexedDB?: IDBFactory;
  /**
   * The `IDBKeyRange` class that belongs to {@link IndexedDbStorageOptions.indexedDB}.
   * @default globalThis.IDBKeyRange
   */
  IDBKeyRange?: IndexedDbKeyRangeClass;
  /**
   * Durability hint of write transactions. With `'relaxed'` (what Chrome since 121, Firefox and
   * Safari do by default) `complete`, and so a write's promise, comes once the data is with the
   * operating system: it survives a reload, a tab or browser crash, but an OS crash or power
   * cut in the next seconds may lose it. `'strict'` makes the browser flush to disk first, which
   * costs an fsync per write transaction. See docs/decisions.md, "Issue 13, session 9".
   * @default 'relaxed'
   */
  durability?: IDBTransactionDurability;
}

/**
 * The static side of `IDBKeyRange` that {@link indexedDbStorage} uses, so a test can pass
 * the class of another implementation (`import { IDBKeyRange } from 'fake-indexeddb'`).
 */
export interface IndexedDbKeyRangeClass {
  /** `IDBKeyRange.bound`: the keys between `lower` and `upper`. */
  bound(lower: unknown, upper: unknown, lowerOpen?: boolean, upperOpen?: boolean): IDBKeyRange;
}

/** One caller's batch (or clear) waiting for the next write transaction. */
interface PendingWrite {
  /** Adds the batch's requests to the write transaction's store. */
  apply: (store: IDBObjectStore) => void;
  resolve: () => void;
  reject: (error: unknown) => void;
  /** Set once the connection was reopened for this write, so a dead database cannot loop. */
  reopened?: boolean;
}

/**
 * A {@link StorageAdapter} on IndexedDB (through idb-keyval's request helpers): the default
 * storage in browsers.
 *
 * Entries live in one object store under the compound key `[namespace, key]`, so `list` is a
 * single key-range read in key order and `clear` a single range delete. Every `write` batch
 * runs inside one `readwrite` transaction, committed at once (`IDBTransaction.commit`), and
 * resolves on the transaction's `complete` event. Group commit: batches issued in the same
 * tick, or while an earlier write transaction is committing, share the next transaction (each
 * stays atomic, and all resolve together). A transaction abort, including
 * `QuotaExceededError`, rejects every batch in it with a `SyncError` of kind `storage` (code
 * `quota_exceeded` for quota).
 *
 * Importing this module touches no IndexedDB API: the database opens on first use, so it is
 * safe to create during server-side rendering as long as nothing reads from it there.
 *
 * @param options - see {@link IndexedDbStorageOptions}
 * @example
 * ```ts
 * import { createSyncClient, indexedDbStorage } from '@syncline/sync-core';
 *
 * const storage = indexedDbStorage({ dbName: 'my-app' });
 * const client = createSyncClient({ transport, storage, collections: { todos: {} } });
 * ```
 */
export function indexedDbStorage(options: IndexedDbStorageOptions = {}): StorageAdapter {
  return new IndexedDbStorage(options);
}

class IndexedDbStorage implements StorageAdapter {
  readonly #options: IndexedDbStorageOptions;
  readonly #storeName: string;
  readonly #durability: IDBTransactionDurability;
  /** The database being opened or open; unset when it must be opened (again). */
  #opening: Promise<IDBDatabase> | undefined;
  /** The open database, once `#opening` resolved. */
  #open: IDBDatabase | undefined;
  /**
   * Batches waiting for the next write transaction. The first one queued schedules the flush,
   * or, while a write transaction is committing, that transaction's end does.
   */
  #pending: PendingWrite[] = [];
  /**
   * Write transactions started whose `complete`/`abort` has not fired yet: new batches wait
   * while there is one.
   */
  #inFlight = 0;

  constructor(options: IndexedDbStorageOptions) {
    this.#options = options;
    this.#storeName = options.storeName ?? 'syncline';
    this.#durability = options.durability ?? 'relaxed';
  }

  get(namespace: string, key: string): Promise<unknown> {
    return this.#read((store) => promisifyRequest(store.get([namespace, key])));
  }

  async list(namespace: string, prefix: string): Promise<Array<[key: string, value: unknown]>> {
    // Both requests run in one readonly transaction, so they see the same snapshot and return
    // the same keys in the same (key) order.
    const [keys, values] = await this.#read((store) => {
      const range = this.#range(namespace, prefix);
      return Promise.all([
        promisifyRequest(store.getAllKeys(range)),
        promisifyRequest(store.getAll(range)),
      ]);
    });
    return keys.map((key, i) => [(key as [string, string])[1], values[i]]);
  }

  async write(namespace: string, ops: readonly StorageWrite[]): Promise<void> {
    // Async: a refused batch rejects. The batch is queued before the first await, so batches
    // issued in one tick still share a transaction.
    validateBatch(namespace, ops);
    if (ops.length > 0) {
      await this.#enqueue((store) => {
        for (const op of ops) {
          if (op.type === 'set') store.put(op.value, [namespace, op.key]);
          else store.delete([namespace, op.key]);
        }
      });
    }
  }

  clear(namespace: string): Promise<void> {
    // Queued like a write so it lands in order with the writes issued around it.
    return this.#enqueue((store) => store.delete(this.#range(namespace, '')));
  }

  async close(): Promise<void> {
    // A batch that adds nothing settles after every write issued before it: it goes in the next
    // write transaction, and IndexedDB runs a store's write transactions one after the other.
    if (this.#pending.length > 0 || this.#inFlight > 0) {
      await this.#enqueue(() => {}).catch(() => {});
    }
    if (this.#open !== undefined) this.#drop(this.#open);
  }

  #enqueue(apply: PendingWrite['apply']): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // Group commit: while a write transaction is committing, later batches wait and then
      // share the next one. IndexedDB runs readwrite transactions on one store one after the
      // other anyway, so waiting costs a write nothing, and one commit replaces several. Only
      // the first batch queued schedules the flush: the later ones go with it.
      if (this.#pending.push({ apply, resolve, reject }) === 1 && this.#inFlight === 0) {
        this.#scheduleFlush();
      }
    });
  }

  #scheduleFlush(): void {
    queueMicrotask(() => void this.#flush());
  }

  async #flush(): Promise<void> {
    try {
      this.#flushPending(await this.#db());
    } catch (error) {
      // The database did not open (`#flushPending` settles its own failures).
      for (const write of this.#pending.splice(0)) write.reject(error);
    }
  }

  /** Starts one transaction for every pending write. Synchronous: nothing awaited inside. */
  #flushPending(db: IDBDatabase): void {
    const writes = this.#pending.splice(0);
    if (writes.length === 0) return;
    let tx: IDBTransaction;
    try {
      tx = db.transaction(this.#storeName, 'readwrite', { durability: this.#durability });
    } catch (cause) {
      // The connection was closed under us (site data cleared, versionchange): reopen once.
      this.#drop(db);
      const closed = (cause as { name?: unknown } | null)?.name === 'InvalidStateError';
      if (closed && !writes.some((write) => write.reopened)) {
        for (const write of writes) write.reopened = true;
        this.#pending.unshift(...writes);
        void this.#flush();
        return;
      }
      for (const write of writes) write.reject(storageError('IndexedDB write failed', cause));
      return;
    }
    const store = tx.objectStore(this.#storeName);
    for (let i = 0; i < writes.length; i++) {
      const write = writes[i] as PendingWrite;
      try {
        write.apply(store);
      } catch (cause) {
        // A synchronous failure (a value that cannot be cloned, a bad key) inside one batch:
        // its earlier ops are already in the transaction, so the transaction must go. The
        // other callers' batches did nothing wrong; they go first in the next transaction.
        tx.abort();
        write.reject(storageError('IndexedDB write failed', cause));
        writes.splice(i, 1);
        this.#pending.unshift(...writes);
        this.#flushPending(db);
        return;
      }
    }
    // Ask for the commit now rather than when the requests' success events have come back to
    // this thread and found no new request: one browser round trip less per write (about
    // half of a one-put transaction in Chromium). Older engines without `commit` auto-commit.
    tx.commit?.();
    // Settle on `complete` / `abort` only: a request's `error` event comes before the abort,
    // when `tx.error` may not be set yet, and a request's success says nothing about disk.
    const finished = (error?: unknown) => {
      for (const write of writes) {
        if (error === undefined) write.resolve();
        else write.reject(error);
      }
      // The batches that waited for this transaction go in the next one.
      this.#inFlight--;
      if (this.#pending.length > 0 && this.#inFlight === 0) this.#scheduleFlush();
    };
    tx.oncomplete = () => finished();
    tx.onabort = () => finished(storageError('IndexedDB write failed', tx.error ?? undefined));
    this.#inFlight++;
  }

  /**
   * Runs `request` on a readonly store, after sending pending writes so a read sees every write
   * issued before it.
   */
  async #read<T>(request: (store: IDBObjectStore) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const db = await this.#db();
      if (this.#pending.length > 0) this.#flushPending(db);
      try {
        return await request(
          db.transaction(this.#storeName, 'readonly').objectStore(this.#storeName),
        );
      } catch (cause) {
        // Closed under us (site data cleared, versionchange): reopen once, then give up. A
        // read changes nothing, so running it again is safe whichever call threw.
        if (attempt > 0 || (cause as { name?: unknown } | null)?.name !== 'InvalidStateError') {
          throw storageError('IndexedDB read failed', cause);
        }
        this.#drop(db);
      }
    }
  }

  /**
   * The database, opened once and lazily. It reopens by itself after another tab upgrades it
   * (`versionchange`: we close and forget the connection, so that tab is not blocked) or the
   * browser closed it (e.g. the user cleared site data): the next `transaction` call on that
   * connection throws `InvalidStateError`, and the read or write that made it opens the
   * database again (so the `close` event needs no listener).
   */
  #db(): Promise<IDBDatabase> {
    if (this.#opening !== undefined) return this.#opening;
    const factory = this.#options.indexedDB ?? globalThis.indexedDB;
    if (factory === undefined) {
      return Promise.reject(
        storageError(
          'No IndexedDB here: pass createSyncClient({ storage }), e.g. memoryStorage() in a test',
        ),
      );
    }
    const dbName = this.#options.dbName ?? 'syncline';
    this.#opening = openWithStore(factory, dbName, this.#storeName).then(
      (db) => {
        db.onversionchange = () => this.#drop(db);
        this.#open = db;
        return db;
      },
      (cause: unknown) => {
        this.#opening = undefined;
        throw storageError(`Could not open IndexedDB database "${dbName}"`, cause);
      },
    );
    return this.#opening;
  }

  /** Closes `db` and, if it is the open one, forgets it, so the next use reopens. */
  #drop(db: IDBDatabase): void {
    db.close();
    if (this.#open === db) {
      this.#open = undefined;
      this.#opening = undefined;
    }
  }

  /** Keys `[namespace, k]` with `k` starting with `prefix`. Arrays sort after strings. */
  #range(namespace: string, prefix: string): IDBKeyRange {
    const KeyRange = this.#options.IDBKeyRange ?? globalThis.IDBKeyRange;
    const upper = prefixUpperBound(prefix);
    return KeyRange.bound([namespace, prefix], [namespace, upper ?? []], false, true);
  }
}

/**
 * Opens `dbName` at its current version; when the store is missing (a database created by
 * something else, or by a storage with another `storeName`), reopens one version up to add
 * it. Two tabs can race to that upgrade: the loser gets a VersionError and tries again.
 * (idb-keyval's `createStore` is not used for opening: it is bound to the global `indexedDB`,
 * cannot add a store to an existing database, and gives no handle to close.)
 */
async function openWithStore(
  factory: IDBFactory,
  dbName: string,
  storeName: string,
): Promise<IDBDatabase> {
  for (let attempt = 0; ; attempt++) {
    const db = await openRequest(factory.open(dbName), storeName);
    if (db.objectStoreNames.contains(storeName)) return db;
    const version = db.version + 1;
    db.close();
    try {
      return await openRequest(factory.open(dbName, version), storeName);
    } catch (error) {
      if ((error as { name?: unknown } | null)?.name !== 'VersionError' || attempt >= 3)
        throw error;
    }
  }
}

function openRequest(request: IDBOpenDBRequest, storeName: string): Promise<IDBDatabase> {
  request.onupgradeneeded = () => {
    const db = request.result;
    if (!db.objectStoreNames.contains(storeName)) db.createObjectStore(storeName);
  };
  return promisifyRequest(request);
}
