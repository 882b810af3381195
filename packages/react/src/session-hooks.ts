import {
  type Delivery,
  observeDeliveries,
  observeSessions,
  observeTransfers,
  type SessionInfo,
  type TransferProgress,
} from '@syncline/sync-core';
import { useMemo } from 'react';
import { useSyncClient } from './context.js';
import { NO_ITEMS, NO_SESSIONS } from './server-snapshots.js';
import { useObserver } from './use-observer.js';

/** What {@link useSessions} returns. */
export interface SessionsState {
  /** This device's session, once the server knows it, or `null`. */
  current: SessionInfo | null;
  /** The user's sessions (devices), or `null` until listed and while signed out. */
  sessions: readonly SessionInfo[] | null;
  /** Lists the sessions again. */
  refresh(): Promise<void>;
  /** Signs a session out (revokes it); the list follows. */
  revoke(sessionId: string): Promise<void>;
  /** Signs out every session of the user, this one included. */
  revokeAll(): Promise<void>;
}

/**
 * The signed-in user's devices (sessions), listed from the server and kept current by the
 * client's session events, with "sign out this device". Renders nothing known on the server
 * and during hydration.
 *
 * @example
 * ```tsx
 * const { current, sessions, revoke } = useSessions();
 * sessions?.map((s) => (
 *   <li key={s.sessionId}>
 *     {s.label} {s.sessionId === current?.sessionId ? '(this device)' : ''}
 *     <button onClick={() => revoke(s.sessionId)}>Sign out this device</button>
 *   </li>
 * ));
 * ```
 */
export function useSessions(): SessionsState {
  const client = useSyncClient();
  const observer = useMemo(() => observeSessions(client), [client]);
  const { current, sessions } = useObserver(observer, NO_SESSIONS);
  return useMemo(
    () => ({
      current,
      sessions,
      refresh: () => observer.refresh(),
      revoke: (sessionId: string) => client.sessions.revoke(sessionId),
      revokeAll: () => client.sessions.revokeAll(),
    }),
    [client, observer, current, sessions],
  );
}

/**
 * Every upload and download of the client, for progress bars: `bytesDone / totalBytes`, `rate`
 * (bytes per second), `etaMs`, `state`. Re-renders when one of them moves (a stable array
 * otherwise); empty on the server and during hydration.
 *
 * @example
 * ```tsx
 * const transfers = useTransfers();
 * transfers.map((t) => <progress key={t.id} value={t.bytesDone} max={t.totalBytes || 1} />);
 * ```
 */
export function useTransfers(): readonly TransferProgress[] {
  const client = useSyncClient();
  const observer = useMemo(() => observeTransfers(client), [client]);
  return useObserver(observer, NO_ITEMS);
}

/**
 * The deliveries this session received while the component was mounted (of `kind`, or all),
 * oldest first. Mounting registers a `delivery` listener of `kind` (of every kind without it),
 * which acknowledges each delivery it lists. A delivery of another kind is not acknowledged by
 * it: while only `useDeliveries('chat')` is mounted, an `'open-url'` delivery waits for a
 * listener of its kind (`client.on('delivery', listener, { kind: 'open-url' })`). One sent
 * while nothing listens for its kind waits on the server and arrives at the next mount.
 * A file sent with `client.assets.send` arrives as kind `ASSET_DELIVERY_KIND` once downloaded
 * and verified (read it with `client.assets.get(delivery.assetHash)`). Empty on the server.
 */
export function useDeliveries(kind?: string): readonly Delivery[] {
  const client = useSyncClient();
  const observer = useMemo(() => observeDeliveries(client, kind), [client, kind]);
  return useObserver(observer, NO_ITEMS);
}
