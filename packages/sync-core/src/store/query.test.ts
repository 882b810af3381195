import { describe, expect, it } from 'vitest';
import type { Json, JsonObject, Mutation, SyncRecord } from '../protocol/types.js';
import type { QueryOptions } from './query.js';
import { RecordStore } from './record-store.js';

/** A small deterministic generator (the same data on every run). */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const VALUES: readonly (Json | undefined)[] = [1, 2, 2, 3, -1, 'a', 'b', true, null, undefined, {}];

/**
 * A store of `count` records: most are confirmed server records (one object each), some have a
 * pending patch (their view diverges), some are deleted. Sort keys repeat, mix types and miss.
 */
function storeOf(count: number, seed: number): RecordStore {
  const random = generator(seed);
  const pending = new Map<string, Mutation[]>();
  const store = new RecordStore((collection, id) =>
    pending.get(`${collection}/${id}`)?.map((mutation) => ({ mutation })),
  );
  for (let i = 0; i < count; i++) {
    const id = `r${Math.floor(random() * count * 10)}`;
    const data: JsonObject = { done: random() < 0.5 };
    const p = VALUES[Math.floor(random() * VALUES.length)];
    if (p !== undefined) data.p = p;
    const deleted = random() < 0.1;
    const record: SyncRecord = {
      scope: 'user:1',
      collection: 'todos',
      id,
      data: deleted ? null : Object.freeze(data),
      revision: 1,
      hlc: 'h',
      deleted,
    };
    store.setBase(Object.freeze(record));
    if (random() < 0.2) {
      const mutation: Mutation = {
        id: `m${i}`,
        scope: 'user:1',
        collection: 'todos',
        recordId: id,
        op: 'patch',
        data: { p: Math.floor(random() * 3) },
        baseRevision: 1,
        hlc: 'h',
      };
      pending.set(`todos/${id}`, [mutation]);
    }
    store.recompute('todos', id);
  }
  return store;
}

/** Query options without the `undefined` members (exactOptionalPropertyTypes). */
function optionsOf(
  where: QueryOptions['where'],
  orderBy: QueryOptions['orderBy'],
  limit?: number,
): QueryOptions {
  return {
    ...(where === undefined ? {} : { where }),
    ...(orderBy === undefined ? {} : { orderBy }),
    ...(limit === undefined ? {} : { limit }),
  };
}

const ids = (records: readonly { id: string }[]) => records.map((r) => r.id);

describe('query with a limit', () => {
  const done = (data: Readonly<JsonObject>) => data.done === true;
  const orders: QueryOptions['orderBy'][] = ['p', ['p', 'desc'], 'missing', ['done', 'desc']];

  it('keeps the first rows of the full sort, whatever the limit (ties, types, missing keys)', () => {
    // 5,000 records: more than one batch of candidates is sorted and cut (see firstInOrder).
    for (const [count, seed] of [
      [400, 1],
      [400, 2],
      [5000, 3],
    ] as const) {
      const store = storeOf(count, seed);
      for (const orderBy of orders) {
        for (const where of [undefined, done]) {
          const all = ids(store.query('todos', optionsOf(where, orderBy)));
          expect(all.length).toBeGreaterThan(100);
          for (const limit of [0, 1, 2, 7, 50, 130, all.length - 1, all.length, all.length + 5]) {
            expect(ids(store.query('todos', optionsOf(where, orderBy, limit)))).toEqual(
              all.slice(0, limit),
            );
          }
        }
      }
    }
  });

  it('without orderBy keeps the first matching rows in insertion order', () => {
    const store = storeOf(300, 4);
    const all = ids(store.query('todos', { where: done }));
    for (const limit of [0, 1, 10, all.length, all.length + 1]) {
      expect(ids(store.query('todos', { where: done, limit }))).toEqual(all.slice(0, limit));
      expect(ids(store.query('todos', { limit }))).toEqual(
        ids(store.query('todos')).slice(0, limit),
      );
    }
  });

  it('calls where at most once per record, and stops at the limit without orderBy', () => {
    const store = storeOf(300, 5);
    let calls = 0;
    const counted = (data: Readonly<JsonObject>) => {
      calls++;
      return data.done === true;
    };
    store.query('todos', { where: counted, orderBy: 'p', limit: 3 });
    expect(calls).toBe(store.query('todos').length);
    calls = 0;
    expect(store.query('todos', { where: counted, limit: 3 })).toHaveLength(3);
    expect(calls).toBeLessThan(20);
  });

  it('sorts keys of different types by the name of their type, missing and null keys last', () => {
    const store = new RecordStore(() => undefined);
    const keys: Array<Json | undefined> = ['b', 2, null, { x: 1 }, true, undefined, 'a', 1, false];
    keys.forEach((p, i) => {
      const data: JsonObject = p === undefined ? {} : { p };
      const id = `r${i}`;
      store.setBase(
        Object.freeze({
          scope: 's',
          collection: 'c',
          id,
          data,
          revision: 1,
          hlc: 'h',
          deleted: false,
        }),
      );
      store.recompute('c', id);
    });
    // boolean < number < object < string; null and missing tie last, by id.
    expect(ids(store.query('c', { orderBy: 'p' }))).toEqual([
      'r8',
      'r4',
      'r7',
      'r1',
      'r3',
      'r6',
      'r0',
      'r2',
      'r5',
    ]);
  });
});
