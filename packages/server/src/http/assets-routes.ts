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
  type BlobSync,
  ChunkReader,
  continuesTail,
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

/**
 * How long a single-process server keeps an upload by id's offset in its memory, at most,
 * before it records it in the database again (see {@link UploadSubject.keepsOffset}).
 */
const RECORD_EVERY_MS = 1000;

const CONTENT_RANGE = /^bytes (?:(\d{1,15})-(\d{1,15})|\*)\/(\d{1,15}|\*)$/;
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
  /** The declared size; `undefined` while an upload by id has not declared it. */
  total: number | undefined;
}

/** The chunk ends the upload: its size is declared and the chunk reaches it. */
function isLast(range: ChunkRange): boolean {
  return range.total !== undefined && range.end === range.total;
}

/**
 * Reads `Content-Range`. A hash-addressed upload declares its size on every chunk, and
 * `bytes *\/0` is its empty asset; an upload by id may write `*` for a size not known yet,
 * and `bytes *\/<total>` is an empty last request that names the hash of `total` bytes held.
 */
function parseContentRange(request: Request, byId: boolean): ChunkRange {
  const header = request.headers.get('content-range');
  const found = header === null ? null : CONTENT_RANGE.exec(header.trim());
  if (found === null || (!byId && found[3] === '*')) {
    throw problem(400, 'invalid', 'Content-Range must be "bytes <start>-<end>/<total>"');
  }
  const total = found[3] === '*' ? undefined : Number(found[3]);
  if (found[1] === undefined) {
    if (total === undefined || (!byId && total !== 0)) {
      throw problem(400, 'invalid', '"bytes */<total>" is only for an empty asset');
    }
    return { start: total, end: total, total };
  }
  const start = Number(found[1]);
  const end = Number(found[2]) + 1;
  if (end <= start || (total !== undefined && end > total)) {
    throw problem(400, 'invalid', 'Content-Range must satisfy start <= end < total');
  }
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) !== end - start) {
    throw problem(400, 'invalid', 'Content-Length does not match Content-Range');
  }
  return { start, end, total };
}

/** What a chunk finds of the upload it continues. */
interface HeldUpload {
  blobKey: string;
  /** The declared size, when declared. */
  totalBytes: number | undefined;
  receivedBytes: number;
  /** A hash-addressed copy that is complete already. */
  complete: boolean;
  /**
   * An upload by id whose size was not declared at its start: the bytes the storage quota
   * lets it hold so far (see {@link UploadSubject.grow}); `undefined` otherwise.
   */
  quotaTo: number | undefined;
}

/**
 * The two kinds of upload, as {@link putChunk} sees them: a copy addressed by its hash
 * (`/v1/assets/:sha256`) and an upload by id (`/v1/assets/uploads/:uploadId`), whose hash the
 * last chunk names.
 */
interface UploadSubject {
  /** The key of its lane and tail in this process. */
  key: string;
  /**
   * The offset may stay in this process between chunks taken in order, recorded in the
   * database at most every {@link RECORD_EVERY_MS} and with the last chunk (a single-process
   * server's uploads by id); otherwise every chunk records its end before it is answered.
   */
  keepsOffset: boolean;
  /**
   * Finds (or, at its first chunk, starts) the upload; a number is the offset held when the
   * upload does not exist yet and the chunk, `patient`, may wait for the one that starts it.
   */
  begin(range: ChunkRange, patient: boolean): Promise<HeldUpload | number>;
  /**
   * Asks the storage quota to let the upload hold `to` bytes, before a chunk past
   * {@link HeldUpload.quotaTo} is written: `undefined` when it may, else why not.
   */
  grow(to: number): Promise<string | undefined>;
  /** The offset's compare-and-set. */
  advance(from: number, to: number): Promise<boolean>;
  /** Where the upload stands now, after a compare-and-set that failed. */
  offsetNow(): Promise<number | undefined>;
  /** The answer to a chunk of a complete copy (its bytes matched). */
  whenComplete(held: HeldUpload): Response;
  /**
   * Whether {@link finish} records the last chunk's end itself (an upload by id: the finish
   * checks the offset the database holds and drops the row in one statement); otherwise the
   * last chunk's end is recorded before the finish.
   */
  finishRecords: boolean;
  /**
   * Every byte is held and `actual` is their hash: the answer. `recorded` is the offset the
   * database holds (`total`, unless {@link finishRecords}).
   */
  finish(actual: string, total: number, recorded: number): Promise<Response>;
}

