/**
 * Regression found by the delivery simulation with assets (seeds 104 and 129): a session that
 * received two deliveries of the same asset at once downloaded it twice at the same time into
 * the same partial of its asset store; the first download committed it, the second started
 * over on that partial's key and wrote over the chunks of the committed asset, so a handler
 * read bytes that did not hash to the delivery's asset.
 */
import { describe, expect, it } from 'vitest';
import { createSyncClient } from '../client/create-sync-client.js';
import { settle, testEnvironment } from '../client/test-support.js';
import { sessionTargeting } from '../sessions/session-targeting.js';
import { memoryStorage } from '../storage/memory.js';
import { createMemoryServer } from '../testing/memory-server.js';
import { memoryAssetStore } from './asset-store.js';
import { sha256Hex } from './sha256.js';

const CHUNK = 100;

describe('one asset in two deliveries at once', () => {
  it('is downloaded once, and every handler reads bytes that hash to it', async () => {
    const server = createMemoryServer();
    const image = new Uint8Array(950).map((_, i) => (i * 31 + 7) & 0xff);
    const hash = sha256Hex(image);
    const client = (sessionId: string, seed: number) =>
      createSyncClient({
        transport: server.connect({ userId: 'u1', sessionId }),
        storage: memoryStorage(),
        assetStore: memoryAssetStore(),
        assetChunkBytes: CHUNK,
        environment: testEnvironment({ seed }),
        targeting: sessionTargeting(),
      });
    const b = client('sB', 2);
    const read: string[] = [];
    b.on('delivery', async ({ delivery }) => {
      const file = await b.assets.get(delivery.assetHash as string);
      read.push(file === undefined ? 'missing' : sha256Hex(await file.bytes()));
    });
    await b.start();
    await settle(10);
    await b.stop(); // B is away while A sends the same file twice
    const a = client('sA', 1);
    await a.start();
    await settle(10);
    await a.assets.send(image, { name: 'photo.png' });
    await a.assets.send(image, { name: 'photo copy.png' });
    const downloads: number[] = [];
    const transport = server.connect({ userId: 'u1', sessionId: 'sB' });
    const assets = transport.assets;
    if (assets === undefined) throw new Error('no assets part');
    // The same transport object, its downloads counted.
    Object.assign(transport, {
      assets: {
        ...assets,
        download: (req: { sha256: string; start: number; end?: number }, signal?: AbortSignal) => {
          downloads.push(req.start);
          return assets.download(req, signal);
        },
      },
    });
    const b2 = createSyncClient({
      transport,
      storage: memoryStorage(),
      assetStore: memoryAssetStore(),
      assetChunkBytes: CHUNK,
      environment: testEnvironment({ seed: 3 }),
      targeting: sessionTargeting(),
    });
    b2.on('delivery', async ({ delivery }) => {
      const file = await b2.assets.get(delivery.assetHash as string);
      read.push(file === undefined ? 'missing' : sha256Hex(await file.bytes()));
    });
    await b2.start();
    await settle(200);
    expect(read).toEqual([hash, hash]);
    const stored = await b2.assets.get(hash);
    expect(sha256Hex((await stored?.bytes()) ?? new Uint8Array())).toBe(hash);
    // Each chunk fetched once: the second delivery waited for the first one's download.
    expect(downloads.filter((start) => start === 0)).toHaveLength(1);
    await a.stop();
    await b2.stop();
  });
});
