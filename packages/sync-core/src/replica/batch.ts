import { type OutboxEntry, storedEntry } from '../outbox/outbox.js';
import type { JsonObject, Mutation, SyncRecord } from '../protocol/types.js';
import type { DeadLetter } from '../replication/dead-letter.js';
import type { InvalidRecord } from '../schema/check-schema.js';
import type { StorageAdapter, StorageWrite } from '../storage/types.js';
import { recordKey } from '../store/record-key.js';
import {
  baseKey,
  CHECKPOINT_PREFIX,
  CONFLICT_PREFIX,
  DEAD_LETTER_PREFIX,
  HLC_KEY,
  invalidKey,
  outboxKey,
  RESET_PREFIX,
} from './keys.js';
import type { Replica, ReplicaListsSnapshot, ResetPass, StoredConflict } from './replica.js';

/**
 * A replica's lists as replica/ changes them: `Replica` shows the same maps read-only, and only
 * `ReplicaBatch` and the loader (replica/load.ts) change them.
 */
export interface ReplicaLists {
  /** Dead letters by mutation id. */
  readonly deadLetters: Map<string, DeadLetter>;
  /** Parked conflicts by mutation id. */
  readonly conflicts: Map<string, StoredConflict>;
  /** Quarantined server records by `invalidKey`. */
  readonly invalidRecords: Map<string, InvalidRecord>;
  /** Pull checkpoints by scope. */
  readonly checkpoints: Map<string, string>;
  /** The highest revision pulls read to their end returned, by scope (in memory only). */
  readonly pulledRevisions: Map<string, number>;
  /** Scopes being reset, with what the fresh pull learnt so far. */
  readonly resetting: Map<string, ResetPass | null>;
}

/**
 * One atomic storage write of a replica, built by intention: the replica's repository. Each
 * operation changes the replica in memory AND adds the storage ops that make the change durable,
 * with the keys of replica/keys.ts; nothing else in the client builds a key of a data
 * namespace. The caller writes {@link ops} once ({@link commit}), so a pulled page and its
 * checkpoint, or a push answer and the outbox entry it settles, are durable together.
 *
 * {@link rollback} undoes the changes to dead letters, parked conflicts, the quarantine, pull
 * checkpoints and the end of a reset when the write fails; the outbox and the record store keep
 * their own undo.
 */
/** The lists of `replica`, writable: for replica/ only (see {@link ReplicaLists}). */
export function listsOf(replica: Replica): ReplicaLists {
  return replica as unknown as ReplicaLists;
}

/**
 * Replaces a replica's lists with ones that are already durable: a follower tab taking over its
 * leader's (which the leader persisted). Nothing is written.
 */
export function restoreLists(replica: Replica, lists: ReplicaListsSnapshot): void {
  const { deadLetters, conflicts, invalidRecords } = listsOf(replica);
  conflicts.clear();
  for (const parked of lists.conflicts) conflicts.set(parked.mutation.id, parked);
  deadLetters.clear();
  for (const letter of lists.deadLetters) deadLetters.set(letter.mutation.id, letter);
  invalidRecords.clear();
  for (const [key, invalid] of lists.invalid) invalidRecords.set(key, invalid);
}

export class ReplicaBatch {
  /** The replica this batch changes. */
  readonly replica: Replica;
  /** The storage ops, in order. */
  readonly ops: StorageWrite[] = [];
  readonly #lists: ReplicaLists;
  readonly #undo: Array<() => void> = [];

  /** @param replica - the replica changed */
  constructor(replica: Replica) {
    this.replica = replica;
    this.#lists = listsOf(replica);
  }

  /** Writes the ops to the replica's namespace (nothing when there are none). */
  commit(storage: StorageAdapter): Promise<void> {
    return this.ops.length === 0
      ? Promise.resolve()
      : storage.write(this.replica.namespace, this.ops);
  }

