import type { JsonObject, Mutation, SyncRecord } from '../protocol/types.js';
import { applyMutation } from './apply-mutation.js';
import { jsonEqual } from './json-equal.js';
import { firstByOrder, type QueryOptions, type ViewRecord } from './query.js';
import { EMPTY_LIST, stableList } from './stable-list.js';

/**
 * A record whose view is not its confirmed base record: it has pending mutations, no base yet
 * (a local create), a local delete, or a view record kept for its identity (equal data came
 * back from the server under a new revision).
 */
class Diverged {
  constructor(
    /** The confirmed record, tombstone included; `undefined` if the server never sent it. */
    readonly base: SyncRecord | undefined,
    /** What the view shows; `undefined` when the record is absent from the view. */
    readonly view: ViewRecord | undefined,
  ) {}
}

/**
 * One entry per record. A confirmed record with no local change is stored once: the server's
 * record is both the base and the view record (a tombstone is then absent from the view). Any
 * other record is a {@link Diverged} pair.
 */
type Slot = SyncRecord | Diverged;

function baseOf(slot: Slot | undefined): SyncRecord | undefined {
  return slot instanceof Diverged ? slot.base : slot;
}

function viewOf(slot: Slot | undefined): ViewRecord | undefined {
  if (slot instanceof Diverged) return slot.view;
  return slot === undefined || slot.deleted ? undefined : asView(slot);
}

/** A live record (its data is an object, never `null`) is a view record as it is. */
function asView(record: SyncRecord): ViewRecord {
  return record as ViewRecord;
}

/**
 * The slot for a base and a view; `undefined` when there is neither. `current` is returned
 * when it already holds them (no new object on every recompute).
 */
function slotOf(
  base: SyncRecord | undefined,
  view: ViewRecord | undefined,
  current?: Slot,
): Slot | undefined {
  if (view === base && base !== undefined) return base; // the server's record is the view
  // Neither (`undefined`), or a tombstone, which is not in the view.
  if (view === undefined && (base === undefined || base.deleted)) return base;
  if (current instanceof Diverged && current.base === base && current.view === view) return current;
  return new Diverged(base, view);
}

interface CollectionState {
  /** The collection's name. */
  readonly name: string;
  /** Every record's slot, in the order the records first appeared (unordered queries). */
  slots: Map<string, Slot>;
  /**
   * Number of slots that are not their own view record (a {@link Diverged} pair or a
   * tombstone). While it is 0 the slots ARE the view, in order, and a query copies them as
   * they are (a native copy: a cold first query of 100,000 rows stays fast).
   */
  others: number;
  /** Bumped on every view change of the collection; query caches compare it. */
  version: number;
  /** Query results by `where` function ({@link NO_WHERE} for none), then shape. */
  queries: WeakMap<object, Map<string, CachedQuery>>;
}

