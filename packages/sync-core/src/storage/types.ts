/** One write of a {@link StorageAdapter.write} batch. */
export type StorageWrite =
  | { type: 'set'; key: string; value: unknown }
  | { type: 'delete'; key: string };

/**
 * Where the client keeps its data: a key-value store split into namespaces (one per user, one
 * for signed-out "local" data, one for the device).
 *
 * Contract:
 * - `write` is atomic: after a crash either every op of the batch is visible or none is. It
 *   resolves only once the batch is durable: it survives the app's process or tab ending
 *   (IndexedDB: the transaction's `complete` event, by default with `relaxed` durability, so an
 *   OS crash or power cut may still lose the last seconds; files: after the journal's
 *   fdatasync).
 * - Values are JSON-compatible (plain objects, arrays, strings, finite numbers, booleans,
 *   null). The client never mutates a value after handing it to `write`, so an adapter may
 *   keep the reference instead of copying it.
 * - `list` returns the entries whose key starts with `prefix`, sorted by key (code-unit order).
 * - Namespaces are independent: a `clear` of one leaves the others untouched.
 * - A failed operation rejects with a `SyncError` of kind `storage`.
 */
export interface StorageAdapter {
  /** Reads one value, or `undefined` when the key is absent. */
  get(namespace: string, key: string): Promise<unknown>;
  /** Every entry whose key starts with `prefix`, sorted by key. */
  list(namespace: string, prefix: string): Promise<Array<[key: string, value: unknown]>>;
  /** Applies the batch atomically; resolves once it is durable. */
  write(namespace: string, ops: readonly StorageWrite[]): Promise<void>;
  /** Removes every entry of the namespace. */
  clear(namespace: string): Promise<void>;
  /** Releases resources (file handles, database connections). */
  close?(): Promise<void>;
}
