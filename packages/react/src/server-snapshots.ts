import type {
  DeadLetter,
  Delivery,
  ParkedConflict,
  SessionsSnapshot,
  SyncStatus,
  TransferProgress,
  ViewRecord,
} from '@syncline/sync-core';

/**
 * What the hooks render on the server and during hydration: fixed values that need no storage,
 * so the server's HTML and the client's first render always agree.
 */
export const SERVER_STATUS: SyncStatus = Object.freeze({
  state: 'local',
  pending: 0,
  conflicts: 0,
  rejected: 0,
  lastSyncedAt: null,
  userId: null,
});

/** The empty list every list hook renders on the server. */
export const EMPTY_RECORDS: readonly ViewRecord[] = Object.freeze([]);

/** No conflicts, on the server. */
export const NO_CONFLICTS: readonly ParkedConflict[] = Object.freeze([]);

/** No dead letters, on the server. */
export const NO_DEAD_LETTERS: readonly DeadLetter[] = Object.freeze([]);

/** No session known, on the server. */
export const NO_SESSIONS: SessionsSnapshot = Object.freeze({ current: null, sessions: null });

/** No transfers, on the server. */
export const NO_TRANSFERS: readonly TransferProgress[] = Object.freeze([]);

/** No deliveries, on the server. */
export const NO_DELIVERIES: readonly Delivery[] = Object.freeze([]);
