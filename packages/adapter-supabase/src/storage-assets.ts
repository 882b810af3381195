/**
 * The `AssetTransport` over Supabase Storage: an asset is the object `<user id>/<sha256>` in a
 * private bucket, guarded by the `storage.objects` policies of `sql/0003_syncline_sessions.sql`
 * (only the sender's user and the sessions its deliveries target may read it).
 *
 * Uploads are Storage's resumable (TUS) uploads (`storage-upload.ts`): streamed in 6 MB parts,
 * resumed from the offset the server holds; after each part, the live transfers the user holds
 * of the asset move on (`syncline_asset_upload_progress`), as the reference server moves them
 * per chunk. Downloads are ranged GETs of the authenticated
 * object URL, streamed, so an interrupted download continues from the bytes already stored.
 *
 * @module
 */
import { type AssetProbe, type AssetTransport, SyncError } from '@syncline/sync-core';
import type { SupabaseClientLike, SupabaseStorageLike } from './client-like.js';
import { callRpc, validatedAnswer } from './rpc-call.js';
import {
  rangedDownload,
  type StorageHttp,
  storageHttp,
  syncErrorFromStorage,
} from './storage-http.js';
import { TusUploads, type UploadUrlStore } from './storage-upload.js';
import { databaseUploadUrls } from './upload-urls-rpc.js';

export { syncErrorFromStorage } from './storage-http.js';
export type { UploadUrlStore } from './storage-upload.js';

/** Where assets go (`supabaseTransport({ assets })`). */
export interface SupabaseAssetOptions {
  /**
   * The private Storage bucket. The SQL creates `syncline-assets` and guards it; another name
   * also needs `syncline.asset_bucket()` replaced (see the guide).
   * @default 'syncline-assets'
   */
  bucket?: string;
  /**
   * Largest asset in bytes, refused before any byte is sent (413 `too_large`). Supabase's own
   * file size limit (the project's, or the bucket's `file_size_limit`) decides too: raise both
   * together. Nothing is held whole in memory, whatever the size.
   * @default 52428800 (50 MiB, Supabase's default upload limit)
   */
  maxAssetBytes?: number;
  /**
   * Where the URLs of unfinished uploads are kept, so that an upload interrupted by a reload or
   * a process restart continues from the bytes Storage already holds. The default needs
   * nothing on any platform; pass a store only to keep them elsewhere (`localStorage` fits).
   * @default the database: `syncline_asset_upload_url` / `syncline_asset_upload_url_set` of
   *   `sql/0003_syncline_sessions.sql`, per user and SHA-256
   */
  uploadUrls?: UploadUrlStore;
}

/** What the asset part needs besides the client. */
export interface StorageAssetContext {
  /** The signed-in user, or `undefined` when signed out. */
  userId: () => string | undefined;
  /** Where a failed clean-up is reported. */
  onError: (error: Error) => void;
}

/** The default bucket of `sql/0003_syncline_sessions.sql`. */
export const DEFAULT_ASSET_BUCKET = 'syncline-assets';

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
  let resolved: StorageHttp | undefined;
  const http = () => {
    resolved ??= storageHttp(storage.from(bucket));
    return resolved;
  };
  const uploads = new TusUploads({
    http,
    bucket,
    userId: context.userId,
    urls: options.uploadUrls ?? databaseUploadUrls(client),
    // Storage writes nothing to the database before the last byte: the holder of a transfer
    // reports its progress per part (a report that fails goes to onError; the upload goes on).
    partSent: async (sha256, bytesDone, totalBytes) => {
      try {
        const args = { sha256, bytes_done: bytesDone, total_bytes: totalBytes };
        const moved = await callRpc(client.rpc('syncline_asset_upload_progress', args), undefined);
        return typeof moved === 'number' && moved > 0;
      } catch (error) {
        context.onError(error instanceof Error ? error : new Error(String(error)));
        return false;
      }
    },
  });

  // `syncline_asset_locate` (the probe: also the user's own copy that nothing references yet)
  // or `syncline_asset_source` (a download: only a copy a live delivery or transfer references,
  // so an expired delivery's asset is `rejected` `not_found`, final for that item).
  const objectOf = async (
    fn: 'syncline_asset_locate' | 'syncline_asset_source',
    sha256: string,
    signal?: AbortSignal,
  ) => {
    const data = await callRpc(client.rpc(fn, { sha256 }), signal);
    return validatedAnswer('the syncline SQL', () => {
      const answer = data as { path?: unknown; size?: unknown };
      if (typeof answer?.path !== 'string' || typeof answer.size !== 'number') throw data;
      return { path: answer.path, size: answer.size };
    });
  };

  const probe = (sha256: string, signal?: AbortSignal): Promise<AssetProbe> =>
    uploads.queued(sha256, async () => {
      try {
        const { size } = await objectOf('syncline_asset_locate', sha256, signal);
        return { offset: size, length: size, complete: true };
      } catch (error) {
        if (!(error instanceof SyncError && error.status === 404)) throw error;
      }
      const held = await uploads.held(sha256, signal);
      return held === undefined
        ? { offset: 0, complete: false }
        : { offset: held.offset, length: held.size, complete: false };
    });

  const downloadStream: NonNullable<AssetTransport['downloadStream']> = async (req, signal) => {
    const { path } = await objectOf('syncline_asset_source', req.sha256, signal);
    return rangedDownload(http(), { bucket, path, start: req.start, end: req.end }, signal);
  };

  return {
    probe,
    uploadedOffset: async (sha256, signal) => {
      const held = await probe(sha256, signal);
      return held.complete ? (held.length ?? held.offset) : held.offset;
    },
    uploadChunk(req, signal) {
      if (req.totalSize > maxBytes) {
        return Promise.reject(
          new SyncError('rejected', `assets are at most ${maxBytes} bytes here`, {
            status: 413,
            code: 'too_large',
          }),
        );
      }
      return uploads.queued(req.sha256, () => uploads.take(req, signal));
    },
    downloadStream,
    async download({ sha256, start, end }, signal) {
      const { path, size } = await objectOf('syncline_asset_source', sha256, signal);
      const stop = Math.min(end ?? size, size);
      if (start >= stop) return new Uint8Array();
      const stream = await rangedDownload(http(), { bucket, path, start, end: stop }, signal);
      const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
      return bytes.length > stop - start ? bytes.subarray(0, stop - start) : bytes;
    },
  };
}
