/**
 * The store contract: what the HTTP handler needs from a database. `pgliteStore` and
 * `postgresStore` implement it with one shared SQL implementation (`sql-store.ts`).
 *
 * @module
 */
import type {
  Mutation,
  Poke,
  PullRequest,
  PullResponse,
  PushResponse,
  SyncRecord,
} from '@syncline/sync-core/protocol';
import type { TargetingStore } from '../targeting/types.js';

/** Who is calling, as established by the handler's `authenticate`. */
export interface AuthContext {
  /** The authenticated user. */
  userId: string;
  /** The authenticated session. */
  sessionId: string;
}

/**
 * One mutation of a push as the store receives it: valid and authorised, or refused before the
 * store with a code (`invalid` from validation, `forbidden` from `authorizeScope`). A refused
 * entry still takes part in its `txId` group: it makes the whole group rejected.
 */
export type StorePushEntry = AcceptedPushEntry | RefusedPushEntry;

/** A valid mutation the caller may write. */
export interface AcceptedPushEntry {
  /** Discriminant. */
  ok: true;
  /** The validated mutation. */
  mutation: Mutation;
}

/** A mutation refused before the store; it is answered `rejected` with `code`. */
export interface RefusedPushEntry {
  /** Discriminant. */
  ok: false;
  /** The mutation id (always valid: a push without valid ids is refused as a whole). */
  id: string;
  /** The mutation's `txId`, when readable, so its group is rejected with it. */
  txId?: string;
  /** Why: `invalid` or `forbidden`. */
  code: string;
  /** Human-readable reason. */
  message: string;
}

/** A push whose envelope is valid, as the handler hands it to the store. */
export interface StorePushRequest {
  /**
   * The installation. Informational (logged with outcomes, echoed in pokes): several users may
   * use one device in turn, so it grants and binds nothing.
   */
  clientId: string;
  /** The session the client claims (informational; the store trusts `AuthContext`). */
  sessionId: string;
  /** The mutations in request order. */
  entries: StorePushEntry[];
}

/** What {@link SyncStore.changesAfter} read: a pull page from a version, for a poke. */
export interface ChangesAfter {
  /** The checkpoint of the version read from (what a pull up to it returned). */
  fromCheckpoint: string;
  /** The checkpoint covering `changes` (a pull page's `checkpoint`). */
  checkpoint: string;
  /** The scope version `checkpoint` stands for. */
  version: number;
  /** The changes after the version, in version order. */
  changes: SyncRecord[];
  /** More changes than the limit were waiting (`changes` is then not the whole story). */
  hasMore: boolean;
}

/**
 * What one push of this process committed to one scope: the changes after the scope's version
 * before the push, which are exactly what a pull from `fromCheckpoint` returns at `version`
 * (every version in between was handed out by this push).
 */
export interface CommittedChanges extends ChangesAfter {
  /** The scope. */
  scope: string;
  /** The scope version `fromCheckpoint` stands for (before the push). */
  from: number;
  /** The client that pushed. */
  originClientId: string;
}

/** Result of {@link SyncStore.purgeTombstones}. */
export interface PurgeResult {
  /** How many tombstones were removed. */
  purged: number;
  /** Scopes whose purge horizon moved. */
  scopes: string[];
}

/** Result of {@link SyncStore.purgeMutations}. */
export interface MutationPurgeResult {
  /** How many stored outcomes were removed. */
  purged: number;
}

/** A pull page rendered as JSON text by the store ({@link SyncStore.pullText}). */
export interface PullPageText {
  /** The `PullResponse` as JSON text. */
  text: string;
  /** The page's checkpoint, as in the text. */
  checkpoint: string;
  /** Whether more changes follow, as in the text. */
  hasMore: boolean;
}

