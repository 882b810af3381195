import { SyncError } from '../errors/sync-error.js';
import type { TransferRun } from './transfer-io.js';

/** An asset whose bytes are written to a partial and being committed while it uploads. */
export interface CommittingAsset {
  /** The partial its bytes are in until committed. */
  key: string;
  size: number;
  /** Settles once the commit did (the asset then reads under its hash). */
  committed: Promise<unknown>;
}

/** Reads an upload's chunks; `buffer` comes with a chunk read into a reused buffer. */
export interface ChunkReader {
  read(start: number, end: number): Promise<{ chunk: Uint8Array; buffer?: Uint8Array }>;
  /** Hands back the buffer of a chunk the transport took. */
  reuse(buffer: Uint8Array): void;
}

/**
 * Reads chunks from the partial while the commit runs, from the complete asset after it: a
 * read the commit overtook (the partial gone, or shorter) waits for the commit and reads
 * again.
 */
export function committingReader(
  run: TransferRun,
  committing: CommittingAsset,
  stored: ChunkReader,
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
  return {
    async read(start, end) {
      if (!done) {
        const chunk = await run.store.readPartial(committing.key, start, end).catch(() => null);
        if (chunk !== null && chunk.length === end - start) return { chunk };
        await committed;
      }
      return stored.read(start, end);
    },
    reuse: (buffer) => stored.reuse(buffer),
  };
}

/** Reads an upload's chunks: into a few reused buffers where store and transport allow. */
export function chunkReader(run: TransferRun, sha256: string): ChunkReader {
  const { store, transport, chunkBytes } = run;
  const readInto = store.readInto;
  if (readInto === undefined || transport.chunksReleased !== true) {
    return {
      read: async (start, end) => ({ chunk: await store.read(sha256, start, end) }),
      reuse() {},
    };
  }
  // At most `window` chunks are held at once, so as many buffers serve the whole upload.
  const free: Uint8Array[] = [];
  return {
    async read(start, end) {
      const buffer = free.pop() ?? new Uint8Array(chunkBytes);
      const wanted = end - start;
      const chunk = wanted <= buffer.length ? buffer.subarray(0, wanted) : new Uint8Array(wanted);
      const read = await readInto.call(store, sha256, start, chunk);
      if (read !== wanted) {
        throw new SyncError('storage', `Asset ${sha256} ended at ${start + read}, before ${end}`);
      }
      return chunk.buffer === buffer.buffer ? { chunk, buffer } : { chunk };
    },
    reuse(buffer) {
      free.push(buffer);
    },
  };
}
