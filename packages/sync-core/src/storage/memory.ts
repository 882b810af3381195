import { storageError, validateBatch } from './batch.js';
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

interface Namespace {
  entries: Map<string, unknown>;
  /** Keys in code-unit order; `undefined` until a `list` needs it after the key set changed. */
  sortedKeys: string[] | undefined;
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
  readonly #namespaces = new Map<string, Namespace>();

  constructor(serialize: boolean) {
    this.#serialize = serialize;
  }

  async get(namespace: string, key: string): Promise<unknown> {
    const value = this.#namespaces.get(namespace)?.entries.get(key);
    return value === undefined ? undefined : this.#read(value);
  }

  async list(namespace: string, prefix: string): Promise<Array<[key: string, value: unknown]>> {
    const ns = this.#namespaces.get(namespace);
    if (ns === undefined) return [];
    ns.sortedKeys ??= [...ns.entries.keys()].sort();
    const keys = ns.sortedKeys;
    const result: Array<[string, unknown]> = [];
    for (let i = lowerBound(keys, prefix); i < keys.length; i++) {
      const key = keys[i] as string;
      if (!key.startsWith(prefix)) break;
      result.push([key, this.#read(ns.entries.get(key))]);
    }
    return result;
  }

  async write(namespace: string, ops: readonly StorageWrite[]): Promise<void> {
    validateBatch(namespace, ops);
    // Encode every value before touching the map, so a value that cannot be serialized
    // fails the batch with nothing applied.
    const values = this.#serialize ? ops.map((op) => encode(op)) : undefined;
    let ns = this.#namespaces.get(namespace);
    if (ns === undefined) {
      ns = { entries: new Map(), sortedKeys: undefined };
      this.#namespaces.set(namespace, ns);
    }
    const { entries } = ns;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as StorageWrite;
      if (op.type === 'set') {
        const sizeBefore = entries.size;
        entries.set(op.key, values === undefined ? op.value : values[i]);
        if (entries.size !== sizeBefore) ns.sortedKeys = undefined;
      } else if (entries.delete(op.key)) {
        ns.sortedKeys = undefined;
      }
    }
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
