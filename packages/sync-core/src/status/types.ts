import type { SyncError } from '../errors/sync-error.js';

/** Where the UI says the data is. */
export type SyncState = 'local' | 'offline' | 'syncing' | 'synced' | 'error';

/** A snapshot of the client's sync status; a new object only when something changed. */
export interface SyncStatus {
  /**
   * `local`: signed out, "Saved locally". `offline`: signed in, and the device has no network
   * or the server cannot be reached (then `error` is the `network` error); the client probes
   * and resumes by itself. `syncing`: pushing or pulling. `synced`: nothing pending, up to
   * date, and `lastSyncedAt` is set. `error`: the last attempt failed (see `error`,
   * `error.kind`): it is retried (`misconfigured` too: fix the transport's setup), or, for
   * `auth`, resumed on a new session, on `syncNow()` or after a while.
   */
  state: SyncState;
  /** Mutations not yet confirmed by the server. */
  pending: number;
  /** Conflicts parked for manual resolution. */
  conflicts: number;
  /** Mutations rejected permanently and kept in the dead-letter list. */
  rejected: number;
  /** When the client last finished a push and pull with nothing left (epoch ms), or `null`. */
  lastSyncedAt: number | null;
  /** The last error, while `state` is `error`, or `offline` because the server is unreachable. */
  error?: SyncError;
  /** The signed-in user, or `null`. */
  userId: string | null;
}

/** Sync state of one record. */
export type RecordSyncState = 'synced' | 'pending' | 'conflict' | 'rejected';
