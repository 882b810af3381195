/**
 * A clean-up of the server's copy racing a new send of the same file (the Supabase adapter's
 * release, the reference server's sweeper): the sender's upload found the copy complete and
 * skipped it, the server removed it before the delivery was created, and the delivery was
 * refused with `asset_missing`. The sender uploads the file again from its asset store and
 * sends the delivery once more.
 */
import { describe, expect, it } from 'vitest';
import { createSyncClient } from '../client/create-sync-client.js';
import { settle, testEnvironment } from '../client/test-support.js';
import { sessionTargeting } from '../sessions/session-targeting.js';
import { memoryStorage } from '../storage/memory.js';
import { createMemoryServer } from '../testing/memory-server.js';
import { memoryAssetStore } from './asset-store.js';
import { sha256Hex } from './sha256.js';

describe('an asset send whose server copy is removed before its delivery exists', () => {
  it('uploads the file again and creates the delivery; the receiver gets the bytes', async () => {
    let now = Date.UTC(2026, 0, 1);
    // A copy nothing ever referenced is kept for the transfer TTL (a minute here).
    const server = createMemoryServer({ environment: { now: () => now }, transferTtlSeconds: 60 });
    const image = new Uint8Array(700).map((_, i) => (i * 17 + 3) & 0xff);
    const hash = sha256Hex(image);
    const transport = server.connect({ userId: 'u1', sessionId: 'sA' });
    const deliveries = transport.deliveries;
    const assets = transport.assets;
    if (deliveries === undefined || assets === undefined) throw new Error('no session parts');
    const uploads: number[] = [];
    let sweepBeforeSend = false;
    const swept: string[][] = [];
    // The same transport object: its chunk uploads counted, and the server's sweeper run
    // right before a delivery reaches the server when the test asks for the race.
    Object.assign(transport, {
      assets: {
        ...assets,
        uploadChunk: (req: Parameters<typeof assets.uploadChunk>[0], signal?: AbortSignal) => {
          uploads.push(req.offset);
          return assets.uploadChunk(req, signal);
        },
      },
      deliveries: {
        ...deliveries,
        send: (req: Parameters<typeof deliveries.send>[0], signal?: AbortSignal) => {
          if (sweepBeforeSend) {
            sweepBeforeSend = false;
            swept.push(server.sweep());
          }
          return deliveries.send(req, signal);
        },
      },
    });
    // A's earlier upload of the file, whose send never happened: a copy nothing references,
    // older than the grace period by the time A sends the file.
    await assets.uploadChunk({ sha256: hash, offset: 0, totalSize: image.length, chunk: image });
    uploads.length = 0;
    now += 120_000;
    const a = createSyncClient({
      transport,
      storage: memoryStorage(),
      assetStore: memoryAssetStore(),
      assetChunkBytes: 1000,
      environment: testEnvironment({ seed: 1 }),
      targeting: sessionTargeting(),
    });
    const b = createSyncClient({
      transport: server.connect({ userId: 'u1', sessionId: 'sB' }),
      storage: memoryStorage(),
      assetStore: memoryAssetStore(),
      environment: testEnvironment({ seed: 2 }),
      targeting: sessionTargeting(),
    });
    const read: string[] = [];
    b.on('delivery', async ({ delivery }) => {
      const file = await b.assets.get(delivery.assetHash as string);
      read.push(file === undefined ? 'missing' : sha256Hex(await file.bytes()));
    });
    await b.start();
    await a.start();
    await settle(10);

    // A sends the file: its upload finds the copy complete and skips it; the sweeper
    // removes that copy before the delivery is created.
    sweepBeforeSend = true;
    const sent = await a.assets.send(image, { name: 'logo.png' });
    expect(swept).toEqual([[hash]]);
    expect(uploads).toEqual([0]);
    expect(sent.delivery.assetHash).toBe(hash);
    await settle(100);
    expect(read).toEqual([hash]);
    await a.stop();
    await b.stop();
  });
});
