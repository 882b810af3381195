/**
 * Raw HTTP to Supabase Storage for what storage-js has no method for: resumable (TUS 1.0.0)
 * uploads at `/storage/v1/upload/resumable` and ranged downloads of
 * `/storage/v1/object/authenticated/<bucket>/<path>`. The requests go through storage-js's own
 * `fetch` and base URL (supabase-js hands it a fetch that adds `apikey` and the signed-in
 * session's `Authorization: Bearer`, refreshed as every other call of the client), so the
 * bytes travel with exactly the credentials the app's own Storage calls carry.
 *
 * @module
 */
import { SyncError } from '@syncline/sync-core';
import type { StorageErrorLike, StorageFileApiLike } from './client-like.js';

/** The base URL and authenticated fetch of one storage-js bucket API. */
export interface StorageHttp {
  /** `<project>/storage/v1`. */
  url: string;
  /** storage-js's fetch (adds `apikey` and the session's bearer token). */
  fetch: typeof fetch;
}

/** The TUS state of one upload, as `HEAD` answers it. */
export interface TusOffset {
  /** Bytes the server holds. */
  offset: number;
  /** The upload's length. */
  length: number;
}

/** Bytes of every PATCH but the last: Supabase Storage requires 6 MB parts. */
export const TUS_PART_BYTES = 6 * 1024 * 1024;

const TUS = { 'tus-resumable': '1.0.0' };

/** The raw HTTP access of `api` (a storage-js `StorageFileApi`), or a `misconfigured` error. */
export function storageHttp(api: StorageFileApiLike): StorageHttp {
  // `url` and `fetch` are protected members of storage-js's BaseApiClient (since v2.0).
  const { url, fetch } = api as unknown as { url?: unknown; fetch?: unknown };
  if (typeof url !== 'string' || typeof fetch !== 'function') {
    throw new SyncError(
      'misconfigured',
      'client.storage is not a storage-js client (@supabase/supabase-js v2): assets need its url and fetch',
    );
  }
  return { url: url.replace(/\/+$/, ''), fetch: fetch as typeof globalThis.fetch };
}

/** The SyncError for a failed Storage call. */
export function syncErrorFromStorage(error: StorageErrorLike, what: string): SyncError {
  const status = error.status;
  const message = `Storage ${what}: ${error.message}`;
  if (status === undefined || status === 0) {
    return new SyncError('network', message, { status: 0, cause: error });
  }
  const options = { status, cause: error };
  if (status === 401 || status === 403) return new SyncError('auth', message, options);
  if (status === 408) return new SyncError('timeout', message, options);
  if (status === 413) {
    return new SyncError('rejected', message, { ...options, code: 'too_large' });
  }
  if (status === 429) return new SyncError('rate-limited', message, options);
  if (status >= 500) return new SyncError('server', message, options);
  return new SyncError('rejected', message, options);
}

/** Runs one request; a failure to get an answer is a `network` SyncError. */
async function send(
  http: StorageHttp,
  url: string,
  init: RequestInit,
  what: string,
): Promise<Response> {
  try {
    return await http.fetch(url, init);
  } catch (error) {
    throw new SyncError('network', `Storage ${what}: ${String(error)}`, {
      status: 0,
      cause: error,
    });
  }
}

/**
 * The SyncError for a non-2xx answer (Storage's JSON body, or TUS's plain text). An object
 * that is not there (body `error` `not_found`, or `code` `NoSuchKey`; Storage answers it 404,
 * or 400 with `statusCode` "404" in older versions) is `rejected` with code `not_found`: final
 * for that asset, as the reference server's 404 `not_found`. A missing bucket is not: it stays
 * a plain `rejected`.
 */
async function failed(response: Response, what: string): Promise<SyncError> {
  const text = await response.text().catch(() => '');
  let message = text.trim() || response.statusText;
  let missing = false;
  try {
    const body = JSON.parse(text) as { message?: unknown; error?: unknown; code?: unknown };
    if (typeof body.message === 'string') message = body.message;
    missing = body.error === 'not_found' || body.code === 'NoSuchKey';
  } catch {
    // plain text (a TUS error)
  }
  const error = syncErrorFromStorage({ message, status: response.status }, what);
  if (!missing || error.kind !== 'rejected') return error;
  return new SyncError('rejected', error.message, {
    status: response.status,
    code: 'not_found',
    cause: error.cause,
  });
}

