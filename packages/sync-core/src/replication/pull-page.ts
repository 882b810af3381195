import type { EngineContext } from '../client/context.js';
import { baseKey, KEYS, type Replica } from '../client/replica.js';
import type { PullResponse, SyncRecord } from '../protocol/types.js';
import type { StorageWrite } from '../storage/types.js';
import { deepFreeze } from '../store/freeze.js';
import { recordKey } from '../store/record-key.js';

/**
 * Applies one pulled page to the base records and the view, and returns the storage ops that
 * persist the page's records AND its checkpoint together (one atomic write: a crash can never
 * leave a checkpoint that covers records which were not saved). A record older than the base
 * (our own push's answer already moved it on) is skipped. Pulled records never touch the
 * outbox: pending local edits stay queued and are replayed on top of the new base.
 */
export function applyPulledPage(
  ctx: EngineContext,
  replica: Replica,
  scope: string,
  page: PullResponse,
): StorageWrite[] {
  const { store } = replica;
  const ops: StorageWrite[] = [];
  let maxHlc = '';
  const seen = replica.resetting.get(scope);
  const { changes } = page;
  // Indexed, like checkPullPage: no iterator result per record while V8 still interprets this.
  for (let i = 0; i < changes.length; i++) {
    const record = changes[i] as SyncRecord;
    if (record.hlc > maxHlc) maxHlc = record.hlc;
    seen?.add(recordKey(record.collection, record.id));
    const previous = store.base(record.collection, record.id);
    if (previous !== undefined && previous.revision >= record.revision) continue;
    if (ctx.admitServerRecord !== null && !ctx.admitServerRecord(replica, record, ops)) continue;
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
  ops.push({ type: 'set', key: KEYS.checkpoint + scope, value: page.checkpoint });
  return ops;
}

/**
 * Starts a reset of a scope (the server said `resetRequired`): the checkpoint is dropped and
 * the scope is pulled again from `null`, but the base records stay visible meanwhile, so the app
 * never sees its data vanish and reappear (and never writes against that gap). The reset is
 * persisted (`z/<scope>`), so a crash in the middle restarts it. Returns the storage ops.
 */
export function beginReset(replica: Replica, scope: string): StorageWrite[] {
  replica.checkpoints.delete(scope);
  replica.resetting.set(scope, new Set());
  return [
    { type: 'delete', key: KEYS.checkpoint + scope },
    { type: 'set', key: KEYS.reset + scope, value: true },
  ];
}

/**
 * Ends a reset once the scope was pulled to the end: base records of the scope that the fresh
 * pull did not return no longer exist on the server (their tombstones were purged), so they
 * are dropped. Pending mutations are kept and replayed; if their records are gone they will
 * conflict and the resolver decides. Returns the storage ops (written with the last page).
 */
export function finishReset(ctx: EngineContext, replica: Replica, scope: string): StorageWrite[] {
  const seen = replica.resetting.get(scope);
  replica.resetting.delete(scope);
  const ops: StorageWrite[] = [{ type: 'delete', key: KEYS.reset + scope }];
  if (seen === undefined || seen === null) return ops;
  const { store } = replica;
  const drop: Array<[string, string]> = [];
  for (const record of store.baseRecords()) {
    if (record.scope === scope && !seen.has(recordKey(record.collection, record.id))) {
      drop.push([record.collection, record.id]);
    }
  }
  for (const [collection, id] of drop) {
    store.deleteBase(collection, id);
    ops.push({ type: 'delete', key: baseKey(collection, id) });
    if (store.recompute(collection, id)) ctx.notifier.changed(collection, id);
  }
  return ops;
}
