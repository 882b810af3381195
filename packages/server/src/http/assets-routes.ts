/**
 * `/v1/assets/:sha256`: chunked, resumable upload of the caller's own copy (`PUT` with
 * `Content-Range`), its offset (`HEAD`), and ranged reads (`GET` with `Range`) for the
 * sender and receivers of a live delivery or the parties of a live transfer.
 *
 * Bytes stream from the request to the BlobStore and from the BlobStore to the response;
 * the hash is checked once the last byte is held, by streaming the blob through sha256.
 *
 * @module
 */
import { isSha256Hex } from '@syncline/sync-core/protocol';
import { BlobLimitError } from '../assets/blob-store.js';
import {
  ChunkReader,
  hashing,
  newRunningHash,
  type RunningHash,
  sha256Of,
} from '../assets/byte-stream.js';
import type { AuthContext } from '../store/types.js';
import type { AssetCopy } from '../targeting/types.js';
import { json, problem } from './problem.js';
import { deleteBlobs, noQuery } from './sessions-routes.js';
import type { TargetingContext } from './targeting-routes.js';

const CONTENT_RANGE = /^bytes (?:(\d{1,15})-(\d{1,15})|\*)\/(\d{1,15})$/;
const RANGE = /^bytes=(\d{0,15})-(\d{0,15})$/;

function checkedHash(sha256: string): string {
  if (!isSha256Hex(sha256)) {
    throw problem(400, 'invalid', 'an asset is named by its sha256 as 64 lowercase hex digits');
  }
  return sha256;
}

/** `HEAD /v1/assets/:sha256`: the caller's upload offset, or availability to read. */
export async function handleAssetHead(
  request: Request,
  auth: AuthContext,
  ctx: TargetingContext,
  sha256: string,
): Promise<Response> {
  noQuery(request);
  const own = await ctx.targeting.ownCopy(auth.userId, checkedHash(sha256));
  const copy = own ?? (await ctx.targeting.readableCopy(auth, sha256));
  if (copy === undefined) return new Response(null, { status: 404 });
  return new Response(null, { status: 200, headers: uploadHeaders(copy) });
}

function uploadHeaders(copy: AssetCopy): Record<string, string> {
  const headers: Record<string, string> = {
    'upload-offset': String(copy.receivedBytes),
    'upload-length': String(copy.totalBytes),
    'cache-control': 'no-store',
  };
  if (copy.complete) headers['asset-complete'] = '1';
  return headers;
}

interface ChunkRange {
  start: number;
  /** Exclusive. */
  end: number;
  total: number;
}

function parseContentRange(request: Request): ChunkRange {
  const header = request.headers.get('content-range');
  const found = header === null ? null : CONTENT_RANGE.exec(header.trim());
  if (found === null) {
    throw problem(400, 'invalid', 'Content-Range must be "bytes <start>-<end>/<total>"');
  }
  const total = Number(found[3]);
  if (found[1] === undefined) {
    if (total !== 0) throw problem(400, 'invalid', '"bytes */<total>" is only for an empty asset');
    return { start: 0, end: 0, total };
  }
  const start = Number(found[1]);
  const end = Number(found[2]) + 1;
  if (end <= start || end > total) {
    throw problem(400, 'invalid', 'Content-Range must satisfy start <= end < total');
  }
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) !== end - start) {
    throw problem(400, 'invalid', 'Content-Length does not match Content-Range');
  }
  return { start, end, total };
}

/** `PUT /v1/assets/:sha256` with one chunk. */
export async function handleAssetPut(
  request: Request,
  auth: AuthContext,
  ctx: TargetingContext,
  sha256: string,
): Promise<Response> {
  noQuery(request);
  checkedHash(sha256);
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/octet-stream') {
    throw problem(415, 'unsupported_media_type', 'an asset chunk is application/octet-stream');
  }
  const range = parseContentRange(request);
  // One chunk at a time per copy in this process, in order of their offsets (a chunk that
  // arrives before the one it continues waits for it); the offset's compare-and-set guards the
  // rest. A chunk written whole that continues the upload lets the next one run while its
  // offset is recorded: its answer comes once that is done.
  const answer = await ctx.uploads.run<Response | RecordingChunk>(
    `${auth.userId} ${sha256}`,
    range.start,
    async (patient) => {
      const outcome = await putChunk(request, auth, ctx, sha256, range, patient);
      if (typeof outcome === 'number') return { type: 'ahead', offset: outcome };
      if (!(outcome instanceof Response)) {
        return { type: 'done', value: outcome, offset: outcome.held };
      }
      const held = Number(outcome.headers.get('upload-offset') ?? Number.NaN);
      return { type: 'done', value: outcome, offset: Number.isInteger(held) ? held : undefined };
    },
  );
  return answer instanceof Response ? answer : answer.answer;
}

