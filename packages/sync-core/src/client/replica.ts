import type { DeadLetter, InvalidRecord, ParkedConflict } from '../client/types.js';
import { OUTBOX_PREFIX, Outbox, type StoredOutboxEntry } from '../outbox/outbox.js';
import type { Mutation, SyncRecord } from '../protocol/types.js';
import type { StorageAdapter } from '../storage/types.js';
import { deepFreeze } from '../store/freeze.js';
import { RecordStore } from '../store/record-store.js';

/*
 * Persisted layout. Every user has a namespace `user:<userId>`; data written while signed out
 * lives in `local`; the installation's client id lives in `device` (see ids/client-id.ts).
 * Inside a data namespace:
 *
 *   r/<collection>/<id>   confirmed base record (SyncRecord, tombstones included)
 *   o/<seq, 12 digits>    outbox entry { seq, mutation, base }, in queue order
 *   c/<scope>             pull checkpoint of the scope
 *   d/<mutationId>        dead letter (DeadLetter)
 *   x/<mutationId>        parked conflict { conflict: ParkedConflict, mutation }
 *   z/<scope>             a reset of the scope is in progress (see replication/pull-page.ts)
 *   q/<collection>/<id>   a server record that failed its collection's schema (InvalidRecord)
 *   m/hlc                 an HLC issued (with push answers); on load the clock resumes after the
 *                         latest HLC found anywhere in the namespace
 *
 * Collection names cannot contain `/` (see isCollection), so `r/` keys are unambiguous.
 * The view lives in memory; storage is for durability and is read only by `loadReplica`.
 */

/** Key prefixes of the data namespaces. */
export const KEYS = {
  record: 'r/',
  outbox: OUTBOX_PREFIX,
  checkpoint: 'c/',
  deadLetter: 'd/',
  conflict: 'x/',
  hlc: 'm/hlc',
  reset: 'z/',
  invalid: 'q/',
} as const;

/** The namespace of signed-out data. */
export const LOCAL_NAMESPACE = 'local';

/** The scope local (never pushed) mutations carry until a user claims them. */
export const LOCAL_SCOPE = 'local:unclaimed';

/** The namespace of a user's data. */
export function userNamespace(userId: string): string {
  return `user:${userId}`;
}

/**
 * Storage key of a base record. Built by `join`, which makes one flat string: a concatenation
 * would leave a rope node next to the flattened text for as long as storage keeps the key
 * (one per record, ~15 bytes each on a 100k-record sync).
 */
export function baseKey(collection: string, id: string): string {
  return [KEYS.record, collection, '/', id].join('');
}

/** Storage key of a quarantined server record (see {@link InvalidRecord}). */
export function invalidKey(collection: string, id: string): string {
  return [KEYS.invalid, collection, '/', id].join('');
}

/** A parked conflict as stored: the public view plus the mutation that conflicted. */
export interface StoredConflict {
  /** What `client.conflicts()` shows. */
  conflict: ParkedConflict;
  /** The local mutation that conflicted. */
  mutation: Mutation;
}

/**
 * Everything the client holds for one namespace: base records and view, outbox, dead letters,
 * parked conflicts and checkpoints. One is live at a time; signing in or out swaps it.
 */
export class Replica {
  /** Storage namespace. */
  readonly namespace: string;
  /** The scope new local writes go to. */
  scope: string;
  /** Queued mutations. */
  readonly outbox: Outbox;
  /** Base records and the optimistic view. */
  readonly store: RecordStore;
  /** Dead letters by mutation id. */
  readonly deadLetters = new Map<string, DeadLetter>();
  /** Parked conflicts by mutation id. */
  readonly conflicts = new Map<string, StoredConflict>();
  /** Server records that failed their collection's schema, by `invalidKey`. */
  readonly invalidRecords = new Map<string, InvalidRecord>();
  /** Checkpoints by scope. */
  readonly checkpoints = new Map<string, string>();
  /**
   * Scopes being re-pulled from `null` after `resetRequired`, with the records seen so far
   * (`null` when the reset was persisted by an earlier run and must start over).
   */
  readonly resetting = new Map<string, Set<string> | null>();
  /**
   * Settles when the namespace has been read from storage. Until then the replica already takes
   * writes (they show in the view at once), but their storage writes wait for it, because their
   * outbox positions are assigned after the stored entries.
   */
  ready: Promise<void> = Promise.resolve();
  /** `true` once {@link ready} settled successfully (or for a replica that needs no loading). */
  loaded = true;
  /** The latest HLC this installation issued in this namespace (`''` if none). */
  lastHlc = '';
  /** The latest HLC received from the server in this namespace (`''` if none). */
  seenHlc = '';

