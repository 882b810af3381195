import { describe, expect, it } from 'vitest';
import type { Mutation } from '../protocol/types.js';
import { outboxKey } from '../replica/keys.js';
import { coalesce } from './coalesce.js';
import { Outbox, type StoredOutboxEntry } from './outbox.js';

let n = 0;
function m(partial: Partial<Mutation> & Pick<Mutation, 'op'>): Mutation {
  n++;
  return {
    id: `m${n}`,
    scope: 'user:1',
    collection: 'todos',
    recordId: 'a',
    baseRevision: 0,
    hlc: `h${String(n).padStart(4, '0')}`,
    ...partial,
  };
}

/** Enqueues and marks the write durable, like the client does once storage resolves. */
/** An outbox holding `stored` as loaded from storage. */
function loadedOutbox(stored: readonly StoredOutboxEntry[]): Outbox {
  const outbox = new Outbox();
  outbox.restore(stored);
  return outbox;
}

function durable(outbox: Outbox, mutation: Mutation) {
  const result = outbox.enqueue(mutation, null);
  outbox.writeSettled(result.entry);
  return result;
}

describe('coalesce', () => {
  const put = m({ op: 'put', data: { a: 1, b: 1 }, baseRevision: 3 });
  const patch = m({ op: 'patch', data: { b: 2 } });
  const del = m({ op: 'delete' });
  it('put + patch = put of the merged data, keeping the first id and base revision', () => {
    const out = coalesce(put, patch);
    expect(out).toMatchObject({
      id: put.id,
      op: 'put',
      data: { a: 1, b: 2 },
      baseRevision: 3,
      hlc: patch.hlc,
    });
  });
  it('patch + patch = merged patch', () => {
    expect(coalesce(m({ op: 'patch', data: { a: 1 } }), patch)).toMatchObject({
      op: 'patch',
      data: { a: 1, b: 2 },
    });
  });
  it('anything + delete = delete without data', () => {
    const out = coalesce(put, del);
    expect(out.op).toBe('delete');
    expect(out.data).toBeUndefined();
  });
  it('put + put = the later put alone: a field the later put dropped stays dropped', () => {
    const later = m({ op: 'put', data: { a: 2 } });
    expect(coalesce(put, later)).toMatchObject({ op: 'put', data: { a: 2 }, id: put.id });
    expect(coalesce(put, later).data).toEqual({ a: 2 });
  });
  it('keeps the transaction of the entries it folds', () => {
    const a = m({ op: 'put', data: { a: 1 }, txId: 't1' });
    const b = m({ op: 'patch', data: { b: 1 }, txId: 't1' });
    expect(coalesce(a, b)).toMatchObject({ txId: 't1', data: { a: 1, b: 1 } });
    expect('txId' in coalesce(put, patch)).toBe(false);
  });
  it('delete + put = put; delete + patch = put of the fields', () => {
    expect(coalesce(del, put)).toMatchObject({ op: 'put', data: { a: 1, b: 1 }, id: del.id });
    expect(coalesce(del, patch)).toMatchObject({ op: 'put', data: { b: 2 } });
  });
});

