/**
 * The Node file storage: `fileStorage({ directory })`, exported from
 * `@syncline/sync-core/node` only (it imports Node built-ins).
 *
 * ## On-disk format
 *
 * Each namespace has up to two live files in `directory`, named after the first 128 bits of
 * the SHA-256 of the namespace name (`<stem>` = `ns-<32 hex>`), because a namespace may hold
 * any character:
 *
 * - `<stem>.snapshot`: a JSON header line `{ format, version: 1, namespace, generation,
 *   bytes, sha256 }`, then the body: every entry as a JSON array of `[key, value]` pairs.
 *   `bytes` and `sha256` describe the body and are checked on load.
 * - `<stem>.<generation>.journal`: the batches written since that snapshot, one record per
 *   `write` (or `clear`). A record is a 26-byte header `<8 hex: payload length> <16 hex:
 *   first 64 bits of the payload's SHA-256>\n`, the payload, and `\n`. The payload is JSON:
 *   `[["s", key, value], ["d", key], ...]` for a batch, `"clear"` for a clear.
 * - `<stem>.snapshot.<uuid>.tmp`: a snapshot being written; never read.
 *
 * Loading reads the snapshot (generation 0 and no entries when there is none), replays the
 * journal of the snapshot's generation record by record, and stops at the first record that
 * is incomplete or fails its checksum. Journals of other generations and temp files are
 * leftovers of an interrupted compaction and are deleted.
 *
 * ## Crash guarantees
 *
 * - A `write` resolves only after its record is written and the journal is `fdatasync`ed
 *   (a new journal's directory entry is fsynced too): a resolved write survives a crash or
 *   power cut, on a disk that honours fsync.
 * - A batch is one record, and a record counts only if whole and matching its checksum, so a
 *   crash mid-write leaves the batch entirely absent (its torn bytes are cut off on the next
 *   load, so later records never follow garbage). Batches are never partly applied.
 * - When the journal outgrows both `compactAfterBytes` and the last snapshot, the namespace
 *   is compacted: the next generation's snapshot is written to a temp file and fsynced, the
 *   next (empty) journal created and fsynced, then the temp file is renamed over
 *   `<stem>.snapshot` and the directory fsynced. That rename is the commit point: a crash
 *   before it leaves the old snapshot + old journal (complete); after it, the new snapshot
 *   (complete). Compaction costs O(namespace size) but happens only after the journal has
 *   grown by at least as much, so a small write stays O(its own size) amortized.
 * - A write whose append fails (e.g. `ENOSPC`) rejects with a `SyncError` of kind `storage`
 *   and is cut back off the journal, so it does not reappear after a restart.
 *
 * Reads are served from memory (the whole namespace is loaded on first use), and writes to
 * one namespace are serialized; several batches that queue up while one is being written go
 * to disk together with one fsync. One process at a time may use a directory.
 */
import { mkdir } from 'node:fs/promises';
import { isSyncError, SyncError } from '../errors/sync-error.js';
import { storageError, validateBatch } from './batch.js';
import { encodeRecord } from './file-format.js';
import { NamespaceFiles } from './file-namespace.js';
import type { StorageAdapter, StorageWrite } from './types.js';

/** Options of {@link fileStorage}. */
export interface FileStorageOptions {
  /** Directory that holds the data; created when missing. One process at a time may use it. */
  directory: string;
  /**
   * Journal size (bytes) below which a namespace is never compacted into a new snapshot.
   * Above it, compaction happens once the journal is also larger than the last snapshot.
   * @default 4194304 (4 MiB)
   */
  compactAfterBytes?: number;
}

/**
 * A {@link StorageAdapter} that keeps data in files, for Node apps, CLIs and servers that
 * run a client. Atomic and durable: every batch is all-or-nothing across a crash, and
 * `write` resolves only once the batch is fsynced. See the top comment of `file.ts` in the
 * sources for the on-disk format.
 *
 * @param options - see {@link FileStorageOptions}
 * @throws a `SyncError` of kind `invalid` when `directory` is missing
 * @example
 * ```ts
 * import { createSyncClient } from '@syncline/sync-core';
 * import { fileStorage } from '@syncline/sync-core/node';
 *
 * const storage = fileStorage({ directory: './.syncline' });
 * const client = createSyncClient({ transport, storage, collections: { todos: {} } });
 * ```
 */
export function fileStorage(options: FileStorageOptions): StorageAdapter {
  if (typeof options?.directory !== 'string' || options.directory === '') {
    throw new SyncError('invalid', 'fileStorage needs a directory');
  }
  const compactAfterBytes = options.compactAfterBytes ?? 4 * 1024 * 1024;
  if (!Number.isFinite(compactAfterBytes) || compactAfterBytes < 0) {
    throw new SyncError('invalid', 'fileStorage compactAfterBytes must be a number >= 0');
  }
  return new FileStorage(options.directory, compactAfterBytes);
}

class FileStorage implements StorageAdapter {
  readonly #directory: string;
  readonly #compactAfterBytes: number;
  readonly #namespaces = new Map<string, Promise<NamespaceFiles>>();
  #directoryReady: Promise<unknown> | undefined;

  constructor(directory: string, compactAfterBytes: number) {
    this.#directory = directory;
    this.#compactAfterBytes = compactAfterBytes;
  }

  async get(namespace: string, key: string): Promise<unknown> {
    const files = await this.#files(namespace);
    await files.settled();
    return files.entries.get(key);
  }

  async list(namespace: string, prefix: string): Promise<Array<[key: string, value: unknown]>> {
    const files = await this.#files(namespace);
    await files.settled();
    return files.entries.list(prefix);
  }

  async write(namespace: string, ops: readonly StorageWrite[]): Promise<void> {
    validateBatch(namespace, ops);
    if (ops.length === 0) return;
    // Encoded at call time: a non-JSON batch fails before anything is queued.
    const record = encodeRecord(ops);
    const files = await this.#files(namespace);
    return files.write(ops, record);
  }

  async clear(namespace: string): Promise<void> {
    const files = await this.#files(namespace);
    return files.write('clear');
  }

  async close(): Promise<void> {
    const open = [...this.#namespaces.values()];
    this.#namespaces.clear();
    const results = await Promise.allSettled(open);
    for (const result of results) {
      if (result.status === 'fulfilled') await result.value.close();
    }
  }

  #files(namespace: string): Promise<NamespaceFiles> {
    if (typeof namespace !== 'string') {
      return Promise.reject(storageError('Storage namespace must be a string'));
    }
    let files = this.#namespaces.get(namespace);
    if (files === undefined) {
      this.#directoryReady ??= mkdir(this.#directory, { recursive: true });
      files = this.#directoryReady
        .then(() =>
          NamespaceFiles.load({
            directory: this.#directory,
            namespace,
            compactAfterBytes: this.#compactAfterBytes,
          }),
        )
        .catch((cause: unknown) => {
          this.#namespaces.delete(namespace);
          this.#directoryReady = undefined;
          if (isSyncError(cause)) throw cause;
          throw storageError(`Could not load storage namespace "${namespace}"`, cause);
        });
      this.#namespaces.set(namespace, files);
    }
    return files;
  }
}