function copySubject(auth: AuthContext, ctx: TargetingContext, sha256: string): UploadSubject {
  return {
    key: `${auth.userId} ${sha256}`,
    // A copy's offset is what a transfer's progress shows its requester: recorded per chunk.
    keepsOffset: false,
    finishRecords: false,
    async begin(range) {
      const total = range.total as number;
      const begun = await ctx.targeting.beginUpload(auth.userId, sha256, total, ctx.limits);
      if (begun.type === 'too_large') throw problem(413, 'too_large', begun.message);
      if (begun.type === 'length_mismatch') {
        throw problem(
          409,
          'length_mismatch',
          `the upload in progress is ${begun.totalBytes} bytes long, not ${total}`,
        );
      }
      // Its declared size counted from the start.
      return { ...begun.copy, quotaTo: undefined };
    },
    grow: async () => undefined,
    advance: (from, to) => ctx.targeting.advanceUpload(auth.userId, sha256, from, to),
    offsetNow: async () => (await ctx.targeting.ownCopy(auth.userId, sha256))?.receivedBytes,
    whenComplete: (held) => json(200, { sha256, size: held.totalBytes }),
    async finish(actual, total) {
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
      return json(201, { sha256, size: total });
    },
  };
}

function idSubject(
  auth: AuthContext,
  ctx: TargetingContext,
  uploadId: string,
  named: string | undefined,
): UploadSubject {
  const { userId } = auth;
  const subject: UploadSubject = {
    key: `${userId} upload ${uploadId}`,
    keepsOffset: ctx.singleProcess,
    finishRecords: true,
    async begin(range, patient) {
      let upload = await ctx.targeting.ownUploadById(userId, uploadId);
      if (upload === undefined) {
        if (range.start > 0) {
          // Another user's id answers the same: as if it did not exist.
          if (patient) return 0; // the first chunk may be on its way
          throw problem(404, 'not_found', 'no such upload; start it again from its first byte');
        }
        const begun = await ctx.targeting.beginUploadById(
          userId,
          uploadId,
          { totalBytes: range.total, firstEnd: range.end },
          ctx.limits,
        );
        if (begun.type === 'too_large') throw problem(413, 'too_large', begun.message);
        upload = begun.upload;
      }
      const declared = upload.totalBytes;
      if (
        (declared !== undefined && range.total !== undefined && declared !== range.total) ||
        (range.total !== undefined && upload.receivedBytes > range.total)
      ) {
        throw problem(
          409,
          'length_mismatch',
          `the upload in progress is ${declared ?? upload.receivedBytes} bytes long, not ${range.total}`,
        );
      }
      return {
        ...upload,
        complete: false,
        quotaTo: upload.totalBytes === undefined ? upload.countedBytes : undefined,
      };
    },
    async grow(to) {
      const grown = await ctx.targeting.growUploadById(userId, uploadId, to, ctx.limits);
      return grown.type === 'too_large' ? grown.message : undefined;
    },
    advance: (from, to) => ctx.targeting.advanceUploadById(userId, uploadId, from, to),
    offsetNow: async () => (await ctx.targeting.ownUploadById(userId, uploadId))?.receivedBytes,
    whenComplete: () => {
      throw new Error('an upload by id is never complete');
    },
    async finish(actual, total, recorded) {
      if (actual !== named) {
        const dropped = await ctx.targeting.dropUploadById(userId, uploadId);
        await deleteBlobs(ctx, dropped === undefined ? [] : [dropped]);
        throw problem(
          422,
          'hash_mismatch',
          `the bytes hash to ${actual}, not to the Asset-Sha256 named; nothing of them is kept`,
        );
      }
      const done = await ctx.targeting.finishUploadById(
        userId,
        uploadId,
        { sha256: actual, totalBytes: total, recordedBytes: recorded },
        ctx.limits,
      );
      await deleteBlobs(ctx, done.dropBlobKeys);
      switch (done.type) {
        case 'too_large':
          throw problem(413, 'too_large', done.message);
        case 'gone': {
          // Another process moved the offset meanwhile (the row stays): continue from it.
          const offset = await subject.offsetNow();
          if (offset !== undefined) {
            throw problem(409, 'offset_mismatch', 'another upload of this asset moved the offset', {
              headers: { 'upload-offset': String(offset) },
            });
          }
          throw problem(404, 'not_found', 'no such upload; start it again from its first byte');
        }
        case 'held':
          return json(200, { sha256: actual, size: total });
        default:
          return json(201, { sha256: actual, size: total });
      }
    },
  };
  return subject;
}