/** A chunk written whole whose offset is still being recorded, and its answer once it is. */
interface RecordingChunk {
  /** Where the chunk ends (and the copy's offset, once recorded). */
  held: number;
  answer: Promise<Response>;
}

async function putChunk(
  request: Request,
  auth: AuthContext,
  ctx: TargetingContext,
  sha256: string,
  range: ChunkRange,
  patient: boolean,
): Promise<Response | number | RecordingChunk> {
  const key = `${auth.userId} ${sha256}`;
  // The chunk that continues the last one this process took needs no lookup: the process
  // knows the copy. Its offset may still be being recorded; this chunk's is recorded after it.
  const tail = ctx.tails.take(key, range.start, range.total);
  let copy: Pick<AssetCopy, 'blobKey' | 'totalBytes' | 'receivedBytes' | 'complete'>;
  let previous: Promise<boolean> = Promise.resolve(true);
  if (tail !== undefined) {
    copy = {
      blobKey: tail.blobKey,
      totalBytes: tail.totalBytes,
      receivedBytes: range.start,
      complete: false,
    };
    previous = tail.recorded.catch(() => false);
  } else {
    await ctx.tails.settled(key); // the database then shows what this process recorded
    const begun = await ctx.targeting.beginUpload(auth.userId, sha256, range.total, ctx.limits);
    if (begun.type === 'too_large') throw problem(413, 'too_large', begun.message);
    if (begun.type === 'length_mismatch') {
      throw problem(
        409,
        'length_mismatch',
        `the upload in progress is ${begun.totalBytes} bytes long, not ${range.total}`,
      );
    }
    copy = begun.copy;
  }
  const offset = copy.receivedBytes;
  if (range.start > offset) {
    if (patient) return offset; // the chunk it continues may be on its way: wait for it
    throw problem(409, 'offset_mismatch', `the server holds ${offset} bytes; continue from there`, {
      headers: { 'upload-offset': String(offset) },
    });
  }
  const body = new ChunkReader(request.body ?? new ReadableStream());
  const overlap = Math.min(range.end, offset) - range.start;
  if (overlap > 0) {
    const same = await body.matches(
      overlap,
      ctx.blobStore.read(copy.blobKey, { start: range.start, end: range.start + overlap }),
    );
    if (!same) {
      await body.cancel();
      throw problem(409, 'chunk_mismatch', 'the chunk differs from the bytes the server holds', {
        headers: { 'upload-offset': String(offset) },
      });
    }
  }
  if (copy.complete) {
    await body.cancel();
    return json(200, { sha256, size: copy.totalBytes });
  }
  let running: RunningHash | undefined;
  let tooLong = false;
  let held = offset;
  if (range.end > offset) {
    // Sent in order to this process, the hash runs along; otherwise the blob is read again.
    running = tail?.running ?? (offset === 0 ? newRunningHash() : undefined);
    const rest = running === undefined ? body.rest() : hashing(body.rest(), running);
    let written: number | undefined;
    try {
      written = await ctx.blobStore.write(copy.blobKey, offset, rest, {
        maxBytes: range.end - offset,
      });
    } catch (error) {
      running = undefined;
      if (error instanceof BlobLimitError) tooLong = true;
      else if (!request.signal.aborted) ctx.logger.warn('an asset chunk ended early', error);
    }
    // What reached the blob is a prefix of the chunk (written in order): keep it, so a broken
    // upload resumes from the last byte held instead of the chunk's start. A whole write says
    // how much it appended; after a failed one (or an answer out of range) the blob is asked.
    held =
      written !== undefined && Number.isSafeInteger(written) && written >= 0
        ? offset + Math.min(written, range.end - offset)
        : Math.min(await ctx.blobStore.size(copy.blobKey), range.end);
    const recorded =
      held > offset
        ? previous.then(
            (ok) => ok && ctx.targeting.advanceUpload(auth.userId, sha256, offset, held),
          )
        : undefined;
    if (
      recorded !== undefined &&
      held === range.end &&
      held < range.total &&
      running?.offset === held
    ) {
      // The next chunk may go on now; this one is answered once its offset is recorded.
      ctx.tails.keep(key, { running, blobKey: copy.blobKey, totalBytes: range.total, recorded });
      const answer = recorded.then(async (ok) => {
        if (!ok) throw await offsetMoved(ctx, auth.userId, sha256);
        return new Response(null, { status: 308, headers: { 'upload-offset': String(held) } });
      });
      answer.catch(() => undefined); // awaited by handleAssetPut once the lane let go
      return { held, answer };
    }
    if (recorded !== undefined && !(await recorded)) {
      throw await offsetMoved(ctx, auth.userId, sha256);
    }
  }
  if (tooLong) {
    throw problem(400, 'invalid', 'the body is longer than its Content-Range', {
      headers: { 'upload-offset': String(held) },
    });
  }
  if (held < range.end) {
    throw problem(
      400,
      'invalid',
      `the body ended after ${held - range.start} of ${range.end - range.start} bytes`,
      { headers: { 'upload-offset': String(held) } },
    );
  }
  if (held < range.total) {
    return new Response(null, { status: 308, headers: { 'upload-offset': String(held) } });
  }
  const actual =
    running !== undefined && running.offset === range.total
      ? running.hash.digest('hex')
      : await sha256Of(ctx.blobStore.read(copy.blobKey, { start: 0, end: range.total }));
  if (actual !== sha256) {
    const dropped = await ctx.targeting.dropUpload(auth.userId, sha256);
    await deleteBlobs(ctx, dropped === undefined ? [] : [dropped]);
    throw problem(
      422,
      'hash_mismatch',
      'the bytes do not hash to the asset name; upload them again',
    );
  }
  await ctx.targeting.completeUpload(auth.userId, sha256);
  return json(201, { sha256, size: range.total });
}

