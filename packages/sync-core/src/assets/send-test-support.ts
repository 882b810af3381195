/**
 * Helpers of the tests of `client.assets.send` (not exported from the package): a device of
 * the memory server whose uploaded chunks are counted (and can be made to hang), real
 * temporary directories for file asset stores, and waiting on real file work.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createSyncClient } from '../client/create-sync-client.js';
import { settle, testEnvironment } from '../client/test-support.js';
import type { Delivery } from '../protocol/types.js';
import { sessionTargeting } from '../sessions/session-targeting.js';
import { memoryStorage } from '../storage/memory.js';
import type { StorageAdapter } from '../storage/types.js';
import type { createMemoryServer } from '../testing/memory-server.js';
import type { AssetStore } from './asset-store.js';
import type { TransferProgress } from './progress.js';

/** The devices' `assetChunkBytes`. */
export const CHUNK = 1000;

/** Settles until `done()` holds (real file work takes more than a few turns). */
export async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !done(); i++) {
    await settle(1);
    if (!done()) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  expect(done()).toBe(true);
}

/** Temporary directories made by a test file, removed after each test. */
export function tempDirectories(prefix: string) {
  const made: string[] = [];
  return {
    async make(): Promise<string> {
      const directory = await mkdtemp(join(tmpdir(), prefix));
      made.push(directory);
      return directory;
    },
    async removeAll(): Promise<void> {
      for (const directory of made.splice(0)) {
        await rm(directory, { recursive: true, force: true });
      }
    },
  };
}

/**
 * A client of user `u1` on `server` as session `sessionId`, with the offsets of the chunks it
 * uploads, the deliveries it receives and its `transfer` events.
 */
export function sendingDevice(
  server: ReturnType<typeof createMemoryServer>,
  sessionId: string,
  state: { storage?: StorageAdapter; store?: AssetStore; seed: number },
) {
  const transport = server.connect({ userId: 'u1', sessionId });
  const received: Delivery[] = [];
  const progress: TransferProgress[] = [];
  const offsets: number[] = [];
  const upload = transport.assets.uploadChunk.bind(transport.assets);
  /** Chunks past the first `passing` (of this client) never get an answer. */
  let passing = Number.POSITIVE_INFINITY;
  transport.assets.uploadChunk = (request, signal) => {
    offsets.push(request.offset);
    if (offsets.length <= passing) return upload(request, signal);
    return new Promise((_resolve, reject) => {
      signal?.addEventListener('abort', () => reject(signal.reason));
    });
  };
  const client = createSyncClient({
    transport,
    storage: state.storage ?? memoryStorage(),
    ...(state.store === undefined ? {} : { assetStore: state.store }),
    assetChunkBytes: CHUNK,
    environment: testEnvironment({ seed: state.seed }),
    targeting: sessionTargeting(),
  });
  client.on('delivery', ({ delivery }) => {
    received.push(delivery);
  });
  client.on('transfer', (p) => progress.push(p));
  return {
    client,
    received,
    progress,
    offsets,
    hangFrom(count: number) {
      passing = count;
    },
  };
}
