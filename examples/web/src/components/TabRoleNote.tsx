import { useSyncClient } from '@syncline/react';
import { useCallback, useSyncExternalStore } from 'react';

/** Which tab of this browser syncs: this one, or another (this one mirrors it live). */
export function TabRoleNote() {
  const client = useSyncClient();
  const subscribe = useCallback((listener: () => void) => client.subscribe(listener), [client]);
  const role = useSyncExternalStore(
    subscribe,
    () => client.tabRole,
    () => 'solo' as const,
  );
  if (role === 'solo') return null;
  return (
    <p className="tab-role" data-testid="tab-role" data-role={role}>
      {role === 'leader'
        ? 'This tab syncs for every tab of the app in this browser.'
        : 'Another tab of this browser syncs; this one shows its changes live.'}
    </p>
  );
}