  /** Undoes this batch's list changes, newest first (its write failed). */
  rollback(): void {
    for (const undo of this.#undo.reverse()) undo();
  }

  /** Makes `record` (frozen) the confirmed base record. The view is recomputed by the caller. */
  setBase(record: SyncRecord): void {
    this.replica.store.setBase(record);
    this.#set(baseKey(record.collection, record.id), record);
  }

  /**
   * Files a record the server sent (deep-frozen) with `RecordStore.receive` (one lookup: the
   * revision check, `admit`, the new base and its view) and saves it when it became the base.
   * Returns whether the view changed, or `undefined` when the record was not filed.
   */
  receive(record: SyncRecord, admit?: (record: SyncRecord) => boolean): boolean | undefined {
    const changed = this.replica.store.receive(record, admit);
    if (changed !== undefined) this.#set(baseKey(record.collection, record.id), record);
    return changed;
  }

  /** Forgets a confirmed base record (the server no longer has it). */
  deleteBase(collection: string, id: string): void {
    this.replica.store.deleteBase(collection, id);
    this.#delete(baseKey(collection, id));
  }

  /**
   * Moves the pull checkpoint of `scope`; written with the page it ends. {@link rollback} moves
   * it back: a checkpoint in memory past records storage never got would let the next page save
   * a checkpoint that covers them.
   */
  setCheckpoint(scope: string, checkpoint: string): void {
    this.#change(this.#lists.checkpoints, scope, checkpoint);
    this.#set(CHECKPOINT_PREFIX + scope, checkpoint);
  }

  /** A pull of `scope` read to its end returned records up to `revision` (see `Replica.pulledRevisions`). */
  pulledUpTo(scope: string, revision: number): void {
    if (revision > (this.#lists.pulledRevisions.get(scope) ?? 0)) {
      this.#lists.pulledRevisions.set(scope, revision);
    }
  }

  /**
   * Starts a reset of `scope`: its checkpoint goes and the reset is persisted (`z/`), so a crash
   * in the middle restarts it. The base records stay until {@link finishReset}.
   */
  beginReset(scope: string): void {
    this.#lists.checkpoints.delete(scope);
    let held = false;
    for (const record of this.replica.store.baseRecords()) {
      if (record.scope === scope) {
        held = true;
        break;
      }
    }
    this.#lists.resetting.set(scope, {
      held,
      returned: new Set(),
      highest: 0,
      answered: new Map(),
    });
    this.#delete(CHECKPOINT_PREFIX + scope);
    this.#set(RESET_PREFIX + scope, true);
  }

  /** A page of a reset under way returned `record`: the reset keeps it. */
  pageReturned(record: SyncRecord): void {
    const pass = this.#lists.resetting.get(record.scope);
    if (!pass) return;
    if (record.revision > pass.highest) pass.highest = record.revision;
    if (!pass.held && pass.answered.size === 0) return;
    const key = recordKey(record.collection, record.id);
    if (pass.held || pass.answered.has(key)) pass.returned.add(key);
  }

  /**
   * Our push's answer showed the server holding this record at `revision` (applied, or a
   * conflict's server record). The answer may be a stored outcome replayed long after (DESIGN
   * §3.2), for a record deleted since and its tombstone purged, so it does not vouch for the
   * record by itself: see {@link finishReset}. Called before the answer changes the base.
   */
  answered(scope: string, collection: string, id: string, revision: number): void {
    const pass = this.#lists.resetting.get(scope);
    if (!pass) return;
    const key = recordKey(collection, id);
    // Not noting every record, a base this pass holds and no answer brought came from its pages.
    if (!pass.held && !pass.answered.has(key) && this.replica.store.base(collection, id)) {
      pass.returned.add(key);
    }
    pass.answered.set(key, { collection, id, revision });
  }

  /**
   * Ends the reset of `scope`: base records of the scope that the fresh pull did not return are
   * dropped (their tombstones were purged on the server), unless a push answer put them at a
   * revision the pages never reached (the write came after the pages were read). An answer at a
   * revision the pages passed is no proof: a record still there would have been returned.
   * Returns the dropped records, for the caller to recompute the view.
   */
  finishReset(scope: string): Array<[collection: string, id: string]> {
    const pass = this.#change(this.#lists.resetting, scope, undefined);
    this.#delete(RESET_PREFIX + scope);
    const drop: Array<[string, string]> = [];
    if (!pass) return drop;
    const gone = (key: string) =>
      !pass.returned.has(key) && !((pass.answered.get(key)?.revision ?? 0) > pass.highest);
    if (pass.held) {
      for (const record of this.replica.store.baseRecords()) {
        if (record.scope === scope && gone(recordKey(record.collection, record.id))) {
          drop.push([record.collection, record.id]);
        }
      }
    } else {
      for (const [key, { collection, id }] of pass.answered) {
        if (this.replica.store.base(collection, id) && gone(key)) drop.push([collection, id]);
      }
    }
    for (const [collection, id] of drop) this.deleteBase(collection, id);
    return drop;
  }

