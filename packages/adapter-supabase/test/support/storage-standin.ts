/**
 * A Supabase Storage stand-in for what storage-js calls (`@supabase/storage-js`
 * `StorageFileApi`): `upload` (POST `/object/<bucket>/<path>` with `x-upsert`), `download`
 * (GET `/object/<bucket>/<path>`, also `/object/authenticated/...`, with a `Range` header
 * answered 206 and `Content-Range` as storage-api passes it to S3, 416 when unsatisfiable) and
 * `remove` (DELETE `/object/<bucket>` with `{ prefixes }`); and the resumable (TUS) upload
 * endpoint `/upload/resumable` of `storage-tus-standin.ts`. As Storage does, every object row is read and
 * written under the caller's role with its JWT claims set for the transaction, so the
 * `storage.objects` row-level security policies decide; the bytes live in memory (Storage
 * keeps them in S3) and are written only after the row commits. The bearer JWT is verified
 * like PostgREST verifies it. Errors have Storage's body `{ statusCode, error, message }`.
 * Anything else (multipart bodies, signed URLs, buckets API) answers 400 `not_supported`.
 */
import { randomUUID } from 'node:crypto';
import type { SqlExecutor, SqlQueryable } from '@syncline/server';
import { verifyBearer } from './jwt.js';
import { type ObjectWrite, TusStandIn } from './storage-tus-standin.js';

/** An HTTP answer of the stand-in. */
export interface StorageAnswer {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

class StorageFailure extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

/** The Storage endpoint over `db` (connected as Storage's API role would be). */
export class StorageStandIn {
  readonly #db: SqlExecutor;
  readonly #admin: SqlExecutor;
  /** The object bytes, by `<bucket>/<name>` (Storage's S3). */
  readonly bytes = new Map<string, Uint8Array>();
  /** Requests served, in order (for assertions), with the `Range` header of a download. */
  readonly calls: Array<{ method: string; path: string; status: number; range?: string }> = [];
  /** The resumable upload endpoint (its `patches` show how clients chunk). */
  readonly tus: TusStandIn;

  /**
   * `db` connects as the API does (`authenticator`); `admin` is Storage's own access. Upload
   * state of resumable uploads lives in `options.tusDirectory`; `fileSizeLimit` is the
   * project's limit (Supabase's default: 50 MiB).
   */
  constructor(
    db: SqlExecutor,
    admin: SqlExecutor,
    options: { tusDirectory: string; fileSizeLimit?: number },
  ) {
    this.#db = db;
    this.#admin = admin;
    this.tus = new TusStandIn(
      {
        fileSizeLimit: options.fileSizeLimit ?? 50 * 1024 * 1024,
        bucketLimit: async (bucket) => {
          const [row] = await this.#admin.query<{ limit: string | null }>(
            'SELECT file_size_limit AS limit FROM storage.buckets WHERE id = $1',
            [bucket],
          );
          if (row === undefined) throw new Error('Bucket not found');
          return row.limit === null ? null : Number(row.limit);
        },
        canUpload: (claims, object) => this.#canUpload(claims, object),
        completeUpload: async (claims, object, bytes) => {
          await this.#writeObject(claims, object);
          this.bytes.set(`${object.bucket}/${object.name}`, bytes);
        },
      },
      options.tusDirectory,
    );
  }

  /** Handles a request under `/storage/v1`; `origin` is the project URL (for `Location`). */
  async handle(request: {
    method: string;
    path: string;
    origin?: string;
    headers: Record<string, string>;
    body: Uint8Array;
  }): Promise<StorageAnswer> {
    let answer: StorageAnswer;
    try {
      answer = await this.#route(request);
    } catch (thrown) {
      const failure =
        thrown instanceof StorageFailure ? thrown : fromDatabaseError(thrown as DatabaseError);
      answer = {
        status: failure.status,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({
          statusCode: String(failure.status),
          error: failure.error,
          message: failure.message,
        }),
      };
    }
    const range = request.headers.range;
    this.calls.push({
      method: request.method,
      path: request.path,
      status: answer.status,
      ...(range === undefined ? {} : { range }),
    });
    return answer;
  }

