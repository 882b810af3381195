import { mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AssetStore,
  indexedDbAssetStore,
  memoryAssetStore,
  sha256Hex,
} from '@syncline/sync-core';
import { fileAssetStore } from '@syncline/sync-core/node';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterAll, describe, expect, it } from 'vitest';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Each kind makes a store and a second handle on the same place (a reload). */
const kinds: Array<[string, () => Promise<{ store: AssetStore; reopen: () => AssetStore }>]> = [
  [
    'memoryAssetStore',
    async () => {
      const store = memoryAssetStore();
      return { store, reopen: () => store };
    },
  ],
  [
    'indexedDbAssetStore (fake-indexeddb)',
    async () => {
      const factory = new IDBFactory();
      const open = () => indexedDbAssetStore({ indexedDB: factory, IDBKeyRange });
      return { store: open(), reopen: open };
    },
  ],
  [
    'fileAssetStore',
    async () => {
      const directory = await mkdtemp(join(tmpdir(), 'syncline-asset-store-'));
      dirs.push(directory);
      return {
        store: fileAssetStore({ directory }),
        reopen: () => fileAssetStore({ directory }),
      };
    },
  ],
];

const data = new Uint8Array(2500).map((_, i) => (i * 7 + 3) & 0xff);
const hash = sha256Hex(data);

describe.each(kinds)('AssetStore contract: %s', (_name, make) => {
  it('appends only at the end, keeps partial bytes across a reopen, and commits them under the hash', async () => {
    const { store, reopen } = await make();
    expect(await store.partialSize('k')).toBe(0);
    await store.append('k', 0, data.subarray(0, 1000));
    await expect(store.append('k', 999, data.subarray(0, 1))).rejects.toMatchObject({
      kind: 'storage',
      code: 'offset_mismatch',
    });
    const again = reopen();
    expect(await again.partialSize('k')).toBe(1000);
    await again.append('k', 1000, data.subarray(1000, 1700));
    await again.append('k', 1700, data.subarray(1700));
    expect(await again.readPartial('k', 995, 1705)).toEqual(data.subarray(995, 1705));
    expect(await again.stat(hash)).toBeUndefined();
    await again.commit('k', hash, { size: data.length, name: 'x.bin', mimeType: 'application/x' });
    expect(await again.partialSize('k')).toBe(0);
    const later = reopen();
    expect(await later.stat(hash)).toEqual({
      size: 2500,
      name: 'x.bin',
      mimeType: 'application/x',
    });
    expect(await later.read(hash, 0, 5000)).toEqual(data);
    expect(await later.read(hash, 1200, 1300)).toEqual(data.subarray(1200, 1300));
    await later.delete(hash);
    expect(await later.stat(hash)).toBeUndefined();
  });

  it('forgets a discarded partial and copies the bytes it is given', async () => {
    const { store } = await make();
    const chunk = data.slice(0, 10);
    await store.append('d', 0, chunk);
    chunk[0] = 99;
    expect((await store.readPartial('d', 0, 1))[0]).toBe(data[0]);
    await store.discardPartial('d');
    expect(await store.partialSize('d')).toBe(0);
  });
});

describe.each(kinds)('AssetStore.appendParts: %s', (_name, make) => {
  it('appends the parts in order, as one append of them joined would, and copies them', async () => {
    const { store, reopen } = await make();
    const appendParts = store.appendParts?.bind(store);
    if (appendParts === undefined) throw new Error('the store has no appendParts');
    const parts = [data.slice(0, 3), data.slice(3, 3), data.slice(3, 1200), data.slice(1200, 1201)];
    await appendParts('p', 0, parts);
    await expect(appendParts('p', 1000, [data.subarray(0, 1)])).rejects.toMatchObject({
      kind: 'storage',
      code: 'offset_mismatch',
    });
    (parts[2] as Uint8Array)[0] = 99;
    await appendParts('p', 1201, [data.subarray(1201, 2000), data.subarray(2000)]);
    const again = reopen();
    expect(await again.partialSize('p')).toBe(data.length);
    expect(await again.readPartial('p', 0, data.length)).toEqual(data);
    await again.commit('p', hash, { size: data.length });
    expect(await reopen().read(hash, 0, data.length)).toEqual(data);
  });
});

/** Open file descriptors of this process on `path` (Linux: /proc/self/fd). */
async function openOn(path: string): Promise<number> {
  let count = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    if ((await readlink(`/proc/self/fd/${fd}`).catch(() => '')) === path) count++;
  }
  return count;
}

describe.runIf(process.platform === 'linux')('fileAssetStore: one handle per partial', () => {
  it('keeps the partial open between appends and reads, and lets go at commit, discard or release', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'syncline-asset-handles-'));
    dirs.push(directory);
    const store = fileAssetStore({ directory });
    const partial = join(directory, 'partial', 'k');
    await store.append('k', 0, data.subarray(0, 1000));
    expect(await openOn(partial)).toBe(1);
    const target = new Uint8Array(500);
    expect(await store.readPartialInto?.('k', 200, target)).toBe(500);
    expect(target).toEqual(data.subarray(200, 700));
    await store.appendParts?.('k', 1000, [data.subarray(1000, 2000), data.subarray(2000)]);
    expect(await openOn(partial)).toBe(1); // the same one, not one per append
    expect(await store.partialSize('k')).toBe(data.length);
    await store.flushPartial?.('k');
    await store.commit('k', hash, { size: data.length });
    expect(await openOn(partial)).toBe(0);
    expect(await openOn(join(directory, 'blobs', hash))).toBe(0);
    expect(await store.read(hash, 0, data.length)).toEqual(data);

    await store.append('d', 0, data.subarray(0, 10));
    expect(await openOn(join(directory, 'partial', 'd'))).toBe(1);
    await store.discardPartial('d');
    expect(await openOn(join(directory, 'partial', 'd'))).toBe(0);
    expect(await store.partialSize('d')).toBe(0);

    await store.append('r', 0, data.subarray(0, 10));
    await store.releasePartial?.('r');
    expect(await openOn(join(directory, 'partial', 'r'))).toBe(0);
    // Released, not forgotten: a resumed writer continues where the file ends.
    expect(await store.partialSize('r')).toBe(10);
    await store.append('r', 10, data.subarray(10, 20));
    expect(await store.readPartial('r', 0, 20)).toEqual(data.subarray(0, 20));
    await store.releasePartial?.('r');
  });
});
