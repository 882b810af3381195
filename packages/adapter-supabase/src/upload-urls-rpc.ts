/**
 * The default {@link UploadUrlStore}: the URLs of unfinished uploads kept in the database, per
 * (user, sha256), through `syncline_asset_upload_url` and `syncline_asset_upload_url_set` of
 * `sql/0003_syncline_sessions.sql`. Every platform has it, so a sender whose process restarts
 * (Node, React Native, a browser without `localStorage`) continues an upload where Storage
 * stands instead of from byte 0.
 *
 * @module
 */
import { SyncError } from '@syncline/sync-core';
import type { SupabaseClientLike } from './client-like.js';
import { callRpc, validatedAnswer } from './rpc-call.js';
import type { UploadUrlStore } from './storage-upload.js';

/** The asset's SHA-256 in an upload key (`syncline-upload:<user>:<bucket>:<sha256>`). */
function sha256Of(key: string): string {
  const sha256 = key.slice(key.lastIndexOf(':') + 1);
  if (!/^[0-9a-f]{64}$/.test(sha256)) {
    throw new SyncError('rejected', `not an upload key: ${key}`, { code: 'invalid_request' });
  }
  return sha256;
}

/** Upload URLs kept by the syncline SQL for the signed-in user. */
export function databaseUploadUrls(client: Pick<SupabaseClientLike, 'rpc'>): UploadUrlStore {
  return {
    async getItem(key) {
      const data = await callRpc(
        client.rpc('syncline_asset_upload_url', { sha256: sha256Of(key) }),
        undefined,
      );
      return validatedAnswer('the syncline SQL', () => {
        if (data === null) return null;
        const saved = data as { url?: unknown; size?: unknown };
        if (typeof saved.url !== 'string' || typeof saved.size !== 'number') throw data;
        return JSON.stringify({ url: saved.url, size: saved.size });
      });
    },
    async setItem(key, value) {
      const { url, size } = JSON.parse(value) as { url: string; size: number };
      await callRpc(
        client.rpc('syncline_asset_upload_url_set', { sha256: sha256Of(key), url, size }),
        undefined,
      );
    },
    async removeItem(key) {
      await callRpc(
        client.rpc('syncline_asset_upload_url_set', { sha256: sha256Of(key), url: null }),
        undefined,
      );
    },
  };
}
