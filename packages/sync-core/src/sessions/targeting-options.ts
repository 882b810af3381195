import type { AssetStore } from '../assets/asset-store.js';
import type { LockManagerLike } from '../deliveries/locks.js';

/**
 * The options of `createSyncClient` that apply only with session targeting (`targeting:
 * sessionTargeting()`): this device's session, delivery locks and asset transfers. Part of
 * `SyncClientOptions`; session targeting reads them from there.
 */
export interface TargetingOptions {
  /** A label for this device, shown in session lists, e.g. "Firefox on Linux". */
  label?: string;
  /** This device's platform, shown in session lists, e.g. `'web'`, `'ios'`, `'electron'`. */
  platform?: string;
  /**
   * Milliseconds between heartbeats of this device's session (keep it well inside the server's
   * active window, 24 h by default).
   * @default 900000 (15 min)
   */
  heartbeatIntervalMs?: number;
  /**
   * Lets one tab at a time handle a delivery of the session the tabs share.
   * @default `navigator.locks` where it exists, otherwise a lock per client
   */
  locks?: LockManagerLike;
  /**
   * Where received and sent asset bytes are kept.
   * @default `indexedDbAssetStore()` where IndexedDB exists, `memoryAssetStore()` elsewhere
   *   (Node apps pass `fileAssetStore({ directory })` from `@syncline/sync-core/node`)
   */
  assetStore?: AssetStore;
  /**
   * Bytes per asset upload request; a download streams the rest of an asset in one request
   * (where the transport can) and appends it to the asset store in pieces of this size.
   * @default 4194304 (4 MiB)
   */
  assetChunkBytes?: number;
  /**
   * Asset upload requests in flight at once (sent in order; a failure or an offset the server
   * does not expect resumes from the server's offset). At most this many chunks of
   * `assetChunkBytes` are held in memory by an upload.
   * @default 2
   */
  assetUploadWindow?: number;
}
