import type { ClaimLocalData } from '../account/claim.js';
import type { AuthSession } from '../transport/types.js';

/**
 * The options of `createSyncClient` about a signed-in session's data: how local data is
 * claimed, where its writes go, and the sizes and timings of its replication. (Part of
 * `SyncClientOptions`; apart so that the session switch, which reads them, depends on
 * nothing else of the client's options.)
 */
export interface ReplicationOptions {
  /**
   * What happens to data written while signed out when a user signs in.
   * @default 'auto'
   */
  claimLocalData?: ClaimLocalData;
  /**
   * The scope a signed-in user's writes go to.
   * @default (session) => `user:${session.userId}`
   */
  scopeFor?: (session: AuthSession) => string;
  /**
   * Maximum mutations per push request.
   * @default 100
   */
  pushBatchSize?: number;
  /**
   * Maximum changes per pull page of a catch-up (a pull from a stored checkpoint).
   * @default 1000
   */
  pullPageSize?: number;
  /**
   * Maximum changes per pull page of an initial sync (a pull from no checkpoint, which
   * downloads the whole scope): fewer, larger pages. Used only once the server's `maxPullLimit`
   * is known (the transport's `info()`, asked at sign-in), and never above it; without it every
   * page has `pullPageSize`. Two such pages can be in memory at once (one applied, one fetched
   * ahead), so lower it for large records on a small device.
   * @default 5000
   */
  initialPullPageSize?: number;
  /**
   * Fallback pull interval when no realtime poke arrives, in milliseconds.
   * @default 30000
   */
  pullIntervalMs?: number;
  /**
   * A request that has not answered after this long is aborted and retried.
   * @default 30000
   */
  requestTimeoutMs?: number;
}