function checkedChunkType(request: Request): void {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/octet-stream') {
    throw problem(415, 'unsupported_media_type', 'an asset chunk is application/octet-stream');
  }
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
  checkedChunkType(request);
  const range = parseContentRange(request, false);
  return runChunk(request, ctx, copySubject(auth, ctx, sha256), range);
}

const UPLOAD_ID = /^[A-Za-z0-9_-]{1,128}$/;

function checkedUploadId(uploadId: string): string {
  if (!UPLOAD_ID.test(uploadId)) {
    throw problem(400, 'invalid', 'an upload id is 1 to 128 of A-Z, a-z, 0-9, "_" and "-"');
  }
  return uploadId;
}

/** `PUT /v1/assets/uploads/:uploadId` with one chunk; the last names the hash. */
export async function handleUploadPut(
  request: Request,
  auth: AuthContext,
  ctx: TargetingContext,
  uploadId: string,
): Promise<Response> {
  noQuery(request);
  checkedUploadId(uploadId);
  checkedChunkType(request);
  const range = parseContentRange(request, true);
  const named = request.headers.get('asset-sha256')?.trim();
  if (isLast(range) !== (named !== undefined)) {
    throw problem(
      400,
      'invalid',
      'the last chunk (its end the size in Content-Range), and only it, names Asset-Sha256',
    );
  }
  if (named !== undefined) checkedHash(named);
  const size = Math.max(range.end, range.total ?? 0);
  if (size > ctx.limits.maxAssetBytes) {
    throw problem(
      413,
      'too_large',
      `the asset is at least ${size} bytes; this server takes at most ${ctx.limits.maxAssetBytes}`,
    );
  }
  return runChunk(request, ctx, idSubject(auth, ctx, uploadId, named), range);
}

/** `HEAD /v1/assets/uploads/:uploadId`: the offset of the caller's upload by id. */
export async function handleUploadHead(
  request: Request,
  auth: AuthContext,
  ctx: TargetingContext,
  uploadId: string,
): Promise<Response> {
  noQuery(request);
  const upload = await ctx.targeting.ownUploadById(auth.userId, checkedUploadId(uploadId));
  if (upload === undefined) return new Response(null, { status: 404 });
  // Bytes this process took in order may not be recorded yet (a single-process server).
  const held = ctx.tails.heldAt(idSubject(auth, ctx, uploadId, undefined).key) ?? 0;
  const headers: Record<string, string> = {
    'upload-offset': String(Math.max(upload.receivedBytes, held)),
    'cache-control': 'no-store',
  };
  if (upload.totalBytes !== undefined) headers['upload-length'] = String(upload.totalBytes);
  return new Response(null, { status: 200, headers });
}

