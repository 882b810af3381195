import { isSyncError, SyncError } from '../errors/sync-error.js';
import type { AssetTransport } from '../transport/types.js';
import type { AssetMeta, AssetStore } from './asset-store.js';
import { BatchedAppend } from './batched-append.js';
import { Sha256 } from './sha256.js';
import type { TransferRun } from './transfer-run.js';
import { type CommittingAsset, chunkReader, committingReader } from './upload-chunks.js';

/** Bytes per asset upload request, and per store append of a download, by default. */
export const DEFAULT_ASSET_CHUNK_BYTES = 4 << 20;

/** Asset upload requests in flight at once, by default. */
export const DEFAULT_ASSET_UPLOAD_WINDOW = 2;

/**
 * Bytes an import reads into one buffer and appends at once, at most (a smaller `chunkBytes`
 * wins), and a streamed download gathers for one append. The upload still goes in chunks of
 * `chunkBytes`, read back from the store.
 */
export const IMPORT_BATCH_BYTES = 1 << 20;

/** Bytes an app hands to `client.assets`: whole, as a Blob (File), or as a stream. */
export type AssetSource = Uint8Array | Blob | ReadableStream<Uint8Array>;

/**
 * Writes `source` into the store under `key` while hashing it, chunk by chunk (never whole in
 * memory for a Blob or a stream), then commits it under its SHA-256. Returns hash and size.
 */
export async function importAsset(options: ImportOptions): Promise<{ hash: string; size: number }> {
  const written = await writeAsset(options);
  await options.store.commit(options.key, written.hash, { ...options.meta, size: written.size });
  return written;
}

/** What {@link importAsset} and {@link writeAsset} take. */
export interface ImportOptions {
  store: AssetStore;
  source: AssetSource;
  /** The partial written. */
  key: string;
  meta: Omit<AssetMeta, 'size'>;
  /** The upload's chunk: the source is read and appended in batches of at most this. */
  chunkBytes: number;
  /** Called after each append with where the partial then ends. */
  onWritten?: (end: number) => void;
  /**
   * Flushes the partial (`AssetStore.flushPartial`) behind the appends, one flush at a time,
   * never awaited by them, so that the commit that follows finds little left to sync: a send,
   * whose upload runs alongside, waits for that commit before its delivery.
   * @default false
   */
  flushBehind?: boolean;
}

/**
 * The first half of {@link importAsset}: `source` written to the partial `key` while hashed,
 * not committed (nor synced, in a file store). Returns hash and size.
 */
export async function writeAsset(options: ImportOptions): Promise<{ hash: string; size: number }> {
  const { store, key, onWritten } = options;
  // Smaller than an upload's chunk: the buffers a byte stream is read into are touched fresh
  // once per send (each 4 KB page a fault), so two of 1 MiB cost a quarter of two of 4 MiB.
  const batchBytes = Math.min(options.chunkBytes, IMPORT_BATCH_BYTES);
  await store.discardPartial(key);
  const hash = new Sha256();
  // Errors are left to the commit, whose own flush of the whole partial is what counts.
  let flushing: Promise<void> | undefined;
  const flush = () => {
    if (!options.flushBehind || store.flushPartial === undefined || flushing !== undefined) return;
    flushing = store
      .flushPartial(key)
      .catch(() => undefined)
      .finally(() => {
        flushing = undefined;
      });
  };
  // The source is read and hashed while the previous batch is written.
  const writer = new BatchedAppend({
    store,
    key,
    offset: 0,
    batchBytes,
    onWritten: (end) => {
      onWritten?.(end);
      flush();
    },
  });
  try {
    for await (const chunk of chunksOf(options.source, batchBytes, () => writer.appended)) {
      hash.update(chunk);
      await writer.push(chunk);
    }
    await writer.finish();
    await flushing;
  } catch (error) {
    await writer.settle();
    await flushing;
    await store.discardPartial(key).catch(() => undefined); // an import never resumes
    throw error;
  }
  return { hash: hash.digestHex(), size: writer.received };
}

/**
 * The SHA-256 and size of bytes in memory, from a pass that only hashes, where the runtime has
 * a native hash (the pass then costs a fraction of writing the bytes); `undefined` otherwise.
 * A stream is read once; a Blob is not hashed first either, because reading it is most of
 * the cost of writing it (a file-backed Blob in Node: 90–120 ms of CPU per 50 MB however it
 * is read), so a pass of its own would cost about what it saves; nor is anything in a browser,
 * where the JavaScript rounds (a few dozen MB/s) would hash the bytes twice.
 */
