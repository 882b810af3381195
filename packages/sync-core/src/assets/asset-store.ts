import { SyncError } from '../errors/sync-error.js';
import { type IndexedDbStorageOptions, indexedDbStorage } from '../storage/indexeddb.js';
import { memoryStorage } from '../storage/memory.js';
import type { StorageAdapter } from '../storage/types.js';

/** What is known of a stored asset besides its bytes. */
export interface AssetMeta {
  /** Size in bytes. */
  size: number;
  /** File name. */
  name?: string;
  /** Media type. */
  mimeType?: string;
}

/**
 * Where the client keeps asset bytes: complete assets by SHA-256, and partial ones (a download
 * in progress, a file being imported) under a key until they are committed.
 *
 * Contract:
 * - `append` is durable when it resolves, and only at the partial's end (`offset` must equal
 *   `partialSize`, else it rejects with a `storage` SyncError, code `offset_mismatch`): a
 *   download resumed after a reload continues exactly where the stored bytes end.
 * - `commit` is atomic: afterwards the asset is complete under its hash and the partial gone.
 *   The store does not verify the hash; the client does before committing.
 * - Bytes handed to `append` are copied (or written) before it resolves.
 */
export interface AssetStore {
  /** Bytes held of the partial `key` (0 when none). */
  partialSize(key: string): Promise<number>;
  /** Appends `bytes` at `offset` (the partial's end). */
  append(key: string, offset: number, bytes: Uint8Array): Promise<void>;
  /**
   * Appends `parts`, in order, at `offset`: the same as one `append` of their concatenation,
   * which is what the client does when a store leaves this out. A store implements it to take
   * the socket-sized pieces of a download (or the pieces of an imported stream) without
   * their being joined into one buffer first, e.g. with one vectored file write.
   */
  appendParts?(key: string, offset: number, parts: readonly Uint8Array[]): Promise<void>;
  /** Bytes `[start, end)` of the partial `key`. */
  readPartial(key: string, start: number, end: number): Promise<Uint8Array>;
  /**
   * Reads bytes of the partial `key` from `start` into `target` (as many as fit, fewer where
   * the partial ends) and resolves with how many it read. Optional, as {@link AssetStore.readInto}: an
   * upload that starts while the partial is still written reads its chunks with it.
   */
  readPartialInto?(key: string, start: number, target: Uint8Array): Promise<number>;
  /**
   * Makes the bytes appended to the partial `key` so far durable (e.g. a file's `fdatasync`).
   * Optional, for a store whose appends are not durable at once: a download calls it while it
   * goes on (one at a time, never awaited by the appends), so that `commit`, which still makes
   * the whole partial durable, finds little left to flush.
   */
  flushPartial?(key: string): Promise<void>;
  /**
   * The writer of the partial `key` stopped for now (a download failed or was stopped; it may
   * resume later): a store that keeps something open per partial while it is written (a file
   * handle) lets go of it. Optional; `commit` and `discardPartial` end a partial's writing too.
   */
  releasePartial?(key: string): Promise<void>;
  /** Makes the partial `key` the complete asset `sha256`. */
  commit(key: string, sha256: string, meta: AssetMeta): Promise<void>;
  /** Forgets the partial `key`. */
  discardPartial(key: string): Promise<void>;
  /** The complete asset's meta, or `undefined`. */
  stat(sha256: string): Promise<AssetMeta | undefined>;
  /** Bytes `[start, end)` of a complete asset. */
  read(sha256: string, start: number, end: number): Promise<Uint8Array>;
  /**
   * Reads bytes of a complete asset from `start` into `target` (as many as fit, fewer at the
   * asset's end) and resolves with how many it read. Optional: a store implements it so that
   * an upload reuses a few buffers instead of a new one per chunk.
   */
  readInto?(sha256: string, start: number, target: Uint8Array): Promise<number>;
  /** Deletes a complete asset. */
  delete(sha256: string): Promise<void>;
}

interface PartialMeta {
  size: number;
  /** Start offset of each chunk entry, in order. */
  offsets: number[];
}

interface CompleteMeta extends AssetMeta {
  /** The partial key its chunks are stored under. */
  key: string;
  offsets: number[];
}

const NS = 'assets';

/**
 * An {@link AssetStore} over a key-value {@link StorageAdapter} that can hold binary values
 * (`memoryStorage()` without `serialize`, `indexedDbStorage()`; not the JSON file storage).
 * Each appended chunk is one entry, so nothing is ever rewritten whole.
 */
