import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BlobLimitError, type BlobStore, fileBlobStore } from '../src/assets/blob-store.js';

async function* pieces(...chunks: number[][]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield Uint8Array.from(chunk);
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<number[]> {
  const out: number[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) out.push(...chunk);
  return out;
}

describe('fileBlobStore', () => {
  let directory: string;
  let blobs: BlobStore;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'syncline-blob-test-'));
    blobs = fileBlobStore({ directory: join(directory, 'nested') });
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('appends at the offset, cutting off bytes past it first', async () => {
    expect(await blobs.size('k1')).toBe(0);
    expect(await blobs.write('k1', 0, pieces([1, 2], [3, 4, 5]), { maxBytes: 10 })).toBe(5);
    // Bytes 3..4 were never recorded as done: a write at offset 3 replaces them.
    expect(await blobs.write('k1', 3, pieces([9]), { maxBytes: 10 })).toBe(1);
    expect(await blobs.size('k1')).toBe(4);
    expect(await readAll(blobs.read('k1', { start: 0, end: 4 }))).toEqual([1, 2, 3, 9]);
    expect(await readAll(blobs.read('k1', { start: 1, end: 3 }))).toEqual([2, 3]);
    expect(await readAll(blobs.read('k1', { start: 2, end: 2 }))).toEqual([]);
  });

  it('stops a write past maxBytes, keeping what came before', async () => {
    await expect(
      blobs.write('k2', 0, pieces([1, 2, 3], [4, 5, 6]), { maxBytes: 4 }),
    ).rejects.toBeInstanceOf(BlobLimitError);
    expect(await blobs.size('k2')).toBe(3);
  });

  it('lists and deletes keys, and refuses a key that could leave the directory', async () => {
    await blobs.write('a', 0, pieces([1]), { maxBytes: 1 });
    await blobs.write('b', 0, pieces([2]), { maxBytes: 1 });
    expect(await blobs.keys()).toEqual(['a', 'b']);
    await blobs.delete('a');
    await blobs.delete('missing');
    expect(await blobs.keys()).toEqual(['b']);
    await expect(blobs.size('../escape')).rejects.toThrow(/not a blob key/);
    expect(() => blobs.read('a/b', { start: 0, end: 1 })).toThrow(/not a blob key/);
  });

  it('syncs a blob, and one never written (an empty asset) is nothing to sync', async () => {
    await blobs.write('s', 0, pieces([1, 2, 3]), { maxBytes: 3 });
    await blobs.sync?.('s');
    expect(await readAll(blobs.read('s', { start: 0, end: 3 }))).toEqual([1, 2, 3]);
    await expect(blobs.sync?.('never')).resolves.toBeUndefined();
    expect(await blobs.keys()).toEqual(['s']); // a sync creates nothing
    await expect(blobs.sync?.('../escape')).rejects.toThrow(/not a blob key/);
  });
});