export function hashBytes(source: AssetSource): { hash: string; size: number } | undefined {
  if (!(source instanceof Uint8Array)) return undefined;
  const hash = new Sha256();
  if (!hash.native) return undefined;
  return { hash: hash.update(source).digestHex(), size: source.length };
}

/**
 * The source in pieces of at most `chunkBytes`. A byte stream (a stored asset's stream from a
 * file store) is read with a BYOB reader into buffers of `chunkBytes` that are used again once
 * the partial holds their bytes (`appended`: where the appends done so far end), so an import
 * touches no fresh memory per chunk (in Node a freed 4 MB buffer is often given back to the
 * system, and the next one faults in page by page). A Blob's stream is read as it hands out
 * its pieces: in Node it is a byte stream that makes a new 64 KiB buffer per read even for a
 * BYOB reader, which then copies it (more CPU, and several times the page faults, than
 * taking the piece itself: docs/decisions.md, "Issue 12, session 15").
 */
async function* chunksOf(
  source: AssetSource,
  chunkBytes: number,
  appended: () => number,
): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    for (let at = 0; at < source.length; at += chunkBytes) {
      yield source.subarray(at, at + chunkBytes);
    }
    return;
  }
  const stream = isBlob(source) ? source.stream() : source;
  const byob = isBlob(source) ? undefined : byobReader(stream);
  if (byob !== undefined) {
    yield* recycledChunks(byob, chunkBytes, appended);
    return;
  }
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (!(value instanceof Uint8Array)) {
        throw new SyncError('invalid', 'An asset stream must yield Uint8Array chunks');
      }
      for (let at = 0; at < value.length; at += chunkBytes) {
        yield value.subarray(at, at + chunkBytes);
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/** A BYOB reader of `stream` where it is a byte stream (and the runtime has them). */
function byobReader(stream: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | undefined {
  try {
    return stream.getReader({ mode: 'byob' });
  } catch {
    return undefined; // not a byte stream
  }
}

/**
 * Reads whole chunks with `reader` (the last one shorter) into buffers taken back once the
 * partial holds a chunk's bytes: each yielded chunk must be handed to the append before the
 * next is asked for, and its buffer is filled again only when `appended()` has passed its end.
 */
async function* recycledChunks(
  reader: ReadableStreamBYOBReader,
  chunkBytes: number,
  appended: () => number,
): AsyncGenerator<Uint8Array> {
  const inFlight: { buffer: ArrayBuffer; end: number }[] = [];
  let offset = 0;
  const take = (): ArrayBuffer => {
    const first = inFlight[0];
    if (first !== undefined && first.end <= appended()) {
      inFlight.shift();
      return first.buffer;
    }
    return new ArrayBuffer(chunkBytes);
  };
  try {
    let buffer = take();
    let filled = 0;
    for (;;) {
      const { done, value } = await reader.read(
        new Uint8Array(buffer, filled, chunkBytes - filled),
      );
      if (value !== undefined) {
        buffer = value.buffer as ArrayBuffer; // the same memory, handed back
        filled += value.length;
      }
      if (filled === chunkBytes || (done && filled > 0)) {
        offset += filled;
        inFlight.push({ buffer, end: offset });
        yield new Uint8Array(buffer, 0, filled);
        if (done) return;
        buffer = take();
        filled = 0;
      }
      if (done) return;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Refuses a source that is none of {@link AssetSource}'s kinds (a string, a number, an object
 * with a `size`), which would otherwise fail deep in the import with a bare `TypeError`.
 * @throws SyncError `invalid`
 */
export function checkSource(source: unknown): void {
  if (source instanceof Uint8Array || isBlob(source)) return;
  if (typeof (source as { getReader?: unknown } | null)?.getReader === 'function') return;
  throw new SyncError('invalid', 'An asset source is a Uint8Array, a Blob or a ReadableStream');
}

function isBlob(value: unknown): value is Blob {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}

/**
 * Uploads a stored asset, resumably: asks the server how much it holds and continues there,
 * with up to `run.window` chunks in flight (handed to the transport in order; the server takes
 * them in order). After a network failure (retried by the retryer: the server is asked again)
 * or an `offset_mismatch` answer (its offset is where to go on), the chunks still in flight are
 * let finish first.
 */
export async function uploadAsset(
  run: TransferRun,
  sha256: string,
  committing?: CommittingAsset,
): Promise<void> {
  const total = committing?.size ?? (await run.store.stat(sha256))?.size;
  if (total === undefined) throw new SyncError('invalid', `No asset ${sha256} is stored locally`);
  const window = Math.max(1, Math.floor(run.window ?? 1));
  const reader =
    committing === undefined ? chunkReader(run, sha256) : committingReader(run, committing, sha256);
  await run.retryer.run(async () => {
    let offset = await serverOffset(run.transport, sha256, run.signal);
    if (offset === total && total > 0) {
      run.onProgress(total, total);
      return;
    }
    // Chunks are read concurrently but handed to the transport in order of their offsets.
    let issued: Promise<void> = Promise.resolve();
    const sendChunk = (start: number, end: number): Promise<ChunkOutcome> => {
      const previous = issued;
      let release = () => {};
      issued = new Promise((resolve) => {
        release = resolve;
      });
      return (async () => {
        try {
          const { chunk, buffer } = await reader.read(start, end);
          await previous;
          run.signal.throwIfAborted(); // stopped while this chunk was read: it is not sent
          const uploading = run.transport.uploadChunk(
            { sha256, offset: start, totalSize: total, chunk },
            run.signal,
          );
          release();
          await uploading;
          // Only a chunk the transport took is reused: a failed one may still be on its way out.
          if (buffer !== undefined) reader.reuse(buffer);
          return { end };
        } catch (error) {
          release();
          return { end, error };
        }
      })();
    };
    if (total === 0) {
      const outcome = await sendChunk(0, 0);
      if (outcome.error !== undefined) throw outcome.error;
      run.onProgress(0, 0);
      return;
    }
    const inFlight: Promise<ChunkOutcome>[] = [];
    let next = offset;
    do {
      while (inFlight.length < window && next < total) {
        const end = Math.min(total, next + run.chunkBytes);
        inFlight.push(sendChunk(next, end));
        next = end;
      }
      const outcome = await (inFlight.shift() as Promise<ChunkOutcome>);
      if (outcome.error === undefined) {
        offset = outcome.end;
        run.onProgress(offset, total);
        continue;
      }
      // Whatever else is in flight settles first; then the upload continues where the server
      // said it stands (a chunk sent from there learns of any later move the same way).
      await Promise.all(inFlight.splice(0));
      const held = heldOffset(outcome.error);
      if (held === undefined) throw outcome.error;
      offset = held;
      next = held;
    } while (offset < total);
  }, run.signal);
}

interface ChunkOutcome {
  /** Where the chunk ends. */
  end: number;
  /** Why it failed; `undefined` when the server took it. */
  error?: unknown;
}

async function serverOffset(
  transport: AssetTransport,
  sha256: string,
  signal: AbortSignal,
): Promise<number> {
  if (transport.probe === undefined) return transport.uploadedOffset(sha256, signal);
  try {
    const probe = await transport.probe(sha256, signal);
    return probe.complete ? (probe.length ?? probe.offset) : probe.offset;
  } catch (error) {
    if (isSyncError(error) && error.status === 404) return 0;
    throw error;
  }
}

function heldOffset(error: unknown): number | undefined {
  if (!isSyncError(error) || error.code !== 'offset_mismatch') return undefined;
  const offset = (error.details as { offset?: unknown } | undefined)?.offset;
  return typeof offset === 'number' ? offset : undefined;
}

/**
 * How many times a download whose bytes do not hash right is fetched again before failing;
 * also how many times a holder asks its `provide` callback for bytes that hash right.
 */
export const DOWNLOAD_ATTEMPTS = 3;

/**
 * Downloads an asset into the store, resumably (ranged requests from what the store already
 * holds, also after a reload), verifies its SHA-256, and commits it. Bytes that do not match
 * are dropped and fetched again, up to {@link DOWNLOAD_ATTEMPTS} times; then it fails with a
 * `rejected` SyncError, code `hash_mismatch`.
 */
export async function downloadAsset(
  run: TransferRun,
  sha256: string,
  meta: Omit<AssetMeta, 'size'> & { size?: number },
): Promise<void> {
  if ((await run.store.stat(sha256)) !== undefined) return;
  const key = `download-${sha256}`;
  try {
    await downloadAttempts(run, sha256, meta, key);
  } finally {
    // Committed or discarded, this does nothing; else the partial waits for a resume.
    await run.store.releasePartial?.(key).catch(() => undefined);
  }
}

async function downloadAttempts(
  run: TransferRun,
  sha256: string,
  meta: Omit<AssetMeta, 'size'> & { size?: number },
  key: string,
): Promise<void> {
  for (let attempt = 1; attempt <= DOWNLOAD_ATTEMPTS; attempt++) {
    // The hash runs along with the download; bytes a previous run left (a reload) are hashed
    // first, so a finished download is never read back whole.
    let hash = new Sha256();
    const total = await run.retryer.run(async () => {
      const size = meta.size ?? (await remoteSize(run.transport, sha256, run.signal));
      let offset = await run.store.partialSize(key);
      if (offset > size) {
        await run.store.discardPartial(key);
        offset = 0;
      }
      hash = await hashPartial(run.store, key, offset, run.chunkBytes);
      run.onProgress(offset, size);
      while (offset < size) {
        offset =
          run.transport.downloadStream === undefined
            ? await downloadChunk(run, sha256, key, offset, size, hash)
            : await downloadStreamed(run, sha256, key, offset, size, hash);
      }
      return size;
    }, run.signal);
    if (hash.digestHex() === sha256) {
      await run.store.commit(key, sha256, { ...meta, size: total });
      return;
    }
    await run.store.discardPartial(key);
  }
  throw new SyncError(
    'rejected',
    `The downloaded bytes of asset ${sha256} did not match its SHA-256 in ${DOWNLOAD_ATTEMPTS} attempts`,
    { code: 'hash_mismatch' },
  );
}

/** One ranged request of up to `run.chunkBytes`, appended whole; returns the new offset. */
async function downloadChunk(
  run: TransferRun,
  sha256: string,
  key: string,
  offset: number,
  size: number,
  hash: Sha256,
): Promise<number> {
  const end = Math.min(size, offset + run.chunkBytes);
  const bytes = await run.transport.download({ sha256, start: offset, end }, run.signal);
  if (bytes.length === 0 || bytes.length > end - offset) {
    throw new SyncError('server', `The server answered ${bytes.length} bytes for ${end - offset}`);
  }
  await run.store.append(key, offset, bytes);
  hash.update(bytes);
  run.onProgress(offset + bytes.length, size);
  return offset + bytes.length;
}

/**
 * One request for the rest of the asset, streamed into the store: the bytes are hashed as they
 * arrive and appended in batches of at most {@link IMPORT_BATCH_BYTES} (fewer of the
 * transport's pieces held for a batch), one batch written while the next arrives
 * ({@link BatchedAppend}), and flushed (`AssetStore.flushPartial`) behind the appends. A stream
 * cut short keeps what was appended; the caller continues from there. Returns the new offset.
 */
async function downloadStreamed(
  run: TransferRun,
  sha256: string,
  key: string,
  offset: number,
  size: number,
  hash: Sha256,
): Promise<number> {
  const open = run.transport.downloadStream as NonNullable<AssetTransport['downloadStream']>;
  const reader = (await open({ sha256, start: offset, end: size }, run.signal)).getReader();
  let appended = offset;
  // The partial is flushed to disk while the download goes on, one flush at a time (errors
  // left to the commit, whose own flush of the whole partial is what makes it durable).
  let flushing: Promise<void> | undefined;
  const flush = () => {
    if (run.store.flushPartial === undefined || flushing !== undefined) return;
    flushing = run.store
      .flushPartial(key)
      .catch(() => undefined)
      .finally(() => {
        flushing = undefined;
      });
  };
  const writer = new BatchedAppend({
    store: run.store,
    key,
    offset,
    batchBytes: Math.min(run.chunkBytes, IMPORT_BATCH_BYTES),
    onWritten: (end) => {
      appended = end;
      run.onProgress(end, size);
      flush();
    },
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (writer.received + value.length > size) {
        throw new SyncError('server', `The server sent more than the ${size} bytes of ${sha256}`);
      }
      hash.update(value);
      await writer.push(value);
    }
    await writer.finish();
  } finally {
    await writer.settle();
    await flushing;
    await reader.cancel().catch(() => undefined);
  }
  if (appended === offset) {
    throw new SyncError('server', `The server answered no bytes of ${sha256} from ${offset}`);
  }
  return appended;
}

async function remoteSize(
  transport: AssetTransport,
  sha256: string,
  signal: AbortSignal,
): Promise<number> {
  const probe = await transport.probe?.(sha256, signal);
  if (probe?.complete === true && probe.length !== undefined) return probe.length;
  throw new SyncError('server', `The server does not hold asset ${sha256} completely yet`);
}

/** A running hash over the first `size` bytes the store holds under `key`. */
async function hashPartial(
  store: AssetStore,
  key: string,
  size: number,
  chunkBytes: number,
): Promise<Sha256> {
  const hash = new Sha256();
  for (let at = 0; at < size; at += chunkBytes) {
    hash.update(await store.readPartial(key, at, Math.min(size, at + chunkBytes)));
  }
  return hash;
}
