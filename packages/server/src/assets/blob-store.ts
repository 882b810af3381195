/**
 * Where asset bytes live: a small interface the server streams through, and the filesystem
 * default. The database holds what the bytes mean (owner, hash, upload offset, references);
 * a BlobStore only holds bytes under opaque keys the server makes up.
 *
 * @module
 */
import { type FileHandle, mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Bytes under opaque keys (`[A-Za-z0-9_-]{1,128}`). Contract:
 *
 * - `write` first cuts the blob to `offset` bytes (bytes past it are from a write that was
 *   never recorded as done), then appends the stream's bytes, streaming: memory stays bounded
 *   whatever the size (the file store holds at most two batches of 1 MB,
 *   one being written while the next arrives). It rejects with a
 *   {@link BlobLimitError} as soon as more than `maxBytes` arrive (what was written stays, past
 *   the recorded offset, and the next write cuts it off). A failed write may leave any prefix
 *   of the stream written: the caller records the offset only after `write` resolves.
 * - `read` streams bytes `[start, end)`; it is only called for ranges the caller knows exist.
 *   A blob that is missing, or ends before `end`, fails the stream (or ends it early); the
 *   server reads the first piece before it answers, so that a missing blob is a 410 and not a
 *   body that breaks off.
 * - `delete` of a missing key is not an error.
 * - Keys are never reused by the server, so a delete never races a new write of the same key.
 */
export interface BlobStore {
  /** How many bytes the blob holds (0 when it does not exist). */
  size(key: string): Promise<number>;
  /** Cuts the blob to `offset`, then appends `body`; resolves with the bytes appended. */
  write(
    key: string,
    offset: number,
    body: AsyncIterable<Uint8Array>,
    options: { maxBytes: number },
  ): Promise<number>;
  /**
   * Makes the bytes written to the blob so far durable (the file store: an `fdatasync`).
   * Optional, for a store whose writes are not durable when they resolve: the server calls it
   * behind the chunks of an upload (one at a time, not awaited by them) and awaits one more
   * before it answers the last chunk, so a copy the database calls complete has its bytes on
   * disk, and that last sync has little left to write.
   */
  sync?(key: string): Promise<void>;
  /** Streams bytes `[start, end)`. */
  read(key: string, range: { start: number; end: number }): ReadableStream<Uint8Array>;
  /** Deletes the blob. */
  delete(key: string): Promise<void>;
  /** Every key held (for tests and for cleaning up bytes whose rows are gone). */
  keys(): Promise<string[]>;
}

/** More bytes arrived than a write may take. */
export class BlobLimitError extends Error {
  /** Discriminant for checks across package copies. */
  override readonly name = 'BlobLimitError';
}

/** Options of {@link fileBlobStore}. */
export interface FileBlobStoreOptions {
  /** The directory of the blob files (created if missing). */
  directory: string;
}

const KEY = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Bytes the file store gathers before one write. A request body arrives in socket-sized
 * pieces (64 KB); a file write for each, awaited before the next piece is read, made an upload
 * as slow as a round trip through the thread pool per 64 KB.
 */
export const WRITE_BATCH_BYTES = 1 << 20;

/** Writes `chunks` at `position`, all of them (a vectored write may take only a part). */
async function writeAllAt(file: FileHandle, chunks: Uint8Array[], position: number): Promise<void> {
  let rest = chunks;
  let at = position;
  while (rest.length > 0) {
    const { bytesWritten } = await file.writev(rest, at);
    at += bytesWritten;
    let skip = bytesWritten;
    const left: Uint8Array[] = [];
    for (const chunk of rest) {
      if (skip >= chunk.byteLength) skip -= chunk.byteLength;
      else {
        left.push(skip === 0 ? chunk : chunk.subarray(skip));
        skip = 0;
      }
    }
    rest = left;
  }
}

/** Bytes a blob read takes from the file at once. */
const READ_BYTES = 1 << 20;

/**
 * Bytes `[start, end)` of the file at `path` as a stream of reads of up to {@link READ_BYTES},
 * each into its own new buffer that the stream hands on as it is (a Node stream through
 * `Readable.toWeb` copied every piece once more). One read ahead; the file closes at the end,
 * on an error, or when the reader cancels.
 */
function readFileRange(path: string, start: number, end: number): ReadableStream<Uint8Array> {
  let file: FileHandle | undefined;
  let position = start;
  const close = async () => {
    const open = file;
    file = undefined;
    await open?.close();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (position >= end) {
          await close();
          controller.close();
          return;
        }
        file ??= await open(path, 'r');
        // Not zero-filled first: the read writes over it (a short read is copied out, so no
        // uninitialised byte rides along in the buffer).
        const size = Math.min(READ_BYTES, end - position);
        const unsafe = Buffer.allocUnsafeSlow(size);
        const buffer = new Uint8Array(unsafe.buffer, unsafe.byteOffset, size);
        const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) throw new Error(`blob ended at ${position} of ${end}: ${path}`);
        position += bytesRead;
        controller.enqueue(bytesRead === buffer.length ? buffer : buffer.slice(0, bytesRead));
      } catch (error) {
        await close().catch(() => undefined);
        throw error;
      }
    },
    cancel: close,
  });
}

