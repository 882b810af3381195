import { observeClient, observeStatus, type SyncStatus } from '@syncline/sync-core';
import { useMemo } from 'react';
import { useSyncClient } from './context.js';
import { SERVER_STATUS } from './server-snapshots.js';
import { useObserver } from './use-observer.js';

/**
 * The client's sync status (`state`, `pending`, `conflicts`, `rejected`, `lastSyncedAt`,
 * `error`, `userId`). Re-renders only when the status really changes, never for record changes.
 * Renders a signed-out, nothing-pending status on the server and during hydration.
 *
 * @example
 * ```tsx
 * const { state, pending } = useSyncStatus();
 * return <span>{state === 'synced' ? 'Synced' : `${pending} to sync`}</span>;
 * ```
 */
export function useSyncStatus(): SyncStatus {
  const client = useSyncClient();
  const observer = useMemo(() => observeStatus(client), [client]);
  return useObserver(observer, SERVER_STATUS);
}

/**
 * The number of local writes not yet confirmed by the server. Re-renders only when the number
 * changes.
 */
export function usePendingCount(): number {
  const client = useSyncClient();
  // Woken once per batch of changes (a status change is committed in it); the number is the snapshot.
  const observer = useMemo(() => observeClient(client, (c) => c.status.pending), [client]);
  return useObserver(observer, 0);
}