  /** Persists an outbox entry as it is now (queued, coalesced, rebased or rewritten). */
  persistEntry(entry: OutboxEntry): void {
    this.#set(outboxKey(entry.seq), storedEntry(entry));
  }

  /** Takes an entry out of the outbox for good (answered, dead-lettered, parked, claimed). */
  unqueue(entry: OutboxEntry): void {
    this.replica.outbox.remove(entry);
    this.#delete(outboxKey(entry.seq));
  }

  /** Replaces an entry's mutation in place (a resolver's rewrite keeps the queue position). */
  replace(entry: OutboxEntry, mutation: Mutation, base: JsonObject | null): void {
    this.replica.outbox.replace(entry, mutation, base);
    this.persistEntry(entry);
  }

  /** Points the record's next queued mutation at `revision` (see `Outbox.rebaseNext`). */
  rebaseNext(collection: string, id: string, revision: number, base: JsonObject | null): void {
    const next = this.replica.outbox.rebaseNext(collection, id, revision, base);
    if (next !== undefined) this.persistEntry(next);
  }

  /** Appends a mutation moved in from another namespace (claimed local data). */
  adopt(mutation: Mutation, base: JsonObject | null): OutboxEntry {
    const entry = this.replica.outbox.adopt(mutation, base);
    this.persistEntry(entry);
    return entry;
  }

  /** Parks a conflict the resolver left to the app. */
  parkConflict(stored: StoredConflict): void {
    const id = stored.mutation.id;
    this.#change(this.#lists.conflicts, id, stored);
    this.#set(CONFLICT_PREFIX + id, stored);
  }

  /** Removes a parked conflict (the app settled it); returns it, if it was parked. */
  unparkConflict(mutationId: string): StoredConflict | undefined {
    this.#delete(CONFLICT_PREFIX + mutationId);
    return this.#change(this.#lists.conflicts, mutationId, undefined);
  }

  /** Keeps a rejected mutation as a dead letter. */
  deadLetter(letter: DeadLetter): void {
    const id = letter.mutation.id;
    this.#change(this.#lists.deadLetters, id, letter);
    this.#set(DEAD_LETTER_PREFIX + id, letter);
  }

  /** Removes a dead letter (retried or discarded); returns it, if there was one. */
  forgetDeadLetter(mutationId: string): DeadLetter | undefined {
    this.#delete(DEAD_LETTER_PREFIX + mutationId);
    return this.#change(this.#lists.deadLetters, mutationId, undefined);
  }

  /** Quarantines a server record that failed its collection's schema. */
  quarantine(invalid: InvalidRecord): void {
    const key = invalidKey(invalid.collection, invalid.id);
    this.#change(this.#lists.invalidRecords, key, invalid);
    this.#set(key, invalid);
  }

  /** Ends a record's quarantine; `false` (and nothing written) when it was not quarantined. */
  endQuarantine(collection: string, id: string): boolean {
    const key = invalidKey(collection, id);
    if (this.#change(this.#lists.invalidRecords, key, undefined) === undefined) return false;
    this.#delete(key);
    return true;
  }

  /** Persists the latest HLC issued, so the clock resumes after it (see replica/load.ts). */
  noteClock(hlc: string): void {
    this.#set(HLC_KEY, hlc);
  }

  #set(key: string, value: unknown): void {
    this.ops.push({ type: 'set', key, value });
  }

  #delete(key: string): void {
    this.ops.push({ type: 'delete', key });
  }

  /** Sets (or, with `undefined`, deletes) `key` of a list, remembering how to undo it. */
  #change<V>(list: Map<string, V>, key: string, value: V | undefined): V | undefined {
    const old = list.get(key);
    this.#undo.push(() => (old === undefined ? list.delete(key) : list.set(key, old)));
    if (value === undefined) list.delete(key);
    else list.set(key, value);
    return old;
  }
}
