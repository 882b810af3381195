/**
 * The `AssetTransport` over Supabase Storage: an asset is the object `<user id>/<sha256>` in a
 * private bucket, guarded by the `storage.objects` policies of `sql/0003_syncline_sessions.sql`
 * (only the sender's user and the sessions its deliveries target may read it).
 *
 * Storage's standard upload takes a whole object, so the chunks the client sends are gathered
 * in memory and uploaded (with `upsert`) once the last one arrives, after their SHA-256 is
 * checked; an interrupted upload restarts from the first chunk. Downloads fetch the whole
 * object once and answer the client's ranged reads from it.
 *
 * @module
 */
import { type AssetProbe, type AssetTransport, SyncError, sha256Hex } from '@syncline/sync-core';
import type { StorageErrorLike, SupabaseClientLike, SupabaseStorageLike } from './client-like.js';
import { callRpc, validatedAnswer } from './rpc-call.js';

/** Where assets go (`supabaseTransport({ assets })`). */
export interface SupabaseAssetOptions {
  /**
   * The private Storage bucket. The SQL creates `syncline-assets` and guards it; another name
   * also needs `syncline.asset_bucket()` replaced (see the guide).
   * @default 'syncline-assets'
   */
  bucket?: string;
  /**
   * Largest asset in bytes (it is held in memory while it uploads). Supabase's default upload
   * limit is 50 MB.
   * @default 52428800
   */
  maxAssetBytes?: number;
}

/** What the asset part needs besides the client. */
export interface StorageAssetContext {
  /** The signed-in user, or `undefined` when signed out. */
  userId: () => string | undefined;
  /** Where a failed clean-up is reported. */
  onError: (error: Error) => void;
}

interface PendingUpload {
  totalSize: number;
  chunks: Uint8Array[];
  received: number;
}

/** The default bucket of `sql/0003_syncline_sessions.sql`. */
export const DEFAULT_ASSET_BUCKET = 'syncline-assets';

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
  if (status === 429) return new SyncError('rate-limited', message, options);
  if (status >= 500) return new SyncError('server', message, options);
  return new SyncError('rejected', message, options);
}

/** Removes `paths` from the bucket; failures go to `onError` (the next clean-up retries). */
export async function removeObjects(
  storage: SupabaseStorageLike,
  bucket: string,
  paths: string[],
  onError: (error: Error) => void,
): Promise<void> {
  if (paths.length === 0) return;
  try {
    const { error } = await storage.from(bucket).remove(paths);
    if (error !== null) onError(syncErrorFromStorage(error, 'remove'));
  } catch (error) {
    onError(new SyncError('network', 'Storage remove failed', { cause: error }));
  }
}

/** The asset part over `client.storage`. */
export function storageAssets(
  client: Pick<SupabaseClientLike, 'rpc'>,
  storage: SupabaseStorageLike,
  options: SupabaseAssetOptions,
  context: StorageAssetContext,
): AssetTransport {
  const bucket = options.bucket ?? DEFAULT_ASSET_BUCKET;
  const maxBytes = options.maxAssetBytes ?? 50 * 1024 * 1024;
  const uploads = new Map<string, PendingUpload>();
  let lastDownload: { sha256: string; bytes: Uint8Array } | undefined;

  const locate = async (sha256: string, signal?: AbortSignal) => {
    const data = await callRpc(client.rpc('syncline_asset_locate', { sha256 }), signal);
    return validatedAnswer('the syncline SQL', () => {
      const answer = data as { path?: unknown; size?: unknown };
      if (typeof answer?.path !== 'string' || typeof answer.size !== 'number') throw data;
      return { path: answer.path, size: answer.size };
    });
  };

  const probe = async (sha256: string, signal?: AbortSignal): Promise<AssetProbe> => {
    const pending = uploads.get(sha256);
    if (pending !== undefined) return { offset: pending.received, complete: false };
    try {
      const { size } = await locate(sha256, signal);
      return { offset: size, length: size, complete: true };
    } catch (error) {
      if (error instanceof SyncError && error.status === 404) return { offset: 0, complete: false };
      throw error;
    }
  };

  const finish = async (sha256: string, upload: PendingUpload, signal?: AbortSignal) => {
    const bytes = new Uint8Array(upload.totalSize);
    let at = 0;
    for (const chunk of upload.chunks) {
      bytes.set(chunk, at);
      at += chunk.length;
    }
    if (sha256Hex(bytes) !== sha256) {
      uploads.delete(sha256);
      throw new SyncError('rejected', `the bytes of asset ${sha256} do not match its SHA-256`, {
        code: 'hash_mismatch',
      });
    }
    const userId = context.userId();
    if (userId === undefined) throw new SyncError('auth', 'signed out: the asset cannot upload');
    let result: Awaited<ReturnType<ReturnType<SupabaseStorageLike['from']>['upload']>>;
    try {
      result = await storage.from(bucket).upload(`${userId}/${sha256}`, bytes, {
        upsert: true,
        contentType: 'application/octet-stream',
      });
    } catch (error) {
      result = { data: null, error: { message: String(error) } };
    }
    if (signal?.aborted) throw new SyncError('network', 'the upload was aborted');
    if (result.error !== null) throw syncErrorFromStorage(result.error, 'upload');
    uploads.delete(sha256);
  };

  return {
    probe,
    uploadedOffset: async (sha256, signal) => {
      const held = await probe(sha256, signal);
      return held.complete ? (held.length ?? held.offset) : held.offset;
    },
    async uploadChunk({ sha256, offset, totalSize, chunk }, signal) {
      if (totalSize > maxBytes) {
        throw new SyncError('rejected', `assets are at most ${maxBytes} bytes here`, {
          status: 413,
          code: 'too_large',
        });
      }
      let upload = uploads.get(sha256);
      if (upload === undefined || upload.totalSize !== totalSize || offset === 0) {
        upload = { totalSize, chunks: [], received: 0 };
        uploads.set(sha256, upload);
      }
      if (offset !== upload.received) {
        throw new SyncError('conflict', `asset upload: continue at byte ${upload.received}`, {
          status: 409,
          code: 'offset_mismatch',
          details: { offset: upload.received },
        });
      }
      upload.chunks.push(chunk.slice());
      upload.received += chunk.length;
      if (upload.received < totalSize) return;
      try {
        await finish(sha256, upload, signal);
      } catch (error) {
        // The last chunk is taken back, so a retry sends it again and the upload runs again.
        upload.chunks.pop();
        upload.received -= chunk.length;
        throw error;
      }
    },
    async download({ sha256, start, end }, signal) {
      if (lastDownload?.sha256 !== sha256) {
        const { path } = await locate(sha256, signal);
        let result: Awaited<ReturnType<ReturnType<SupabaseStorageLike['from']>['download']>>;
        try {
          result = await storage
            .from(bucket)
            .download(path, {}, signal === undefined ? {} : { signal });
        } catch (error) {
          result = { data: null, error: { message: String(error) } };
        }
        if (result.error !== null || result.data === null) {
          throw syncErrorFromStorage(result.error ?? { message: 'no body' }, 'download');
        }
        lastDownload = { sha256, bytes: new Uint8Array(await result.data.arrayBuffer()) };
      }
      const bytes = lastDownload.bytes;
      if (end === undefined || end >= bytes.length) lastDownload = undefined;
      return bytes.slice(start, end);
    },
  };
}
