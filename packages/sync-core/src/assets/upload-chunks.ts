import { isRetryableError, isSyncError, SyncError } from '../errors/sync-error.js';
import type { TransferRun } from './transfer-run.js';

/** An asset whose bytes are written to a partial and being committed while it uploads. */
export interface CommittingAsset {
  /** The partial its bytes are in until committed. */
  key: string;
  size: number;
  /** Settles once the commit did (the asset then reads under its hash). */
  committed: Promise<unknown>;
  /**
   * How far the partial is written, when the bytes are still being written as the upload
   * starts (a send whose hash came from a pass of its own): a chunk is read once written.
   * Without it, the partial is whole when the upload starts.
   */
  written?: WrittenBytes;
}

/**
 * How many bytes of a partial are written, for an upload that reads them as they land: a
 * read waits until its range is written, and fails once the writing failed.
 */
export class WrittenBytes {
  #end = 0;
  #error: SyncError | undefined;
  #waiting: { end: number; resolve: () => void; reject: (error: unknown) => void }[] = [];

  /** The partial now ends at `end`. */
  advance(end: number): void {
    this.#end = Math.max(this.#end, end);
    this.#waiting = this.#waiting.filter((waiter) => {
      if (waiter.end > this.#end) return true;
      waiter.resolve();
      return false;
    });
  }

  /**
   * The writing failed: every read waiting, and any later one, fails with a non-retryable
   * error (the upload's retries cannot write the bytes), the cause attached.
   */
  fail(cause: unknown): void {
    this.#error =
      isSyncError(cause) && !isRetryableError(cause)
        ? cause
        : new SyncError('storage', `The asset's bytes could not be written: ${String(cause)}`, {
            cause,
          });
    for (const waiter of this.#waiting.splice(0)) waiter.reject(this.#error);
  }

  /** Resolves once the partial holds `end` bytes. */
  until(end: number): Promise<void> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (end <= this.#end) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#waiting.push({ end, resolve, reject });
    });
  }
}

/** Reads an upload's chunks; `buffer` comes with a chunk read into a reused buffer. */
export interface ChunkReader {
  read(start: number, end: number): Promise<{ chunk: Uint8Array; buffer?: Uint8Array }>;
  /** Hands back the buffer of a chunk the transport took. */
  reuse(buffer: Uint8Array): void;
}

/**
 * Reads chunks from the partial while the commit runs (once written, when it is still being
 * written), from the complete asset `sha256` (a promise while the bytes are hashed) after it: a read the commit overtook (the partial gone,
 * or shorter) waits for the commit and reads again.
 */
export function committingReader(
  run: TransferRun,
  committing: CommittingAsset,
  sha256: string | Promise<string>,
): ChunkReader {
  let done = false;
  const committed = committing.committed.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  const { store } = run;
  const readPartialInto = store.readPartialInto;
  // One pool of buffers: a chunk holds one of either reader, all of `run.chunkBytes`.
  const pool: Uint8Array[] = [];
  // The hash of bytes still being written (an upload by id) is known once they are.
  let stored: ChunkReader | undefined =
    typeof sha256 === 'string' ? chunkReader(run, sha256, pool) : undefined;
  const storedReader = async () => {
    stored ??= chunkReader(run, await sha256, pool);
    return stored;
  };
  const partial = bufferedReader(run, pool, {
    read: (start, end) => store.readPartial(committing.key, start, end),
    ...(readPartialInto === undefined
      ? {}
      : {
          readInto: (start, target) => readPartialInto.call(store, committing.key, start, target),
        }),
  });
  return {
    async read(start, end) {
      if (!done) {
        await committing.written?.until(end);
        const read = await partial.read(start, end).catch(() => null);
        if (read !== null) return read;
        await committed;
      }
      return (await storedReader()).read(start, end);
    },
    // Both readers take from one pool.
    reuse: (buffer) => pool.push(buffer),
  };
}

/** Reads an upload's chunks of the complete asset `sha256` (reused buffers from `pool`). */
export function chunkReader(
  run: TransferRun,
  sha256: string,
  pool: Uint8Array[] = [],
): ChunkReader {
  const { store } = run;
  const readInto = store.readInto;
  return bufferedReader(run, pool, {
    read: (start, end) => store.read(sha256, start, end),
    ...(readInto === undefined
      ? {}
      : { readInto: (start, target) => readInto.call(store, sha256, start, target) }),
  });
}

/** The two ways of reading a range of stored bytes. */
interface RangeReads {
  read(start: number, end: number): Promise<Uint8Array>;
  /** Reads from `start` into `target`; resolves with the count. */
  readInto?(start: number, target: Uint8Array): Promise<number>;
}

/**
 * Reads chunks into a few reused buffers where the store can read into one and the transport
 * says it is done with a chunk's bytes; else each chunk is a new buffer. A short read fails.
 */
function bufferedReader(run: TransferRun, pool: Uint8Array[], reads: RangeReads): ChunkReader {
  const { readInto } = reads;
  if (readInto === undefined || run.transport.chunksReleased !== true) {
    return {
      async read(start, end) {
        const chunk = await reads.read(start, end);
        if (chunk.length !== end - start) throw endedEarly(start + chunk.length, end);
        return { chunk };
      },
      reuse() {},
    };
  }
  // At most `window` chunks are held at once, so as many buffers serve the whole upload.
  return {
    async read(start, end) {
      const buffer = pool.pop() ?? new Uint8Array(run.chunkBytes);
      const wanted = end - start;
      const chunk = wanted <= buffer.length ? buffer.subarray(0, wanted) : new Uint8Array(wanted);
      let read: number;
      try {
        read = await readInto(start, chunk);
      } catch (error) {
        pool.push(buffer); // nothing was handed on
        throw error;
      }
      if (read !== wanted) {
        pool.push(buffer);
        throw endedEarly(start + read, end);
      }
      return chunk.buffer === buffer.buffer ? { chunk, buffer } : { chunk };
    },
    reuse(buffer) {
      pool.push(buffer);
    },
  };
}

function endedEarly(at: number, end: number): SyncError {
  return new SyncError('storage', `The stored asset ended at ${at}, before ${end}`);
}
