import type { JsonObject, Mutation, SyncRecord } from '../protocol/types.js';
import { applyMutation } from './apply-mutation.js';
import { jsonEqual } from './json-equal.js';
import {
  type QueryOptions,
  queryShapeKey,
  runQuery,
  sameRecords,
  type ViewRecord,
} from './query.js';

interface CollectionState {
  /** Confirmed records from the server, tombstones included. */
  base: Map<string, SyncRecord>;
  /** The optimistic view: live records only (deleted ones are absent). */
  view: Map<string, ViewRecord>;
  /** Bumped on every view change of the collection; query caches compare it. */
  version: number;
  /** Query results by shape, for queries without `where`. */
  plainQueries: Map<string, CachedQuery>;
  /** Query results by `where` function, then shape. */
  whereQueries: WeakMap<NonNullable<QueryOptions['where']>, Map<string, CachedQuery>>;
}

interface CachedQuery {
  version: number;
  result: readonly ViewRecord[];
}

/** A queued mutation, as the outbox holds it (an outbox entry is one). */
export interface PendingMutation {
  /** The mutation to replay. */
  readonly mutation: Mutation;
}

/**
 * Returns the pending (unconfirmed) mutations of one record, oldest first: the outbox's own
 * list, read in place (this runs on every write and every pulled record).
 */
export type PendingLookup = (
  collection: string,
  id: string,
) => readonly PendingMutation[] | undefined;

const EMPTY: readonly ViewRecord[] = Object.freeze([]);

/**
 * Confirmed base records plus the optimistic view (DESIGN §3.5): view = base with the record's
 * pending mutations replayed on top. Only the records whose base or pending list changed are
 * recomputed ({@link recompute}), and each view record is a frozen object that keeps its
 * identity until its data changes, so `get` and `query` results are stable snapshots.
 */
export class RecordStore {
  readonly #collections = new Map<string, CollectionState>();
  readonly #pending: PendingLookup;

  /** @param pending - where the replayed pending mutations come from (the outbox) */
  constructor(pending: PendingLookup) {
    this.#pending = pending;
  }

  #state(collection: string): CollectionState {
    let state = this.#collections.get(collection);
    if (state === undefined) {
      state = {
        base: new Map(),
        view: new Map(),
        version: 0,
        plainQueries: new Map(),
        whereQueries: new WeakMap(),
      };
      this.#collections.set(collection, state);
    }
    return state;
  }

  /** The confirmed record, tombstone included, or `undefined` if the server never sent it. */
  base(collection: string, id: string): SyncRecord | undefined {
    return this.#collections.get(collection)?.base.get(id);
  }

  /** Replaces a confirmed record. Call {@link recompute} afterwards. */
  setBase(record: SyncRecord): void {
    this.#state(record.collection).base.set(record.id, record);
  }

  /** Forgets a confirmed record. Call {@link recompute} afterwards. */
  deleteBase(collection: string, id: string): void {
    this.#collections.get(collection)?.base.delete(id);
  }

  /** Every confirmed record. */
  *baseRecords(): IterableIterator<SyncRecord> {
    for (const state of this.#collections.values()) yield* state.base.values();
  }

  /** Names of every collection that has or had records. */
  collections(): IterableIterator<string> {
    return this.#collections.keys();
  }

  /** The ids currently live in a collection's view. */
  viewIds(collection: string): IterableIterator<string> {
    return (this.#collections.get(collection)?.view ?? new Map<string, ViewRecord>()).keys();
  }

  /**
   * Recomputes the view of one record from its base and pending mutations. Returns `true` when
   * the view changed (the caller batches a change notification).
   */
  recompute(collection: string, id: string): boolean {
    const state = this.#state(collection);
    const base = state.base.get(id);
    let data: JsonObject | null = base === undefined || base.deleted ? null : base.data;
    const pending = this.#pending(collection, id);
    if (pending !== undefined) {
      for (let i = 0; i < pending.length; i++) {
        data = applyMutation(data, (pending[i] as PendingMutation).mutation);
      }
    }
    const current = state.view.get(id);
    if (data === null) {
      if (current === undefined) return false;
      state.view.delete(id);
    } else {
      // Equal data keeps the view record (and every snapshot holding it): our own write comes
      // back from the server as an equal copy, which must not look like a change.
      if (current !== undefined && (current.data === data || jsonEqual(current.data, data))) {
        return false;
      }
      state.view.set(id, Object.freeze({ id, data }));
    }
    state.version++;
    return true;
  }

  /** The record's data in the view, or `undefined` when absent or deleted. */
  get(collection: string, id: string): Readonly<JsonObject> | undefined {
    return this.#collections.get(collection)?.view.get(id)?.data;
  }

  /** Number of live records of a collection in the view. */
  size(collection: string): number {
    return this.#collections.get(collection)?.view.size ?? 0;
  }

  /**
   * Runs a query over the view. The result array is cached per (`where` function, `orderBy`,
   * `limit`) and returned again, by reference, until a change of the collection alters it.
   */
  query(collection: string, options: QueryOptions = {}): readonly ViewRecord[] {
    const state = this.#collections.get(collection);
    if (state === undefined) return EMPTY;
    const shape = queryShapeKey(options);
    let cache: Map<string, CachedQuery>;
    if (options.where === undefined) {
      cache = state.plainQueries;
    } else {
      let byShape = state.whereQueries.get(options.where);
      if (byShape === undefined) {
        byShape = new Map();
        state.whereQueries.set(options.where, byShape);
      }
      cache = byShape;
    }
    const cached = cache.get(shape);
    if (cached !== undefined && cached.version === state.version) return cached.result;
    const fresh = runQuery(state.view.values(), options);
    // A change that did not alter this result keeps the old array: stable for React.
    if (cached !== undefined && sameRecords(cached.result, fresh)) {
      cached.version = state.version;
      return cached.result;
    }
    const result = Object.freeze(fresh);
    cache.set(shape, { version: state.version, result });
    return result;
  }
}
