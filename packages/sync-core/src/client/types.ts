import type { AssetStore } from '../assets/asset-store.js';
import type { TransferProgress } from '../assets/progress.js';
import type { ConflictResolver } from '../conflict/types.js';
import type { IncomingDelivery } from '../deliveries/inbox.js';
import type { LockManagerLike } from '../deliveries/locks.js';
import type { SyncError } from '../errors/sync-error.js';
import type { Delivery, JsonObject, Mutation, SyncRecord } from '../protocol/types.js';
import type { RecordIssue } from '../schema/check-schema.js';
import type { CollectionDeclarations, UntypedCollections } from '../schema/collections.js';
import type { SessionTargeting } from '../sessions/session-targeting.js';
import type { StorageAdapter } from '../storage/types.js';
import type { MultiTab } from '../tabs/multi-tab.js';
import type { AuthSession, SyncTransport } from '../transport/types.js';

/** Tells whether the device is online, and when that changes. */
export interface OnlineSource {
  /** `true` when the network is believed reachable. */
  isOnline(): boolean;
  /** Calls `listener` on every change; returns the function that unsubscribes. */
  subscribe(listener: (online: boolean) => void): () => void;
}

/**
 * Every source of nondeterminism the client uses. Defaults are the real ones (`Date.now`,
 * global timers, `Math.random` for jitter, `crypto.getRandomValues` for ids,
 * `navigator.onLine`); tests and the simulator pass their own.
 */
export interface SyncEnvironment {
  /** Wall-clock time in epoch milliseconds. */
  now(): number;
  /** Schedules `callback` after `ms` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a timer from `setTimeout`. */
  clearTimeout(handle: unknown): void;
  /** A uniformly distributed number in [0, 1); used for backoff jitter. */
  random(): number;
  /**
   * Fills `target` with random bytes and returns it; used for mutation, transaction and client
   * ids. The real one is `crypto.getRandomValues`: the server refuses a mutation id another
   * user used first, so predictable ids would let one user block another's writes. When only
   * `random` is replaced (a seeded test), the bytes come from it, so ids are reproducible too.
   */
  randomBytes(target: Uint8Array): Uint8Array;
  /** Online detection. */
  online: OnlineSource;
}

/** What a `claimLocalData` callback is shown before it decides. */
export interface LocalDataClaim {
  /** The user who just signed in. */
  userId: string;
  /** The records written while signed out, per collection. */
  records: Array<{ collection: string; id: string; data: JsonObject | null }>;
}

/**
 * What happens to data written while signed out when a user signs in:
 * `'auto'` claims it for that user, `'never'` leaves it local, a function decides (it may
 * show a prompt; `true` claims).
 */
export type ClaimLocalData = 'auto' | 'never' | ((claim: LocalDataClaim) => Promise<boolean>);

/** Retry policy of the one retryer used by push, pull and every other request. */
export interface RetryOptions {
  /**
   * First backoff ceiling in milliseconds; attempt n waits a random time in
   * `[0, min(maxDelayMs, baseDelayMs * 2^n))` (full jitter).
   * @default 1000
   */
  baseDelayMs?: number;
  /**
   * Cap of the backoff ceiling in milliseconds.
   * @default 60000
   */
  maxDelayMs?: number;
}

/** Where the UI says the data is. */
export type SyncState = 'local' | 'offline' | 'syncing' | 'synced' | 'error';

/** A snapshot of the client's sync status; a new object only when something changed. */
export interface SyncStatus {
  /**
   * `local`: signed out, "Saved locally". `offline`: signed in, and the device has no network
   * or the server cannot be reached (then `error` is the `network` error); the client probes
   * and resumes by itself. `syncing`: pushing or pulling. `synced`: nothing pending, up to
   * date, and `lastSyncedAt` is set. `error`: the last attempt failed (see `error`,
   * `error.kind`): it is retried (`misconfigured` too: fix the transport's setup), or, for
   * `auth`, resumed on a new session, on `syncNow()` or after a while.
   */
  state: SyncState;
  /** Mutations not yet confirmed by the server. */
  pending: number;
  /** Conflicts parked for manual resolution. */
  conflicts: number;
  /** Mutations rejected permanently and kept in the dead-letter list. */
  rejected: number;
  /** When the client last finished a push and pull with nothing left (epoch ms), or `null`. */
  lastSyncedAt: number | null;
  /** The last error, while `state` is `error`, or `offline` because the server is unreachable. */
  error?: SyncError;
  /** The signed-in user, or `null`. */
  userId: string | null;
}

/** Sync state of one record. */
export type RecordSyncState = 'synced' | 'pending' | 'conflict' | 'rejected';

/** A mutation the server rejected permanently, kept until the app retries or discards it. */
export interface DeadLetter {
  /** The rejected mutation. */
  mutation: Mutation;
  /** The server's (or client's) reason code. */
  code: string;
  /** Human-readable reason. */
  message: string;
  /** When it was rejected (epoch ms). */
  rejectedAt: number;
}

/** A conflict parked by the `manual` resolver, waiting for `client.resolveConflict`. */
export interface ParkedConflict {
  /** The id of the local mutation that conflicted. */
  mutationId: string;
  /** The collection. */
  collection: string;
  /** The record id. */
  recordId: string;
  /** Data the local edit started from. */
  base: JsonObject | null;
  /** What the local edit wanted. */
  local: JsonObject | null;
  /** The server's record (`null` if absent). */
  server: SyncRecord | null;
}

