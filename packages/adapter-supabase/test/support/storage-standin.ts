/**
 * A Supabase Storage stand-in for what storage-js calls (`@supabase/storage-js`
 * `StorageFileApi`): `upload` (POST `/object/<bucket>/<path>` with `x-upsert`), `download`
 * (GET `/object/<bucket>/<path>`, also `/object/authenticated/...`) and `remove` (DELETE
 * `/object/<bucket>` with `{ prefixes }`). As Storage does, every object row is read and
 * written under the caller's role with its JWT claims set for the transaction, so the
 * `storage.objects` row-level security policies decide; the bytes live in memory (Storage
 * keeps them in S3) and are written only after the row commits. The bearer JWT is verified
 * like PostgREST verifies it. Errors have Storage's body `{ statusCode, error, message }`.
 * Anything else (multipart bodies, signed URLs, buckets API) answers 400 `not_supported`.
 */
import { randomUUID } from 'node:crypto';
import type { SqlExecutor, SqlQueryable } from '@syncline/server';
import { verifyBearer } from './jwt.js';

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
  /** Requests served, in order (for assertions). */
  readonly calls: Array<{ method: string; path: string; status: number }> = [];

  /** `db` connects as the API does (`authenticator`); `admin` is Storage's own access. */
  constructor(db: SqlExecutor, admin: SqlExecutor) {
    this.#db = db;
    this.#admin = admin;
  }

  /** Handles a request under `/storage/v1`. */
  async handle(request: {
    method: string;
    path: string;
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
    this.calls.push({ method: request.method, path: request.path, status: answer.status });
    return answer;
  }

  async #route(request: {
    method: string;
    path: string;
    headers: Record<string, string>;
    body: Uint8Array;
  }): Promise<StorageAnswer> {
    const claims = await this.#claims(request.headers);
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
      if (request.method === 'GET') return this.#download(claims, bucket, name);
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
    const upsert = request.headers['x-upsert'] === 'true';
    const owner = typeof claims.sub === 'string' ? claims.sub : null;
    const metadata = {
      eTag: `"${randomUUID()}"`,
      size: request.body.byteLength,
      mimetype: type || 'application/octet-stream',
      cacheControl: request.headers['cache-control'] ?? 'no-cache',
      lastModified: new Date().toISOString(),
      contentLength: request.body.byteLength,
      httpStatusCode: 200,
    };
    const [row] = await this.#asCaller(claims, (tx) =>
      tx.query<{ id: string }>(
        `INSERT INTO storage.objects (bucket_id, name, owner, owner_id, metadata, version)
         VALUES ($1, $2, $3::uuid, $4, $5::jsonb, $6)
         ${
           upsert
             ? `ON CONFLICT (bucket_id, name) DO UPDATE SET owner = EXCLUDED.owner,
                  owner_id = EXCLUDED.owner_id, metadata = EXCLUDED.metadata,
                  version = EXCLUDED.version, updated_at = now()`
             : ''
         }
         RETURNING id`,
        [bucket, name, owner, owner, JSON.stringify(metadata), randomUUID()],
      ),
    );
    this.bytes.set(`${bucket}/${name}`, request.body.slice());
    return json(200, { Id: row?.id, Key: `${bucket}/${name}` });
  }

  async #download(
    claims: Record<string, unknown>,
    bucket: string,
    name: string,
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
    return {
      status: 200,
      headers: {
        'content-type': rows[0]?.metadata?.mimetype ?? 'application/octet-stream',
        'content-length': String(bytes.byteLength),
      },
      body: bytes,
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
