/**
 * The client's chunked, resumable asset upload mapped onto Supabase Storage's resumable (TUS)
 * uploads: the first chunk creates the upload, the client's chunks are gathered into the 6 MB
 * PATCHes Storage requires (the last one shorter), and the offset the client resumes from is
 * the TUS offset the server answers to `HEAD`. At most one part and one chunk are held in
 * memory; the object appears in `storage.objects` when the last byte arrives.
 *
 * Upload URLs are kept in an {@link UploadUrlStore} (by default the database's, see
 * `upload-urls-rpc.ts`), so an upload interrupted by a reload or a restart continues where the
 * server stands.
 *
 * @module
 */
import { Sha256, SyncError } from '@syncline/sync-core';
import {
  type StorageHttp,
  TUS_PART_BYTES,
  tusCreate,
  tusHead,
  tusPatch,
  tusTerminate,
} from './storage-http.js';

/**
 * Where the URLs of unfinished uploads are kept, by key. `localStorage` and `sessionStorage`
 * fit as they are; the methods may also return promises (e.g. over AsyncStorage).
 */
export interface UploadUrlStore {
  /** The value under `key`, or `null`. */
  getItem(key: string): string | null | Promise<string | null>;
  /** Keeps `value` under `key`. */
  setItem(key: string, value: string): void | Promise<void>;
  /** Forgets `key`. */
  removeItem(key: string): void | Promise<void>;
}

/** An upload in progress. */
interface TusUpload {
  url: string;
  size: number;
  /** Bytes the server holds. */
  offset: number;
  /** Chunks taken but not sent yet (they follow `offset`). */
  pending: Uint8Array[];
  pendingBytes: number;
  /** The hash of bytes `[0, offset + pendingBytes)`, when this upload saw them all. */
  hash: Sha256 | undefined;
  /** Whether {@link TusUploadsContext.partSent} still wants to hear of this upload's parts. */
  reporting: boolean;
}

/** What an upload needs. */
export interface TusUploadsContext {
  /** The bucket's raw HTTP access (resolved on first use). */
  http: () => StorageHttp;
  bucket: string;
  /** The signed-in user, or `undefined` when signed out. */
  userId: () => string | undefined;
  /** Where upload URLs are kept across reloads and restarts. */
  urls: UploadUrlStore;
  /**
   * Told after each part Storage took, with the bytes it now holds; answers whether to go on
   * telling for this upload (e.g. `false` when no transfer waits for it).
   */
  partSent?: (sha256: string, bytesDone: number, totalBytes: number) => Promise<boolean>;
}

/** The TUS side of one transport's uploads. */
export class TusUploads {
  readonly #context: TusUploadsContext;
  readonly #uploads = new Map<string, TusUpload>();
  /** Work on one asset runs in the order it was asked for (the client issues chunks in order). */
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(context: TusUploadsContext) {
    this.#context = context;
  }