export function kvAssetStore(kv: StorageAdapter): AssetStore {
  const partialMeta = async (key: string): Promise<PartialMeta> =>
    ((await kv.get(NS, `p/${key}`)) as PartialMeta | undefined) ?? { size: 0, offsets: [] };
  const chunkKey = (key: string, index: number) => `c/${key}/${String(index).padStart(9, '0')}`;
  const readChunks = async (
    key: string,
    offsets: readonly number[],
    size: number,
    start: number,
    end: number,
  ): Promise<Uint8Array> => {
    const stop = Math.min(end, size);
    const out = new Uint8Array(Math.max(0, stop - start));
    for (let i = 0; i < offsets.length; i++) {
      const from = offsets[i] as number;
      const to = offsets[i + 1] ?? size;
      if (to <= start || from >= stop) continue;
      const chunk = (await kv.get(NS, chunkKey(key, i))) as Uint8Array;
      const a = Math.max(start, from);
      const b = Math.min(stop, to);
      out.set(chunk.subarray(a - from, b - from), a - start);
    }
    return out;
  };
  /** Stores `bytes`, which nothing else holds, as the partial's next entry. */
  const appendEntry = async (key: string, offset: number, bytes: Uint8Array) => {
    const meta = await partialMeta(key);
    if (offset !== meta.size) throw offsetMismatch(key, meta.size, offset);
    if (bytes.length === 0) return;
    await kv.write(NS, [
      { type: 'set', key: chunkKey(key, meta.offsets.length), value: bytes },
      {
        type: 'set',
        key: `p/${key}`,
        value: { size: meta.size + bytes.length, offsets: [...meta.offsets, meta.size] },
      },
    ]);
  };
  const dropChunks = async (key: string, count: number) => {
    const ops = [];
    for (let i = 0; i < count; i++) ops.push({ type: 'delete' as const, key: chunkKey(key, i) });
    if (ops.length > 0) await kv.write(NS, ops);
  };
  return {
    async partialSize(key) {
      return (await partialMeta(key)).size;
    },
    append: (key, offset, bytes) => appendEntry(key, offset, bytes.slice()),
    // One entry of the parts joined (a copy, as `append` makes one).
    appendParts: (key, offset, parts) => appendEntry(key, offset, joinParts(parts)),
    async readPartial(key, start, end) {
      const meta = await partialMeta(key);
      return readChunks(key, meta.offsets, meta.size, start, end);
    },
    async commit(key, sha256, meta) {
      const partial = await partialMeta(key);
      const previous = (await kv.get(NS, `a/${sha256}`)) as CompleteMeta | undefined;
      const complete: CompleteMeta = { ...meta, size: partial.size, key, offsets: partial.offsets };
      await kv.write(NS, [
        { type: 'set', key: `a/${sha256}`, value: complete },
        { type: 'delete', key: `p/${key}` },
      ]);
      if (previous !== undefined && previous.key !== key) {
        await dropChunks(previous.key, previous.offsets.length);
      }
    },
    async discardPartial(key) {
      const meta = await partialMeta(key);
      await kv.write(NS, [{ type: 'delete', key: `p/${key}` }]);
      await dropChunks(key, meta.offsets.length);
    },
    async stat(sha256) {
      const meta = (await kv.get(NS, `a/${sha256}`)) as CompleteMeta | undefined;
      if (meta === undefined) return undefined;
      return {
        size: meta.size,
        ...(meta.name === undefined ? {} : { name: meta.name }),
        ...(meta.mimeType === undefined ? {} : { mimeType: meta.mimeType }),
      };
    },
    async read(sha256, start, end) {
      const meta = (await kv.get(NS, `a/${sha256}`)) as CompleteMeta | undefined;
      if (meta === undefined) throw new SyncError('storage', `No asset ${sha256} is stored`);
      return readChunks(meta.key, meta.offsets, meta.size, start, end);
    },
    async delete(sha256) {
      const meta = (await kv.get(NS, `a/${sha256}`)) as CompleteMeta | undefined;
      if (meta === undefined) return;
      await kv.write(NS, [{ type: 'delete', key: `a/${sha256}` }]);
      await dropChunks(meta.key, meta.offsets.length);
    },
  };
}

/** Asset bytes in memory (tests, and the default where IndexedDB is missing). */
export function memoryAssetStore(): AssetStore {
  return kvAssetStore(memoryStorage());
}

/**
 * Asset bytes in IndexedDB (the browser default): its own object store, one entry per chunk.
 * @param options - database and store names and the IndexedDB factory
 * @default options `{ dbName: 'syncline-assets', storeName: 'assets' }`
 */
export function indexedDbAssetStore(options: IndexedDbStorageOptions = {}): AssetStore {
  return kvAssetStore(
    indexedDbStorage({ dbName: 'syncline-assets', storeName: 'assets', ...options }),
  );
}

/** The error of an append that does not continue the partial where it ends. */
export function offsetMismatch(key: string, held: number, offset: number): SyncError {
  return new SyncError(
    'storage',
    `The partial asset ${key} holds ${held} bytes; an append at ${offset} would leave a gap or overlap`,
    { code: 'offset_mismatch', details: { offset: held } },
  );
}

/** `parts` joined into one new buffer. */
export function joinParts(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
