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
 *
 * With `keepBytes`, it also keeps the bytes last written (the pieces the writer appended, as
 * views, not copies) until the upload takes them, at most `keepBytes` of them: a chunk then
 * goes up from memory instead of being read back from the partial. Past that (the upload lags
 * behind the writing), the oldest pieces go and the upload reads those from the store.
 */
export class WrittenBytes {
  #end = 0;
  #error: SyncError | undefined;
  #waiting: { end: number; resolve: () => void; reject: (error: unknown) => void }[] = [];
  readonly #keepBytes: number;
  /** The pieces kept, in order, with where each starts in the partial. */
  #kept: { start: number; bytes: Uint8Array }[] = [];
  #keptBytes = 0;

  /** @param keepBytes - how many of the bytes last written to keep for the upload (0: none) */
  constructor(keepBytes = 0) {
    this.#keepBytes = keepBytes;
  }

  /**
   * The partial now ends at `end`; `pieces`, when given, are the bytes just appended (ending
   * at `end`), which the writer will not change any more.
   */
  advance(end: number, pieces: readonly Uint8Array[] = []): void {
    if (this.#keepBytes > 0 && this.#error === undefined) {
      let start = end;
      for (const piece of pieces) start -= piece.length;
      for (const bytes of pieces) {
        if (bytes.length > 0) this.#kept.push({ start, bytes });
        start += bytes.length;
        this.#keptBytes += bytes.length;
      }
      while (this.#keptBytes > this.#keepBytes) {
        this.#keptBytes -= (this.#kept.shift() as { bytes: Uint8Array }).bytes.length;
      }
    }
    this.#end = Math.max(this.#end, end);
    this.#waiting = this.#waiting.filter((waiter) => {
      if (waiter.end > this.#end) return true;
      waiter.resolve();
      return false;
    });
  }

  /**
   * The kept bytes `[start, end)` as the pieces that hold them (views, the first and last cut
   * to the range), or `undefined` when they are not all kept. Uploads go forward: the pieces
   * that end at or before `end` are let go.
   */
  take(start: number, end: number): Uint8Array[] | undefined {
    const pieces: Uint8Array[] = [];
    let at = start;
    for (const { start: from, bytes } of this.#kept) {
      const to = from + bytes.length;
      if (to <= at) continue;
      if (from > at || at >= end) break;
      pieces.push(bytes.subarray(at - from, Math.min(end, to) - from));
      at = Math.min(end, to);
    }
    while (this.#kept.length > 0) {
      const first = this.#kept[0] as { start: number; bytes: Uint8Array };
      if (first.start + first.bytes.length > end) break;
      this.#kept.shift();
      this.#keptBytes -= first.bytes.length;
    }
    return at === end && end > start ? pieces : undefined;
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
    this.#kept = [];
    this.#keptBytes = 0;
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
 * written), from the complete asset `sha256` (a promise while the bytes are hashed) after it: a
 * read the commit overtook (the partial gone, or shorter) waits for the commit and reads again.
 * Bytes the writer still keeps in memory (`WrittenBytes` with `keepBytes`) are not read back.
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
  const released = run.transport.chunksReleased === true;
  return {
    async read(start, end) {
      if (!done) await committing.written?.until(end);
      // The bytes just written, still in memory: one piece is sent as it is, several are
      // joined (into a pooled buffer where the transport hands chunks back).
      const kept = committing.written?.take(start, end);
      if (kept !== undefined) {
        if (kept.length === 1) return { chunk: kept[0] as Uint8Array };
        const wanted = end - start;
        const buffer = released ? (pool.pop() ?? new Uint8Array(run.chunkBytes)) : undefined;
        const target =
          buffer !== undefined && wanted <= buffer.length
            ? buffer.subarray(0, wanted)
            : new Uint8Array(wanted);
        let at = 0;
        for (const piece of kept) {
          target.set(piece, at);
          at += piece.length;
        }
        if (buffer !== undefined && target.buffer !== buffer.buffer) pool.push(buffer);
        return target.buffer === buffer?.buffer ? { chunk: target, buffer } : { chunk: target };
      }
      if (!done) {
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
