import type { AssetsApi } from '../assets/client-assets.js';
import type { DeliveriesApi } from '../deliveries/client-deliveries.js';
import type { JsonObject } from '../protocol/types.js';
import type { SessionsApi } from '../sessions/client-sessions.js';
import type { QueryOptions, ViewRecord } from '../store/query.js';
import type {
  DeadLetter,
  ParkedConflict,
  RecordSyncState,
  SyncEvents,
  SyncStatus,
} from './types.js';

/** The writes of one {@link SyncClient.transaction}: applied together, pushed together, atomic on the server. */
export interface SyncTransaction {
  /** Replaces (or creates) a record. */
  put(collection: string, id: string, data: JsonObject): void;
  /** Merges top-level `fields` into a record. */
  patch(collection: string, id: string, fields: JsonObject): void;
  /** Deletes a record (a tombstone on the server). */
  delete(collection: string, id: string): void;
}

/** Keep the server's record; the local edit is dropped. */
export interface KeepServerDecision {
  /** Discriminant. */
  action: 'server';
}

/** Write `data` on top of the server's record (`null` deletes it). */
export interface WriteDecision {
  /** Discriminant. */
  action: 'write';
  /** The record's new data, or `null` to delete it. */
  data: JsonObject | null;
}

/** How the app settles a parked conflict. */
export type ConflictDecision = KeepServerDecision | WriteDecision;

/**
 * The local-first sync client. Writes change the view synchronously and resolve once durable
 * in local storage; replication to the server happens in the background.
 */
export interface SyncClient {
  /** Loads local data, then syncs while a user is signed in. Idempotent. */
  start(): Promise<void>;
  /** Stops syncing (local reads and writes keep working). */
  stop(): Promise<void>;
  /**
   * Replaces (or creates) a record. The view changes at once; resolves when the write is
   * durable locally; rejects with a `storage` SyncError (and rolls the write back) if it cannot
   * be saved.
   * @throws SyncError `invalid` synchronously for a bad collection, id or non-JSON data
   */
  put(collection: string, id: string, data: JsonObject): Promise<void>;
  /** Merges top-level `fields` into a record (see {@link SyncClient.put} for the guarantees). */
  patch(collection: string, id: string, fields: JsonObject): Promise<void>;
  /** Deletes a record (see {@link SyncClient.put} for the guarantees). */
  delete(collection: string, id: string): Promise<void>;
  /**
   * Runs `build` and applies its writes as one transaction: one storage write, one push batch,
   * all-or-nothing on the server. If `build` throws, nothing is written.
   */
  transaction(build: (tx: SyncTransaction) => void): Promise<void>;
  /** A record's current data (frozen; the same object until the record changes), or `undefined`. */
  get(collection: string, id: string): Readonly<JsonObject> | undefined;
  /** A local, synchronous query; the result array is the same object until it changes. */
  query(collection: string, options?: QueryOptions): readonly ViewRecord[];
  /** Pushes, then pulls, now; resolves when done (immediately when signed out or stopped). */
  syncNow(): Promise<void>;
  /** The sync status snapshot (a new object only when something changed). */
  readonly status: SyncStatus;
  /** This installation's id (`null` before `start`). */
  readonly clientId: string | null;
  /** This device's session and the user's other devices: list, revoke, changes. */
  readonly sessions: SessionsApi;
  /** Items delivered to sessions: send, follow; receive with `on('delivery', ...)`. */
  readonly deliveries: DeliveriesApi;
  /** Files sent to sessions or fetched on request, with progress. */
  readonly assets: AssetsApi;
  /** Sync state of one record. */
  recordStatus(collection: string, id: string): RecordSyncState;
  /** Mutations rejected permanently (a stable array until it changes). */
  deadLetters(): readonly DeadLetter[];
  /** Queues a dead letter's change again, as a new mutation on the record's current revision. */
  retryDeadLetter(mutationId: string): Promise<void>;
  /** Forgets a dead letter. */
  discardDeadLetter(mutationId: string): Promise<void>;
  /** Conflicts waiting for {@link SyncClient.resolveConflict} (a stable array until it changes). */
  conflicts(): readonly ParkedConflict[];
  /** Settles a parked conflict: keep the server's record, or write `data` on top of it. */
  resolveConflict(mutationId: string, decision: ConflictDecision): Promise<void>;
  /** Subscribes to an event; see {@link SyncEvents}. */
  on<E extends keyof SyncEvents>(event: E, listener: SyncEvents[E]): this;
  /** Subscribes to one occurrence of an event. */
  once<E extends keyof SyncEvents>(event: E, listener: SyncEvents[E]): this;
  /** Removes an event listener. */
  off<E extends keyof SyncEvents>(event: E, listener: SyncEvents[E]): this;
  /**
   * Calls `listener` once per batch of changes (view, status, conflicts, dead letters);
   * returns the function that unsubscribes. Made for React's `useSyncExternalStore`.
   */
  subscribe(listener: () => void): () => void;
}
