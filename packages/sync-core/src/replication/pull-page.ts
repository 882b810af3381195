import type { EngineContext } from '../client/context.js';
import { baseKey, KEYS, type Replica } from '../client/replica.js';
import type { PullResponse } from '../protocol/types.js';
import type { StorageWrite } from '../storage/types.js';
import { deepFreeze } from '../store/freeze.js';

/**
 * Applies one pulled page to the base records and the view, and returns the storage ops that
 * persist the page's records AND its checkpoint together (one atomic write: a crash can never
 * leave a checkpoint that covers records which were not saved). A record older than the base
 * (our own push's answer already moved it on) is skipped. Pulled records never touch the
 * outbox: pending local edits stay queued and are replayed on top of the new base.
 *
 * @param includeCheckpoint - `false` only for the planted `checkpoint-before-rows` bug
 */
export function applyPulledPage(
  ctx: EngineContext,
  replica: Replica,
  scope: string,
  page: PullResponse,
  includeCheckpoint = true,
): StorageWrite[] {
  const { store } = replica;
  const ops: StorageWrite[] = [];
  let maxHlc = '';
  for (const record of page.changes) {
    if (record.hlc > maxHlc) maxHlc = record.hlc;
    const previous = store.base(record.collection, record.id);
    if (previous !== undefined && previous.revision >= record.revision) continue;
    deepFreeze(record);
    store.setBase(record);
    ops.push({ type: 'set', key: baseKey(record.collection, record.id), value: record });
    if (store.recompute(record.collection, record.id)) {
      ctx.notifier.changed(record.collection, record.id);
    }
  }
  if (maxHlc !== '') {
    try {
      ctx.clock.receive(maxHlc);
    } catch {
      // A malformed HLC from the server must not stop replication; validation normally rejects it.
    }
  }
  replica.checkpoints.set(scope, page.checkpoint);
  if (includeCheckpoint)
    ops.push({ type: 'set', key: KEYS.checkpoint + scope, value: page.checkpoint });
  return ops;
}

/**
 * Drops a scope's base records and checkpoint (the server said `resetRequired`): the next pull
 * starts from `null`. Pending mutations are kept and replayed; if their records were purged
 * they will conflict, and the resolver decides. Returns the storage ops.
 */
export function resetScope(ctx: EngineContext, replica: Replica, scope: string): StorageWrite[] {
  const { store } = replica;
  const ops: StorageWrite[] = [];
  const drop: Array<[string, string]> = [];
  for (const record of store.baseRecords()) {
    if (record.scope === scope) drop.push([record.collection, record.id]);
  }
  for (const [collection, id] of drop) {
    store.deleteBase(collection, id);
    ops.push({ type: 'delete', key: baseKey(collection, id) });
    if (store.recompute(collection, id)) ctx.notifier.changed(collection, id);
  }
  replica.checkpoints.delete(scope);
  ops.push({ type: 'delete', key: KEYS.checkpoint + scope });
  return ops;
}
