/**
 * The resumable-upload endpoint of the Storage stand-in, as supabase/storage serves it
 * (`src/http/routes/tus`, over `@tus/server` with tus 1.0.0's creation and termination
 * extensions) at `/storage/v1/upload/resumable`:
 *
 * - `POST /upload/resumable` with `Upload-Length` and `Upload-Metadata` (`bucketName`,
 *   `objectName`, `contentType`, `cacheControl`; base64 values) creates an upload: the bucket
 *   must exist, the length must be within the file size limit (the bucket's, capped by the
 *   project's: 413), and the caller's role must pass the `storage.objects` INSERT policy (or
 *   the UPSERT ones with `x-upsert: true`), tried in a transaction that is rolled back, as
 *   storage-api's `Uploader.canUpload` does. 201 with `Location`
 *   `<origin>/storage/v1/upload/resumable/<base64url(bucket/object/version)>`.
 * - `HEAD <location>`: 200 with `Upload-Offset` and `Upload-Length` (no policy check).
 * - `PATCH <location>` with `Upload-Offset` and `application/offset+octet-stream`: appends the
 *   body (409 `Upload-Offset conflict` when the offset is not the upload's, 413 past its
 *   length); the policy is checked again; the last byte writes the `storage.objects` row under
 *   the caller's role (the object appears only then) and answers `Tus-Complete: 1`.
 * - `DELETE <location>` terminates an unfinished upload (204; 400 once finished).
 *
 * Every request needs `Tus-Resumable: 1.0.0` (412 otherwise). Upload state lives on disk like
 * storage-api's FileStore: the bytes in `<directory>/<id>`, the upload's info in `<id>.json`,
 * so a restarted stand-in over the same directory continues the same uploads. Requests on one
 * upload run one at a time (storage-api's upload lock). Errors are plain text, as
 * `@tus/server` writes them.
 */
