import type { ConflictDecision } from '../conflict/types.js';
import type { EngineContext } from '../engine/context.js';
import { isSyncError, SyncError } from '../errors/sync-error.js';
import { ReplicaBatch } from '../replica/batch.js';
import type { Replica } from '../replica/replica.js';
import type { RecordSyncState } from '../status/types.js';
import type { StorageWrite } from '../storage/types.js';
import type { CollectionGuard } from '../write/collection-guard.js';
import type { LocalWrite } from '../write/local-writer.js';
import { checkTarget } from '../write/write-input.js';

/*
 * What the app does about the mutations the server did not take: dead letters (rejected
 * permanently) and parked conflicts (the `manual` resolver). Each change to those lists is
 * persisted in the same storage write as the mutation it queues, so a crash can neither lose
 * the app's decision nor apply it twice.
 */

/** Writes local changes to the live replica, with extra ops in the same storage write. */
export type WriteWithOps = (writes: LocalWrite[], extraOps: StorageWrite[]) => Promise<void>;

/** Sync state of one record: a parked conflict, then queued mutations, then a dead letter. */
export function recordSyncState(replica: Replica, collection: string, id: string): RecordSyncState {
  for (const { conflict } of replica.conflicts.values()) {
    if (conflict.collection === collection && conflict.recordId === id) return 'conflict';
  }
  if (replica.outbox.forRecord(collection, id)) return 'pending';
  for (const { mutation } of replica.deadLetters.values()) {
    if (mutation.collection === collection && mutation.recordId === id) return 'rejected';
  }
  return 'synced';
}

/**
 * Carries out a settlement: `save` writes `removal` (of one replica's lists), by default alone;
 * a settlement that queues a change writes the removal's ops with it. When it fails, the list
 * changes are undone and the error is thrown as a `SyncError`; the counts are refreshed (and
 * subscribers woken) either way.
 */
async function settle(
  ctx: EngineContext,
  removal: ReplicaBatch,
  save = () => removal.commit(ctx.storage),
): Promise<void> {
  try {
    await save();
  } catch (error) {
    removal.rollback();
    throw isSyncError(error)
      ? error
      : new SyncError('storage', 'Saving the decision failed', { cause: error });
  } finally {
    // The live replica's counts go to the status machine, whose change wakes the subscribers
    // (its flush is the notifier's next batch): the lists they read changed with the counts.
    ctx.refreshCounts(removal.replica);
  }
}

/** Queues a dead letter's change again, as a new mutation on the record's current revision. */
export async function retryDeadLetter(
  ctx: EngineContext,
  replica: Replica,
  mutationId: string,
  write: WriteWithOps,
): Promise<void> {
  const removal = new ReplicaBatch(replica);
  const letter = removal.forgetDeadLetter(mutationId);
  if (letter === undefined) throw new SyncError('invalid', `No dead letter ${mutationId}`);
  const { op, collection, recordId, data } = letter.mutation;
  return settle(ctx, removal, () => write([{ op, collection, id: recordId, data }], removal.ops));
}

/** Forgets a dead letter. */
export async function discardDeadLetter(
  ctx: EngineContext,
  replica: Replica,
  mutationId: string,
): Promise<void> {
  const removal = new ReplicaBatch(replica);
  if (removal.forgetDeadLetter(mutationId) !== undefined) await settle(ctx, removal);
}

/**
 * Settles a parked conflict: keep the server's record, or write `data` on top of it, checked by
 * `guard` as a `put` of the record (its collection's schema too; the schema's output is
 * written).
 */
export async function resolveParkedConflict(
  ctx: EngineContext,
  replica: Replica,
  mutationId: string,
  decision: ConflictDecision,
  write: WriteWithOps,
  guard: CollectionGuard,
): Promise<void> {
  const stored = replica.conflicts.get(mutationId);
  if (stored === undefined) throw new SyncError('invalid', `No parked conflict ${mutationId}`);
  const { collection, recordId } = stored.conflict;
  const data =
    decision.action === 'write' && decision.data !== null
      ? guard.put(collection, recordId, decision.data)
      : undefined;
  checkTarget(collection, recordId);
  const removal = new ReplicaBatch(replica);
  removal.unparkConflict(mutationId);
  return settle(
    ctx,
    removal,
    decision.action === 'server'
      ? undefined
      : () =>
          write(
            [{ op: data === undefined ? 'delete' : 'put', collection, id: recordId, data }],
            removal.ops,
          ),
  );
}