  async #route(request: {
    method: string;
    path: string;
    origin?: string;
    headers: Record<string, string>;
    body: Uint8Array;
  }): Promise<StorageAnswer> {
    const claims = await this.#claims(request.headers);
    const resumable = /^\/upload\/resumable(\/.*)?$/.exec(request.path);
    if (resumable !== null) {
      return this.tus.handle({
        method: request.method,
        rest: resumable[1] ?? '',
        origin: request.origin ?? 'http://localhost',
        headers: request.headers,
        body: request.body,
        claims,
      });
    }
    const remove = /^\/object\/([^/]+)\/?$/.exec(request.path);
    if (request.method === 'DELETE' && remove !== null) {
      return this.#remove(claims, decodeURIComponent(remove[1] as string), request.body);
    }
    const object = /^\/object\/(?:authenticated\/)?([^/]+)\/(.+)$/.exec(request.path);
    if (object !== null) {
      const bucket = decodeURIComponent(object[1] as string);
      const name = object[2]
        ?.split('/')
        .map((part) => decodeURIComponent(part))
        .join('/') as string;
      if (request.method === 'POST' && !request.path.startsWith('/object/authenticated/')) {
        return this.#upload(claims, bucket, name, request);
      }
      if (request.method === 'GET') {
        return this.#download(claims, bucket, name, request.headers.range);
      }
    }
    throw new StorageFailure(
      400,
      'not_supported',
      `the stand-in does not serve ${request.method} ${request.path}`,
    );
  }

  async #claims(headers: Record<string, string>): Promise<Record<string, unknown>> {
    if (headers.apikey === undefined || headers.apikey === '') {
      throw new StorageFailure(400, 'Error', 'headers must have required property apikey');
    }
    const bearer = /^Bearer (.+)$/i.exec(headers.authorization ?? '')?.[1];
    const verified = await verifyBearer(bearer);
    if ('refused' in verified) {
      throw new StorageFailure(403, 'Unauthorized', verified.refused.message);
    }
    return verified.claims;
  }

  /** Runs `fn` as Storage runs its queries: the caller's role and claims, one transaction. */
  #asCaller<T>(claims: Record<string, unknown>, fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    const role = typeof claims.role === 'string' ? claims.role : 'anon';
    return this.#db.transaction(async (tx) => {
      await tx.query(
        `SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true),
                set_config('request.jwt.claim.sub', $3, true),
                set_config('request.jwt.claim.role', $1, true)`,
        [role, JSON.stringify({ ...claims, role }), String(claims.sub ?? '')],
      );
      return fn(tx);
    });
  }

  async #bucketExists(bucket: string): Promise<void> {
    // Storage looks the bucket up with its own rights (the caller needs no bucket policy).
    const rows = await this.#admin.query('SELECT 1 FROM storage.buckets WHERE id = $1', [bucket]);
    if (rows.length === 0) throw new StorageFailure(404, 'Bucket not found', 'Bucket not found');
  }

  async #upload(
    claims: Record<string, unknown>,
    bucket: string,
    name: string,
    request: { headers: Record<string, string>; body: Uint8Array },
  ): Promise<StorageAnswer> {
    const type = request.headers['content-type'] ?? '';
    if (type.startsWith('multipart/form-data')) {
      throw new StorageFailure(400, 'not_supported', 'the stand-in takes raw upload bodies only');
    }
    await this.#bucketExists(bucket);
    const object: ObjectWrite = {
      bucket,
      name,
      upsert: request.headers['x-upsert'] === 'true',
      contentType: type || 'application/octet-stream',
      cacheControl: request.headers['cache-control'] ?? 'no-cache',
      version: randomUUID(),
      size: request.body.byteLength,
    };
    const row = await this.#writeObject(claims, object);
    this.bytes.set(`${bucket}/${name}`, request.body.slice());
    return json(200, { Id: row?.id, Key: `${bucket}/${name}` });
  }

  /** Inserts (or with `upsert` replaces) the object row under the caller's role. */
  async #writeObject(
    claims: Record<string, unknown>,
    object: ObjectWrite,
    tx?: SqlQueryable,
  ): Promise<{ id: string } | undefined> {
    const owner = typeof claims.sub === 'string' ? claims.sub : null;
    const metadata = {
      eTag: `"${randomUUID()}"`,
      size: object.size,
      mimetype: object.contentType,
      cacheControl: object.cacheControl,
      lastModified: new Date().toISOString(),
      contentLength: object.size,
      httpStatusCode: 200,
    };
    const write = (q: SqlQueryable) =>
      q.query<{ id: string }>(
        `INSERT INTO storage.objects (bucket_id, name, owner, owner_id, metadata, version)
         VALUES ($1, $2, $3::uuid, $4, $5::jsonb, $6)
         ${
           object.upsert
             ? `ON CONFLICT (bucket_id, name) DO UPDATE SET owner = EXCLUDED.owner,
                  owner_id = EXCLUDED.owner_id, metadata = EXCLUDED.metadata,
                  version = EXCLUDED.version, updated_at = now()`
             : ''
         }
         RETURNING id`,
        [object.bucket, object.name, owner, owner, JSON.stringify(metadata), object.version],
      );
    if (tx !== undefined) return (await write(tx))[0];
    return (await this.#asCaller(claims, write))[0];
  }

  /**
   * storage-api's `Uploader.canUpload`: the bucket exists, and the caller's write of the row
   * passes the policies (tried, then rolled back). Throws a `StorageFailure` otherwise.
   */
  async #canUpload(claims: Record<string, unknown>, object: ObjectWrite): Promise<void> {
    await this.#bucketExists(object.bucket);
    const tried = Symbol('rolled back');
    try {
      await this.#asCaller(claims, async (tx) => {
        await this.#writeObject(claims, object, tx);
        throw tried;
      });
    } catch (thrown) {
      if (thrown === tried) return;
      throw thrown instanceof StorageFailure ? thrown : fromDatabaseError(thrown as DatabaseError);
    }
  }

  async #download(
    claims: Record<string, unknown>,
    bucket: string,
    name: string,
    range: string | undefined,
  ): Promise<StorageAnswer> {
    const rows = await this.#asCaller(claims, (tx) =>
      tx.query<{ metadata: { mimetype?: string } | null }>(
        'SELECT metadata FROM storage.objects WHERE bucket_id = $1 AND name = $2',
        [bucket, name],
      ),
    );
    const bytes = this.bytes.get(`${bucket}/${name}`);
    if (rows.length === 0 || bytes === undefined) {
      throw new StorageFailure(404, 'not_found', 'Object not found');
    }
    const headers = {
      'content-type': rows[0]?.metadata?.mimetype ?? 'application/octet-stream',
      'accept-ranges': 'bytes',
    };
    if (range === undefined) {
      return {
        status: 200,
        headers: { ...headers, 'content-length': String(bytes.byteLength) },
        body: bytes,
      };
    }
    const [start, end] = byteRange(range, bytes.byteLength);
    return {
      status: 206,
      headers: {
        ...headers,
        'content-length': String(end - start + 1),
        'content-range': `bytes ${start}-${end}/${bytes.byteLength}`,
      },
      body: bytes.subarray(start, end + 1),
    };
  }

  async #remove(
    claims: Record<string, unknown>,
    bucket: string,
    body: Uint8Array,
  ): Promise<StorageAnswer> {
    let prefixes: unknown;
    try {
      prefixes = (JSON.parse(new TextDecoder().decode(body)) as { prefixes?: unknown }).prefixes;
    } catch {
      throw new StorageFailure(400, 'Error', 'body must be JSON');
    }
    if (!Array.isArray(prefixes) || !prefixes.every((p) => typeof p === 'string')) {
      throw new StorageFailure(400, 'Error', 'body/prefixes must be array of strings');
    }
    await this.#bucketExists(bucket);
    // Storage deletes the rows the caller's DELETE policy lets it, then their bytes.
    const removed = await this.#asCaller(claims, (tx) =>
      tx.query<{ name: string; id: string }>(
        `DELETE FROM storage.objects WHERE bucket_id = $1 AND name = ANY ($2::text[])
         RETURNING name, id`,
        [bucket, prefixes],
      ),
    );
    for (const row of removed) this.bytes.delete(`${bucket}/${row.name}`);
    return json(
      200,
      removed.map((row) => ({ name: row.name, id: row.id, bucket_id: bucket })),
    );
  }
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` as S3 reads it; 416 InvalidRange when unsatisfiable. */
function byteRange(header: string, size: number): [number, number] {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  const invalid = () =>
    new StorageFailure(416, 'InvalidRange', 'The requested range is not satisfiable');
  if (match === null || (match[1] === '' && match[2] === '')) throw invalid();
  if (match[1] === '') {
    const last = Number(match[2]);
    if (last === 0 || size === 0) throw invalid();
    return [Math.max(0, size - last), size - 1];
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) throw invalid();
  return [start, end];
}

interface DatabaseError {
  code?: string;
  message?: string;
}

/** Storage's answer for a database error of a caller's query. */
function fromDatabaseError(error: DatabaseError): StorageFailure {
  if (error.code === '42501') {
    return new StorageFailure(403, 'Unauthorized', 'new row violates row-level security policy');
  }
  if (error.code === '23505') {
    return new StorageFailure(409, 'Duplicate', 'The resource already exists');
  }
  return new StorageFailure(500, 'internal', error.message ?? String(error));
}

function json(status: number, body: unknown): StorageAnswer {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  };
}