import { randomUUID } from 'node:crypto';
import { appendFile, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What the TUS endpoint needs of the Storage stand-in. */
export interface TusStorageAccess {
  /** 404 `Bucket not found` unless the bucket exists; its file size limit otherwise. */
  bucketLimit(bucket: string): Promise<number | null>;
  /** The project's file size limit (`FILE_SIZE_LIMIT`). */
  fileSizeLimit: number;
  /** Tries the caller's INSERT (or upsert) of the object row and rolls it back. */
  canUpload(claims: Claims, object: ObjectWrite): Promise<void>;
  /** Writes the object row under the caller's role, then keeps the bytes. */
  completeUpload(claims: Claims, object: ObjectWrite, bytes: Uint8Array): Promise<void>;
}

type Claims = Record<string, unknown>;

/** An object row being written. */
export interface ObjectWrite {
  bucket: string;
  name: string;
  upsert: boolean;
  contentType: string;
  cacheControl: string;
  version: string;
  size: number;
}

interface UploadInfo {
  id: string;
  bucket: string;
  name: string;
  version: string;
  size: number;
  contentType: string;
  cacheControl: string;
  finished: boolean;
}

/** A TUS answer (the body is plain text). */
export interface TusAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

class TusFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const TUS_VERSION = '1.0.0';

/** The resumable upload endpoint over `directory`. */
export class TusStandIn {
  readonly #access: TusStorageAccess;
  /** Where upload state lives. */
  readonly directory: string;
  readonly #locks = new Map<string, Promise<unknown>>();
  /** PATCH bodies taken, in bytes, in order (for assertions on the client's chunking). */
  readonly patches: Array<{ id: string; offset: number; bytes: number }> = [];

  constructor(access: TusStorageAccess, directory: string) {
    this.#access = access;
    this.directory = directory;
  }

  /** Handles `method` on `rest` (the path after `/upload/resumable`). */
  async handle(request: {
    method: string;
    rest: string;
    origin: string;
    headers: Record<string, string>;
    body: Uint8Array;
    claims: Claims;
  }): Promise<TusAnswer> {
    try {
      if (request.headers['tus-resumable'] !== TUS_VERSION) {
        throw new TusFailure(412, 'Unsupported version');
      }
      if (request.method === 'POST' && (request.rest === '' || request.rest === '/')) {
        return await this.#create(request);
      }
      const id = /^\/([A-Za-z0-9_-]+)$/.exec(request.rest)?.[1];
      if (id === undefined) throw new TusFailure(404, 'Not found');
      return await this.#locked(id, async () => {
        const info = await this.#info(id);
        if (request.method === 'HEAD') return this.#head(info);
        if (request.method === 'PATCH') return this.#patch(info, request);
        if (request.method === 'DELETE') return this.#terminate(info, request.claims);
        throw new TusFailure(405, 'Method not allowed');
      });
    } catch (thrown) {
      if (!(thrown instanceof TusFailure)) throw thrown;
      return {
        status: thrown.status,
        headers: { 'tus-resumable': TUS_VERSION, 'content-type': 'text/plain' },
        body: thrown.message,
      };
    }
  }

  async #create(request: {
    origin: string;
    headers: Record<string, string>;
    claims: Claims;
  }): Promise<TusAnswer> {
    const length = request.headers['upload-length'];
    if (length === undefined || !/^\d+$/.test(length)) {
      throw new TusFailure(400, 'Upload-Length or Upload-Defer-Length header required');
    }
    const metadata = parseMetadata(request.headers['upload-metadata'] ?? '');
    const bucket = metadata.bucketName ?? '';
    const name = metadata.objectName ?? '';
    if (bucket === '' || name === '') throw new TusFailure(400, 'Metadata is required');
    const size = Number(length);
    const bucketLimit = await this.#access.bucketLimit(bucket).catch((error: Error) => {
      throw new TusFailure(404, error.message);
    });
    const limit = Math.min(bucketLimit ?? this.#access.fileSizeLimit, this.#access.fileSizeLimit);
    if (size > limit) throw new TusFailure(413, 'Maximum size exceeded');
    const version = randomUUID();
    const info: UploadInfo = {
      id: Buffer.from(`${bucket}/${name}/${version}`).toString('base64url'),
      bucket,
      name,
      version,
      size,
      contentType: metadata.contentType ?? 'application/octet-stream',
      cacheControl: /^\d+$/.test(metadata.cacheControl ?? '')
        ? `max-age=${metadata.cacheControl}`
        : 'no-cache',
      finished: false,
    };
    await this.#check(request.claims, info, request.headers);
    await writeFile(this.#bytesPath(info.id), new Uint8Array());
    await this.#save(info);
    const headers: Record<string, string> = {
      'tus-resumable': TUS_VERSION,
      location: `${request.origin}/storage/v1/upload/resumable/${info.id}`,
    };
    if (size === 0) {
      await this.#finish(request.claims, info, request.headers);
      headers['tus-complete'] = '1';
    }
    return { status: 201, headers, body: '' };
  }

  async #head(info: UploadInfo): Promise<TusAnswer> {
    return {
      status: 200,
      headers: {
        'tus-resumable': TUS_VERSION,
        'upload-offset': String(await this.#offset(info)),
        'upload-length': String(info.size),
        'cache-control': 'no-store',
      },
      body: '',
    };
  }

  async #patch(
    info: UploadInfo,
    request: { headers: Record<string, string>; body: Uint8Array; claims: Claims },
  ): Promise<TusAnswer> {
    if (request.headers['content-type'] !== 'application/offset+octet-stream') {
      throw new TusFailure(415, 'Content-Type header required');
    }
    const claimed = request.headers['upload-offset'];
    if (claimed === undefined || !/^\d+$/.test(claimed)) {
      throw new TusFailure(403, 'Upload-Offset header required');
    }
    await this.#check(request.claims, info, request.headers);
    const offset = await this.#offset(info);
    if (Number(claimed) !== offset) throw new TusFailure(409, 'Upload-Offset conflict');
    if (offset + request.body.byteLength > info.size) {
      throw new TusFailure(413, "upload's size exceeded");
    }
    this.patches.push({ id: info.id, offset, bytes: request.body.byteLength });
    await appendFile(this.#bytesPath(info.id), request.body);
    const now = offset + request.body.byteLength;
    const headers: Record<string, string> = {
      'tus-resumable': TUS_VERSION,
      'upload-offset': String(now),
    };
    if (now === info.size) {
      await this.#finish(request.claims, info, request.headers);
      headers['tus-complete'] = '1';
    }
    return { status: 204, headers, body: '' };
  }

  async #terminate(info: UploadInfo, claims: Claims): Promise<TusAnswer> {
    if (info.finished) throw new TusFailure(400, 'Cannot terminate an already completed upload');
    await this.#check(claims, info, {});
    await rm(this.#bytesPath(info.id), { force: true });
    await rm(this.#infoPath(info.id), { force: true });
    return { status: 204, headers: { 'tus-resumable': TUS_VERSION }, body: '' };
  }

  async #finish(claims: Claims, info: UploadInfo, headers: Record<string, string>) {
    const bytes = new Uint8Array(await readFile(this.#bytesPath(info.id)));
    await this.#access.completeUpload(claims, this.#write(info, headers), bytes);
    await this.#save({ ...info, finished: true });
  }

  async #check(claims: Claims, info: UploadInfo, headers: Record<string, string>) {
    try {
      await this.#access.canUpload(claims, this.#write(info, headers));
    } catch (error) {
      const failure = error as { status?: number; message?: string };
      throw new TusFailure(failure.status ?? 500, failure.message ?? String(error));
    }
  }

  #write(info: UploadInfo, headers: Record<string, string>): ObjectWrite {
    return {
      bucket: info.bucket,
      name: info.name,
      // As storage-api reads it: from this request's header, not the creation's.
      upsert: headers['x-upsert'] === 'true',
      contentType: info.contentType,
      cacheControl: info.cacheControl,
      version: info.version,
      size: info.size,
    };
  }

  async #info(id: string): Promise<UploadInfo> {
    try {
      return JSON.parse(await readFile(this.#infoPath(id), 'utf8')) as UploadInfo;
    } catch {
      throw new TusFailure(404, 'The file for this url was not found');
    }
  }

  async #offset(info: UploadInfo): Promise<number> {
    return (await stat(this.#bytesPath(info.id))).size;
  }

  #save(info: UploadInfo): Promise<void> {
    return writeFile(this.#infoPath(info.id), JSON.stringify(info));
  }

  #bytesPath(id: string): string {
    return join(this.directory, id);
  }

  #infoPath(id: string): string {
    return join(this.directory, `${id}.json`);
  }

  async #locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const before = this.#locks.get(id) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.#locks.set(id, settled);
    try {
      return await run;
    } finally {
      if (this.#locks.get(id) === settled) this.#locks.delete(id);
    }
  }
}

/** `key base64,key2 base64` (tus 1.0.0 `Upload-Metadata`); a bad header is a 400. */
function parseMetadata(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (header.trim() === '') return out;
  for (const pair of header.split(',')) {
    const [key, value, extra] = pair.trim().split(' ');
    if (key === undefined || key === '' || extra !== undefined) {
      throw new TusFailure(400, 'Invalid Upload-Metadata header');
    }
    if (value !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
      throw new TusFailure(400, 'Invalid Upload-Metadata header');
    }
    out[key] = value === undefined ? '' : Buffer.from(value, 'base64').toString('utf8');
  }
  return out;
}
