import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import type { SyncClient } from '../api/client.js';
import { createSyncClient } from '../client/create-sync-client.js';
import { settle, testEnvironment } from '../client/test-support.js';
import type { Delivery } from '../protocol/types.js';
import { sessionTargeting } from '../sessions/session-targeting.js';
import { indexedDbStorage } from '../storage/indexeddb.js';
import { memoryStorage } from '../storage/memory.js';
import type { StorageAdapter } from '../storage/types.js';
import { createMemoryServer } from '../testing/memory-server.js';
import type { MemoryTransport } from '../testing/memory-transport.js';
import { type AssetStore, indexedDbAssetStore } from './asset-store.js';
import { fileAssetStore } from './file-asset-store.js';
import type { TransferProgress } from './progress.js';
import { sha256Hex } from './sha256.js';

const CHUNK = 1000;
let seed = 9100;

/** Where a device keeps its state across a restart: device storage and the asset store. */
interface Disk {
  storage(): StorageAdapter;
  assets(): AssetStore;
  cleanup(): Promise<void>;
}

async function fileDisk(): Promise<Disk> {
  const directory = await mkdtemp(join(tmpdir(), 'syncline-sends-'));
  const storage = memoryStorage(); // outlives the client, as a file or IndexedDB would
  return {
    storage: () => storage,
    // A new instance on the same directory: what a restarted process opens.
    assets: () => fileAssetStore({ directory }),
    cleanup: () => rm(directory, { recursive: true, force: true }),
  };
}

async function indexedDbDisk(): Promise<Disk> {
  const factory = new IDBFactory();
  return {
    storage: () => indexedDbStorage({ indexedDB: factory, IDBKeyRange, dbName: 'device' }),
    assets: () => indexedDbAssetStore({ indexedDB: factory, IDBKeyRange }),
    cleanup: async () => {},
  };
}

/** Settles until `done()` holds (real file and IndexedDB work takes more than a few turns). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !done(); i++) {
    await settle(1);
    if (!done()) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  expect(done()).toBe(true);
}

function device(
  server: ReturnType<typeof createMemoryServer>,
  sessionId: string,
  state: { storage?: StorageAdapter; store?: AssetStore } = {},
) {
  const transport: MemoryTransport = server.connect({ userId: 'u1', sessionId });
  const received: Delivery[] = [];
  const progress: TransferProgress[] = [];
  const client: SyncClient = createSyncClient({
    transport,
    storage: state.storage ?? memoryStorage(),
    ...(state.store === undefined ? {} : { assetStore: state.store }),
    assetChunkBytes: CHUNK,
    environment: testEnvironment({ seed: seed++ }),
    targeting: sessionTargeting(),
  });
  client.on('delivery', ({ delivery }) => {
    received.push(delivery);
  });
  client.on('transfer', (p) => progress.push(p));
  return { client, transport, received, progress };
}

describe.each([
  ['the file asset store (Node)', fileDisk],
  ['IndexedDB (fake-indexeddb)', indexedDbDisk],
])('assets.send on %s', (_name, makeDisk) => {
  it('continues after a restart: the bytes were stored and the send intent was durable', async () => {
    const disk = await makeDisk();
    try {
      const server = createMemoryServer({});
      const receiver = device(server, 'sB');
      await receiver.client.start();
      const image = new Uint8Array(5500).map((_, i) => (i * 7 + 3) & 0xff);
      const hash = sha256Hex(image);

      // The sender's connection dies after two chunks; the process then stops.
      const first = device(server, 'sA', { storage: disk.storage(), store: disk.assets() });
      const upload = first.transport.assets.uploadChunk.bind(first.transport.assets);
      let chunks = 0;
      first.transport.assets.uploadChunk = (request, signal) => {
        chunks++;
        if (chunks <= 2) return upload(request, signal);
        return new Promise((_resolve, reject) => {
          if (signal?.aborted) reject(signal.reason);
          signal?.addEventListener('abort', () => reject(signal.reason));
        });
      };
      await first.client.start();
      await settle(10);
      const sending = first.client.assets.send(image, { name: 'scan.pdf' });
      sending.catch(() => undefined); // cut short by stop()
      await until(() => chunks >= 3); // a window of chunks: the rest hang too
      expect(receiver.received).toEqual([]);
      await first.client.stop();
      await expect(sending).rejects.toBeDefined();

      // Restarted: new client, new store instance, same disk. No one calls send again.
      const second = device(server, 'sA', { storage: disk.storage(), store: disk.assets() });
      const offsets: number[] = [];
      const resumed = second.transport.assets.uploadChunk.bind(second.transport.assets);
      second.transport.assets.uploadChunk = (request, signal) => {
        offsets.push(request.offset);
        return resumed(request, signal);
      };
      await second.client.start();
      await until(() => receiver.received.length > 0);
      await until(() => second.progress.at(-1)?.state === 'completed');
      expect(offsets[0]).toBe(2 * CHUNK); // continued where the server's copy ends
      expect(receiver.received.map((d) => [d.assetHash, d.payload])).toEqual([
        [hash, { size: 5500, name: 'scan.pdf' }],
      ]);
      expect(await (await receiver.client.assets.get(hash))?.bytes()).toEqual(image);
      expect(second.progress.at(-1)).toMatchObject({
        direction: 'upload',
        state: 'completed',
        bytesDone: 5500,
      });

      // Done: a further restart sends nothing again.
      await second.client.stop();
      const third = device(server, 'sA', { storage: disk.storage(), store: disk.assets() });
      await third.client.start();
      await settle(20);
      expect(third.progress).toEqual([]);
      expect(receiver.received).toHaveLength(1);
      await third.client.stop();
      await receiver.client.stop();
    } finally {
      await disk.cleanup();
    }
  });
});
