import type { SessionsSnapshot, SyncStatus } from '@syncline/sync-core';

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

/**
 * The empty list every list hook renders on the server (records, conflicts, dead letters,
 * transfers, deliveries): one frozen array, whatever the item type.
 */
export const NO_ITEMS: readonly never[] = Object.freeze([]);

/**
 * No session known, on the server. Marked pure (freezing a fresh literal has no side effect),
 * so an app that never calls `useSessions` does not ship it.
 */
export const NO_SESSIONS: SessionsSnapshot = /* @__PURE__ */ Object.freeze({
  current: null,
  sessions: null,
});
