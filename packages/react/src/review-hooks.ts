import {
  type ConflictDecision,
  type DeadLetter,
  observeClient,
  type ParkedConflict,
} from '@syncline/sync-core';
import { useMemo } from 'react';
import { useSyncClient } from './context.js';
import { NO_ITEMS } from './server-snapshots.js';
import { useObserver } from './use-observer.js';

/** What {@link useConflicts} returns. */
export interface ConflictsState {
  /** Conflicts parked by the `manual` resolver, oldest first (a stable array until it changes). */
  conflicts: readonly ParkedConflict[];
  /** Settles a conflict: `{ action: 'server' }` keeps the server's record, `{ action: 'write', data }` writes on top of it. */
  resolve(mutationId: string, decision: ConflictDecision): Promise<void>;
}

/**
 * The conflicts waiting for the user (collections whose resolver is `manual()`), and the way to
 * settle them. Renders no conflicts on the server and during hydration.
 *
 * @example
 * ```tsx
 * const { conflicts, resolve } = useConflicts();
 * conflicts.map((c) => <button onClick={() => resolve(c.mutationId, { action: 'server' })}>Keep theirs</button>);
 * ```
 */
export function useConflicts(): ConflictsState {
  const client = useSyncClient();
  const observer = useMemo(() => observeClient(client, (c) => c.conflicts()), [client]);
  const conflicts = useObserver(observer, NO_ITEMS);
  return useMemo(
    () => ({
      conflicts,
      resolve: (mutationId: string, decision: ConflictDecision) =>
        client.resolveConflict(mutationId, decision),
    }),
    [client, conflicts],
  );
}

/** What {@link useDeadLetters} returns. */
export interface DeadLettersState {
  /** Writes the server rejected permanently (a stable array until it changes). */
  deadLetters: readonly DeadLetter[];
  /** Queues the rejected change again, on the record's current revision. */
  retry(mutationId: string): Promise<void>;
  /** Forgets the rejected change. */
  discard(mutationId: string): Promise<void>;
}

/**
 * The writes the server rejected permanently (already rolled back in the view), with retry and
 * discard. Renders an empty list on the server and during hydration.
 */
export function useDeadLetters(): DeadLettersState {
  const client = useSyncClient();
  const observer = useMemo(() => observeClient(client, (c) => c.deadLetters()), [client]);
  const deadLetters = useObserver(observer, NO_ITEMS);
  return useMemo(
    () => ({
      deadLetters,
      retry: (mutationId: string) => client.retryDeadLetter(mutationId),
      discard: (mutationId: string) => client.discardDeadLetter(mutationId),
    }),
    [client, deadLetters],
  );
}
