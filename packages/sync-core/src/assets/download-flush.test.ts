import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { manualEnvironment } from '../env/manual-environment.js';
import { Retryer } from '../replication/retryer.js';
import type { AssetTransport } from '../transport/types.js';
import type { AssetStore } from './asset-store.js';
import { fileAssetStore } from './file-asset-store.js';
import { sha256Hex } from './sha256.js';
import { downloadAsset, IMPORT_BATCH_BYTES } from './transfer-io.js';

const CHUNK = 4096;
const directories: string[] = [];

afterEach(async () => {
  for (const directory of directories.splice(0)) {
    await rm(directory, { recursive: true, force: true });
  }
});

function bytes(length: number): Uint8Array {
  return new Uint8Array(length).map((_, i) => (i * 31 + 7) & 0xff);
}

/** A server's answer as a stream of socket-sized pieces. */
function streamingTransport(data: Uint8Array): AssetTransport {
  return {
    uploadedOffset: async () => 0,
    uploadChunk: async () => {},
    download: async ({ start, end }) => data.slice(start, end),
    downloadStream: async ({ start, end }) => {
      let at = start;
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          await new Promise((resolve) => setTimeout(resolve, 1)); // on the wire a while
          if (at >= end) return controller.close();
          controller.enqueue(data.slice(at, Math.min(end, at + 1000)));
          at += 1000;
        },
      });
    },
  };
}

/** The file store, noting the partial's size at each flush and when it was committed. */
async function watchedFileStore() {
  const directory = await mkdtemp(join(tmpdir(), 'syncline-download-flush-'));
  directories.push(directory);
  const files = fileAssetStore({ directory });
  const events: string[] = [];
  const store: AssetStore = {
    ...files,
    flushPartial: async (key) => {
      const size = await files.partialSize(key);
      await files.flushPartial?.(key);
      events.push(`flushed ${size}`);
    },
    commit: async (key, sha256, meta) => {
      events.push('commit');
      await files.commit(key, sha256, meta);
    },
  };
  return { store, events, files };
}

describe('downloadAsset: a streamed download into a file store', () => {
  it('flushes its partial while the bytes still come, then commits the verified asset', async () => {
    const data = bytes(10 * CHUNK + 321);
    const { store, events, files } = await watchedFileStore();
    await downloadAsset(
      {
        transport: streamingTransport(data),
        store,
        retryer: new Retryer({ env: manualEnvironment() }),
        signal: new AbortController().signal,
        chunkBytes: CHUNK,
        onProgress: () => {},
      },
      sha256Hex(data),
      { size: data.length },
    );
    const flushed = events.filter((e) => e.startsWith('flushed')).map((e) => Number(e.slice(8)));
    // Flushed along the way (not only at the end), one flush at a time, all before the commit.
    expect(flushed.some((size) => size > 0 && size < data.length)).toBe(true);
    expect(events.at(-1)).toBe('commit');
    expect(await files.read(sha256Hex(data), 0, data.length)).toEqual(data);
  });

  it('appends in batches of at most IMPORT_BATCH_BYTES, whatever the chunk size', async () => {
    const data = bytes(3 * IMPORT_BATCH_BYTES + 123);
    const { store: files } = await watchedFileStore();
    const appends: number[] = [];
    const store: AssetStore = {
      ...files,
      append: async (key, offset, part) => {
        appends.push(part.byteLength);
        await files.append(key, offset, part);
      },
      appendParts: async (key, offset, parts) => {
        appends.push(parts.reduce((sum, part) => sum + part.byteLength, 0));
        await files.appendParts?.(key, offset, parts);
      },
    };
    const pieces: AssetTransport = {
      ...streamingTransport(data),
      downloadStream: async ({ start, end }) => {
        let at = start;
        return new ReadableStream<Uint8Array>({
          pull(controller) {
            if (at >= end) return controller.close();
            controller.enqueue(data.slice(at, Math.min(end, at + 65_536)));
            at += 65_536;
          },
        });
      },
    };
    await downloadAsset(
      {
        transport: pieces,
        store,
        retryer: new Retryer({ env: manualEnvironment() }),
        signal: new AbortController().signal,
        chunkBytes: 4 * IMPORT_BATCH_BYTES,
        onProgress: () => {},
      },
      sha256Hex(data),
      { size: data.length },
    );
    expect(appends.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...appends)).toBeLessThanOrEqual(IMPORT_BATCH_BYTES);
    expect(appends.reduce((sum, n) => sum + n, 0)).toBe(data.length);
  });

  it("the file store's flush of a missing partial is a storage error", async () => {
    const { files } = await watchedFileStore();
    await expect(files.flushPartial?.('nothing-here')).rejects.toMatchObject({ kind: 'storage' });
  });
});
