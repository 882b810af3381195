import type { JsonObject, Mutation } from '../protocol/types.js';
import { coalesce } from './coalesce.js';
import { RecordIndex } from './record-index.js';

/** The persisted form of an {@link OutboxEntry}. */
export interface StoredOutboxEntry {
  /** Position in the queue. */
  seq: number;
  /** The mutation to push. */
  mutation: Mutation;
  /** The record's data at `mutation.baseRevision` (what a three-way merge calls "base"). */
  base: JsonObject | null;
}

/**
 * One queued mutation and what the client knows about its delivery. Read-only outside the
 * outbox: only {@link Outbox}'s methods change an entry (its storage key is the replica's, see
 * replica/keys.ts).
 */
export interface OutboxEntry {
  /** Position in the queue (the storage key is built from it). */
  readonly seq: number;
  /**
   * The mutation: frozen when it enters the outbox, and replaced, never changed, on coalescing,
   * rebasing and rewriting, so a transport may send it without a defensive copy.
   */
  readonly mutation: Mutation;
  /** Data at `baseRevision`, for resolvers. */
  readonly base: JsonObject | null;
  /** Sent and not yet answered. */
  readonly inFlight: boolean;
  /**
   * May have reached the server (it was sent, or it was loaded from storage and a previous run
   * may have sent it). Its id may have a stored outcome, so it must never carry new content:
   * later edits queue behind it instead of coalescing into it.
   */
  readonly sealed: boolean;
  /** Storage writes of this entry not yet durable. It is not sent until they are. */
  readonly writes: number;
}

/** An entry as the outbox holds it. */
type Entry = { -readonly [K in keyof OutboxEntry]: OutboxEntry[K] };

/** What {@link Outbox.enqueue} did. */
export interface EnqueueResult {
  /** The entry that now holds the mutation. */
  entry: OutboxEntry;
  /** When the mutation was folded into an existing entry: that entry's previous state. */
  coalescedFrom?: { mutation: Mutation; base: JsonObject | null };
}

/**
 * The persisted (and mirrored) value of an entry. Always a fresh object: storage may keep it by
 * reference.
 */
export function storedEntry(entry: OutboxEntry): StoredOutboxEntry {
  return { seq: entry.seq, mutation: entry.mutation, base: entry.base };
}

/**
 * The in-memory outbox: the queue of mutations not yet answered by the server, in order, with
 * a per-record index. It decides coalescing, what may be sent (at most one in-flight mutation
 * per record, `txId` groups whole) and rebasing; the caller persists what it reports.
 */
export class Outbox {
  #entries = new Map<number, Entry>();
  #byRecord = new RecordIndex<Entry[]>();
  #byTx = new Map<string, Entry[]>();
  #nextSeq = 1;

