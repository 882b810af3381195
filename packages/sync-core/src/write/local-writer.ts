import type { EngineContext } from '../engine/context.js';
import { SyncError } from '../errors/sync-error.js';
import type { EnqueueResult } from '../outbox/outbox.js';
import type { JsonObject, Mutation, MutationOp } from '../protocol/types.js';
import { ReplicaBatch } from '../replica/batch.js';
import type { Replica } from '../replica/replica.js';
import type { StorageWrite } from '../storage/types.js';

/** One local write, already validated. */
export interface LocalWrite {
  /** The operation. */
  op: MutationOp;
  /** The collection. */
  collection: string;
  /** The record id. */
  id: string;
  /** Frozen, validated data (put: whole record; patch: changed fields; none for a delete). */
  data?: JsonObject | undefined;
}

/**
 * Applies local writes: each becomes a mutation on top of the record's confirmed revision,
 * goes into the outbox (coalesced where allowed) and into the view at once; the returned
 * promise resolves when the outbox entries are durable. If storage fails, the writes are
 * rolled back from the outbox and the view and the promise rejects with a `storage` error:
 * a write is never silently dropped.
 *
 * All writes of one call share one storage write (a transaction's atomicity on disk).
 *
 * @param txId - shared by every mutation of a transaction
 * @param extraOps - more storage ops for the same atomic write (e.g. removing the dead letter
 *   being retried)
 * @param onDurable - called once the write is durable (the client schedules a push)
 */
export async function applyLocalWrites(
  ctx: EngineContext,
  replica: Replica,
  writes: readonly LocalWrite[],
  txId?: string,
  extraOps?: StorageWrite[],
  onDurable?: () => void,
): Promise<void> {
  const { outbox, store } = replica;
  const results: EnqueueResult[] = [];
  // Indexed loops: this runs on every write, often while V8 still interprets it.
  for (let w = 0; w < writes.length; w++) {
    const write = writes[w] as LocalWrite;
    const base = store.base(write.collection, write.id);
    // A patch needs a record to merge into; of a record the view does not have, it is a put
    // of those fields (which is what the view shows), not a certain conflict on the server.
    // Not while the namespace is still loading: the record may just not be read yet.
    const op =
      write.op === 'patch' && replica.loaded && store.get(write.collection, write.id) === undefined
        ? 'put'
        : write.op;
    const mutation: Mutation = {
      id: ctx.newId(),
      scope: replica.scope,
      collection: write.collection,
      recordId: write.id,
      op,
      baseRevision: base?.revision ?? 0,
      hlc: ctx.clock.tick(),
    };
    if (write.data !== undefined) mutation.data = write.data;
    if (txId !== undefined) mutation.txId = txId;
    results.push(outbox.enqueue(mutation, base === undefined || base.deleted ? null : base.data));
    if (store.recompute(write.collection, write.id))
      ctx.notifier.changed(write.collection, write.id);
  }
  ctx.refreshCounts(replica);
  // Persisted in the step that called, unless the replica is still loading (it renumbers its
  // new entries first). A storage adapter that throws at once fails the write as one that
  // fails later does; every entry's write is settled either way.
  try {
    if (!replica.loaded) await replica.ready;
    const write = new ReplicaBatch(replica);
    if (extraOps !== undefined) write.ops.push(...extraOps);
    // A transaction may fold two writes of a record into one entry: it is persisted once.
    for (const entry of new Set(results.map((result) => result.entry))) write.persistEntry(entry);
    await write.commit(ctx.storage);
  } catch (error) {
    for (let i = results.length - 1; i >= 0; i--) {
      const result = results[i] as EnqueueResult;
      outbox.rollback(result);
      const { collection, recordId } = result.entry.mutation;
      if (store.recompute(collection, recordId)) ctx.notifier.changed(collection, recordId);
    }
    ctx.refreshCounts(replica);
    // The storage's code (`quota_exceeded`) is the write's: a follower tab, which gets the
    // error without its cause, can still say the storage is full.
    throw new SyncError('storage', 'Local save failed; the write was rolled back', {
      cause: error,
      code: (error as SyncError | null)?.code,
    });
  } finally {
    for (let i = 0; i < results.length; i++) {
      outbox.writeSettled((results[i] as EnqueueResult).entry);
    }
  }
  onDurable?.();
}
