import { promisifyRequest } from 'idb-keyval';
import { storageError } from './batch.js';

/** How to reach one object store. */
export interface IdbLocation {
  factory: IDBFactory;
  dbName: string;
  storeName: string;
}

/**
 * One lazily opened connection to the database that holds the store. idb-keyval's
 * `createStore` is not used for opening because it is bound to the global `indexedDB`, cannot
 * add a store to an existing database (no version bump), and gives no handle to close.
 *
 * The connection reopens by itself after the browser closes it (`close` event, e.g. when the
 * user clears site data) or another tab upgrades the database (`versionchange`: we close so
 * that tab is not blocked, and reopen on the next operation).
 */
export class IdbConnection {
  readonly #location: IdbLocation;
  #opening: Promise<IDBDatabase> | undefined;
  #db: IDBDatabase | undefined;

  constructor(location: IdbLocation) {
    this.#location = location;
  }

  /** Opens the database (once) and resolves with it. */
  open(): Promise<IDBDatabase> {
    this.#opening ??= openWithStore(this.#location).then(
      (db) => {
        db.onversionchange = () => this.#drop(db);
        db.onclose = () => this.#drop(db);
        this.#db = db;
        return db;
      },
      (cause: unknown) => {
        this.#opening = undefined;
        throw storageError(`Could not open IndexedDB database "${this.#location.dbName}"`, cause);
      },
    );
    return this.#opening;
  }

  /** Forgets a connection that can no longer start transactions, so the next use reopens. */
  reset(db: IDBDatabase): void {
    this.#drop(db);
  }

  /** Closes the connection; a later operation opens a new one. */
  close(): void {
    if (this.#db !== undefined) this.#drop(this.#db);
  }

  #drop(db: IDBDatabase): void {
    db.close();
    if (this.#db === db) {
      this.#db = undefined;
      this.#opening = undefined;
    }
  }
}

/**
 * Opens `dbName` at its current version; when the store is missing (a database created by
 * something else, or by a storage with another `storeName`), reopens one version up to add
 * it. Two tabs can race to that upgrade: the loser gets a VersionError and tries again.
 */
async function openWithStore({ factory, dbName, storeName }: IdbLocation): Promise<IDBDatabase> {
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