  /**
   * Inserts entries that are durable already (loaded from storage, or a leader tab's, see
   * tabs/mirror.ts) at their own positions, in `seq` order, all sealed (they may have been
   * sent); an entry at the same position is replaced.
   */
  restore(stored: readonly StoredOutboxEntry[]): void {
    for (const item of [...stored].sort((a, b) => a.seq - b.seq)) {
      const clash = this.#entries.get(item.seq);
      if (clash !== undefined) this.remove(clash);
      this.#insert({
        seq: item.seq,
        mutation: Object.freeze(item.mutation),
        base: item.base,
        inFlight: false,
        sealed: true,
        writes: 0,
      });
      this.#nextSeq = Math.max(this.#nextSeq, item.seq + 1);
    }
  }

  /** Number of queued mutations (in flight included). */
  get size(): number {
    return this.#entries.size;
  }

  /** Every entry, in queue order. */
  entries(): IterableIterator<OutboxEntry> {
    return this.#entries.values();
  }

  /** The entries of one record, oldest first, or `undefined` when it has none. */
  forRecord(collection: string, id: string): readonly OutboxEntry[] | undefined {
    return this.#byRecord.get(collection, id);
  }

  /** `true` while `entry` is queued (not removed, nor replaced by a restored one). */
  #holds(entry: OutboxEntry): boolean {
    return this.#entries.get(entry.seq) === entry;
  }

  /**
   * Queues `mutation`. If the record's last entry is unsent, never sent before, durable and of
   * the same transaction (or both of none), the mutation is folded into it (see `coalesce`);
   * otherwise it gets a new entry at the end. The entry's `writes` is incremented: the caller
   * persists it and calls {@link writeSettled}.
   */
  enqueue(mutation: Mutation, base: JsonObject | null): EnqueueResult {
    const list = this.#byRecord.get(mutation.collection, mutation.recordId);
    const last = list?.[list.length - 1];
    if (
      last !== undefined &&
      !last.inFlight &&
      !last.sealed &&
      last.mutation.txId === mutation.txId &&
      // Outside a transaction, fold only into a durable entry: if its write then failed, the
      // rollback would also undo this later edit.
      (mutation.txId !== undefined || last.writes === 0)
    ) {
      const previous = { mutation: last.mutation, base: last.base };
      last.mutation = coalesce(last.mutation, mutation);
      last.writes++;
      return { entry: last, coalescedFrom: previous };
    }
    const seq = this.#nextSeq++;
    const entry: Entry = {
      seq,
      mutation: Object.freeze(mutation),
      base,
      inFlight: false,
      sealed: false,
      writes: 1,
    };
    this.#insert(entry, list);
    return { entry };
  }

  /** Marks one storage write of `entry` as settled (durable, or failed and rolled back). */
  writeSettled(entry: OutboxEntry): void {
    if (entry.writes > 0) (entry as Entry).writes--;
  }

  /** Undoes a failed enqueue: removes the new entry, or restores the coalesced one. */
  rollback(result: EnqueueResult): void {
    const { entry, coalescedFrom } = result;
    if (coalescedFrom === undefined) {
      this.remove(entry);
    } else if (this.#holds(entry)) {
      const held = entry as Entry;
      held.mutation = coalescedFrom.mutation;
      held.base = coalescedFrom.base;
    }
  }

  #insert(
    entry: Entry,
    list = this.#byRecord.get(entry.mutation.collection, entry.mutation.recordId),
  ): void {
    this.#entries.set(entry.seq, entry);
    if (list === undefined)
      this.#byRecord.set(entry.mutation.collection, entry.mutation.recordId, [entry]);
    else list.push(entry);
    const txId = entry.mutation.txId;
    if (txId !== undefined) {
      const group = this.#byTx.get(txId);
      if (group === undefined) this.#byTx.set(txId, [entry]);
      else group.push(entry);
    }
  }

  /** Removes an entry (answered, dead-lettered, parked or rolled back). */
  remove(entry: OutboxEntry): void {
    if (!this.#holds(entry)) return;
    this.#entries.delete(entry.seq);
    const { collection, recordId } = entry.mutation;
    if (unlink(this.#byRecord.get(collection, recordId) as Entry[], entry)) {
      this.#byRecord.delete(collection, recordId);
    }
    const txId = entry.mutation.txId;
    if (txId !== undefined && unlink(this.#byTx.get(txId) as Entry[], entry)) {
      this.#byTx.delete(txId);
    }
  }

  /**
   * Replaces the mutation of an entry in place (a resolver's write keeps the queue position).
   * The new mutation belongs to the same transaction as the old one (same `txId`, or none).
   */
  replace(held: OutboxEntry, mutation: Mutation, base: JsonObject | null): void {
    const entry = held as Entry;
    entry.mutation = Object.freeze(mutation);
    entry.base = base;
    entry.sealed = false;
  }

  /** `true` when some entry could be sent now. */
  hasSendable(): boolean {
    const batch = this.#select(1);
    this.release(batch);
    return batch.length > 0;
  }

  /**
   * Takes the next batch to push and marks it in flight (and sealed): at most `max` mutations
   * (a transaction larger than `max` travels alone, whole), only the first queued mutation of a
   * record and only if that record has nothing in flight, `txId` groups whole and only when
   * every member is sendable, nothing whose storage write is not yet durable.
   */
  takeBatch(max: number): OutboxEntry[] {
    const batch = this.#select(max);
    // Sent: sealed too (their ids may now have an outcome on the server).
    for (const entry of batch) entry.sealed = true;
    return batch;
  }

  /** Takes the next batch as {@link takeBatch} says, marked in flight only. */
  #select(max: number): Entry[] {
    const batch: Entry[] = [];
    for (const entry of this.#entries.values()) {
      if (batch.length >= max) break;
      // Only a record's head (its oldest queued mutation) may go, and only when nothing of the
      // record is in flight: a later entry of a record is never a head, an in-flight head holds
      // the record back. Asked of the per-record index, so no key is built per entry. A member
      // of a transaction taken earlier in this batch is in flight already, so it is not taken
      // twice.
      if (!this.#isSendableHead(entry)) continue;
      // A transaction goes whole. Without a txId an entry is its own group (`#byTx` has no
      // `undefined` key, so the lookup finds nothing).
      const group = this.#byTx.get(entry.mutation.txId as string) ?? [entry];
      if (!group.every((member) => this.#isSendableHead(member))) continue;
      if (batch.length > 0 && batch.length + group.length > max) break;
      for (const member of group) {
        member.inFlight = true;
        batch.push(member);
      }
    }
    return batch;
  }

  #isSendableHead(entry: Entry): boolean {
    if (entry.inFlight || entry.writes > 0) return false;
    const list = this.#byRecord.get(entry.mutation.collection, entry.mutation.recordId);
    return list?.[0] === entry;
  }

  /**
   * Puts in-flight entries back in the queue unchanged: answered, failed (retried later), or held
   * back by a transaction sibling's conflict.
   */
  release(entries: readonly OutboxEntry[]): void {
    for (const entry of entries as readonly Entry[]) entry.inFlight = false;
  }

  /**
   * After the record's in-flight mutation was answered, points the next queued mutation of the
   * record at the record's new revision (DESIGN §3.2b), so the client never conflicts with its
   * own earlier write. Returns the rebased entry (to persist), if any.
   */
  rebaseNext(
    collection: string,
    id: string,
    revision: number,
    base: JsonObject | null,
  ): OutboxEntry | undefined {
    const next = this.#byRecord.get(collection, id)?.[0];
    if (next === undefined || next.inFlight) return undefined;
    if (next.mutation.baseRevision === revision && next.base === base) return undefined;
    next.mutation = Object.freeze({ ...next.mutation, baseRevision: revision });
    next.base = base;
    return next;
  }

  /**
   * Puts entries loaded from storage in front of the entries queued while the namespace was
   * loading (writes made right after a sign-in). Those were not persisted yet (their storage
   * write waits for the load), so they are renumbered after the stored ones, keeping their order.
   */
  mergeLoaded(stored: readonly StoredOutboxEntry[]): void {
    const queued = [...this.#entries.values()];
    this.#entries = new Map();
    this.#byRecord = new RecordIndex();
    this.#byTx = new Map();
    this.#nextSeq = 1;
    this.restore(stored);
    for (const entry of queued) {
      entry.seq = this.#nextSeq++;
      this.#insert(entry);
    }
  }

  /**
   * Appends a mutation moved in from another namespace (claimed local data) as a new entry.
   * It is sealed: nothing coalesces into it. The caller persists it.
   */
  adopt(mutation: Mutation, base: JsonObject | null): OutboxEntry {
    const seq = this.#nextSeq;
    this.restore([{ seq, mutation, base }]);
    return this.#entries.get(seq) as Entry;
  }
}

/**
 * Takes `entry` out of `list`, which holds it: `#insert` files a queued entry in its record's
 * list and its transaction's group, and only `remove` takes it out of them (a rebuilt outbox,
 * `mergeLoaded`, files every entry again). `true` when the list is left empty.
 */
function unlink(list: Entry[], entry: OutboxEntry): boolean {
  list.splice(list.indexOf(entry as Entry), 1);
  return list.length === 0;
}