  /** Runs `fn` after everything asked earlier for `sha256`. */
  queued<T>(sha256: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.#queues.get(sha256) ?? Promise.resolve()).then(fn, fn);
    const settled = run.catch(() => undefined);
    this.#queues.set(sha256, settled);
    void settled.then(() => {
      if (this.#queues.get(sha256) === settled) this.#queues.delete(sha256);
    });
    return run;
  }

  /**
   * What the server holds of an unfinished upload of `sha256` (after `HEAD`), or `undefined`
   * when there is none. Chunks taken but not sent are dropped: the client continues from the
   * server's offset. Call inside {@link queued}.
   */
  async held(
    sha256: string,
    signal?: AbortSignal,
  ): Promise<{ offset: number; size: number } | undefined> {
    const upload = await this.#find(sha256, signal);
    if (upload === undefined) return undefined;
    const head = await tusHead(this.#context.http(), upload.url, signal);
    if (head === undefined) {
      await this.#forget(sha256);
      return undefined;
    }
    upload.offset = head.offset;
    upload.pending = [];
    upload.pendingBytes = 0;
    upload.hash = head.offset === 0 ? new Sha256() : undefined;
    return { offset: head.offset, size: upload.size };
  }

  /** Takes the chunk at `offset`; sends every full part, and the rest with the last chunk. */
  async take(
    req: { sha256: string; offset: number; totalSize: number; chunk: Uint8Array },
    signal?: AbortSignal,
  ): Promise<void> {
    const { sha256, offset, totalSize, chunk } = req;
    let upload = await this.#find(sha256, signal);
    if (upload !== undefined && upload.size !== totalSize) {
      await this.#forget(sha256);
      upload = undefined;
    }
    if (upload === undefined) {
      if (offset !== 0) throw mismatch(0);
      upload = await this.#create(sha256, totalSize, signal);
    }
    const expected = upload.offset + upload.pendingBytes;
    if (offset !== expected) throw mismatch(expected);
    upload.pending.push(chunk.slice());
    upload.pendingBytes += chunk.length;
    upload.hash?.update(chunk);
    const last = offset + chunk.length === totalSize;
    if (last && upload.hash !== undefined && upload.hash.digestHex() !== sha256) {
      await tusTerminate(this.#context.http(), upload.url).catch(() => undefined);
      await this.#forget(sha256);
      throw new SyncError('rejected', `the bytes of asset ${sha256} do not match its SHA-256`, {
        code: 'hash_mismatch',
      });
    }
    while (upload.pendingBytes >= TUS_PART_BYTES || (last && upload.pendingBytes > 0)) {
      await this.#sendPart(sha256, upload, signal);
    }
    if (upload.offset === totalSize) await this.#forget(sha256);
  }

  async #sendPart(sha256: string, upload: TusUpload, signal?: AbortSignal): Promise<void> {
    const body = takeBytes(upload, Math.min(TUS_PART_BYTES, upload.pendingBytes));
    let answer: Awaited<ReturnType<typeof tusPatch>>;
    try {
      answer = await tusPatch(this.#context.http(), upload.url, upload.offset, body, signal);
    } catch (error) {
      // Where the server stands is unknown: the client asks (probe) and continues from there.
      dropPending(upload);
      throw error;
    }
    if (typeof answer === 'number') {
      upload.offset = answer;
      const partSent = this.#context.partSent;
      if (upload.reporting && partSent !== undefined) {
        upload.reporting = await partSent(sha256, answer, upload.size);
      }
      return;
    }
    dropPending(upload);
    if (answer === 'gone') {
      await this.#forget(sha256);
      throw mismatch(0);
    }
    const head = await tusHead(this.#context.http(), upload.url, signal);
    if (head === undefined) {
      await this.#forget(sha256);
      throw mismatch(0);
    }
    upload.offset = head.offset;
    throw mismatch(head.offset);
  }

  async #create(sha256: string, size: number, signal?: AbortSignal): Promise<TusUpload> {
    const userId = this.#context.userId();
    if (userId === undefined) throw new SyncError('auth', 'signed out: the asset cannot upload');
    const url = await tusCreate(
      this.#context.http(),
      { bucket: this.#context.bucket, objectName: `${userId}/${sha256}`, size },
      signal,
    );
    const upload: TusUpload = {
      url,
      size,
      offset: 0,
      pending: [],
      pendingBytes: 0,
      hash: new Sha256(),
      reporting: true,
    };
    this.#uploads.set(sha256, upload);
    await this.#context.urls.setItem(this.#key(sha256), JSON.stringify({ url, size }));
    return upload;
  }

  /** The upload of `sha256` this transport knows, or the one the URL store remembers. */
  async #find(sha256: string, signal?: AbortSignal): Promise<TusUpload | undefined> {
    const known = this.#uploads.get(sha256);
    if (known !== undefined) return known;
    const kept = await this.#context.urls.getItem(this.#key(sha256));
    const saved = parseSaved(kept);
    if (saved === undefined) return undefined;
    const head = await tusHead(this.#context.http(), saved.url, signal);
    if (head === undefined || head.length !== saved.size) {
      await this.#context.urls.removeItem(this.#key(sha256));
      return undefined;
    }
    const upload: TusUpload = {
      ...saved,
      offset: head.offset,
      pending: [],
      pendingBytes: 0,
      hash: head.offset === 0 ? new Sha256() : undefined,
      reporting: true,
    };
    this.#uploads.set(sha256, upload);
    return upload;
  }

  async #forget(sha256: string): Promise<void> {
    this.#uploads.delete(sha256);
    await this.#context.urls.removeItem(this.#key(sha256));
  }

  #key(sha256: string): string {
    return `syncline-upload:${this.#context.userId() ?? ''}:${this.#context.bucket}:${sha256}`;
  }
}

function parseSaved(value: string | null): { url: string; size: number } | undefined {
  if (value === null) return undefined;
  try {
    const saved = JSON.parse(value) as { url?: unknown; size?: unknown };
    if (typeof saved.url === 'string' && typeof saved.size === 'number') {
      return { url: saved.url, size: saved.size };
    }
  } catch {
    // not ours: ignored
  }
  return undefined;
}

function mismatch(offset: number): SyncError {
  return new SyncError('conflict', `asset upload: continue at byte ${offset}`, {
    status: 409,
    code: 'offset_mismatch',
    details: { offset },
  });
}

function dropPending(upload: TusUpload): void {
  upload.pending = [];
  upload.pendingBytes = 0;
  upload.hash = undefined;
}

/** Removes the first `count` pending bytes of `upload` and returns them as one array. */
function takeBytes(upload: TusUpload, count: number): Uint8Array {
  const out = new Uint8Array(count);
  let at = 0;
  while (at < count) {
    const head = upload.pending[0] as Uint8Array;
    const used = Math.min(head.length, count - at);
    out.set(head.subarray(0, used), at);
    at += used;
    if (used === head.length) upload.pending.shift();
    else upload.pending[0] = head.subarray(used);
  }
  upload.pendingBytes -= count;
  return out;
}