function checkKey(key: string): string {
  // Keys come from the server, never from a request; the check keeps a bug from escaping the directory.
  if (!KEY.test(key)) throw new TypeError(`not a blob key: ${JSON.stringify(key).slice(0, 140)}`);
  return key;
}

/**
 * The filesystem BlobStore: one file per blob under `directory`, written chunk by chunk at
 * explicit positions and read with ranged streams; nothing is ever held whole in memory.
 * Writes go to the page cache; `sync` makes them durable.
 *
 * @example
 * ```ts
 * const blobStore = fileBlobStore({ directory: './.syncline-data/assets' });
 * ```
 */
export function fileBlobStore(options: FileBlobStoreOptions): BlobStore {
  const directory = options.directory;
  let ready: Promise<unknown> | undefined;
  const ensureDirectory = () => {
    ready ??= mkdir(directory, { recursive: true });
    return ready;
  };
  const pathOf = (key: string) => join(directory, checkKey(key));
  return {
    async size(key) {
      try {
        return (await stat(pathOf(key))).size;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
        throw error;
      }
    },
    async write(key, offset, body, { maxBytes }) {
      await ensureDirectory();
      const path = pathOf(key);
      // A resumed write opens the existing file ('r+': no truncation; 'w' if it vanished);
      // writes go to explicit positions below.
      const file = await open(path, offset === 0 ? 'w' : 'r+').catch(async (error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        return open(path, 'w');
      });
      // One batch is written while the next is gathered; both are awaited before the file
      // closes, whatever happens.
      let inFlight: Promise<void> = Promise.resolve();
      try {
        await file.truncate(offset);
        let position = offset;
        let written = 0;
        let batch: Uint8Array[] = [];
        let batchBytes = 0;
        const flush = async () => {
          await inFlight;
          const writing = writeAllAt(file, batch, position);
          writing.catch(() => undefined); // awaited below; never an unhandled rejection
          inFlight = writing;
          position += batchBytes;
          batch = [];
          batchBytes = 0;
        };
        try {
          for await (const chunk of body) {
            if (written + chunk.byteLength > maxBytes) {
              throw new BlobLimitError(`more than ${maxBytes} bytes`);
            }
            written += chunk.byteLength;
            batch.push(chunk);
            batchBytes += chunk.byteLength;
            if (batchBytes >= WRITE_BATCH_BYTES) await flush();
          }
        } catch (error) {
          // The body broke off or went over the limit: what arrived before is kept, as the
          // caller reads the blob's size to learn where a resumed upload continues.
          if (batchBytes > 0) await flush().catch(() => undefined);
          throw error;
        }
        if (batchBytes > 0) await flush();
        await inFlight;
        return written;
      } finally {
        await inFlight.catch(() => undefined);
        await file.close();
      }
    },
    async sync(key) {
      // No file is an empty blob (as for `size`): nothing to sync.
      const file = await open(pathOf(key), 'r+').catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      });
      if (file === undefined) return;
      try {
        await file.datasync();
      } finally {
        await file.close();
      }
    },
    read(key, { start, end }) {
      return readFileRange(pathOf(key), start, end);
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    async keys() {
      try {
        return (await readdir(directory)).filter((name) => KEY.test(name)).sort();
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
    },
  };
}
