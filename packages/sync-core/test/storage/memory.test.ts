import { isSyncError, memoryStorage } from '@syncline/sync-core';
import { describe, expect, it } from 'vitest';

describe('memoryStorage', () => {
  it('keeps values by reference by default (no cloning on the hot path)', async () => {
    const storage = memoryStorage();
    const value = { title: 'a' };
    await storage.write('ns', [{ type: 'set', key: 'k', value }]);
    expect(await storage.get('ns', 'k')).toBe(value);
  });

  it('with serialize, values are copies: mutating after write or after read changes nothing', async () => {
    const storage = memoryStorage({ serialize: true });
    const value = { title: 'a', tags: ['x'] };
    await storage.write('ns', [{ type: 'set', key: 'k', value }]);
    value.tags.push('mutated');
    const read = (await storage.get('ns', 'k')) as { tags: string[] };
    expect(read).toEqual({ title: 'a', tags: ['x'] });
    read.tags.push('mutated again');
    expect(await storage.get('ns', 'k')).toEqual({ title: 'a', tags: ['x'] });
    const [[, listed]] = (await storage.list('ns', '')) as [[string, { tags: string[] }]];
    expect(listed).not.toBe(read);
    expect(listed).toEqual({ title: 'a', tags: ['x'] });
  });

  it('with serialize, a value that is not JSON fails the whole batch with nothing applied', async () => {
    const storage = memoryStorage({ serialize: true });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const error = await storage
      .write('ns', [
        { type: 'set', key: 'a', value: 1 },
        { type: 'set', key: 'b', value: cyclic },
      ])
      .catch((e: unknown) => e);
    expect(isSyncError(error) && error.kind).toBe('storage');
    expect(await storage.list('ns', '')).toEqual([]);
  });

  it('is shared by client instances: a second reader sees what the first wrote', async () => {
    const storage = memoryStorage();
    await storage.write('ns', [{ type: 'set', key: 'k', value: 1 }]);
    await storage.close?.();
    expect(await storage.get('ns', 'k')).toBe(1);
  });

  it('keeps list sorted as keys are added and deleted between lists', async () => {
    const storage = memoryStorage();
    await storage.write('ns', [
      { type: 'set', key: 'b', value: 2 },
      { type: 'set', key: 'a', value: 1 },
    ]);
    expect((await storage.list('ns', '')).map(([k]) => k)).toEqual(['a', 'b']);
    await storage.write('ns', [
      { type: 'set', key: 'c', value: 3 },
      { type: 'delete', key: 'a' },
      { type: 'set', key: 'b', value: 22 },
    ]);
    expect(await storage.list('ns', '')).toEqual([
      ['b', 22],
      ['c', 3],
    ]);
  });

  it('files a record under its own id and still reads, lists and deletes it by key', async () => {
    const storage = memoryStorage();
    const record = { id: 'a1', data: { title: 'x' } };
    const elsewhere = { id: 'a1', data: { title: 'filed under another name' } };
    const suffix = { id: 'b', data: {} };
    await storage.write('ns', [
      { type: 'set', key: 'r/todos/a1', value: record },
      { type: 'set', key: 'r/todos/x', value: elsewhere },
      { type: 'set', key: 'r/todos/ab', value: suffix },
      { type: 'set', key: 'r/lists/a1', value: 1 },
      { type: 'set', key: 'r/todosa1', value: 2 },
    ]);
    expect(await storage.get('ns', 'r/todos/a1')).toBe(record);
    expect(await storage.get('ns', 'r/todos/x')).toBe(elsewhere);
    expect(await storage.get('ns', 'r/todos/b')).toBeUndefined();
    expect(await storage.list('ns', 'r/todos')).toEqual([
      ['r/todos/a1', record],
      ['r/todos/ab', suffix],
      ['r/todos/x', elsewhere],
      ['r/todosa1', 2],
    ]);
    expect(await storage.list('ns', 'r/todos/a')).toEqual([
      ['r/todos/a1', record],
      ['r/todos/ab', suffix],
    ]);
    await storage.write('ns', [
      { type: 'delete', key: 'r/todos/a1' },
      { type: 'delete', key: 'r/todos/b' },
    ]);
    expect((await storage.list('ns', 'r/')).map(([key]) => key)).toEqual([
      'r/lists/a1',
      'r/todos/ab',
      'r/todos/x',
      'r/todosa1',
    ]);
  });

  it('applies a batch in order across folders: a folder emptied mid-batch takes the keys set after', async () => {
    const storage = memoryStorage();
    const first = { id: 'a', data: {} };
    const second = { id: 'b', data: {} };
    const tail = { id: 'a1', data: {} }; // its id ends the key's name but is not the name
    await storage.write('ns', [
      { type: 'set', key: 'r/todos/a', value: first },
      { type: 'delete', key: 'r/todos/a' },
      { type: 'set', key: 'r/todos/b', value: second },
      { type: 'set', key: 'r/lists/a', value: 1 },
      { type: 'set', key: 'r/todos/ba1', value: tail },
      { type: 'delete', key: 'r/lists/a' },
      { type: 'set', key: 'r/lists/c', value: 3 },
    ]);
    expect(await storage.list('ns', '')).toEqual([
      ['r/lists/c', 3],
      ['r/todos/b', second],
      ['r/todos/ba1', tail],
    ]);
    expect(await storage.get('ns', 'r/todos/a1')).toBeUndefined();
  });

  it('reads the last value written to a key, whatever mix of records and other values wrote it', async () => {
    const storage = memoryStorage();
    const v1 = { id: 'a', data: { v: 1 } };
    const v2 = { id: 'a', data: { v: 2 } };
    const v4 = { id: 'a', data: { v: 4 } };
    await storage.write('ns', [
      { type: 'set', key: 'r/todos/a', value: v1 },
      { type: 'set', key: 'r/todos/a', value: v2 },
      { type: 'set', key: 'r/todos/b', value: { id: 'b', data: {} } },
    ]);
    expect(await storage.get('ns', 'r/todos/a')).toBe(v2);
    await storage.write('ns', [
      { type: 'set', key: 'r/todos/a', value: 3 }, // not a record: filed under a copy of its name
      { type: 'set', key: 'r/todos/c', value: { id: 'c', data: {} } },
    ]);
    await storage.write('ns', [{ type: 'set', key: 'r/todos/a', value: v4 }]);
    await storage.write('ns', [{ type: 'delete', key: 'r/todos/b' }]);
    await storage.write('ns', [{ type: 'set', key: 'r/todos/b', value: v1 }]); // id is not b
    expect(await storage.list('ns', 'r/')).toEqual([
      ['r/todos/a', v4],
      ['r/todos/b', v1],
      ['r/todos/c', { id: 'c', data: {} }],
    ]);
    await storage.write('ns', [
      { type: 'set', key: 'r/todos/d', value: { id: 'd', data: {} } },
      { type: 'delete', key: 'r/todos/d' },
    ]);
    expect(await storage.get('ns', 'r/todos/d')).toBeUndefined();
    expect((await storage.list('ns', 'r/todos/')).map(([key]) => key)).toEqual([
      'r/todos/a',
      'r/todos/b',
      'r/todos/c',
    ]);
  });

  it('lists keys of nested folders in key order, not folder by folder', async () => {
    const storage = memoryStorage();
    const keys = ['b', 'a/c', 'a/b/c', 'a/bc', 'a/b', 'a/b/', 'a', 'a/b/c/d', 'c/'];
    await storage.write(
      'ns',
      keys.map((key, i) => ({ type: 'set' as const, key, value: { id: key.slice(-1), i } })),
    );
    expect((await storage.list('ns', '')).map(([key]) => key)).toEqual([...keys].sort());
    expect((await storage.list('ns', 'a/b')).map(([key]) => key)).toEqual([
      'a/b',
      'a/b/',
      'a/b/c',
      'a/b/c/d',
      'a/bc',
    ]);
  });
});
