import type { SyncEvents } from '../api/events.js';
import type { SyncError } from '../errors/sync-error.js';
import type { Emitter } from '../observe/emitter.js';
import type { NotificationBatch } from '../observe/notifier.js';
import type { SyncState, SyncStatus } from './types.js';

/**
 * The client's sync status as a state machine moved by named transitions. The public
 * {@link SyncStatus} is derived from the inputs:
 *
 * - `local`: nobody signed in;
 * - `error`: an `auth` failure (sticky until the session changes or a request succeeds), or
 *   the last attempt failed and a retry is pending;
 * - `offline`: signed in, and no network, or the last attempt failed with a `network` error
 *   (the server cannot be reached; the snapshot's `error` says why);
 * - `syncing`: a request is running, something is pending, or no catch-up pull has finished
 *   with nothing pending yet (so `synced` always comes with a `lastSyncedAt`);
 * - `synced`: none of the above.
 *
 * Listeners never get two equal snapshots in a row.
 *
 * Transitions only mark the status dirty; the snapshot is recomputed once per batch (or on
 * read), and a new object (and one `status` event, in the client's notification batch, so a
 * write costs one microtask of notification) is produced only when a field really changed, so a
 * burst of writes costs one status event, not one per write. While the emitter has no `status`
 * listener, a flush leaves the snapshot to be derived on the next read.
 */
export class StatusMachine {
  readonly #events: Emitter<SyncEvents>;
  readonly #batch: NotificationBatch;
  #userId: string | null = null;
  #online = true;
  #active = 0;
  #caughtUp = false;
  #error: SyncError | undefined;
  #authError: SyncError | undefined;
  /** Mutations not yet confirmed, parked conflicts, dead letters. */
  #pending = 0;
  #conflicts = 0;
  #rejected = 0;
  #lastSyncedAt: number | null = null;
  /** The current snapshot (the first one derived from the fields above, initialised first). */
  #snapshot: SyncStatus = this.#derive();
  /** The last snapshot emitted as `status`: the next one must differ from it. */
  #emitted = this.#snapshot;
  #dirty = false;

  /**
   * @param events - the client's emitter, which gets the `status` events
   * @param batch - where the machine queues its flush (the client's notifier)
   */
  constructor(events: Emitter<SyncEvents>, batch: NotificationBatch) {
    this.#events = events;
    this.#batch = batch;
  }

  /** The current snapshot; the same object until something changes. */
  get snapshot(): SyncStatus {
    if (this.#dirty) {
      this.#dirty = false;
      const next = this.#derive();
      if (!sameStatus(this.#snapshot, next)) this.#snapshot = next;
    }
    return this.#snapshot;
  }

  /**
   * A user signed in: sync starts over (not caught up, no error); or signed out (`null`): local
   * only.
   */
  sessionChanged(userId: string | null): void {
    this.#userId = userId;
    this.#caughtUp = false;
    this.#error = undefined;
    this.#authError = undefined;
    this.#active = 0;
    this.#touch();
  }

  /** The device's connectivity changed. */
  connectivity(online: boolean): void {
    this.#online = online;
    this.#touch();
  }

  /** A push or pull request started. */
  requestStarted(): void {
    this.#active++;
    this.#touch();
  }

  /** A push or pull request ended (either way). */
  requestEnded(): void {
    if (this.#active > 0) this.#active--;
    this.#touch();
  }

  /** An attempt failed; `auth` errors stick until the session changes. */
  failed(error: SyncError): void {
    if (error.kind === 'auth') this.#authError = error;
    else this.#error = error;
    this.#touch();
  }

  /** A request succeeded: the last error is over, an `auth` one too (the token works again). */
  succeeded(): void {
    this.#error = undefined;
    this.#authError = undefined;
    this.#touch();
  }

  /**
   * A pull reached the end of the scope; `inSync` (nothing left to push, and not merely the
   * echo of our own push) makes `at` the new lastSyncedAt.
   */
  caughtUp(at: number, inSync: boolean): void {
    this.#caughtUp = true;
    if (inSync) this.#lastSyncedAt = at;
    this.#touch();
  }

  /**
   * A push was answered and left nothing pending: after a catch-up pull, that is a moment at
   * which the client was in sync.
   */
  pushedAll(at: number): void {
    if (!this.#caughtUp) return;
    this.#lastSyncedAt = at;
    this.#touch();
  }

  /** Pending, conflict and dead-letter counts (re-read after every write and answer). */
  counts(pending: number, conflicts: number, rejected: number): void {
    this.#pending = pending;
    this.#conflicts = conflicts;
    this.#rejected = rejected;
    this.#touch();
  }

  #touch(): void {
    this.#dirty = true;
    this.#batch.defer(this.#flush);
  }

  /**
   * The step deferred to the client's batch: recomputes and emits the snapshot if it differs
   * from the last one emitted (a snapshot a read committed early is emitted here).
   */
  readonly #flush = (): void => {
    if (this.#events.listenerCount('status') === 0) return;
    // A snapshot committed by a read and superseded before this flush may leave the current one
    // equal to the last emitted: listeners would see the same status twice.
    const snapshot = this.snapshot;
    if (sameStatus(this.#emitted, snapshot)) return;
    this.#emitted = snapshot;
    this.#events.emit('status', snapshot);
  };

  /**
   * Someone may have started listening: a change left underived while nobody listened is
   * emitted in the next batch.
   */
  listenersChanged(): void {
    if (this.#dirty) this.#touch();
  }

  #state(): SyncState {
    if (this.#userId === null) return 'local';
    if (this.#authError !== undefined) return 'error';
    if (!this.#online || this.#error?.kind === 'network') return 'offline';
    if (this.#error !== undefined) return 'error';
    if (this.#active > 0 || this.#pending > 0 || !this.#caughtUp || this.#lastSyncedAt === null) {
      return 'syncing';
    }
    return 'synced';
  }

  #derive(): SyncStatus {
    const state = this.#state();
    const status: SyncStatus = {
      state,
      pending: this.#pending,
      conflicts: this.#conflicts,
      rejected: this.#rejected,
      lastSyncedAt: this.#lastSyncedAt,
      userId: this.#userId,
    };
    // Any error makes the state `error` or `offline` (see #state) unless nobody is signed in.
    const error = this.#authError ?? this.#error;
    if (error !== undefined && state !== 'local') status.error = error;
    return Object.freeze(status);
  }
}

function sameStatus(a: SyncStatus, b: SyncStatus): boolean {
  const keys = Object.keys(a) as Array<keyof SyncStatus>;
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