/** Sets (or, for `undefined`, removes) a record's slot, keeping `others` true. */
function putSlot(
  state: CollectionState,
  id: string,
  previous: Slot | undefined,
  next: Slot | undefined,
): void {
  // No slot (`undefined`) is its own view, so it counts for neither.
  if (viewOf(previous) !== previous) state.others--;
  if (viewOf(next) !== next) state.others++;
  if (next === undefined) state.slots.delete(id);
  else state.slots.set(id, next);
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

/** The cache key of the queries without `where` (a constant, never written). */
const NO_WHERE = Object.freeze({});

/**
 * Confirmed base records plus the optimistic view (DESIGN §3.5): view = base with the record's
 * pending mutations replayed on top. Only the records whose base or pending list changed are
 * recomputed ({@link recompute}), and each view record is a frozen object that keeps its
 * identity until its data changes, so `get` and `query` results are stable snapshots. A record
 * the app has not changed is one object: the server's frozen record serves as its view record.
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
        name: collection,
        slots: new Map(),
        others: 0,
        version: 0,
        queries: new WeakMap(),
      };
      this.#collections.set(collection, state);
    }
    return state;
  }

  /** The confirmed record, tombstone included, or `undefined` if the server never sent it. */
  base(collection: string, id: string): SyncRecord | undefined {
    return baseOf(this.#collections.get(collection)?.slots.get(id));
  }

  /**
   * Replaces a confirmed record; the view is unchanged until {@link recompute}. The record must
   * be deep-frozen (`deepFreeze`): it becomes the view record the app reads.
   */
  setBase(record: SyncRecord): void {
    const state = this.#state(record.collection);
    const slot = state.slots.get(record.id);
    putSlot(state, record.id, slot, new Diverged(record, viewOf(slot)));
  }

  /** Forgets a confirmed record; the view is unchanged until {@link recompute}. */
  deleteBase(collection: string, id: string): void {
    const state = this.#state(collection);
    const slot = state.slots.get(id);
    putSlot(state, id, slot, slotOf(undefined, viewOf(slot)));
  }

  /** Every confirmed record. */
  *baseRecords(): IterableIterator<SyncRecord> {
    for (const state of this.#collections.values()) {
      for (const slot of state.slots.values()) {
        const base = baseOf(slot);
        if (base !== undefined) yield base;
      }
    }
  }

  /** Names of every collection that has or had records. */
  collections(): IterableIterator<string> {
    return this.#collections.keys();
  }

  /** The ids currently live in a collection's view. */
  viewIds(collection: string): IterableIterator<string> {
    return this.#views(this.#state(collection))
      .map((view) => view.id)
      .values();
  }

  /**
   * The view records of a collection that `where` keeps (all without it), in slot order, at most
   * `max` of them: one plain loop over the slots, which filters as it goes (queries of 100,000
   * rows).
   */
  #views(
    state: CollectionState,
    where?: QueryOptions['where'],
    max = Number.POSITIVE_INFINITY,
  ): ViewRecord[] {
    // While every slot is its own view record, the slots are the view: copied natively.
    if (state.others === 0 && where === undefined && max >= state.slots.size) {
      return Array.from(state.slots.values()) as ViewRecord[];
    }
    const views: ViewRecord[] = [];
    const slotsAreViews = state.others === 0;
    for (const slot of state.slots.values()) {
      if (views.length >= max) break;
      const view = slotsAreViews ? (slot as ViewRecord) : viewOf(slot);
      if (view === undefined || (where !== undefined && !where(view.data))) continue;
      views.push(view);
    }
    return views;
  }

  /** Recomputes the view of one record from its base and pending mutations. Returns `true` when the view changed (the caller batches a change notification). */
  recompute(collection: string, id: string): boolean {
    const state = this.#state(collection);
    const slot = state.slots.get(id);
    return this.#recompute(state, id, slot, baseOf(slot));
  }

  /**
   * Files a record the server sent, looked up once: unless the base holds this revision or a
   * newer one, or `admit` refuses it, the record (deep-frozen: it becomes the view record the
   * app reads) becomes the confirmed record and the view is recomputed. Returns whether the
   * view changed, or `undefined` when the record was not filed.
   *
   * @param admit - called only for a record newer than the base; `false` leaves it out
   */
  receive(record: SyncRecord, admit?: (record: SyncRecord) => boolean): boolean | undefined {
    const state = this.#state(record.collection);
    const slot = state.slots.get(record.id);
    const held = baseOf(slot);
    if (held !== undefined && held.revision >= record.revision) return undefined;
    if (admit !== undefined && !admit(record)) return undefined;
    return this.#recompute(state, record.id, slot, record);
  }

  /** The view of a record from `base` and its pending mutations; `true` when it changed. */
  #recompute(
    state: CollectionState,
    id: string,
    slot: Slot | undefined,
    base: SyncRecord | undefined,
  ): boolean {
    let data: JsonObject | null = base === undefined || base.deleted ? null : base.data;
    const pending = this.#pending(state.name, id);
    if (pending !== undefined) {
      for (let i = 0; i < pending.length; i++) {
        data = applyMutation(data, (pending[i] as PendingMutation).mutation);
      }
    }
    const current = viewOf(slot);
    let next: ViewRecord | undefined;
    if (data === null) {
      next = undefined;
    } else if (current !== undefined && (current.data === data || jsonEqual(current.data, data))) {
      // Equal data keeps the view record (and every snapshot holding it): our own write comes
      // back from the server as an equal copy, which must not look like a change.
      next = current;
    } else {
      // The confirmed record itself when nothing local changed it, else a new frozen record.
      next = base !== undefined && data === base.data ? asView(base) : Object.freeze({ id, data });
    }
    const nextSlot = slotOf(base, next, slot);
    if (nextSlot !== slot) putSlot(state, id, slot, nextSlot);
    if (next === current) return false;
    state.version++;
    return true;
  }

  /** The record's data in the view, or `undefined` when absent or deleted. */
  get(collection: string, id: string): Readonly<JsonObject> | undefined {
    return viewOf(this.#collections.get(collection)?.slots.get(id))?.data;
  }

  /**
   * Runs a query over the view. The result array is cached per (`where` function, `orderBy`,
   * `limit`) and returned again, by reference, until a change of the collection alters it.
   */
  query(collection: string, options: QueryOptions = {}): readonly ViewRecord[] {
    const state = this.#state(collection);
    const { where, orderBy, limit } = options;
    // Equal shapes give equal results (`'p'` and `['p', 'asc']` are two shapes of one result,
    // cached twice).
    const shape = JSON.stringify([orderBy, limit]);
    const key = where ?? NO_WHERE;
    let cache = state.queries.get(key);
    if (cache === undefined) {
      cache = new Map();
      state.queries.set(key, cache);
    }
    const cached = cache.get(shape);
    if (cached !== undefined && cached.version === state.version) return cached.result;
    // A negative limit is no limit.
    const max = limit !== undefined && limit >= 0 ? limit : Number.POSITIVE_INFINITY;
    // Without orderBy the first `max` rows are the result: the loop stops there.
    const fresh =
      orderBy === undefined
        ? this.#views(state, where, max)
        : firstByOrder(this.#views(state, where), orderBy, max);
    // A change that did not alter this result keeps the old array: stable for React.
    const result = stableList(cached?.result ?? EMPTY_LIST, fresh);
    cache.set(shape, { version: state.version, result });
    return result;
  }
}