/**
 * A record from the server that failed its collection's schema. It was not applied: the view
 * keeps the previous version (if any) until a valid version or a delete arrives.
 */
export interface InvalidRecord {
  /** The collection. */
  collection: string;
  /** The record id. */
  id: string;
  /** The record as the server sent it. */
  record: SyncRecord;
  /** What the schema found, each with the field's path. */
  issues: readonly RecordIssue[];
}

/**
 * Events of the client (typed; `on`, `once`, `off`). `Collections` is the client's record type per
 * collection; `change` names only declared collections.
 */
export interface SyncEvents<Collections extends object = UntypedCollections> {
  /** Records of one collection changed in the view; batched (one event per collection per batch). */
  change: (event: { collection: keyof Collections & string; ids: string[] }) => void;
  /** The status snapshot changed. */
  status: (status: SyncStatus) => void;
  /** A conflict was parked for manual resolution. */
  conflict: (conflict: ParkedConflict) => void;
  /** A mutation was rejected permanently and rolled back. */
  rejected: (deadLetter: DeadLetter) => void;
  /** A record from the server failed its collection's schema and was not applied. */
  'invalid-record': (invalid: InvalidRecord) => void;
  /**
   * A delivery reached this session (once per delivery and session, across reloads, reconnections
   * and tabs). It is acknowledged when the listener's promise resolves, or by `event.ack()`.
   */
  delivery: (event: IncomingDelivery) => void | Promise<void>;
  /** An upload or download moved (bytes done, total, rate, ETA) or changed state. */
  transfer: (progress: Readonly<TransferProgress>) => void;
  /** A delivery listener (or the download of its asset) failed; it will be offered again. */
  deliveryFailed: (error: SyncError, delivery: Delivery) => void;
}

/**
 * Options of `createSyncClient`. `Declarations` is the type of `collections`, from which the
 * client's record types are inferred.
 */
export interface SyncClientOptions<
  Declarations extends CollectionDeclarations = CollectionDeclarations,
> {
  /** The adapter that talks to the server. */
  transport: SyncTransport;
  /**
   * Where data, outbox and checkpoints are kept.
   * @default `indexedDbStorage()` where IndexedDB exists, `memoryStorage()` elsewhere
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
   * What happens to data written while signed out when a user signs in.
   * @default 'auto'
   */
  claimLocalData?: ClaimLocalData;
  /**
   * The scope a signed-in user's writes go to.
   * @default (session) => `user:${session.userId}`
   */
  scopeFor?: (session: AuthSession) => string;
  /**
   * Session targeting: `client.sessions`, `client.deliveries`, `client.assets` and the
   * `delivery` and `transfer` events. Opt in with `sessionTargeting()` from
   * `@syncline/sync-core/targeting` (a separate entry, so an app that does not use it does not
   * ship it); without it those three throw a `SyncError` of kind `invalid`. The options below,
   * from `label` to `assetUploadWindow`, apply only with it.
   * @default none: no session targeting
   */
  targeting?: SessionTargeting;
  /** A label for this device, shown in session lists, e.g. "Firefox on Linux". */
  label?: string;
  /** This device's platform, shown in session lists, e.g. `'web'`, `'ios'`, `'electron'`. */
  platform?: string;
  /**
   * Milliseconds between heartbeats of this device's session (keep it well inside the server's
   * active window, 24 h by default).
   * @default 900000 (15 min)
   */
  heartbeatIntervalMs?: number;
  /**
   * Lets one tab at a time handle a delivery of the session the tabs share.
   * @default `navigator.locks` where it exists, otherwise a lock per client
   */
  locks?: LockManagerLike;
  /**
   * Several tabs of one app: `multiTab({ name })` makes one tab replicate and the others mirror
   * it live and write through it (see docs/tabs.md). Every tab of the app must pass it.
   * @default none (each client replicates on its own)
   */
  tabs?: MultiTab;
  /**
   * Where received and sent asset bytes are kept.
   * @default `indexedDbAssetStore()` where IndexedDB exists, `memoryAssetStore()` elsewhere
   *   (Node apps pass `fileAssetStore({ directory })` from `@syncline/sync-core/node`)
   */
  assetStore?: AssetStore;
  /**
   * Bytes per asset upload request; a download streams the rest of an asset in one request
   * (where the transport can) and appends it to the asset store in pieces of this size.
   * @default 4194304 (4 MiB)
   */
  assetChunkBytes?: number;
  /**
   * Asset upload requests in flight at once (sent in order; a failure or an offset the server
   * does not expect resumes from the server's offset). At most this many chunks of
   * `assetChunkBytes` are held in memory by an upload.
   * @default 2
   */
  assetUploadWindow?: number;
  /** Replaces any of the real time, timer, randomness and online sources. */
  environment?: Partial<SyncEnvironment>;
  /**
   * Maximum mutations per push request.
   * @default 100
   */
  pushBatchSize?: number;
  /**
   * Maximum changes per pull page.
   * @default 1000
   */
  pullPageSize?: number;
  /**
   * Fallback pull interval when no realtime poke arrives, in milliseconds.
   * @default 30000
   */
  pullIntervalMs?: number;
  /**
   * A request that has not answered after this long is aborted and retried.
   * @default 30000
   */
  requestTimeoutMs?: number;
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
