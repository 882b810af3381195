/**
 * The replica repository (replica/batch.ts): each operation changes the replica and builds
 * exactly the storage ops of that change, with the key layout of replica/keys.ts, and what one
 * operation writes the loader reads back and its counterpart removes (a pull, a push settlement
 * and the app's settlement agree on every key).
 */

import { describe, expect, it } from 'vitest';
import type { Mutation, SyncRecord } from '../protocol/types.js';
import type { DeadLetter } from '../replication/dead-letter.js';
import type { InvalidRecord } from '../schema/check-schema.js';
import { memoryStorage } from '../storage/memory.js';
import { ReplicaBatch } from './batch.js';
import { openReplica } from './load.js';
import { Replica, type StoredConflict } from './replica.js';

const NS = 'user:u1';
const mutation = (id: string, recordId = 'a'): Mutation => ({
  id,
  scope: NS,
  collection: 'todos',
  recordId,
  op: 'put',
  data: { n: 1 },
  baseRevision: 0,
  hlc: `0001700000000000-0000-${id}`,
});
const record = (id: string, revision = 1): SyncRecord => ({
  scope: NS,
  collection: 'todos',
  id,
  data: { n: revision },
  revision,
  hlc: `0001700000000000-0000-r${revision}`,
  deleted: false,
});
const letter: DeadLetter = {
  mutation: mutation('m1'),
  code: 'invalid',
  message: 'no',
  rejectedAt: 1,
};
const parked: StoredConflict = {
  conflict: {
    mutationId: 'm2',
    collection: 'todos',
    recordId: 'b',
    base: null,
    local: { n: 2 },
    server: null,
  },
  mutation: mutation('m2', 'b'),
};
const invalid: InvalidRecord = { collection: 'todos', id: 'c', record: record('c'), issues: [] };

/** Loads `namespace` of `storage` into a new replica. */
async function reload(storage: ReturnType<typeof memoryStorage>): Promise<Replica> {
  const replica = openReplica(storage, NS, NS, () => {}, Promise.resolve());
  await replica.ready;
  return replica;
}

