import type { Retryer } from '../replication/retryer.js';
import type { AssetTransport } from '../transport/types.js';
import type { AssetStore } from './asset-store.js';

/** What an upload or download runs with. */
export interface TransferRun {
  /** The transport's asset part. */
  transport: AssetTransport;
  /** The local asset store. */
  store: AssetStore;
  /** The client's one retryer. */
  retryer: Retryer;
  /** Aborted on sign-out or stop. */
  signal: AbortSignal;
  /** Bytes per upload request, and per store append of a download. */
  chunkBytes: number;
  /** Upload requests in flight at once (1 when omitted). */
  window?: number;
  /** Called after each chunk with bytes done and total. */
  onProgress(bytesDone: number, totalBytes: number): void;
}
