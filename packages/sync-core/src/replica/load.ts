import type { Outbox, StoredOutboxEntry } from '../outbox/outbox.js';
import type { SyncRecord } from '../protocol/types.js';
import type { DeadLetter } from '../replication/dead-letter.js';
import type { InvalidRecord } from '../schema/check-schema.js';
import type { StorageAdapter } from '../storage/types.js';
import { deepFreeze } from '../store/freeze.js';
import { listsOf } from './batch.js';
import {
  CHECKPOINT_PREFIX,
  CONFLICT_PREFIX,
  DEAD_LETTER_PREFIX,
  HLC_KEY,
  INVALID_PREFIX,
  OUTBOX_PREFIX,
  RECORD_PREFIX,
  RESET_PREFIX,
} from './keys.js';
import { Replica, type StoredConflict } from './replica.js';

/**
 * Starts loading a namespace into a new replica that is usable at once (see {@link Replica.ready}).
 * Values read from storage are frozen, not copied: the client never mutates them.
 * `onLoaded` receives the records whose view may have changed; `alsoBefore` must settle too
 * before writes are persisted.
 */
export function openReplica(
  storage: StorageAdapter,
  namespace: string,
  scope: string,
  onLoaded: (touched: Array<[collection: string, id: string]>) => void,
  alsoBefore: Promise<void>,
  outbox?: Outbox,
): Replica {
  const replica = new Replica(namespace, scope, outbox);
  replica.loaded = false;
  replica.ready = Promise.all([loadInto(storage, replica), alsoBefore]).then(([touched]) => {
    replica.loaded = true;
    onLoaded(touched);
  });
  // A failed load surfaces through the writes that wait on it (they reject and roll back).
  replica.ready.catch(() => {});
  return replica;
}

/**
 * The HLCs this installation issued that a namespace holds: its `m/hlc` and the HLCs of its
 * queued mutations (read for the device clock, see client/device-clock.ts). Values are as
 * stored: a damaged one may not be a string.
 */
export async function ownHlcs(storage: StorageAdapter, namespace: string): Promise<unknown[]> {
  const [hlc, outbox] = await Promise.all([
    storage.get(namespace, HLC_KEY),
    storage.list(namespace, OUTBOX_PREFIX),
  ]);
  return [
    hlc,
    ...outbox.map(([, value]) => (value as StoredOutboxEntry | undefined)?.mutation?.hlc),
  ];
}

/** Reads a namespace into `replica` (which may already hold writes made while loading). */
async function loadInto(
  storage: StorageAdapter,
  replica: Replica,
): Promise<Array<[collection: string, id: string]>> {
  const lists = listsOf(replica);
  const outbox: StoredOutboxEntry[] = [];
  let hlc: unknown;
  // One read of the whole namespace; each key goes where its prefix says (replica/keys.ts).
  for (const [key, value] of await storage.list(replica.namespace, '')) {
    switch (key.slice(0, 2)) {
      case RECORD_PREFIX:
        replica.store.setBase(deepFreeze(value as SyncRecord));
        break;
      case OUTBOX_PREFIX:
        outbox.push(deepFreeze(value as StoredOutboxEntry));
        break;
      case CHECKPOINT_PREFIX:
        if (typeof value === 'string') lists.checkpoints.set(key.slice(2), value);
        break;
      case DEAD_LETTER_PREFIX:
        lists.deadLetters.set(key.slice(2), deepFreeze(value as DeadLetter));
        break;
      case CONFLICT_PREFIX:
        lists.conflicts.set(key.slice(2), deepFreeze(value as StoredConflict));
        break;
      case RESET_PREFIX:
        lists.resetting.set(key.slice(2), null);
        break;
      case INVALID_PREFIX:
        lists.invalidRecords.set(key, deepFreeze(value as InvalidRecord));
        break;
      default:
        if (key === HLC_KEY) hlc = value;
    }
  }
  replica.outbox.mergeLoaded(outbox);
  // Writes made while loading keep baseRevision 0: the app made them without seeing the stored
  // record, so if it exists they must conflict and be resolved, not silently overwrite it.
  //
  // The clock must not go back across restarts. Local writes do not persist it (one op less
  // per write): our own history is the latest of `m/hlc` (written with push answers and
  // resolver rewrites) and the HLCs of our queued and dead-lettered mutations; what the server
  // sent is the latest HLC of the base records.
  let own = typeof hlc === 'string' ? hlc : '';
  for (const letter of replica.deadLetters.values()) {
    if (letter.mutation.hlc > own) own = letter.mutation.hlc;
  }
  let seen = '';
  const touched: Array<[string, string]> = [];
  for (const record of replica.store.baseRecords()) {
    if (record.hlc > seen) seen = record.hlc;
    if (replica.store.recompute(record.collection, record.id)) {
      touched.push([record.collection, record.id]);
    }
  }
  for (const entry of replica.outbox.entries()) {
    const { collection, recordId } = entry.mutation;
    if (entry.mutation.hlc > own) own = entry.mutation.hlc;
    if (replica.store.recompute(collection, recordId)) touched.push([collection, recordId]);
  }
  replica.lastHlc = own;
  replica.seenHlc = seen;
  return touched;
}