/** The answer to a chunk whose offset could not be recorded: where the copy now stands. */
async function offsetMoved(ctx: TargetingContext, userId: string, sha256: string) {
  const copy = await ctx.targeting.ownCopy(userId, sha256);
  return problem(409, 'offset_mismatch', 'another upload of this asset moved the offset', {
    ...(copy === undefined ? {} : { headers: { 'upload-offset': String(copy.receivedBytes) } }),
  });
}

/** `GET /v1/assets/:sha256` with an optional `Range: bytes=<start>-[<end>]`. */
export async function handleAssetGet(
  request: Request,
  auth: AuthContext,
  ctx: TargetingContext,
  sha256: string,
): Promise<Response> {
  noQuery(request);
  const copy = await ctx.targeting.readableCopy(auth, checkedHash(sha256));
  if (copy === undefined) throw problem(404, 'not_found', 'no such asset');
  const size = copy.totalBytes;
  const headers: Record<string, string> = {
    'content-type': 'application/octet-stream',
    'accept-ranges': 'bytes',
    etag: `"${sha256}"`,
    'cache-control': 'private, no-store',
  };
  const wanted = request.headers.get('range');
  if (wanted === null) {
    headers['content-length'] = String(size);
    return new Response(ctx.blobStore.read(copy.blobKey, { start: 0, end: size }), {
      status: 200,
      headers,
    });
  }
  const found = RANGE.exec(wanted.trim());
  let start: number;
  let end: number;
  if (found === null || (found[1] === '' && found[2] === '')) {
    throw problem(416, 'range_not_satisfiable', 'Range must be "bytes=<start>-[<end>]"', {
      headers: { 'content-range': `bytes */${size}` },
    });
  }
  if (found[1] === '') {
    start = Math.max(0, size - Number(found[2]));
    end = size;
  } else {
    start = Number(found[1]);
    end = found[2] === '' ? size : Math.min(size, Number(found[2]) + 1);
  }
  if (start >= size || end <= start) {
    throw problem(416, 'range_not_satisfiable', `the asset has ${size} bytes`, {
      headers: { 'content-range': `bytes */${size}` },
    });
  }
  headers['content-range'] = `bytes ${start}-${end - 1}/${size}`;
  headers['content-length'] = String(end - start);
  return new Response(ctx.blobStore.read(copy.blobKey, { start, end }), { status: 206, headers });
}
