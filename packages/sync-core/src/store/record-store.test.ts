import { describe, expect, it } from 'vitest';
import type { Mutation, SyncRecord } from '../protocol/types.js';
import { RecordStore } from './record-store.js';

function rec(id: string, data: SyncRecord['data'], revision = 1): SyncRecord {
  return {
    scope: 'user:1',
    collection: 'todos',
    id,
    data,
    revision,
    hlc: 'h',
    deleted: data === null,
  };
}

function setup() {
  const pending = new Map<string, Mutation[]>();
  const store = new RecordStore((collection, id) =>
    pending.get(`${collection}/${id}`)?.map((mutation) => ({ mutation })),
  );
  const push = (
    id: string,
    mutation: Omit<Mutation, 'id' | 'scope' | 'collection' | 'recordId' | 'baseRevision' | 'hlc'>,
  ) => {
    const list = pending.get(`todos/${id}`) ?? [];
    list.push({
      id: 'x',
      scope: 'user:1',
      collection: 'todos',
      recordId: id,
      baseRevision: 0,
      hlc: 'h',
      ...mutation,
    });
    pending.set(`todos/${id}`, list);
    return store.recompute('todos', id);
  };
  return { store, pending, push };
}

describe('RecordStore', () => {
  it('receive() leaves every record as a revision check, setBase() then recompute() would', () => {
    // Two stores driven alike, one through receive(record), one through base() + setBase +
    // recompute: a new record, a pending local edit over it, an equal copy under a new revision,
    // a tombstone, an older and a same revision (nothing changes), a refused record.
    const one = setup();
    const two = setup();
    const server = (id: string, data: SyncRecord['data'], revision: number) =>
      Object.freeze(rec(id, data === null ? null : Object.freeze(data), revision));
    const refused = server('c', { title: 'refused' }, 9);
    const steps: Array<SyncRecord | [string, Parameters<typeof one.push>[1]]> = [
      server('a', { title: 'server' }, 1),
      ['b', { op: 'put', data: { title: 'local' } }],
      server('b', { title: 'other' }, 2),
      ['a', { op: 'patch', data: { done: true } }],
      server('a', { title: 'renamed' }, 3),
      server('a', { title: 'older' }, 2),
      server('a', null, 4),
      server('c', { title: 'c' }, 5),
      server('c', { title: 'c' }, 6),
      server('c', { title: 'same revision' }, 6),
      refused,
    ];
    const admit = (record: SyncRecord) => record !== refused;
    for (const step of steps) {
      if (Array.isArray(step)) {
        expect(one.push(...step)).toBe(two.push(...step));
      } else {
        const held = two.store.base(step.collection, step.id);
        let expected: boolean | undefined; // undefined: not filed
        if (held !== undefined && held.revision >= step.revision) expected = undefined;
        else if (!admit(step)) expected = undefined;
        else {
          two.store.setBase(step);
          expected = two.store.recompute(step.collection, step.id);
        }
        expect(one.store.receive(step, admit)).toBe(expected);
      }
      expect(one.store.query('todos')).toEqual(two.store.query('todos'));
      for (const id of ['a', 'b', 'c']) {
        expect(one.store.base('todos', id)).toBe(two.store.base('todos', id));
        expect(one.store.get('todos', id)).toEqual(two.store.get('todos', id));
      }
    }
    expect(one.store.base('todos', 'a')?.deleted).toBe(true);
    expect(one.store.base('todos', 'c')?.data).toEqual({ title: 'c' });
    expect(one.store.get('todos', 'b')).toEqual({ title: 'local' });
  });

  it('stores an unchanged confirmed record once: the server record is its view record', () => {
    const { store, pending, push } = setup();
    const server = Object.freeze(rec('a', Object.freeze({ title: 'server' })));
    store.setBase(server);
    expect(store.recompute('todos', 'a')).toBe(true);
    expect(store.query('todos')[0]).toBe(server);
    expect(store.get('todos', 'a')).toBe(server.data);
    // A local change diverges the view from the base, which stays the server's record.
    push('a', { op: 'patch', data: { title: 'mine' } });
    const mine = store.query('todos')[0];
    expect(mine).not.toBe(server);
    expect(mine).toEqual({ id: 'a', data: { title: 'mine' } });
    expect(store.base('todos', 'a')).toBe(server);
    // The server confirms the same data under a new revision: the view keeps its identity.
    pending.delete('todos/a');
    const confirmed = Object.freeze(rec('a', Object.freeze({ title: 'mine' }), 2));
    store.setBase(confirmed);
    expect(store.recompute('todos', 'a')).toBe(false);
    expect(store.query('todos')[0]).toBe(mine);
    expect(store.base('todos', 'a')).toBe(confirmed);
    // A tombstone leaves the view; the ids follow.
    store.setBase(Object.freeze(rec('a', null, 3)));
    expect(store.recompute('todos', 'a')).toBe(true);
    expect([...store.viewIds('todos')]).toEqual([]);
    expect(store.base('todos', 'a')?.deleted).toBe(true);
    expect(store.query('todos')).toEqual([]);
    // Shared and diverged records together: the query lists each one's view, in order.
    const b = Object.freeze(rec('b', Object.freeze({ title: 'b' })));
    store.setBase(b);
    store.recompute('todos', 'b');
    expect(store.query('todos')).toEqual([b]);
    push('c', { op: 'put', data: { title: 'c' } });
    expect(store.query('todos').map((r) => r.id)).toEqual(['b', 'c']);
    expect(store.query('todos')[0]).toBe(b);
  });

  it('shows base records with pending mutations replayed, and rolls back when they go', () => {
    const { store, pending, push } = setup();
    store.setBase(rec('a', { title: 'server', n: 1 }));
    store.recompute('todos', 'a');
    push('a', { op: 'patch', data: { title: 'local' } });
    expect(store.get('todos', 'a')).toEqual({ title: 'local', n: 1 });
    pending.delete('todos/a');
    expect(store.recompute('todos', 'a')).toBe(true);
    expect(store.get('todos', 'a')).toEqual({ title: 'server', n: 1 });
  });

  it('keeps a pending edit when a pulled change moves the base', () => {
    const { store, push } = setup();
    store.setBase(rec('a', { title: 'v1', n: 1 }));
    push('a', { op: 'patch', data: { title: 'mine' } });
    store.setBase(rec('a', { title: 'v2', n: 2 }, 2));
    store.recompute('todos', 'a');
    expect(store.get('todos', 'a')).toEqual({ title: 'mine', n: 2 });
  });

  it('hides deleted records and tombstones', () => {
    const { store, push } = setup();
    store.setBase(rec('a', { v: 1 }));
    store.setBase(rec('b', null, 2));
    store.recompute('todos', 'a');
    store.recompute('todos', 'b');
    expect(store.get('todos', 'b')).toBeUndefined();
    push('a', { op: 'delete' });
    expect(store.get('todos', 'a')).toBeUndefined();
    expect(store.query('todos')).toEqual([]);
  });

  it('returns stable references until the record changes', () => {
    const { store, push } = setup();
    push('a', { op: 'put', data: Object.freeze({ v: 1 }) });
    push('b', { op: 'put', data: Object.freeze({ v: 2 }) });
    const a1 = store.get('todos', 'a');
    const q1 = store.query('todos');
    expect(store.get('todos', 'a')).toBe(a1);
    expect(store.query('todos')).toBe(q1);
    expect(Object.isFrozen(q1)).toBe(true);
    push('b', { op: 'patch', data: { v: 3 } });
    expect(store.get('todos', 'a')).toBe(a1);
    const q2 = store.query('todos');
    expect(q2).not.toBe(q1);
    expect(q2.map((r) => r.data)).toEqual([{ v: 1 }, { v: 3 }]);
  });

  it('keeps a cached query result when a change does not affect it', () => {
    const { store, push } = setup();
    const where = (d: { [k: string]: unknown }) => d.done === true;
    push('a', { op: 'put', data: { done: true } });
    push('b', { op: 'put', data: { done: false } });
    const q1 = store.query('todos', { where });
    push('b', { op: 'patch', data: { title: 'still open' } });
    expect(store.query('todos', { where })).toBe(q1);
    push('b', { op: 'patch', data: { done: true } });
    expect(store.query('todos', { where })).toHaveLength(2);
  });

  it('orders, breaks ties by id, puts missing values last and limits', () => {
    const { store, push } = setup();
    push('c', { op: 'put', data: { p: 2 } });
    push('a', { op: 'put', data: { p: 1 } });
    push('d', { op: 'put', data: {} });
    push('b', { op: 'put', data: { p: 2 } });
    expect(store.query('todos', { orderBy: 'p' }).map((r) => r.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(store.query('todos', { orderBy: ['p', 'desc'] }).map((r) => r.id)).toEqual([
      'b',
      'c',
      'a',
      'd',
    ]);
    expect(store.query('todos', { orderBy: 'p', limit: 2 }).map((r) => r.id)).toEqual(['a', 'b']);
  });
});