describe('Outbox', () => {
  it('coalesces unsent durable mutations of one record', () => {
    const outbox = new Outbox();
    const first = durable(outbox, m({ op: 'put', data: { x: 1 } }));
    const second = durable(outbox, m({ op: 'patch', data: { y: 2 } }));
    expect(second.entry).toBe(first.entry);
    expect(second.coalescedFrom?.mutation.op).toBe('put');
    expect(outbox.size).toBe(1);
    expect(first.entry.mutation).toMatchObject({ op: 'put', data: { x: 1, y: 2 } });
  });

  it('does not coalesce into an in-flight, sealed or not-yet-durable entry, nor across txIds', () => {
    const outbox = new Outbox();
    const a = durable(outbox, m({ op: 'put', data: { x: 1 } }));
    outbox.takeBatch(10);
    const b = durable(outbox, m({ op: 'patch', data: { x: 2 } }));
    expect(b.entry).not.toBe(a.entry);
    const c = outbox.enqueue(m({ op: 'patch', data: { x: 3 }, recordId: 'b' }), null);
    const d = outbox.enqueue(m({ op: 'patch', data: { x: 4 }, recordId: 'b' }), null);
    expect(d.entry).not.toBe(c.entry); // c not durable yet
    const e = durable(outbox, m({ op: 'put', data: {}, recordId: 'c' }));
    const f = durable(outbox, m({ op: 'patch', data: { z: 1 }, recordId: 'c', txId: 't1' }));
    expect(f.entry).not.toBe(e.entry);
    const loaded = loadedOutbox([{ seq: 1, mutation: m({ op: 'put', data: {} }), base: null }]);
    const g = durable(loaded, m({ op: 'patch', data: { q: 1 } }));
    expect(loaded.size).toBe(2);
    expect(g.coalescedFrom).toBeUndefined();
  });

  it('sends at most one mutation per record and keeps per-record order', () => {
    const outbox = new Outbox();
    const a1 = durable(outbox, m({ op: 'put', data: { v: 1 } })).entry;
    outbox.takeBatch(10); // a1 in flight
    const a2 = durable(outbox, m({ op: 'patch', data: { v: 2 } })).entry;
    const b1 = durable(outbox, m({ op: 'put', data: { v: 1 }, recordId: 'b' })).entry;
    const batch = outbox.takeBatch(10);
    expect(batch).toEqual([b1]);
    expect(a1.inFlight && !a2.inFlight).toBe(true);
    outbox.remove(a1);
    const rebased = outbox.rebaseNext('todos', 'a', 7, { v: 1 });
    expect(rebased).toBe(a2);
    expect(a2.mutation.baseRevision).toBe(7);
    expect(outbox.takeBatch(10)).toEqual([a2]);
  });

  it('does not rebase an in-flight entry', () => {
    const outbox = new Outbox();
    const a1 = durable(outbox, m({ op: 'put', data: {} })).entry;
    outbox.takeBatch(1);
    expect(outbox.rebaseNext('todos', 'a', 5, null)).toBeUndefined();
    expect(a1.mutation.baseRevision).toBe(0);
  });

  it('never splits a transaction across batches and holds it until every member can go', () => {
    const outbox = new Outbox();
    const single = durable(outbox, m({ op: 'put', data: {}, recordId: 'x' })).entry;
    const tx = ['p', 'q', 'r'].map(
      (id) => outbox.enqueue(m({ op: 'put', data: {}, recordId: id, txId: 't' }), null).entry,
    );
    for (const e of tx) outbox.writeSettled(e);
    const after = durable(outbox, m({ op: 'put', data: {}, recordId: 'y' })).entry;
    expect(outbox.takeBatch(2)).toEqual([single]);
    expect(outbox.takeBatch(2)).toEqual(tx); // larger than the batch size: travels alone, whole
    expect(outbox.takeBatch(2)).toEqual([after]);
  });

  it('holds a transaction whose record has an earlier queued mutation', () => {
    const outbox = new Outbox();
    const first = durable(outbox, m({ op: 'put', data: {}, recordId: 'p' })).entry;
    outbox.takeBatch(1); // first in flight
    const tx = ['p', 'q'].map(
      (id) => outbox.enqueue(m({ op: 'put', data: {}, recordId: id, txId: 't2' }), null).entry,
    );
    for (const e of tx) outbox.writeSettled(e);
    expect(outbox.takeBatch(10)).toEqual([]);
    outbox.remove(first);
    expect(outbox.takeBatch(10)).toEqual(tx);
  });

  it('skips entries whose storage write is not durable', () => {
    const outbox = new Outbox();
    const pending = outbox.enqueue(m({ op: 'put', data: {} }), null);
    expect(outbox.takeBatch(5)).toEqual([]);
    outbox.writeSettled(pending.entry);
    expect(outbox.takeBatch(5)).toEqual([pending.entry]);
  });

  it('rolls back a failed enqueue', () => {
    const outbox = new Outbox();
    const a = durable(outbox, m({ op: 'put', data: { v: 1 } }));
    const b = outbox.enqueue(m({ op: 'patch', data: { v: 2 } }), null);
    expect(b.entry).toBe(a.entry);
    outbox.rollback(b);
    expect(a.entry.mutation.data).toEqual({ v: 1 });
    const c = outbox.enqueue(m({ op: 'put', data: {}, recordId: 'z' }), null);
    outbox.rollback(c);
    expect(outbox.forRecord('todos', 'z')).toBeUndefined();
  });

  it('stored keys are fixed-width and sort in queue order (the storage format)', () => {
    expect(outboxKey(1)).toBe('o/000000000001');
    expect(outboxKey(1234567)).toBe('o/000001234567');
    expect(outboxKey(999_999_999_999)).toBe('o/999999999999');
    expect(outboxKey(1e12)).toBe('o/1000000000000');
    expect(outboxKey(0)).toBe('o/000000000000');
    const keys = [9, 10, 99, 100, 12345].map(outboxKey);
    expect([...keys].sort()).toEqual(keys);
  });

  it('sends entries loaded from storage in queue order, whatever order storage listed them in', () => {
    const stored = [3, 1, 2].map((seq) => ({
      seq,
      mutation: m({ op: 'put', recordId: `r${seq}`, data: { seq } }),
      base: null,
    }));
    const outbox = loadedOutbox(stored);
    expect(outbox.takeBatch(10).map((e) => e.seq)).toEqual([1, 2, 3]);
    // New writes go after the stored ones.
    expect(outbox.enqueue(m({ op: 'put', recordId: 'new', data: {} }), null).entry.seq).toBe(4);
  });

  it('takes at most `max` entries, and a transaction that exactly fills the batch', () => {
    const outbox = new Outbox();
    const plain = ['a', 'b', 'c'].map(
      (id) => durable(outbox, m({ op: 'put', data: {}, recordId: id })).entry,
    );
    const tx = ['p', 'q'].map(
      (id) => outbox.enqueue(m({ op: 'put', data: {}, recordId: id, txId: 'fill' }), null).entry,
    );
    for (const e of tx) outbox.writeSettled(e);
    expect(outbox.takeBatch(2)).toEqual(plain.slice(0, 2));
    expect(outbox.takeBatch(3)).toEqual([plain[2], ...tx]);
  });

  it('never folds a write into a mutation already sent, even once it is back in the queue', () => {
    const outbox = new Outbox();
    const sent = durable(outbox, m({ op: 'put', data: { v: 1 } })).entry;
    outbox.release(outbox.takeBatch(1)); // the push failed: retried later under the same id
    const later = durable(outbox, m({ op: 'patch', data: { v: 2 } })).entry;
    expect(later).not.toBe(sent);
    expect(sent.mutation.data).toEqual({ v: 1 });
  });

  it('hasSendable says whether a batch could be taken now, without taking it', () => {
    const outbox = new Outbox();
    expect(outbox.hasSendable()).toBe(false);
    const a = outbox.enqueue(m({ op: 'put', data: {}, recordId: 'a' }), null).entry;
    expect(outbox.hasSendable()).toBe(false); // not durable yet
    outbox.writeSettled(a);
    expect(outbox.hasSendable()).toBe(true);
    expect(a.inFlight).toBe(false);
    outbox.takeBatch(1);
    expect(outbox.hasSendable()).toBe(false); // in flight
  });

  it('a write folded into a durable entry holds it back until the fold is saved too', () => {
    const outbox = new Outbox();
    const first = durable(outbox, m({ op: 'put', data: { v: 1 }, recordId: 'a' }));
    const fold = outbox.enqueue(m({ op: 'patch', data: { v: 2 }, recordId: 'a' }), null);
    expect(fold.entry).toBe(first.entry); // folded
    // Sent now, the server could hold data that storage may still lose.
    expect(outbox.hasSendable()).toBe(false);
    expect(outbox.takeBatch(10)).toEqual([]);
    outbox.writeSettled(fold.entry);
    expect(outbox.takeBatch(10).map((e) => e.mutation.data)).toEqual([{ v: 2 }]);
  });

  it('numbers new entries in queue order, and a restart keeps that order', () => {
    const outbox = new Outbox();
    const seqs = ['a', 'b', 'c'].map(
      (id) => durable(outbox, m({ op: 'put', data: {}, recordId: id })).entry.seq,
    );
    expect(seqs).toEqual([1, 2, 3]);
    const stored = [...outbox.takeBatch(10)].map(({ seq, mutation, base }) => ({
      seq,
      mutation,
      base,
    }));
    expect(
      loadedOutbox(stored)
        .takeBatch(10)
        .map((e) => e.mutation.recordId),
    ).toEqual(['a', 'b', 'c']);
  });

  it('holds a queued entry until it is removed', () => {
    const outbox = new Outbox();
    const first = durable(outbox, m({ op: 'put', recordId: 'x', data: {} })).entry;
    const second = durable(outbox, m({ op: 'put', recordId: 'y', data: {} })).entry;
    expect([...outbox.entries()]).toEqual([first, second]);
    outbox.remove(first);
    expect([...outbox.entries()]).toEqual([second]);
    outbox.remove(first); // removing it again changes nothing
    expect([...outbox.entries()]).toEqual([second]);
  });
});
