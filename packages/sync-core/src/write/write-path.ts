import type { SyncTransaction } from '../api/client.js';
import type { ConflictDecision } from '../conflict/types.js';
import type { EngineContext } from '../engine/context.js';
import type { StartedEngine } from '../engine/start-engine.js';
import { SyncError } from '../errors/sync-error.js';
import type { IdGenerator } from '../ids/uuid-v7.js';
import type { JsonObject } from '../protocol/types.js';
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

  put(collection: string, id: string, data: JsonObject): Promise<void> {
    const { guard, limits } = this.#parts;
    const frozen = limits.check(guard.put(collection, id, data));
    return this.write([{ op: 'put', collection, id, data: frozen }]);
  }

  patch(collection: string, id: string, fields: Partial<JsonObject>): Promise<void> {
    const { guard, limits } = this.#parts;
    const current = this.#parts.liveReplica().store.get(collection, id);
    const frozen = limits.check(guard.patch(collection, id, fields, current));
    return this.write([{ op: 'patch', collection, id, data: frozen }]);
  }

  delete(collection: string, id: string): Promise<void> {
    this.#parts.guard.target(collection, id);
    return this.write([{ op: 'delete', collection, id }]);
  }

  transaction(build: (tx: SyncTransaction) => void): Promise<void> {
    this.ctx();
    const writes = buildTransaction(this.#parts.guard, this.#parts.liveReplica().store, build);
    for (const write of writes) if (write.data !== undefined) this.#parts.limits.check(write.data);
    if (writes.length === 0) return Promise.resolve();
    return this.write(writes, this.#parts.newId());
  }

  /** Applies checked writes (with storage ops of their own: never forwarded to a leader). */
  write(writes: LocalWrite[], txId?: string, extraOps?: StorageWrite[]): Promise<void> {
    return applyLocalWrites(this.ctx(), this.#parts.liveReplica(), writes, {
      txId,
      extraOps,
      // Pushing after a swap is harmless (the new replicator finds its own outbox), so one
      // function serves every write.
      onDurable: this.#parts.schedulePush,
    });
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
    const replica = this.#parts.liveReplica();
    return resolveParkedConflict(this.ctx(), replica, mutationId, decision, this.#withOps);
  }

  /** `write` with storage ops of its own (settlement's retries and resolutions). */
  readonly #withOps: WriteWithOps = (writes, extraOps) => this.write(writes, undefined, extraOps);
}