/** `POST /upload/resumable`: creates an upload of `size` bytes for `objectName`; its URL. */
export async function tusCreate(
  http: StorageHttp,
  upload: { bucket: string; objectName: string; size: number },
  signal?: AbortSignal,
): Promise<string> {
  const meta = (key: string, value: string) => `${key} ${btoa(value)}`;
  const response = await send(
    http,
    `${http.url}/upload/resumable`,
    {
      method: 'POST',
      headers: {
        ...TUS,
        'x-upsert': 'true',
        'upload-length': String(upload.size),
        'upload-metadata': [
          meta('bucketName', upload.bucket),
          meta('objectName', upload.objectName),
          meta('contentType', 'application/octet-stream'),
        ].join(','),
      },
      ...(signal === undefined ? {} : { signal }),
    },
    'resumable upload',
  );
  if (response.status !== 201) throw await failed(response, 'resumable upload');
  await response.body?.cancel();
  const location = response.headers.get('location');
  if (location === null) {
    throw new SyncError('server', 'Storage resumable upload: no Location in the answer');
  }
  return new URL(location, `${http.url}/`).href;
}

/** `HEAD <upload>`: what the server holds; `undefined` when the upload is gone (404, 410). */
export async function tusHead(
  http: StorageHttp,
  url: string,
  signal?: AbortSignal,
): Promise<TusOffset | undefined> {
  const init: RequestInit = { method: 'HEAD', headers: TUS };
  if (signal !== undefined) init.signal = signal;
  const response = await send(http, url, init, 'resumable upload offset');
  if (response.status === 404 || response.status === 410) return undefined;
  if (!response.ok) throw await failed(response, 'resumable upload offset');
  const offset = Number(response.headers.get('upload-offset'));
  const length = Number(response.headers.get('upload-length'));
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length)) {
    throw new SyncError('server', 'Storage resumable upload: HEAD without Upload-Offset');
  }
  return { offset, length };
}

/** What a PATCH that was not taken means. */
export type TusPatchRefusal = 'conflict' | 'gone';

/** `PATCH <upload>` at `offset`: the new offset, or why the server did not take it. */
export async function tusPatch(
  http: StorageHttp,
  url: string,
  offset: number,
  body: Uint8Array,
  signal?: AbortSignal,
): Promise<number | TusPatchRefusal> {
  const init: RequestInit = {
    method: 'PATCH',
    headers: {
      ...TUS,
      'x-upsert': 'true',
      'upload-offset': String(offset),
      'content-type': 'application/offset+octet-stream',
    },
    body: body as Uint8Array<ArrayBuffer>,
  };
  if (signal !== undefined) init.signal = signal;
  const response = await send(http, url, init, 'resumable upload');
  if (response.status === 409) {
    await response.body?.cancel();
    return 'conflict';
  }
  if (response.status === 404 || response.status === 410) {
    await response.body?.cancel();
    return 'gone';
  }
  if (!response.ok) throw await failed(response, 'resumable upload');
  const now = Number(response.headers.get('upload-offset'));
  if (!Number.isSafeInteger(now)) {
    throw new SyncError('server', 'Storage resumable upload: PATCH without Upload-Offset');
  }
  return now;
}

/** `DELETE <upload>`: ends an unfinished upload (best effort). */
export async function tusTerminate(http: StorageHttp, url: string): Promise<void> {
  const response = await send(http, url, { method: 'DELETE', headers: TUS }, 'terminate upload');
  await response.body?.cancel();
}

/**
 * `GET /object/authenticated/<bucket>/<path>` with `Range: bytes=<start>-<end - 1>`: the body of
 * a 206 whose `Content-Range` starts at `start` (a 200 is taken only from byte 0).
 */
export async function rangedDownload(
  http: StorageHttp,
  object: { bucket: string; path: string; start: number; end?: number },
  signal?: AbortSignal,
): Promise<ReadableStream<Uint8Array>> {
  const { bucket, path, start, end } = object;
  const range = `bytes=${start}-${end === undefined ? '' : end - 1}`;
  const init: RequestInit = { headers: { range } };
  if (signal !== undefined) init.signal = signal;
  const response = await send(
    http,
    `${http.url}/object/authenticated/${encodeURIComponent(bucket)}/${path.split('/').map(encodeURIComponent).join('/')}`,
    init,
    'download',
  );
  if (!response.ok) throw await failed(response, 'download');
  const from = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '')?.[1];
  const ranged = response.status === 206 && Number(from) === start;
  if ((!ranged && !(response.status === 200 && start === 0)) || response.body === null) {
    await response.body?.cancel();
    throw new SyncError('server', `Storage download: the answer is not bytes ${start}- (${range})`);
  }
  return response.body;
}
