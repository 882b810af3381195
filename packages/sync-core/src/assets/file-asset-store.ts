import {
  type FileHandle,
  mkdir,
  open,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { SyncError } from '../errors/sync-error.js';
import { type AssetMeta, type AssetStore, offsetMismatch } from './asset-store.js';

/** Options of {@link fileAssetStore}. */
export interface FileAssetStoreOptions {
  /** The directory that holds the assets (created when missing). */
  directory: string;
}

const KEY = /^[A-Za-z0-9._-]{1,200}$/;

/**
 * Asset bytes as files under a directory (Node, Electron): `partial/<key>` while a download or
 * import runs, `blobs/<sha256>` and `blobs/<sha256>.json` once complete. Appends go straight to
 * disk, not synced each (a sync per chunk made a large download crawl on a busy disk); the
 * bytes are synced when the asset is committed, and a download also asks for syncs of its
 * partial as it goes (`flushPartial`, alongside its appends), so that little is left then. A partial file a crash cut short, or left with unsynced
 * bytes, is at worst shorter than what was appended or wrong past some point: a download
 * resumes from its size and verifies the SHA-256 of the whole before committing (wrong bytes
 * are fetched again), and an import starts over. Reads take only the range asked for, so a
 * 500 MB asset never sits whole in memory. A partial keeps one file handle open while it is
 * written (appends, the reads of an upload that follows them, the flushes), from its first
 * append until it is committed, discarded or released (`releasePartial`); a store instance
 * assumes it is the only writer of its directory's partials.
 *
 * @example
 * ```ts
 * import { fileAssetStore } from '@syncline/sync-core/node';
 * const client = createSyncClient({ transport, assetStore: fileAssetStore({ directory: './assets' }) });
 * ```
 */
export function fileAssetStore(options: FileAssetStoreOptions): AssetStore {
  const partialDir = join(options.directory, 'partial');
  const blobDir = join(options.directory, 'blobs');
  let ready: Promise<void> | null = null;
  const ensureDirs = () => {
    ready ??= Promise.all([
      mkdir(partialDir, { recursive: true }),
      mkdir(blobDir, { recursive: true }),
    ]).then(() => {});
    return ready;
  };
  const partialPath = (key: string) => join(partialDir, checkKey(key));
  const blobPath = (sha256: string) => join(blobDir, checkKey(sha256));
  const sizeOf = async (path: string): Promise<number | undefined> => {
    try {
      return (await stat(path)).size;
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') return undefined;
      throw failed('read', error);
    }
  };
  /** Runs `use` with the file at `path` open for reading. */
  const reading = async <T>(path: string, use: (handle: FileHandle) => Promise<T>): Promise<T> => {
    const handle = await open(path, 'r').catch((error: unknown) => {
      throw failed('read', error);
    });
    try {
      return await use(handle);
    } finally {
      await handle.close();
    }
  };
  const readRange = (path: string, start: number, end: number): Promise<Uint8Array> =>
    reading(path, async (handle) => {
      const size = (await handle.stat()).size;
      // Not zero-filled first (every byte is read over): a large zeroed buffer costs a page
      // fault per 4 KB on top, a fifth of a 4 MB read's time on a loaded host.
      const out = freshBytes(Math.max(0, Math.min(end, size) - start));
      const read = await fill(handle, start, out);
      // A short read (the file shrank meanwhile) is copied out: no uninitialised byte rides along.
      return read === out.length ? out : out.slice(0, read);
    });
  /**
   * The partials being written, each with one handle kept open from its first append until it
   * is committed, discarded or released (a file open, stat and close per append and per read
   * of the upload that follows it were a tenth of a send's CPU), and its size as this store
   * wrote it. A partial is written by one writer at a time (the client's appends are in order).
   */
  const writing = new Map<string, Promise<OpenPartial>>();
  const openPartial = (key: string): Promise<OpenPartial> => {
    let opening = writing.get(key);
    if (opening === undefined) {
      opening = (async () => {
        await ensureDirs();
        const handle = await open(partialPath(key), 'a+');
        try {
          return { handle, size: (await handle.stat()).size };
        } catch (error) {
          await handle.close().catch(() => undefined);
          throw error;
        }
      })();
      writing.set(key, opening);
      opening.catch(() => {
        if (writing.get(key) === opening) writing.delete(key);
      });
    }
    return opening;
  };
  /** Closes the partial's kept handle, if any (waiting for the operations on it). */
  const release = async (key: string): Promise<void> => {
    const opening = writing.get(key);
    if (opening === undefined) return;
    writing.delete(key);
    const partial = await opening.catch(() => undefined);
    await partial?.handle.close();
  };
  /** Writes `parts` at the partial's end, with vectored writes (none joined in memory). */
  const appendParts = async (key: string, offset: number, parts: readonly Uint8Array[]) => {
    const partial = await openPartial(key).catch((error: unknown) => {
      throw failed('write', error);
    });
    if (partial.size !== offset) throw offsetMismatch(key, partial.size, offset);
    let rest = parts.filter((part) => part.length > 0);
    try {
      while (rest.length > 0) {
        const { bytesWritten } = await partial.handle.writev(rest);
        partial.size += bytesWritten;
        rest = afterWritten(rest, bytesWritten);
      }
    } catch (error) {
      // What reached the file is not known for sure: the next append opens it again.
      await release(key).catch(() => undefined);
      throw failed('write', error);
    }
  };
  /** Reads the partial into `target`, with its kept handle while it is being written. */
  const partialInto = async (key: string, start: number, target: Uint8Array) => {
    const opening = writing.get(key);
    if (opening === undefined)
      return reading(partialPath(key), (handle) => fill(handle, start, target));
    return fill((await opening).handle, start, target);
  };
  return {
    async partialSize(key) {
      const opening = writing.get(key);
      if (opening !== undefined) return (await opening).size;
      await ensureDirs();
      return (await sizeOf(partialPath(key))) ?? 0;
    },
    append: (key, offset, bytes) => appendParts(key, offset, [bytes]),
    appendParts,
    async readPartial(key, start, end) {
      await ensureDirs();
      const opening = writing.get(key);
      if (opening === undefined) return readRange(partialPath(key), start, end);
      const { size } = await opening;
      const out = freshBytes(Math.max(0, Math.min(end, size) - start));
      const read = await partialInto(key, start, out);
      return read === out.length ? out : out.slice(0, read);
    },
    async readPartialInto(key, start, target) {
      await ensureDirs();
      return partialInto(key, start, target);
    },
    async flushPartial(key) {
      try {
        const opening = writing.get(key);
        if (opening === undefined) await syncFile(partialPath(key));
        else await (await opening).handle.datasync();
      } catch (error) {
        throw failed('write', error);
      }
    },
    releasePartial: release,
    async commit(key, sha256, meta) {
      await ensureDirs();
      const opening = writing.get(key);
      const size =
        opening === undefined ? ((await sizeOf(partialPath(key))) ?? 0) : (await opening).size;
      if (size === 0 && meta.size === 0 && opening === undefined) {
        await writeFile(partialPath(key), new Uint8Array());
      }
      const json = JSON.stringify({ ...meta, size });
      const tmp = `${blobPath(sha256)}.json.tmp`;
      try {
        if (opening === undefined) await syncFile(partialPath(key));
        else {
          await (await opening).handle.datasync();
          await release(key);
        }
        await writeFile(tmp, json);
        await rename(partialPath(key), blobPath(sha256));
        await rename(tmp, `${blobPath(sha256)}.json`);
      } catch (error) {
        throw failed('write', error);
      }
    },
    async discardPartial(key) {
      await release(key).catch(() => undefined);
      await rm(partialPath(key), { force: true });
    },
    async stat(sha256) {
      await ensureDirs();
      const size = await sizeOf(blobPath(sha256));
      if (size === undefined) return undefined;
      try {
        const meta = JSON.parse(await readFile(`${blobPath(sha256)}.json`, 'utf8')) as AssetMeta;
        return { ...meta, size };
      } catch {
        return { size }; // bytes renamed, meta not yet: the bytes are what counts
      }
    },
    async read(sha256, start, end) {
      await ensureDirs();
      return readRange(blobPath(sha256), start, end);
    },
    async readInto(sha256, start, target) {
      await ensureDirs();
      return reading(blobPath(sha256), (handle) => fill(handle, start, target));
    },
    async delete(sha256) {
      await rm(blobPath(sha256), { force: true });
      await rm(`${blobPath(sha256)}.json`, { force: true });
    },
  };
}

/** A partial being written: its kept handle and its size. */
interface OpenPartial {
  handle: FileHandle;
  size: number;
}

/** What of `parts` a write of `written` bytes left unwritten (views, no copies). */
function afterWritten(parts: readonly Uint8Array[], written: number): Uint8Array[] {
  const left: Uint8Array[] = [];
  let skip = written;
  for (const part of parts) {
    if (skip >= part.length) skip -= part.length;
    else {
      left.push(skip === 0 ? part : part.subarray(skip));
      skip = 0;
    }
  }
  return left;
}

/** Reads from `start` into `target` until it is full or the file ends; returns the count. */
async function fill(handle: FileHandle, start: number, target: Uint8Array): Promise<number> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await handle.read(target, done, target.length - done, start + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** A buffer of `size` bytes whose contents are not cleared (the caller writes every byte). */
function freshBytes(size: number): Uint8Array {
  const buffer = Buffer.allocUnsafeSlow(size);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, size);
}

/** Flushes a file's bytes to disk (before it is renamed into place as a complete asset). */
async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

function checkKey(key: string): string {
  if (!KEY.test(key) || key === '.' || key === '..') {
    throw new SyncError('invalid', `Not a safe asset key: ${JSON.stringify(key)}`);
  }
  return key;
}

function failed(what: 'read' | 'write', cause: unknown): SyncError {
  const code = (cause as { code?: string } | null)?.code;
  const quota = code === 'ENOSPC' || code === 'EDQUOT';
  return new SyncError('storage', `Could not ${what} an asset file: ${String(cause)}`, {
    cause,
    ...(quota ? { code: 'quota_exceeded' } : {}),
  });
}
