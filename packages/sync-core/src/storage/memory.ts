import { storageError, validateBatch } from './batch.js';
import { EntryMap } from './entry-map.js';
import type { StorageAdapter, StorageWrite } from './types.js';

/** Options of {@link memoryStorage}. */
export interface MemoryStorageOptions {
  /**
   * JSON round-trip every value on write and on read, like a persistent store would. Tests
   * turn it on to catch code that mutates a value after writing it, or relies on getting the
   * same object back. Off, values are kept by reference (the contract allows it), which is
   * what makes the memory store fast.
   * @default false
   */
  serialize?: boolean;
}

/**
 * A {@link StorageAdapter} that keeps everything in memory: the default outside browsers, and
 * the storage of unit tests and the simulator. One object can be shared by several clients in
 * turn: dropping a client and starting another on the same storage is how tests model a crash
 * and restart. `close` is a no-op for that reason.
 *
 * Writes are O(ops) and keep values by reference unless `serialize` is set.
 *
 * @param options - see {@link MemoryStorageOptions}
 * @example
 * ```ts
 * import { createSyncClient, memoryStorage } from '@syncline/sync-core';
 *
 * const storage = memoryStorage({ serialize: true });
 * const client = createSyncClient({ transport, storage, collections: { todos: {} } });
 * ```
 */
export function memoryStorage(options: MemoryStorageOptions = {}): StorageAdapter {
  return new MemoryStorage(options.serialize ?? false);
}

class MemoryStorage implements StorageAdapter {
  readonly #serialize: boolean;
  readonly #namespaces = new Map<string, EntryMap<unknown>>();

  constructor(serialize: boolean) {
    this.#serialize = serialize;
  }

  async get(namespace: string, key: string): Promise<unknown> {
    const value = this.#namespaces.get(namespace)?.get(key);
    return value === undefined ? undefined : this.#read(value);
  }

  async list(namespace: string, prefix: string): Promise<Array<[key: string, value: unknown]>> {
    const entries = this.#namespaces.get(namespace)?.list(prefix) ?? [];
    if (this.#serialize) for (const entry of entries) entry[1] = this.#read(entry[1]);
    return entries;
  }

  async write(namespace: string, ops: readonly StorageWrite[]): Promise<void> {
    validateBatch(namespace, ops);
    // Encode every value before touching the map, so a value that cannot be serialized
    // fails the batch with nothing applied.
    const values = this.#serialize ? ops.map((op) => encode(op)) : undefined;
    let entries = this.#namespaces.get(namespace);
    if (entries === undefined) {
      entries = new EntryMap();
      this.#namespaces.set(namespace, entries);
    }
    entries.write(ops, values);
  }

  async clear(namespace: string): Promise<void> {
    this.#namespaces.delete(namespace);
  }

  #read(stored: unknown): unknown {
    return this.#serialize ? JSON.parse(stored as string) : stored;
  }
}

function encode(op: StorageWrite): string | undefined {
  if (op.type === 'delete') return undefined;
  let json: string | undefined;
  try {
    json = JSON.stringify(op.value);
  } catch (cause) {
    throw storageError(`Storage value for "${op.key}" is not JSON`, cause);
  }
  if (json === undefined) throw storageError(`Storage value for "${op.key}" is not JSON`);
  return json;
}
