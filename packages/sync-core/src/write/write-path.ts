import type { SyncTransaction } from '../api/client.js';
import type { ConflictDecision } from '../conflict/types.js';
import type { EngineContext } from '../engine/context.js';
import type { StartedEngine } from '../engine/start-engine.js';
import { SyncError } from '../errors/sync-error.js';
import type { IdGenerator } from '../ids/uuid-v7.js';
import type { Replica } from '../replica/replica.js';
import type { WriteLimits } from '../replication/write-limits.js';
import {
  discardDeadLetter,
  resolveParkedConflict,
  retryDeadLetter,
  type WriteWithOps,
} from '../review/settlement.js';
import type { StorageWrite } from '../storage/types.js';
import type { CollectionGuard } from './collection-guard.js';
import { applyLocalWrites, type LocalWrite } from './local-writer.js';
import { buildTransaction } from './transaction-builder.js';

/** What {@link WritePath} writes with. */
export interface WritePathParts {
  /** Checks collection names, ids and schemas. */
  readonly guard: CollectionGuard;
  /** The server's size limits. */
  readonly limits: WriteLimits;
  /** Makes transaction ids. */
  readonly newId: IdGenerator;
  /** The started engine, or `null` before `start()`. */
  engine(): StartedEngine | null;
  /** The live replica. */
  liveReplica(): Replica;
  /** Asks the session's replicator (if any) to push soon (called unbound). */
  readonly schedulePush: () => void;
}

/**
 * The client's writes: `put`, `patch`, `delete` and `transaction`, each checked (collection,
 * id, schema, size) synchronously, then applied to the live replica; and the app's settlement
 * of dead letters and parked conflicts. (A follower tab's writes go to the leader: the tabs
 * entry's `TabWritePath` overrides {@link WritePath.write} and the settlement calls.)
 */
export class WritePath {
  readonly #parts: WritePathParts;

  constructor(parts: WritePathParts) {
    this.#parts = parts;
  }

  /**
   * The engine context.
   * @throws SyncError `invalid` before `start()`
   */
  protected ctx(): EngineContext {
    const engine = this.#parts.engine();
    if (engine === null) throw new SyncError('invalid', 'Call client.start() before writing');
    return engine.ctx;
  }

  /**
   * Checks the writes `build` makes (collection, id, schema, size; each patch against the
   * record as built so far) and applies them. The client's `put`, `patch` and `delete` are
   * transactions of one, without a transaction id; a `transaction` (`inTransaction`) gets one,
   * and is refused before `start()` without running `build`.
   */
  apply(build: (tx: SyncTransaction) => void, inTransaction?: boolean): Promise<void> {
    if (inTransaction) this.ctx();
    const writes = this.#sized(
      buildTransaction(this.#parts.guard, this.#parts.liveReplica().store, build),
    );
    if (writes.length === 0) return Promise.resolve();
    return this.write(writes, inTransaction ? this.#parts.newId() : undefined);
  }

  /** Applies checked writes (with storage ops of their own: never forwarded to a leader). */
  write(writes: LocalWrite[], txId?: string, extraOps?: StorageWrite[]): Promise<void> {
    // Pushing after a swap is harmless (the new replicator finds its own outbox), so one
    // function serves every write.
    const parts = this.#parts;
    return applyLocalWrites(
      this.ctx(),
      parts.liveReplica(),
      writes,
      txId,
      extraOps,
      parts.schedulePush,
    );
  }

  /** Queues a dead letter's change again. */
  retryDeadLetter(mutationId: string): Promise<void> {
    return retryDeadLetter(this.ctx(), this.#parts.liveReplica(), mutationId, this.#withOps);
  }

  /** Drops a dead letter. */
  discardDeadLetter(mutationId: string): Promise<void> {
    return discardDeadLetter(this.ctx(), this.#parts.liveReplica(), mutationId);
  }

  /** Settles a parked conflict. */
  resolveConflict(mutationId: string, decision: ConflictDecision): Promise<void> {
    const parts = this.#parts;
    return resolveParkedConflict(
      this.ctx(),
      parts.liveReplica(),
      mutationId,
      decision,
      this.#withOps,
      parts.guard,
    );
  }

  /** Returns `writes` when each fits the server's known size limit (else throws `too_large`). */
  #sized(writes: LocalWrite[]): LocalWrite[] {
    for (const write of writes) if (write.data !== undefined) this.#parts.limits.check(write.data);
    return writes;
  }

  /**
   * `write` with storage ops of its own (settlement's retries and resolutions), size-checked as
   * a `put` is: a dead letter's retry or a resolution over the limit is refused, and the dead
   * letter or conflict stays listed (sent, it could only be rejected again).
   */
  readonly #withOps: WriteWithOps = (writes, extraOps) =>
    this.write(this.#sized(writes), undefined, extraOps);
}
