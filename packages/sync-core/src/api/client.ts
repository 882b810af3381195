import type { AssetsApi } from '../assets/assets-api.js';
import type { ConflictDecision, ParkedConflict } from '../conflict/types.js';
import type { DeliveriesApi } from '../deliveries/client-deliveries.js';
import type { DeliveryListenerOptions } from '../deliveries/listeners.js';
import type { DeadLetter } from '../replication/dead-letter.js';
import type { SyncNowOptions, SyncNowResult } from '../replication/sync-now.js';
import type { InvalidRecord } from '../schema/check-schema.js';
import type { UntypedCollections } from '../schema/collections.js';
import type { SessionsApi } from '../sessions/client-sessions.js';
import type { RecordSyncState, SyncStatus } from '../status/types.js';
import type { QueryOptions, ViewRecord } from '../store/query.js';
import type { SyncEvents } from './events.js';

/**
 * The writes of one {@link SyncClient.transaction}: applied together, pushed together, atomic on
 * the server. Typed like the client's own `put`/`patch`/`delete`.
 */
export interface SyncTransaction<Collections extends object = UntypedCollections> {
  /** Replaces (or creates) a record. */
  put<Name extends keyof Collections & string>(
    collection: Name,
    id: string,
    data: Collections[Name],
  ): void;
  /** Merges top-level `fields` into a record. */
  patch<Name extends keyof Collections & string>(
    collection: Name,
    id: string,
    fields: Partial<Collections[Name]>,
  ): void;
  /** Deletes a record (a tombstone on the server). */
  delete(collection: keyof Collections & string, id: string): void;
}

/**
 * The local-first sync client. Writes change the view synchronously and resolve once durable
 * in local storage; replication to the server happens in the background.
 *
 * `Collections` maps each collection name to its record type, inferred by `createSyncClient`
 * from the `collections` option (see `RecordsOf`); a client that declares none takes any name
 * and `JsonObject` records. {@link RecordOf} and {@link CollectionName} read them back.
 */
