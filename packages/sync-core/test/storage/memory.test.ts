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
});