async function runChunk(
  request: Request,
  ctx: TargetingContext,
  subject: UploadSubject,
  range: ChunkRange,
): Promise<Response> {
  // One chunk at a time per upload in this process, in order of their offsets (a chunk that
  // arrives before the one it continues waits for it); the offset's compare-and-set guards the
  // rest. A chunk written whole that continues the upload lets the next one run while its
  // offset is recorded: its answer comes once that is done.
  const answer = await ctx.uploads.run<Response | RecordingChunk>(
    subject.key,
    range.start,
    async (patient) => {
      const outcome = await putChunk(request, ctx, subject, range, patient);
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
  ctx: TargetingContext,
  subject: UploadSubject,
  range: ChunkRange,
  patient: boolean,
): Promise<Response | number | RecordingChunk> {
  const { key } = subject;
  // The chunk that continues the last one this process took needs no lookup: the process
  // knows the upload. Its offset may still be being recorded; this chunk's is recorded after it.
  const kept = ctx.tails.take(key);
  const tail =
    kept !== undefined && continuesTail(kept, range.start, range.total) ? kept : undefined;
  if (kept !== undefined && tail === undefined && kept.recordedTo < kept.running.offset) {
    // A chunk that does not continue what this process holds of the upload unrecorded (one
    // sent again, or ahead of its turn): the database is told first what the process holds,
    // so the chunk is judged as if every chunk's offset had been recorded.
    const to = kept.running.offset;
    ctx.tails.recording(
      key,
      kept.recorded.then((ok) => ok && subject.advance(kept.recordedTo, to)),
    );
  }
  let copy: HeldUpload;
  let previous: Promise<boolean> = Promise.resolve(true);
  if (tail !== undefined) {
    copy = {
      blobKey: tail.blobKey,
      totalBytes: tail.totalBytes ?? range.total,
      receivedBytes: range.start,
      complete: false,
      quotaTo: tail.quotaTo,
    };
    previous = tail.recorded.catch(() => false);
  } else {
    await ctx.tails.settled(key); // the database then shows what this process recorded
    const begun = await subject.begin(range, patient);
    if (typeof begun === 'number') return begun;
    copy = begun;
  }
  const offset = copy.receivedBytes;
  // Where the database's offset is once `previous` resolved `true`: this chunk's start, or
  // an earlier chunk's end while this process keeps the offset.
  const recordedTo = tail?.recordedTo ?? offset;
  const recordedAt = tail?.recordedAt ?? ctx.now();
  const recordUpTo = (to: number): Promise<boolean> =>
    to > recordedTo ? previous.then((ok) => ok && subject.advance(recordedTo, to)) : previous;
  if (range.start > offset) {
    if (patient) return offset; // the chunk it continues may be on its way: wait for it
    throw problem(409, 'offset_mismatch', `the server holds ${offset} bytes; continue from there`, {
      headers: { 'upload-offset': String(offset) },
    });
  }
  let { quotaTo } = copy;
  if (quotaTo !== undefined && range.end > quotaTo) {
    // An upload of undeclared size grows past what the quota let it hold: asked first, and
    // refused with nothing written and the offset held as it was (what this process holds of
    // the upload, unrecorded, stays for the next chunk whatever the answer).
    const refused = await subject.grow(range.end).catch((error: unknown) => {
      if (tail !== undefined) ctx.tails.keep(key, tail);
      throw error;
    });
    if (refused !== undefined) {
      if (tail !== undefined) ctx.tails.keep(key, tail);
      throw problem(413, 'too_large', refused, { headers: { 'upload-offset': String(offset) } });
    }
    quotaTo = range.end;
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
    return subject.whenComplete(copy);
  }
  let running: RunningHash | undefined = tail?.running;
  let tooLong = false;
  let held = offset;
  if (range.end <= offset) {
    // Nothing to write (an empty last request of an upload by id): the offset it continues
    // from must be recorded before the upload is finished (or by the finish itself).
    const recording = subject.finishRecords && isLast(range) ? previous : recordUpTo(offset);
    if (!(await recording)) throw await offsetMoved(subject);
  } else {
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
    const continues = held > offset && held === range.end && !isLast(range);
    // A single-process server keeps the offset of chunks taken in order in this process,
    // recording it about once a second (which also keeps the upload from being swept) and at
    // the last chunk: a restart loses at most that much, and the upload resumes from the
    // offset recorded (the bytes sent again are compared with those held).
    const keeps =
      continues &&
      subject.keepsOffset &&
      running?.offset === held &&
      ctx.now() - recordedAt < RECORD_EVERY_MS;
    // The last chunk's end is recorded by the finish, when the finish can.
    const finishes = subject.finishRecords && isLast(range) && held === range.end;
    const recorded = held > offset ? (keeps || finishes ? previous : recordUpTo(held)) : undefined;
    if (recorded !== undefined && continues && running?.offset === held) {
      // The next chunk may go on now; this one is answered once its offset is recorded (or,
      // kept in this process, once the recordings before it are).
      ctx.tails.keep(key, {
        running,
        blobKey: copy.blobKey,
        totalBytes: range.total ?? copy.totalBytes,
        quotaTo,
        recorded,
        recordedTo: keeps ? recordedTo : held,
        recordedAt: keeps ? recordedAt : ctx.now(),
        syncing: syncBehind(ctx, copy.blobKey, tail?.syncing),
      });
      const answer = recorded.then(async (ok) => {
        if (!ok) throw await offsetMoved(subject);
        return new Response(null, { status: 308, headers: { 'upload-offset': String(held) } });
      });
      answer.catch(() => undefined); // awaited by runChunk once the lane let go
      return { held, answer };
    }
    if (recorded !== undefined && !(await recorded)) {
      throw await offsetMoved(subject);
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
  if (!isLast(range)) {
    return new Response(null, { status: 308, headers: { 'upload-offset': String(held) } });
  }
  const total = range.total as number;
  const actual =
    running !== undefined && running.offset === total
      ? running.hash.digest('hex')
      : await sha256Of(ctx.blobStore.read(copy.blobKey, { start: 0, end: total }));
  // Every byte on disk before the copy is called complete (and the chunk answered): the sync
  // behind the chunks has done most of it.
  await tail?.syncing.settled;
  await ctx.blobStore.sync?.(copy.blobKey);
  return subject.finish(actual, total, subject.finishRecords ? recordedTo : total);
}

/**
 * The blob's sync behind the chunks of an upload: the one in flight (`previous`) until it
 * ended, then a new one, so at most one runs per upload and no chunk waits for it. Its failure
 * is left to the sync before the last chunk's answer, which counts.
 */
function syncBehind(
  ctx: TargetingContext,
  blobKey: string,
  previous: BlobSync | undefined,
): BlobSync {
  if (previous !== undefined && !previous.done) return previous;
  const sync: BlobSync = { settled: Promise.resolve(), done: true };
  if (ctx.blobStore.sync === undefined) return sync;
  sync.done = false;
  sync.settled = ctx.blobStore
    .sync(blobKey)
    .catch(() => undefined)
    .finally(() => {
      sync.done = true;
    });
  return sync;
}

/** The answer to a chunk whose offset could not be recorded: where the upload now stands. */
async function offsetMoved(subject: UploadSubject) {
  const offset = await subject.offsetNow();
  return problem(409, 'offset_mismatch', 'another upload of this asset moved the offset', {
    ...(offset === undefined ? {} : { headers: { 'upload-offset': String(offset) } }),
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
    return new Response(await openBlob(ctx, copy, 0, size), { status: 200, headers });
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
  return new Response(await openBlob(ctx, copy, start, end), { status: 206, headers });
}

/**
 * Bytes `[start, end)` of a copy's blob, its first piece already read, so that the status line
 * is sent only once the blob is open: a blob the database calls complete but the BlobStore no
 * longer holds (or holds shorter than `end`: deleted by hand, by a sweep racing this read, or
 * by another server sharing the directory) answers 410 `asset_gone`, and not a 200 whose body
 * breaks off. Not a 404: the caller may read the asset, the server lost its bytes; a 410 is
 * `rejected` in every client, so the download fails once. Another
 * failure of the read stays one (a 500). Once open, the file store's blob stays readable to
 * the end even if it is deleted meanwhile.
 */
async function openBlob(
  ctx: TargetingContext,
  copy: AssetCopy,
  start: number,
  end: number,
): Promise<ReadableStream<Uint8Array>> {
  const stream = ctx.blobStore.read(copy.blobKey, { start, end });
  if (end <= start) return stream; // an empty asset: nothing to read
  const reader = stream.getReader();
  let first: ReadableStreamReadResult<Uint8Array>;
  try {
    first = await reader.read();
  } catch (error) {
    if ((await ctx.blobStore.size(copy.blobKey)) >= end) throw error;
    first = { done: true, value: undefined };
  }
  if (first.done) {
    ctx.logger.warn('an asset blob is missing or shorter than its complete copy', {
      blobKey: copy.blobKey,
      totalBytes: copy.totalBytes,
    });
    throw problem(410, 'asset_gone', 'the bytes of this asset are no longer on the server');
  }
  let held: Uint8Array | undefined = first.value;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (held !== undefined) {
          controller.enqueue(held);
          held = undefined;
          return;
        }
        const next = await reader.read();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}