describe('the replica repository', () => {
  it('builds exactly the ops of each operation, under the layout keys', () => {
    const replica = new Replica(NS, NS);
    const write = new ReplicaBatch(replica);
    write.setBase(record('a'));
    write.setCheckpoint(NS, '7');
    write.deadLetter(letter);
    write.parkConflict(parked);
    write.quarantine(invalid);
    write.noteClock('0001700000000009-0000-x');
    const entry = replica.outbox.enqueue(mutation('m3'), null).entry;
    write.persistEntry(entry);
    expect(write.ops).toEqual([
      { type: 'set', key: 'r/todos/a', value: record('a') },
      { type: 'set', key: `c/${NS}`, value: '7' },
      { type: 'set', key: 'd/m1', value: letter },
      { type: 'set', key: 'x/m2', value: parked },
      { type: 'set', key: 'q/todos/c', value: invalid },
      { type: 'set', key: 'm/hlc', value: '0001700000000009-0000-x' },
      {
        type: 'set',
        key: 'o/000000000001',
        value: { seq: 1, mutation: entry.mutation, base: null },
      },
    ]);
    expect(replica.store.base('todos', 'a')).toEqual(record('a'));
    expect(replica.checkpoints.get(NS)).toBe('7');
    expect(replica.deadLetters.get('m1')).toBe(letter);
    expect(replica.conflicts.get('m2')).toBe(parked);
    expect(replica.invalidRecords.size).toBe(1);

    const undo = new ReplicaBatch(replica);
    undo.unqueue(entry);
    undo.deleteBase('todos', 'a');
    expect(undo.forgetDeadLetter('m1')).toBe(letter);
    expect(undo.unparkConflict('m2')).toBe(parked);
    expect(undo.endQuarantine('todos', 'c')).toBe(true);
    expect(undo.endQuarantine('todos', 'c')).toBe(false);
    expect(undo.ops).toEqual([
      { type: 'delete', key: 'o/000000000001' },
      { type: 'delete', key: 'r/todos/a' },
      { type: 'delete', key: 'd/m1' },
      { type: 'delete', key: 'x/m2' },
      { type: 'delete', key: 'q/todos/c' },
    ]);
    expect(replica.outbox.size).toBe(0);
  });

  it('writes what the loader reads back, and what a settlement removes is what a push stored', async () => {
    const storage = memoryStorage();
    const replica = new Replica(NS, NS);
    const pulled = new ReplicaBatch(replica);
    pulled.setBase(record('a', 3));
    pulled.setCheckpoint(NS, '9');
    await pulled.commit(storage);
    const settled = new ReplicaBatch(replica);
    settled.deadLetter(letter);
    settled.parkConflict(parked);
    settled.quarantine(invalid);
    await settled.commit(storage);

    const loaded = await reload(storage);
    expect(loaded.store.base('todos', 'a')).toEqual(record('a', 3));
    expect(loaded.checkpoints.get(NS)).toBe('9');
    expect([...loaded.deadLetters.keys()]).toEqual(['m1']);
    expect([...loaded.conflicts.keys()]).toEqual(['m2']);
    expect([...loaded.invalidRecords.values()]).toEqual([invalid]);

    // The app's settlement, on the loaded replica: it must hit the keys the push wrote.
    const removal = new ReplicaBatch(loaded);
    removal.forgetDeadLetter('m1');
    removal.unparkConflict('m2');
    removal.endQuarantine('todos', 'c');
    await removal.commit(storage);
    const again = await reload(storage);
    expect(again.deadLetters.size + again.conflicts.size + again.invalidRecords.size).toBe(0);
    expect(await storage.list(NS, '')).toEqual([
      ['c/user:u1', '9'],
      ['r/todos/a', record('a', 3)],
    ]);
  });

  it('a reset started in one run is resumed by the next, and ends by dropping what the pull did not return', async () => {
    const storage = memoryStorage();
    const replica = new Replica(NS, NS);
    const first = new ReplicaBatch(replica);
    first.setBase(record('kept'));
    first.setBase(record('gone'));
    first.setCheckpoint(NS, '1');
    first.beginReset(NS);
    await first.commit(storage);
    const loaded = await reload(storage);
    expect(loaded.checkpoints.has(NS)).toBe(false);
    expect(loaded.resetting.get(NS)).toBeNull();

    const restart = new ReplicaBatch(loaded);
    restart.beginReset(NS);
    restart.pageReturned(record('kept'));
    expect(restart.finishReset(NS)).toEqual([['todos', 'gone']]);
    await restart.commit(storage);
    expect((await storage.list(NS, '')).map(([key]) => key)).toEqual(['r/todos/kept']);
  });

  it('a push answer keeps a record at the end of a reset only at a revision the pages never reached', () => {
    for (const held of [false, true]) {
      const replica = new Replica(NS, NS);
      const batch = new ReplicaBatch(replica);
      if (held) batch.setBase(record('old', 2));
      batch.beginReset(NS);
      expect(replica.resetting.get(NS)?.held).toBe(held);
      // An answer, then a page that returns the same record: the server has it.
      batch.answered(NS, 'todos', 'early', 4);
      batch.setBase(record('early', 4));
      // Pages read up to revision 10; then answers to our pushes came in (noted before the base
      // changes, as push-results does).
      for (const id of ['page', 'early']) {
        batch.pageReturned(record(id, 10));
        batch.setBase(record(id, 10));
      }
      // A fresh write, applied after the pages were read: the server has it.
      batch.answered(NS, 'todos', 'fresh', 11);
      batch.setBase(record('fresh', 11));
      // A stored outcome replayed from long ago: a record still there would have been returned.
      batch.answered(NS, 'todos', 'replayed', 3);
      batch.setBase(record('replayed', 3));
      // A replayed answer for a record a page returned before it (the record is still there).
      batch.pageReturned(record('moved', 6));
      batch.setBase(record('moved', 6));
      batch.answered(NS, 'todos', 'moved', 5);
      const gone = held
        ? [
            ['todos', 'old'],
            ['todos', 'replayed'],
          ]
        : [['todos', 'replayed']];
      expect(batch.finishReset(NS).sort()).toEqual(gone);
      for (const id of ['page', 'early', 'fresh', 'moved']) {
        expect(replica.store.base('todos', id), id).toBeDefined();
      }
    }
  });

  it('rolls back its list changes when its write fails', () => {
    const replica = new Replica(NS, NS);
    const setup = new ReplicaBatch(replica);
    setup.deadLetter(letter);
    setup.parkConflict(parked);
    const removal = new ReplicaBatch(replica);
    removal.forgetDeadLetter('m1');
    removal.unparkConflict('m2');
    removal.deadLetter({ ...letter, mutation: mutation('m9') });
    expect(replica.deadLetters.has('m1')).toBe(false);
    removal.rollback();
    expect([...replica.deadLetters.keys()]).toEqual(['m1']);
    expect([...replica.conflicts.keys()]).toEqual(['m2']);
  });
});
