/**
 * One scope of the in-memory server: its version counter, its records (tombstones included),
 * a change log in version order for pulls, and the tombstone purge horizon.
 *
 * @module
 */
import { RecordIndex } from '../outbox/record-index.js';
import type { SyncRecord } from '../protocol/types.js';
import { deepFreeze } from '../store/freeze.js';

interface StoredRecord {
  record: SyncRecord;
  /** Server time of the last accepted write (`now()`), for `purgeTombstones({ olderThan })`. */
  writtenAt: number;
  /**
   * `false` once a later write superseded it or it was purged: the log skips it. A flag, so a
   * pull does not build a key and look it up for every log entry it reads.
   */
  current: boolean;
}

/** The key of a record within a scope; NUL cannot occur in a valid collection or id. */
export function recordKey(collection: string, id: string): string {
  return `${collection}\u0000${id}`;
}

/**
 * The state of one scope. Invariant: every accepted write gets `version + 1` as its revision and
 * is appended to `#log`, so `#log` is sorted by revision and "every record whose revision is
 * greater than a checkpoint" is exactly a suffix of it (entries superseded by a later write, or
 * purged, are skipped when read).
 */
export class MemoryScope {
  readonly name: string;
  #version = 0;
  #horizon = 0;
  /** By collection, then id: no key string is built per lookup. */
  readonly #records = new RecordIndex<StoredRecord>();
  #size = 0;
  readonly #log: StoredRecord[] = [];

  constructor(name: string) {
    this.name = name;
  }

  /** The scope's version: the revision of its latest accepted write, 0 when none. */
  get version(): number {
    return this.#version;
  }

  /**
   * The purge horizon: the highest revision of a purged tombstone. A client whose checkpoint is
   * below it may have missed that delete, so it must reset.
   */
  get horizon(): number {
    return this.#horizon;
  }

  /** The current record (a tombstone for a deleted one), or `undefined` when absent. */
  get(collection: string, id: string): SyncRecord | undefined {
    return this.#records.get(collection, id)?.record;
  }

  /**
   * Stores `record` as the scope's next version; `record.revision` must be `version + 1`. The
   * record is deep-frozen: pulls hand it out by reference (it is never changed, only replaced).
   */
  write(record: SyncRecord, writtenAt: number): void {
    if (record.revision !== this.#version + 1) {
      throw new Error(`write out of order: revision ${record.revision} after ${this.#version}`);
    }
    this.#version = record.revision;
    const previous = this.#records.get(record.collection, record.id);
    if (previous !== undefined) previous.current = false;
    else this.#size++;
    const stored: StoredRecord = { record: deepFreeze(record), writtenAt, current: true };
    this.#records.set(record.collection, record.id, stored);
    this.#log.push(stored);
    // Superseded entries are skipped on read; drop them once they dominate, so a record
    // written a thousand times does not cost a thousand skips per pull.
    if (this.#log.length > 64 && this.#log.length > 2 * this.#size) this.#compactLog();
  }

  /** Every record, tombstones included, in revision order. */
  records(): SyncRecord[] {
    // The log holds every current record once, in revision order.
    return this.#current().map((stored) => stored.record);
  }

  /**
   * Up to `limit` current records with `revision > after`, in revision order, and whether more
   * follow. The records are the stored (frozen) ones.
   */
  changesAfter(after: number, limit: number): { changes: SyncRecord[]; hasMore: boolean } {
    const changes: SyncRecord[] = [];
    let i = firstAbove(this.#log, after);
    for (; i < this.#log.length; i++) {
      const entry = this.#log[i]!;
      if (!entry.current) continue;
      if (changes.length === limit) return { changes, hasMore: true };
      changes.push(entry.record);
    }
    return { changes, hasMore: false };
  }

  /**
   * Removes tombstones that match `shouldPurge` and raises the horizon to the highest purged
   * revision. Returns how many were removed.
   */
  purgeTombstones(shouldPurge: (record: SyncRecord, writtenAt: number) => boolean): number {
    let purged = 0;
    for (const stored of this.#current()) {
      if (stored.record.deleted && shouldPurge(stored.record, stored.writtenAt)) {
        this.#records.delete(stored.record.collection, stored.record.id);
        this.#size--;
        stored.current = false;
        this.#horizon = Math.max(this.#horizon, stored.record.revision);
        purged++;
      }
    }
    if (purged > 0) this.#compactLog();
    return purged;
  }

  #current(): StoredRecord[] {
    return this.#log.filter((entry) => entry.current);
  }

  #compactLog(): void {
    // In place: spreading a long log into push() could exceed the engine's argument limit.
    let kept = 0;
    for (const entry of this.#log) if (entry.current) this.#log[kept++] = entry;
    this.#log.length = kept;
  }
}

/** Index of the first log entry whose revision is greater than `after` (binary search). */
function firstAbove(log: readonly StoredRecord[], after: number): number {
  let lo = 0;
  let hi = log.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (log[mid]!.record.revision > after) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
