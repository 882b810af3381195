import { describe, expect, it } from 'vitest';
import { SyncError } from '../errors/sync-error.js';
import { type AssetStore, memoryAssetStore } from './asset-store.js';
import { BatchedAppend } from './batched-append.js';
import { importAsset } from './transfer-io.js';

/** A memory store that records every append (its offset and size) and can fail one. */
function recordingStore(options: { failAt?: number; withParts?: boolean } = {}) {
  const inner = memoryAssetStore();
  const appends: Array<{ at: number; bytes: number; parts: number }> = [];
  const check = (at: number) => {
    if (at === options.failAt)
      throw new SyncError('storage', 'disk full', { code: 'quota_exceeded' });
  };
  const { appendParts: _joined, ...rest } = inner;
  const store: AssetStore = {
    ...rest,
    append: async (key, at, bytes) => {
      check(at);
      appends.push({ at, bytes: bytes.length, parts: 1 });
      await inner.append(key, at, bytes);
    },
    ...(options.withParts === false
      ? {}
      : {
          appendParts: async (key: string, at: number, parts: readonly Uint8Array[]) => {
            check(at);
            const bytes = parts.reduce((n, p) => n + p.length, 0);
            appends.push({ at, bytes, parts: parts.length });
            await inner.appendParts?.(key, at, parts);
          },
        }),
  };
  return { store, appends, inner };
}

const pieces = (count: number, size: number) =>
  Array.from({ length: count }, (_, i) => new Uint8Array(size).fill(i + 1));

describe('BatchedAppend', () => {
  it('gathers pieces into appends of at least the batch size, in order', async () => {
    const { store, appends } = recordingStore();
    const written: number[] = [];
    const writer = new BatchedAppend({
      store,
      key: 'k',
      offset: 0,
      batchBytes: 1000,
      onWritten: (end) => written.push(end),
    });
    for (const piece of pieces(25, 100)) await writer.push(piece);
    expect(writer.received).toBe(2500);
    await writer.finish();
    expect(appends).toEqual([
      { at: 0, bytes: 1000, parts: 10 },
      { at: 1000, bytes: 1000, parts: 10 },
      { at: 2000, bytes: 500, parts: 5 },
    ]);
    expect(written).toEqual([1000, 2000, 2500]);
    const stored = await store.readPartial('k', 0, 2500);
    expect(stored.subarray(0, 100).every((b) => b === 1)).toBe(true);
    expect(stored.subarray(2400).every((b) => b === 25)).toBe(true);
  });

  it('joins the parts into one append for a store without appendParts', async () => {
    const { store, appends } = recordingStore({ withParts: false });
    const writer = new BatchedAppend({ store, key: 'k', offset: 0, batchBytes: 250 });
    for (const piece of pieces(5, 100)) await writer.push(piece);
    await writer.finish();
    expect(appends).toEqual([
      { at: 0, bytes: 300, parts: 1 },
      { at: 300, bytes: 200, parts: 1 },
    ]);
  });

  it('surfaces a failed append, and keeps only what was appended before it', async () => {
    const { store, inner } = recordingStore({ failAt: 1000 });
    const writer = new BatchedAppend({ store, key: 'k', offset: 0, batchBytes: 1000 });
    const pushing = (async () => {
      for (const piece of pieces(40, 100)) await writer.push(piece);
      await writer.finish();
    })();
    await expect(pushing).rejects.toMatchObject({ code: 'quota_exceeded' });
    await writer.settle();
    expect(await inner.partialSize('k')).toBe(1000);
  });
});

describe('importAsset', () => {
  it('writes a stream of small pieces in few appends', async () => {
    const { store, appends } = recordingStore();
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const piece of pieces(64, 1024)) controller.enqueue(piece);
        controller.close();
      },
    });
    const { size } = await importAsset({
      store,
      source,
      key: 'i',
      meta: {},
      chunkBytes: 16 * 1024,
    });
    expect(size).toBe(64 * 1024);
    expect(appends).toHaveLength(4);
  });

  it('leaves no partial behind when the source fails', async () => {
    const { store, inner } = recordingStore();
    let sent = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 5) controller.enqueue(new Uint8Array(1024));
        else controller.error(new Error('the file went away'));
      },
    });
    await expect(
      importAsset({ store, source, key: 'i', meta: {}, chunkBytes: 2048 }),
    ).rejects.toThrow('the file went away');
    expect(await inner.partialSize('i')).toBe(0);
  });
});