export interface SyncClient<Collections extends object = UntypedCollections> {
  /** Loads local data, then syncs while a user is signed in. Idempotent. */
  start(): Promise<void>;
  /** Stops syncing (local reads and writes keep working). */
  stop(): Promise<void>;
  /**
   * Replaces (or creates) a record. The view changes at once; resolves when the write is
   * durable locally; rejects with a `storage` SyncError (and rolls the write back) if it cannot
   * be saved.
   * @throws SyncError `invalid` synchronously for a bad or undeclared collection (code
   * `unknown_collection`), a bad id, non-JSON data, or data that fails the collection's schema
   * (code `schema`, `details.issues` naming each field); nothing is queued then
   */
  put<Name extends keyof Collections & string>(
    collection: Name,
    id: string,
    data: Collections[Name],
  ): Promise<void>;
  /**
   * Merges top-level `fields` into a record (see {@link SyncClient.put} for the guarantees). With
   * a schema, the merged record must pass it.
   */
  patch<Name extends keyof Collections & string>(
    collection: Name,
    id: string,
    fields: Partial<Collections[Name]>,
  ): Promise<void>;
  /** Deletes a record (see {@link SyncClient.put} for the guarantees). */
  delete(collection: keyof Collections & string, id: string): Promise<void>;
  /**
   * Runs `build` and applies its writes as one transaction: one storage write, one push batch,
   * all-or-nothing on the server. If `build` throws, nothing is written.
   */
  transaction(build: (tx: SyncTransaction<Collections>) => void): Promise<void>;
  /**
   * A record's current data (frozen; the same object until the record changes), or `undefined`.
   * @throws SyncError `invalid`, code `unknown_collection`, for a name `collections` does not
   * declare (when the client declares any)
   */
  get<Name extends keyof Collections & string>(
    collection: Name,
    id: string,
  ): Readonly<Collections[Name]> | undefined;
  /**
   * A local, synchronous query; the result array is the same object until it changes.
   * @throws SyncError `invalid`, code `unknown_collection`, as {@link SyncClient.get}
   */
  query<Name extends keyof Collections & string>(
    collection: Name,
    options?: QueryOptions<Collections[Name]>,
  ): readonly ViewRecord<Collections[Name]>[];
  /**
   * Pushes, then pulls, now (ending any backoff wait, and resuming sync paused by an `auth`
   * error with whatever `getToken` returns now). Resolves with what happened, never waits
   * longer than `timeoutMs`, and never says `settled` unless it synced; see
   * {@link SyncNowResult}. Sync goes on in the background whatever the outcome.
   *
   * @example
   * ```ts
   * const result = await client.syncNow({ timeoutMs: 5000 });
   * if (result.outcome === 'offline') showBanner('You are offline; changes are saved locally');
   * ```
   */
  syncNow(options?: SyncNowOptions): Promise<SyncNowResult>;
  /** The sync status snapshot (a new object only when something changed). */
  readonly status: SyncStatus;
  /** This installation's id (`null` before `start`). */
  readonly clientId: string | null;
  /**
   * With the `tabs` option: `'leader'` in the tab that replicates for the app's tabs,
   * `'follower'` in the others (they mirror the leader and write through it); `'solo'` without
   * it. Subscribers are woken when it changes.
   */
  readonly tabRole: TabRole;
  /**
   * This device's session and the user's other devices: list, revoke, changes.
   * @throws SyncError `invalid` (code `targeting_not_enabled`) unless the client was created
   *   with `targeting: sessionTargeting()` from `@syncline/sync-core/targeting`
   */
  readonly sessions: SessionsApi;
  /**
   * Items delivered to sessions: send, follow; receive with `on('delivery', ...)`.
   * @throws SyncError `invalid` unless the client was created with `targeting`
   */
  readonly deliveries: DeliveriesApi;
  /**
   * Files sent to sessions or fetched on request, with progress.
   * @throws SyncError `invalid` unless the client was created with `targeting`
   */
  readonly assets: AssetsApi;
  /**
   * Sync state of one record.
   * @throws SyncError `invalid`, code `unknown_collection`, as {@link SyncClient.get}
   */
  recordStatus(collection: string, id: string): RecordSyncState;
  /** Mutations rejected permanently (a stable array until it changes). */
  deadLetters(): readonly DeadLetter[];
  /**
   * Queues a dead letter's change again, as a new mutation on the record's current revision.
   * @throws SyncError `invalid` with code `too_large` when the change is over the server's known
   *   size limit (it stays a dead letter: sent again, it could only be rejected again)
   */
  retryDeadLetter(mutationId: string): Promise<void>;
  /** Forgets a dead letter. */
  discardDeadLetter(mutationId: string): Promise<void>;
  /**
   * Records from the server that failed their collection's schema and were not applied (a
   * stable array until it changes). An entry goes when a valid version or a delete arrives.
   */
  invalidRecords(): readonly InvalidRecord[];
  /** Conflicts waiting for {@link SyncClient.resolveConflict} (a stable array until it changes). */
  conflicts(): readonly ParkedConflict[];
  /**
   * Settles a parked conflict: keep the server's record, or write `data` on top of it.
   * @throws SyncError `invalid` with code `too_large` when `data` is over the server's known size
   *   limit, or code `schema` when it fails the collection's schema (checked as a `put`); the
   *   conflict stays parked
   */
  resolveConflict(mutationId: string, decision: ConflictDecision): Promise<void>;
  /**
   * Listens for deliveries to this session: of `options.kind` only, or of every kind. A
   * delivery is handed to the listeners of its kind and to those of every kind, and
   * acknowledged once all of them resolved (or one called `ack()`); one of a kind nobody
   * listens for is not acknowledged: it waits and is handed over, once, when a listener of its
   * kind (or of every kind) is added.
   * Deliveries need `targeting: sessionTargeting()`; without it the listener is never called.
   * @throws SyncError `invalid` when `options.kind` is not a non-empty string
   * @example
   * ```ts
   * client.on('delivery', ({ delivery }) => openUrl(delivery.payload), { kind: 'open-url' });
   * ```
   */
  on(event: 'delivery', listener: SyncEvents['delivery'], options?: DeliveryListenerOptions): this;
  /** Subscribes to an event; see {@link SyncEvents}. */
  on<E extends keyof SyncEvents>(event: E, listener: SyncEvents<Collections>[E]): this;
  /**
   * Subscribes to one occurrence of an event. Except `delivery`: a delivery listener is handed
   * deliveries and acknowledges them, so `once('delivery', listener)` adds it as `on` does (of
   * every kind), and it stays until `off`.
   */
  once<E extends keyof SyncEvents>(event: E, listener: SyncEvents<Collections>[E]): this;
  /** Removes an event listener (a `delivery` listener from every kind it listens for). */
  off<E extends keyof SyncEvents>(event: E, listener: SyncEvents<Collections>[E]): this;
  /**
   * Calls `listener` once per batch of changes (view, status, conflicts, dead letters);
   * returns the function that unsubscribes. Made for React's `useSyncExternalStore`.
   */
  subscribe(listener: () => void): () => void;
}

/** A client's part among the tabs of its app; see {@link SyncClient.tabRole}. */
export type TabRole = 'solo' | 'leader' | 'follower';

/** The record type of each collection of a client, e.g. `{ todos: Todo }`. */
export type CollectionsOf<Client> =
  Client extends SyncClient<infer Collections> ? Collections : never;

/**
 * The collection names a client accepts, e.g. `'todos' | 'notes'` (`string` for a client that
 * declares none). For hooks and helpers generic over a client.
 */
export type CollectionName<Client> = keyof CollectionsOf<Client> & string;

/**
 * The record type of one collection of a client.
 *
 * @example
 * ```ts
 * const client = createSyncClient({ transport, collections: { todos: { schema: todoSchema } } });
 * type Todo = RecordOf<typeof client, 'todos'>;
 * ```
 */
export type RecordOf<Client, Name extends CollectionName<Client>> = CollectionsOf<Client>[Name];

/**
 * Any client, typed or not: the constraint for code generic over a client, such as React hooks
 * (`function useRecord<C extends AnySyncClient, N extends CollectionName<C>>(...)`). Inside such
 * code, calls take `string` names and `object` records; cast results to {@link RecordOf}.
 */
export type AnySyncClient = SyncClient<Record<string, object>>;
