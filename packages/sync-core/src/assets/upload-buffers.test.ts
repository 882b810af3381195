import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { manualEnvironment } from '../env/manual-environment.js';
import { SyncError } from '../errors/sync-error.js';
import { Retryer } from '../replication/retryer.js';
import type { AssetTransport } from '../transport/types.js';
import { type AssetStore, memoryAssetStore } from './asset-store.js';
import { fileAssetStore } from './file-asset-store.js';
import { sha256Hex } from './sha256.js';
import { uploadAsset } from './transfer-io.js';

const CHUNK = 1000;
const directories: string[] = [];

afterEach(async () => {
  for (const directory of directories.splice(0)) {
    await rm(directory, { recursive: true, force: true });
  }
});

function bytes(length: number): Uint8Array {
  return new Uint8Array(length).map((_, i) => (i * 31 + 7) & 0xff);
}

async function stored(store: AssetStore, data: Uint8Array): Promise<string> {
  const hash = sha256Hex(data);
  await store.append('k', 0, data);
  await store.commit('k', hash, { size: data.length });
  return hash;
}

async function fileStore(): Promise<AssetStore> {
  const directory = await mkdtemp(join(tmpdir(), 'syncline-upload-buffers-'));
  directories.push(directory);
  return fileAssetStore({ directory });
}

/**
 * A transport that keeps every chunk it was handed (the view itself, as a transport gathering
 * parts would) and a copy of it taken on arrival (what a request body carries).
 */
function recordingTransport(options: {
  chunksReleased?: boolean;
  /** Refuses the chunk at this offset once, as if the server held bytes up to it. */
  refuseOnceAt?: number;
}) {
  const kept: { offset: number; chunk: Uint8Array; copy: Uint8Array }[] = [];
  let refused = false;
  const transport: AssetTransport = {
    ...(options.chunksReleased === undefined ? {} : { chunksReleased: options.chunksReleased }),
    uploadedOffset: async () => 0,
    async uploadChunk({ offset, chunk }) {
      await new Promise((resolve) => setTimeout(resolve, 1)); // on the wire a while
      kept.push({ offset, chunk, copy: chunk.slice() });
      if (offset === options.refuseOnceAt && !refused) {
        refused = true;
        throw new SyncError('conflict', 'the server holds less', {
          code: 'offset_mismatch',
          details: { offset },
        });
      }
    },
    download: async () => new Uint8Array(),
  };
  return { transport, kept };
}

function run(store: AssetStore, transport: AssetTransport) {
  return {
    transport,
    store,
    retryer: new Retryer({ env: manualEnvironment() }),
    signal: new AbortController().signal,
    chunkBytes: CHUNK,
    window: 2,
    onProgress: () => {},
  };
}

/** The bytes the server was sent, from the copies taken as each chunk arrived. */
function sent(kept: { offset: number; copy: Uint8Array }[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (const { offset, copy } of kept) out.set(copy, offset);
  return out;
}

describe('uploadAsset: chunk buffers', () => {
  it('reads the chunks into as many buffers as are in flight when the transport releases them', async () => {
    const store = await fileStore();
    const data = bytes(10 * CHUNK + 123);
    const hash = await stored(store, data);
    const { transport, kept } = recordingTransport({ chunksReleased: true });
    await uploadAsset(run(store, transport), hash);
    expect(kept.map((k) => k.offset)).toEqual([...Array(11).keys()].map((i) => i * CHUNK));
    expect(sent(kept, data.length)).toEqual(data);
    // Two in flight at once (the window): two buffers served all eleven chunks.
    expect(new Set(kept.map((k) => k.chunk.buffer)).size).toBe(2);
  });

  it('gives every chunk a buffer of its own when the transport may keep them', async () => {
    const store = await fileStore();
    const data = bytes(6 * CHUNK);
    const hash = await stored(store, data);
    const { transport, kept } = recordingTransport({});
    await uploadAsset(run(store, transport), hash);
    // The views the transport kept still hold their bytes after the upload.
    for (const { offset, chunk } of kept) {
      expect(chunk).toEqual(data.subarray(offset, offset + chunk.length));
    }
    expect(new Set(kept.map((k) => k.chunk.buffer)).size).toBe(6);
  });

  it('never reuses the buffer of a chunk the transport refused (it may still be on its way out)', async () => {
    const store = await fileStore();
    const data = bytes(8 * CHUNK);
    const hash = await stored(store, data);
    const { transport, kept } = recordingTransport({ chunksReleased: true, refuseOnceAt: 3000 });
    await uploadAsset(run(store, transport), hash);
    expect(sent(kept, data.length)).toEqual(data);
    const refused = kept.find((k) => k.offset === 3000) as { chunk: Uint8Array };
    expect(refused.chunk).toEqual(data.subarray(3000, 4000));
  });

  it('reads fresh chunks from a store without readInto', async () => {
    const store = memoryAssetStore();
    const data = bytes(5 * CHUNK + 1);
    const hash = await stored(store, data);
    const { transport, kept } = recordingTransport({ chunksReleased: true });
    await uploadAsset(run(store, transport), hash);
    expect(sent(kept, data.length)).toEqual(data);
  });
});

describe('fileAssetStore.readInto', () => {
  it('fills the target from an offset and counts fewer bytes at the end', async () => {
    const store = await fileStore();
    const data = bytes(2500);
    const hash = await stored(store, data);
    const target = new Uint8Array(1000).fill(0xee);
    expect(await store.readInto?.(hash, 2000, target)).toBe(500);
    expect(target.subarray(0, 500)).toEqual(data.subarray(2000));
    expect(await store.read(hash, 2400, 9000)).toEqual(data.subarray(2400));
    await expect(store.readInto?.('0'.repeat(64), 0, target)).rejects.toMatchObject({
      kind: 'storage',
    });
  });
});
