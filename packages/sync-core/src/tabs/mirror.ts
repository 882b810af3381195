import { SyncError, type SyncErrorKind } from '../errors/sync-error.js';
import { type StoredOutboxEntry, storedEntry } from '../outbox/outbox.js';
import type { SyncRecord } from '../protocol/types.js';
import { restoreLists } from '../replica/batch.js';
import type { Replica, ReplicaListsSnapshot } from '../replica/replica.js';
import type { SyncStatus } from '../status/types.js';
import { deepFreeze } from '../store/freeze.js';

/*
 * What a follower tab mirrors of the leader's replica: base records and outbox entries per
 * record (the view is recomputed from them, as after a load), the lists (conflicts, dead
 * letters, quarantined records) and the status. Everything crosses a BroadcastChannel, so it is
 * plain structured-cloneable data; a SyncError travels as its fields.
 */

/** One record's state on the leader. */
export interface MirroredRecord {
  /** Collection. */
  c: string;
  /** Record id. */
  id: string;
  /** The confirmed base record, or `null`. */
  base: SyncRecord | null;
  /** Its queued mutations, oldest first. */
  pending: StoredOutboxEntry[];
}

/** The leader's lists, sent whole when one of them changed. */
export type MirroredLists = ReplicaListsSnapshot;

/** A status with its error as plain fields. */
export type MirroredStatus = Omit<SyncStatus, 'error'> & {
  error?: { kind: SyncErrorKind; message: string; code?: string; status?: number };
};

/** The current state of the given records of `replica`. */
export function captureRecords(
  replica: Replica,
  keys: Iterable<[string, string]>,
): MirroredRecord[] {
  const out: MirroredRecord[] = [];
  for (const [c, id] of keys) {
    out.push({
      c,
      id,
      base: replica.store.base(c, id) ?? null,
      pending: (replica.outbox.forRecord(c, id) ?? []).map(storedEntry),
    });
  }
  return out;
}

/** Every record of `replica` that has a base record or a queued mutation. */
export function captureAll(replica: Replica): MirroredRecord[] {
  const keys = new Map<string, [string, string]>();
  for (const record of replica.store.baseRecords()) {
    keys.set(`${record.collection}/${record.id}`, [record.collection, record.id]);
  }
  for (const entry of replica.outbox.entries()) {
    const { collection, recordId } = entry.mutation;
    keys.set(`${collection}/${recordId}`, [collection, recordId]);
  }
  return captureRecords(replica, keys.values());
}

/**
 * Applies the leader's records to a follower's replica; `changed` hears each record whose view
 * changed. With `whole`, records the leader does not have are dropped too.
 */
export function applyRecords(
  replica: Replica,
  records: readonly MirroredRecord[],
  changed: (collection: string, id: string) => void,
  whole = false,
): void {
  const { store, outbox } = replica;
  if (whole) {
    const present = new Set(records.map((record) => `${record.c}/${record.id}`));
    const stale: Array<[string, string]> = [];
    for (const record of store.baseRecords()) {
      if (!present.has(`${record.collection}/${record.id}`)) {
        stale.push([record.collection, record.id]);
      }
    }
    for (const entry of outbox.entries()) {
      const { collection, recordId } = entry.mutation;
      if (!present.has(`${collection}/${recordId}`)) stale.push([collection, recordId]);
    }
    for (const [c, id] of stale) {
      applyOne(replica, { c, id, base: null, pending: [] }, changed);
    }
  }
  for (const record of records) applyOne(replica, record, changed);
}

function applyOne(
  replica: Replica,
  record: MirroredRecord,
  changed: (collection: string, id: string) => void,
): void {
  const { store, outbox } = replica;
  // The record's entries become the leader's, at the leader's positions.
  for (const entry of [...(outbox.forRecord(record.c, record.id) ?? [])]) outbox.remove(entry);
  outbox.restore(record.pending.map(deepFreeze));
  if (record.base === null) store.deleteBase(record.c, record.id);
  else store.setBase(deepFreeze(record.base));
  if (store.recompute(record.c, record.id)) changed(record.c, record.id);
}

/** The lists of `replica`. */
export function captureLists(replica: Replica): MirroredLists {
  return {
    conflicts: [...replica.conflicts.values()],
    deadLetters: [...replica.deadLetters.values()],
    invalid: [...replica.invalidRecords.entries()],
  };
}

/** Replaces a follower's lists with the leader's. */
export function applyLists(replica: Replica, lists: MirroredLists): void {
  restoreLists(replica, {
    conflicts: lists.conflicts.map(deepFreeze),
    deadLetters: lists.deadLetters.map(deepFreeze),
    invalid: lists.invalid.map(([key, invalid]) => [key, deepFreeze(invalid)] as const),
  });
}

/** A status as it crosses the channel. */
export function encodeStatus(status: SyncStatus): MirroredStatus {
  const { error, ...rest } = status;
  if (error === undefined) return rest;
  return {
    ...rest,
    error: {
      kind: error.kind,
      message: error.message,
      ...(error.code === undefined ? {} : { code: error.code }),
      ...(error.status === undefined ? {} : { status: error.status }),
    },
  };
}

/** A status received from the leader, frozen like the client's own snapshots. */
export function decodeStatus(status: MirroredStatus): SyncStatus {
  const { error, ...rest } = status;
  if (error === undefined) return Object.freeze(rest);
  const { kind, message, ...options } = error;
  return Object.freeze({ ...rest, error: new SyncError(kind, message, options) });
}