  /**
   * @param namespace - storage namespace
   * @param scope - scope of new writes
   * @param stored - outbox entries loaded from storage
   */
  constructor(namespace: string, scope: string, stored: readonly StoredOutboxEntry[] = []) {
    this.namespace = namespace;
    this.scope = scope;
    this.outbox = new Outbox(stored);
    const outbox = this.outbox;
    // The size check skips a lookup for every pulled record when nothing is pending.
    this.store = new RecordStore((collection, id) =>
      outbox.size > 0 ? outbox.forRecord(collection, id) : undefined,
    );
  }
}

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
  alsoBefore: Promise<void> = Promise.resolve(),
): Replica {
  const replica = new Replica(namespace, scope);
  replica.loaded = false;
  replica.ready = Promise.all([loadInto(storage, replica), alsoBefore]).then(([touched]) => {
    replica.loaded = true;
    onLoaded(touched);
  });
  // A failed load surfaces through the writes that wait on it (they reject and roll back).
  replica.ready.catch(() => {});
  return replica;
}

/** Reads a namespace into `replica` (which may already hold writes made while loading). */
async function loadInto(
  storage: StorageAdapter,
  replica: Replica,
): Promise<Array<[collection: string, id: string]>> {
  const { namespace } = replica;
  const [records, outbox, checkpoints, deadLetters, conflicts, hlc, resets, invalid] =
    await Promise.all([
      storage.list(namespace, KEYS.record),
      storage.list(namespace, KEYS.outbox),
      storage.list(namespace, KEYS.checkpoint),
      storage.list(namespace, KEYS.deadLetter),
      storage.list(namespace, KEYS.conflict),
      storage.get(namespace, KEYS.hlc),
      storage.list(namespace, KEYS.reset),
      storage.list(namespace, KEYS.invalid),
    ]);
  for (const [key, value] of invalid)
    replica.invalidRecords.set(key, deepFreeze(value as InvalidRecord));
  for (const [key] of resets) replica.resetting.set(key.slice(KEYS.reset.length), null);
  replica.outbox.mergeLoaded(outbox.map(([, value]) => deepFreeze(value as StoredOutboxEntry)));
  for (const [, value] of records) replica.store.setBase(deepFreeze(value as SyncRecord));
  // Writes made while loading keep baseRevision 0: the app made them without seeing the stored
  // record, so if it exists they must conflict and be resolved, not silently overwrite it.
  for (const [key, value] of checkpoints) {
    if (typeof value === 'string') {
      replica.checkpoints.set(key.slice(KEYS.checkpoint.length), value);
    }
  }
  for (const [, value] of deadLetters) {
    const letter = deepFreeze(value as DeadLetter);
    replica.deadLetters.set(letter.mutation.id, letter);
  }
  for (const [, value] of conflicts) {
    const parked = deepFreeze(value as StoredConflict);
    replica.conflicts.set(parked.mutation.id, parked);
  }
  // The clock must not go back across restarts. Local writes do not persist it (one op less
  // per write): our own history is the latest of `m/hlc` (written with push answers and
  // resolver rewrites) and the HLCs of our queued and dead-lettered mutations; what the server
  // sent is the latest HLC of the base records.
  let own = typeof hlc === 'string' ? hlc : '';
  for (const entry of replica.outbox.entries()) {
    if (entry.mutation.hlc > own) own = entry.mutation.hlc;
  }
  for (const letter of replica.deadLetters.values()) {
    if (letter.mutation.hlc > own) own = letter.mutation.hlc;
  }
  let seen = '';
  for (const record of replica.store.baseRecords()) if (record.hlc > seen) seen = record.hlc;
  replica.lastHlc = own;
  replica.seenHlc = seen;
  const touched: Array<[string, string]> = [];
  for (const record of replica.store.baseRecords()) {
    if (replica.store.recompute(record.collection, record.id)) {
      touched.push([record.collection, record.id]);
    }
  }
  for (const entry of replica.outbox.entries()) {
    const { collection, recordId } = entry.mutation;
    if (replica.store.recompute(collection, recordId)) touched.push([collection, recordId]);
  }
  return touched;
}
