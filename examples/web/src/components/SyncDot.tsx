import { useRecordStatus } from '@syncline/react';

const TITLES = {
  synced: 'Synced',
  pending: 'Not synced yet',
  conflict: 'In conflict: see the panel',
  rejected: 'Rejected by the server: see the panel',
} as const;

/** A record's sync state as a dot: nothing when synced, a coloured dot otherwise. */
export function SyncDot({ collection, id }: { collection: string; id: string }) {
  const state = useRecordStatus(collection, id);
  return (
    <span
      role="img"
      className={`sync-dot sync-dot-${state}`}
      data-sync={state}
      title={TITLES[state]}
      aria-label={TITLES[state]}
    />
  );
}
