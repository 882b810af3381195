/**
 * `@syncline/react`: a provider and hooks that read a syncline client through React's
 * `useSyncExternalStore`. Each hook builds one observer from `@syncline/sync-core` and renders
 * only when what it reads changes; on the server they render fixed values and touch no storage.
 *
 * @packageDocumentation
 */

export {
  type SyncContextValue,
  SyncProvider,
  type SyncProviderProps,
  useSyncClient,
} from './context.js';
export {
  type CollectionMutations,
  useMutations,
  useRecord,
  useRecordStatus,
} from './record-hooks.js';
export {
  type ConflictsState,
  type DeadLettersState,
  useConflicts,
  useDeadLetters,
} from './review-hooks.js';
export {
  type SessionsState,
  useDeliveries,
  useSessions,
  useTransfers,
} from './session-hooks.js';
export { usePendingCount, useSyncStatus } from './status-hooks.js';
export type { AnyCollections, CollectionTypes, TypedViewRecord } from './types.js';
export { type CollectionQuery, useCollection } from './use-collection.js';
