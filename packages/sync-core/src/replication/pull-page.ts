import type { EngineContext } from '../engine/context.js';
import type { PullResponse, SyncRecord } from '../protocol/types.js';
import type { ReplicaBatch } from '../replica/batch.js';
import { deepFreeze } from '../store/freeze.js';

/**
 * Applies one pulled page to the base records and the view, adding to `write` the ops that
 * persist the page's records AND its checkpoint together (one atomic write: a crash can never
 * leave a checkpoint that covers records which were not saved). A record older than the base
 * (our own push's answer already moved it on) is skipped. Pulled records never touch the
 * outbox: pending local edits stay queued and are replayed on top of the new base. The last
 * page of a reset (`ReplicaBatch.beginReset` kept the base records visible meanwhile, so the
 * app never saw its data vanish and reappear) ends it.
 *
 * `resave` saves a record again when the base already holds its revision: the scope's last
 * page was applied in memory but its storage write failed, so the base is ahead of storage.
 *
 * `passRevision` is the highest revision the earlier pages of this pull returned; returns the
 * highest so far. The last page of a pull records it (`ReplicaBatch.pulledUpTo`): only a pull
 * read to its end has returned every record it passed (a record changed between two pages comes
 * in a later one).
 */
export function applyPulledPage(
  ctx: EngineContext,
  write: ReplicaBatch,
  scope: string,
  page: PullResponse,
  resave: boolean,
  passRevision = 0,
): number {
  const { replica } = write;
  const { store } = replica;
  const resetting = replica.resetting.has(scope);
  const { admitServerRecord } = ctx;
  const admit =
    admitServerRecord === null
      ? undefined
      : (record: SyncRecord) => admitServerRecord(replica, record, write);
  let maxHlc = '';
  let maxRevision = passRevision;
  const { changes } = page;
  // Indexed, like validatePullResponse: no iterator result per record while V8 still interprets this.
  for (let i = 0; i < changes.length; i++) {
    // Checked (checkPullPage): its fields other than `data` hold primitives.
    const record = Object.freeze(changes[i] as SyncRecord);
    deepFreeze(record.data);
    if (record.hlc > maxHlc) maxHlc = record.hlc;
    if (record.revision > maxRevision) maxRevision = record.revision;
    if (resetting) write.pageReturned(record);
    // Not filed when the base holds this revision or a newer one (our own push's answer moved
    // it on), or when the record is quarantined.
    const changed = write.receive(record, admit);
    if (changed === true) ctx.notifier.changed(record.collection, record.id);
    else if (changed === undefined && resave) {
      // The same revision: storage may not have it (see `resave`).
      const held = store.base(record.collection, record.id);
      if (held?.revision === record.revision) write.setBase(held);
    }
  }
  if (maxHlc) {
    try {
      ctx.clock.receive(maxHlc);
    } catch {
      // A malformed HLC from the server must not stop replication; validation normally rejects it.
    }
  }
  write.setCheckpoint(scope, page.checkpoint);
  if (page.hasMore) return maxRevision;
  write.pulledUpTo(scope, maxRevision);
  // The end of a reset is written with its last page: no state shows the reset half done. Base
  // records of the scope that the fresh pull did not return no longer exist on the server
  // (their tombstones were purged), so they go (see `ReplicaBatch.finishReset`). Pending
  // mutations are kept and replayed; if their records are gone they conflict and the resolver
  // decides.
  if (resetting) {
    for (const [collection, id] of write.finishReset(scope)) {
      if (store.recompute(collection, id)) ctx.notifier.changed(collection, id);
    }
  }
  return maxRevision;
}
