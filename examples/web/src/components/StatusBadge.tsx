import { useSyncStatus } from '@syncline/react';
import type { SyncState } from '@syncline/sync-core';

const LABELS: Record<SyncState, string> = {
  local: 'Saved locally',
  syncing: 'Syncing',
  synced: 'Synced',
  offline: 'Offline',
  error: 'Sync error',
};

function time(epochMs: number): string {
  return new Date(epochMs).toLocaleTimeString();
}

/** Where the data is: saved locally, syncing, synced, offline or in error; pending and last sync. */
export function StatusBadge() {
  const { state, pending, lastSyncedAt, error } = useSyncStatus();
  return (
    <div className={`badge badge-${state}`} data-testid="sync-badge" data-state={state}>
      <span className="dot" />
      <strong data-testid="sync-label">{LABELS[state]}</strong>
      {pending > 0 && <span data-testid="sync-pending">{pending} pending</span>}
      <span className="muted" data-testid="sync-last" data-synced-at={lastSyncedAt ?? ''}>
        {lastSyncedAt === null ? 'not synced yet' : `last synced ${time(lastSyncedAt)}`}
      </span>
      {state === 'error' && error !== undefined && (
        <span className="muted" title={error.message} data-testid="sync-error">
          ({error.code === 'quota_exceeded' ? 'storage full' : error.kind})
        </span>
      )}
    </div>
  );
}