/**
 * A sync store. Semantics (DESIGN §3):
 *
 * - **push** runs in one database transaction. It takes the row lock of every scope it writes
 *   (in a fixed order), so versions are handed out in commit order and a pull by version never
 *   skips a row that commits later. Each applied mutation gets the next scope version, which
 *   becomes the record's `revision`. A mutation applies only when its `baseRevision` equals the
 *   record's revision (or the record is absent and `baseRevision` is 0); `patch` also needs a
 *   live record. Otherwise the result is `conflict` with the server's record, and nothing is
 *   stored for it, so a re-send is judged again. The outcome of an applied or rejected
 *   mutation is stored in the same transaction; a mutation id seen again returns that stored
 *   outcome (to its own user; another user gets `forbidden`) and changes nothing. Mutations
 *   sharing a `txId` apply all or none. Pokes are NOTIFYed inside the transaction, so they are
 *   delivered only after commit. Safe to retry after any error: either the whole push
 *   committed or nothing did.
 * - **pull** reads one consistent snapshot: the changes after the checkpoint in version order,
 *   and a new opaque checkpoint. A checkpoint that this database never issued, or that is
 *   older than the scope's tombstone purge horizon, gets `resetRequired` and a first page.
 * - **onPoke** hears every committed push, from this process and any other process on the same
 *   database (LISTEN/NOTIFY).
 */
export interface SyncStore {
  /** Applies a push; see the interface doc for the guarantees. */
  push(auth: AuthContext, request: StorePushRequest): Promise<PushResponse>;
  /** Reads a page of changes of one scope (the caller has authorised the scope). */
  pull(auth: AuthContext, request: PullRequest): Promise<PullResponse>;
  /**
   * The same page as {@link SyncStore.pull}, as the JSON text of the `PullResponse` (with its
   * checkpoint and `hasMore` beside it, for the response headers). Optional: when a store has
   * it, the handler writes this text as the response body as it is, so a store that can render
   * its records as JSON (the SQL stores do it in the database) spares parsing and
   * re-serialising every record.
   */
  pullText?(auth: AuthContext, request: PullRequest): Promise<PullPageText>;
  /**
   * Reads the changes of `scope` after `version` (at most `limit`) with the pull query, for
   * pokes that carry their changes; `undefined` when no pull could continue from `version`
   * (behind the purge horizon or ahead of the scope). Optional: a store without it sends
   * plain pokes.
   */
  changesAfter?(scope: string, version: number, limit: number): Promise<ChangesAfter | undefined>;
  /** Listens to pokes of every scope; returns the unsubscribe function. */
  onPoke(listener: (poke: Poke) => void): () => void;
  /**
   * Listens to the pushes of THIS process as they commit: for each scope a push raised, its
   * changes as a poke page (see {@link CommittedChanges}), told right after the commit and
   * before the push's answer. Optional: with it, a poke for a push of this process needs no
   * read; the same push is still announced through {@link onPoke} as well.
   */
  onCommit?(listener: (commit: CommittedChanges) => void): () => void;
  /**
   * Removes tombstones deleted more than `olderThanMs` ago (default: the store's retention
   * window) and raises each scope's purge horizon past them.
   */
  purgeTombstones(options?: { olderThanMs?: number }): Promise<PurgeResult>;
  /**
   * Sessions, deliveries, assets and transfers in the same database. Optional: without it the
   * handler answers the targeting routes with 404.
   */
  readonly targeting?: TargetingStore;
  /**
   * Removes the outcomes of mutation ids stored more than `olderThanMs` ago (default: the
   * store's retention window). A mutation re-sent after that is recognised by its `hlc` while
   * it is still its record's latest write (answered `applied`, nothing changes, DESIGN §3.2);
   * otherwise it is judged again like a new one (a `conflict` when its record moved on).
   */
  purgeMutations(options?: { olderThanMs?: number }): Promise<MutationPurgeResult>;
  /** Resolves when the database answers; rejects otherwise. */
  health(): Promise<void>;
  /** Stops listening and closes the connections. */
  close(): Promise<void>;
}
