import { isSyncError } from '../errors/sync-error.js';
import type { AssetTransport } from '../transport/types.js';
import type { TransferRun } from './transfer-run.js';
import { committingReader, type WrittenBytes } from './upload-chunks.js';

/** The three transport methods of an upload by id, once feature-detected. */
type ByIdTransport = Required<
  Pick<AssetTransport, 'uploadsById' | 'uploadChunkById' | 'uploadedOffsetById'>
>;

/** Whether `transport` has the methods of an upload by id (the server is asked apart). */
export function hasUploadsById(
  transport: AssetTransport | undefined,
): transport is AssetTransport & ByIdTransport {
  return (
    transport?.uploadsById !== undefined &&
    transport.uploadChunkById !== undefined &&
    transport.uploadedOffsetById !== undefined
  );
}

/** An upload by id: bytes whose hash is named only by the last chunk. */
export interface UploadByIdSource {
  /** The id the server knows the upload by (made by the client). */
  uploadId: string;
  /** The partial the bytes are written to. */
  key: string;
  /** How far the partial is written. */
  written: WrittenBytes;
  /** Settles with the hash and size once every byte is written. */
  done: Promise<{ hash: string; size: number }>;
  /** Settles once the bytes are committed under their hash (chunks are read from there). */
  committed: Promise<unknown>;
  /** The size, when known before the bytes are read (a Blob's). */
  size?: number;
  /** The server may hold some of it already (a resumed send): ask first. */
  resumed?: boolean;
}

interface ChunkOutcome {
  start: number;
  end: number;
  last: boolean;
  error?: unknown;
}

/**
 * Uploads bytes as they are written to the store's partial, before their hash is known: each
 * chunk goes up once written (up to `run.window` in flight, handed to the transport in
 * order), the last names the hash. After a failure (retried by the retryer) the server is
 * asked where the upload stands (`uploadedOffsetById`) and it continues there; after an
 * `offset_mismatch` answer, from the offset it names; a 404 (the upload was swept) starts it
 * again from the first byte.
 */
export async function uploadById(run: TransferRun, source: UploadByIdSource): Promise<void> {
  const transport = run.transport as AssetTransport & ByIdTransport;
  const window = Math.max(1, Math.floor(run.window ?? 1));
  let final: { hash: string; size: number } | undefined;
  const done = source.done.then((result) => {
    final = result;
    return result;
  });
  // What the upload waits on: a failed write fails it with the writer's non-retryable error
  // (`WrittenBytes.fail`), so the retryer does not go on waiting for bytes that never come.
  const hashed = done.catch(() => source.written.until(Number.MAX_SAFE_INTEGER));
  hashed.catch(() => undefined); // awaited while chunks are cut
  const hash = done.then((result) => result.hash);
  hash.catch(() => undefined); // read only once the bytes are committed
  const reader = committingReader(
    run,
    {
      key: source.key,
      size: source.size ?? 0,
      committed: source.committed,
      written: source.written,
    },
    hash,
  );
  const totalNow = () => final?.size ?? source.size ?? 0;
  // Where the next chunk ends: a whole chunk once written, or the end of the bytes. Whether a
  // chunk is the last is decided here, once: the last one waits for the hash it names, and a
  // chunk sent as not the last never declares a size learned later (the server would take it
  // for the last, without a hash); the hash then goes in an empty last request.
  const chunkEnd = async (start: number): Promise<{ end: number; last: boolean }> => {
    const whole = start + run.chunkBytes;
    const known = final?.size ?? source.size;
    if (known !== undefined && whole >= known) {
      await hashed;
      return { end: known, last: true };
    }
    if (final === undefined) await Promise.race([source.written.until(whole), hashed]);
    if (final === undefined) return { end: whole, last: false };
    const end = Math.min(whole, final.size);
    return { end, last: end === final.size };
  };
  let ask = source.resumed === true;
  await run.retryer.run(async () => {
    let offset = ask ? await transport.uploadedOffsetById(source.uploadId, run.signal) : 0;
    ask = true; // a retry asks where the server stands
    let issued: Promise<void> = Promise.resolve();
    const sendChunk = (start: number, end: number, last: boolean): Promise<ChunkOutcome> => {
      const previous = issued;
      let release = () => {};
      issued = new Promise((resolve) => {
        release = resolve;
      });
      return (async () => {
        try {
          const { chunk, buffer } =
            end > start ? await reader.read(start, end) : { chunk: new Uint8Array(0) };
          await previous;
          run.signal.throwIfAborted();
          const size = last ? final?.size : source.size;
          const uploading = transport.uploadChunkById(
            {
              uploadId: source.uploadId,
              offset: start,
              chunk,
              ...(size === undefined ? {} : { totalSize: size }),
              ...(last && final !== undefined ? { sha256: final.hash } : {}),
            },
            run.signal,
          );
          release();
          await uploading;
          if (buffer !== undefined) reader.reuse(buffer);
          return { start, end, last };
        } catch (error) {
          release();
          return { start, end, last, error };
        }
      })();
    };
    const inFlight: Promise<ChunkOutcome>[] = [];
    let next = offset;
    let issuedLast = false;
    for (;;) {
      while (inFlight.length < window && !issuedLast) {
        const { end, last } = await chunkEnd(next);
        inFlight.push(sendChunk(next, end, last));
        next = end;
        issuedLast = last;
      }
      const outcome = await (inFlight.shift() as Promise<ChunkOutcome>);
      if (outcome.error === undefined) {
        offset = outcome.end;
        run.onProgress(offset, Math.max(offset, totalNow()));
        if (outcome.last) return;
        continue;
      }
      await Promise.all(inFlight.splice(0));
      const held = restartAt(outcome);
      if (held === undefined) throw outcome.error;
      offset = held;
      next = held;
      issuedLast = false;
    }
  }, run.signal);
}

/**
 * Where an upload goes on after a refused chunk: the offset named, or 0 when the server no
 * longer knows the upload (swept) and the chunk was not its first.
 */
function restartAt({ start, error }: ChunkOutcome): number | undefined {
  if (!isSyncError(error)) return undefined;
  if (error.status === 404) return start > 0 ? 0 : undefined;
  if (error.code !== 'offset_mismatch') return undefined;
  const offset = (error.details as { offset?: unknown } | undefined)?.offset;
  return typeof offset === 'number' ? offset : undefined;
}
