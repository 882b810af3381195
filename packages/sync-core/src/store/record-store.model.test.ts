/**
 * The record store against a model: random sequences of confirmed records, tombstones,
 * forgotten bases and pending writes, after each of which every read (`get`, `size`,
 * `viewIds`, `query` with and without `where`, `orderBy` and `limit`, `base`, `baseRecords`)
 * must say what replaying the pending writes on the base says. The store's fast paths (a slot
 * that is its own view record, the count of slots that are not, the query cache) must never
 * show in what it answers.
 */
import { describe, expect, it } from 'vitest';
import type { JsonObject, Mutation, SyncRecord } from '../protocol/types.js';
import { RecordStore } from './record-store.js';

const IDS = ['a', 'b', 'c', 'd'];

/** A small seeded PRNG (LCG): the same seed, the same sequence. */
function random(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return Math.floor(state / 65_536) % n; // the high bits: the low ones repeat quickly
  };
}

function replay(data: JsonObject | null, mutations: readonly Mutation[]): JsonObject | null {
  let out = data;
  for (const m of mutations) {
    if (m.op === 'put') out = m.data ?? null;
    else if (m.op === 'patch') out = { ...(out ?? {}), ...(m.data ?? {}) };
    else out = null;
  }
  return out;
}

function run(seed: number, steps: number): void {
  const next = random(seed);
  const pending = new Map<string, Mutation[]>();
  const bases = new Map<string, SyncRecord>();
  const store = new RecordStore((collection, id) =>
    collection === 'todos' ? pending.get(id)?.map((mutation) => ({ mutation })) : undefined,
  );
  let revision = 0;
  const mutation = (id: string, op: Mutation['op'], data?: JsonObject): Mutation => ({
    id: `m${revision++}`,
    scope: 'user:1',
    collection: 'todos',
    recordId: id,
    op,
    ...(data === undefined ? {} : { data: Object.freeze(data) }),
    baseRevision: 0,
    hlc: 'h',
  });
  const even = (d: Readonly<JsonObject>) => typeof d.n === 'number' && d.n % 2 === 0;
  const history: string[] = [];
  for (let step = 0; step < steps; step++) {
    const id = IDS[next(IDS.length)] as string;
    const n = next(6);
    const op = next(8);
    history.push(`${op}:${id}:${n}`);
    if (op <= 1) {
      const deleted = op === 1;
      const record: SyncRecord = Object.freeze({
        scope: 'user:1',
        collection: 'todos',
        id,
        data: deleted ? null : Object.freeze({ n }),
        revision: ++revision,
        hlc: 'h',
        deleted,
      });
      bases.set(id, record);
      store.setBase(record);
    } else if (op === 2) {
      bases.delete(id);
      store.deleteBase('todos', id);
    } else if (op === 3) {
      pending.set(id, [...(pending.get(id) ?? []), mutation(id, 'put', { n })]);
    } else if (op === 4) {
      const data = n % 2 === 0 ? { n } : { m: n };
      pending.set(id, [...(pending.get(id) ?? []), mutation(id, 'patch', data)]);
    } else if (op === 5) {
      pending.set(id, [...(pending.get(id) ?? []), mutation(id, 'delete')]);
    } else if (op === 6) {
      pending.delete(id);
    } else {
      // Forgetting what was never there changes nothing.
      store.deleteBase('other', id);
      store.deleteBase('todos', 'never');
    }
    store.recompute('todos', id);

    const context = `seed ${seed}, after ${history.slice(-20).join(' ')}`;
    const views = new Map<string, JsonObject>();
    for (const key of IDS) {
      const base = bases.get(key);
      const view = replay(base?.deleted === false ? base.data : null, pending.get(key) ?? []);
      if (view !== null) views.set(key, view);
    }
    const sorted = (records: readonly { id: string; data: Readonly<JsonObject> }[]) =>
      records.map((r) => [r.id, r.data]).sort(([x], [y]) => String(x).localeCompare(String(y)));
    const expected = [...views].sort(([x], [y]) => x.localeCompare(y));
    for (const key of IDS) expect(store.get('todos', key), context).toEqual(views.get(key));
    expect([...store.viewIds('todos')].sort(), context).toEqual([...views.keys()].sort());
    expect(sorted(store.query('todos')), context).toEqual(expected);
    expect(sorted(store.query('todos', { where: even })), context).toEqual(
      expected.filter(([, data]) => even(data)),
    );
    // orderBy: by `n`, a record without it last, ties by id.
    const nOf = (data: JsonObject) => (typeof data.n === 'number' ? data.n : Infinity);
    const byN = [...expected].sort(([x, a], [y, b]) => nOf(a) - nOf(b) || x.localeCompare(y));
    expect(
      store.query('todos', { orderBy: 'n', limit: 2 }).map((r) => r.id),
      context,
    ).toEqual(byN.slice(0, 2).map(([key]) => key));
    expect(store.query('todos', { limit: 0 }), context).toEqual([]);
    expect(store.query('todos', { limit: 1 }), context).toHaveLength(Math.min(1, views.size));
    for (const key of IDS) expect(store.base('todos', key), context).toBe(bases.get(key));
    expect([...store.baseRecords()].map((r) => r.id).sort(), context).toEqual(
      [...bases.keys()].sort(),
    );
  }
  expect(store.query('other')).toEqual([]);
  expect([...store.viewIds('other')]).toEqual([]);
}

describe('RecordStore against a model', () => {
  it('answers every read as replaying the pending writes on the base does', () => {
    for (let seed = 1; seed <= 12; seed++) run(seed, 150);
  });
});
