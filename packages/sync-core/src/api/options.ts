import type { ConflictResolver } from '../conflict/types.js';
import type { SyncEnvironment } from '../env/types.js';
import type { RetryOptions } from '../replication/retryer.js';
import type { CollectionDeclarations } from '../schema/collections.js';
import type { SessionTargeting } from '../sessions/session-targeting.js';
import type { TargetingOptions } from '../sessions/targeting-options.js';
import type { StorageAdapter } from '../storage/types.js';
import type { MultiTab } from '../tabs/multi-tab.js';
import type { SyncTransport } from '../transport/types.js';
import type { ReplicationOptions } from './replication-options.js';

/**
 * Options of `createSyncClient`. `Declarations` is the type of `collections`, from which the
 * client's record types are inferred.
 */
export interface SyncClientOptions<
  Declarations extends CollectionDeclarations = CollectionDeclarations,
> extends TargetingOptions,
    ReplicationOptions {
  /** The adapter that talks to the server. */
  transport: SyncTransport;
  /**
   * Where data, outbox and checkpoints are kept. A browser build (a bundler's `browser` export
   * condition) has no in-memory fallback: where it runs without IndexedDB (a jsdom test), pass
   * one, e.g. `memoryStorage()`.
   * @default `indexedDbStorage()` where IndexedDB exists, `memoryStorage()` elsewhere; in the
   * browser build, `indexedDbStorage()`
   */
  storage?: StorageAdapter;
  /**
   * The collections, each with its settings and record type, e.g.
   * `{ todos: { schema: todoSchema, conflict: lww() }, notes: collection<Note>() }`. When given,
   * only these names are accepted (at compile time and at runtime: another name throws a
   * `SyncError` of kind `invalid`, code `unknown_collection`).
   * @default any collection name, records typed `JsonObject`
   */
  collections?: Declarations;
  /**
   * Resolver for collections that name none.
   * @default lww()
   */
  conflict?: ConflictResolver;
  /**
   * Session targeting: `client.sessions`, `client.deliveries`, `client.assets` and the
   * `delivery` and `transfer` events. Opt in with `sessionTargeting()` from
   * `@syncline/sync-core/targeting` (a separate entry, so an app that does not use it does not
   * ship it); without it those three throw a `SyncError` of kind `invalid`. The options of
   * {@link TargetingOptions} (`label`, `platform`, `locks`, the asset settings) apply only with it.
   * @default none: no session targeting
   */
  targeting?: SessionTargeting;
  /**
   * Several tabs of one app: `multiTab({ name })` makes one tab replicate and the others mirror
   * it live and write through it (see docs/tabs.md). Every tab of the app must pass it.
   * @default none (each client replicates on its own)
   */
  tabs?: MultiTab;
  /** Replaces any of the real time, timer, randomness and online sources. */
  environment?: Partial<SyncEnvironment>;
  /**
   * While requests fail with `network` errors, the transport's cheap reachability check
   * (`probe`) runs about this often (jittered ±50 %), and sync resumes at its first answer.
   * @default 3000
   */
  probeIntervalMs?: number;
  /** Backoff policy for every retried request. */
  retry?: RetryOptions;
  /**
   * A remote HLC further than this ahead of the local clock is not adopted by the local clock.
   * @default 60000
   */
  maxDriftMs?: number;
}
