/**
 * The asset routes of the PGlite delivery backend: each probe, chunk upload and ranged download
 * goes through `restTransport`'s asset part (`@syncline/adapter-rest`, with `restTargeting`), so
 * the adapter's Content-Range, Range, 308 and 409 handling are on the path, and its fetch calls
 * the reference server's handler in process (the handler's BlobStore holds the bytes). The
 * adapter's timers run on the simulation's clock. The operator's view reads the SQL store's row
 * of the copy and the BlobStore's bytes.
 */
import { restTransport } from '@syncline/adapter-rest';
import { restTargeting } from '@syncline/adapter-rest/targeting';
import { type AssetTransport, createSessionSource } from '@syncline/sync-core';
import type { AssetBackend, SimScheduler } from '@syncline/sync-core/testing';
import type { BlobStore } from '../../src/assets/blob-store.js';
import type { SyncHandler } from '../../src/handler.js';
import type { TargetingStore } from '../../src/targeting/types.js';
import { simToken } from './handler-call.js';

/** The asset routes of one seed, over `handler`, on `scheduler`'s clock. */
export function handlerAssetBackend(options: {
  handler: SyncHandler;
  targeting: TargetingStore;
  blobStore: BlobStore;
  scheduler: SimScheduler;
  epochMs: number;
}): AssetBackend {
  const { handler, targeting, blobStore, scheduler } = options;
  const transports = new Map<string, AssetTransport>();
  const assetsOf = (auth: { userId: string; sessionId: string }): AssetTransport => {
    const token = simToken(auth);
    let assets = transports.get(token);
    if (assets === undefined) {
      const transport = restTransport({
        baseUrl: 'http://sim',
        getToken: () => token,
        session: createSessionSource(auth),
        fetch: async (input, init) => handler(new Request(input, init)),
        realtime: false,
        pullAhead: false,
        targeting: restTargeting(),
        environment: {
          now: () => options.epochMs + scheduler.now,
          setTimeout: (callback, ms) => scheduler.schedule(ms, callback),
          clearTimeout: (handle) => scheduler.cancel(handle as number),
        },
      });
      if (transport.assets === undefined) throw new Error('restTargeting gave no asset part');
      assets = transport.assets;
      transports.set(token, assets);
    }
    return assets;
  };
  return {
    probe: async (auth, sha256) => {
      const probe = assetsOf(auth).probe;
      if (probe === undefined) throw new Error('the REST asset part has no probe');
      return probe(sha256);
    },
    upload: (auth, req) => assetsOf(auth).uploadChunk(req),
    download: (auth, req) => assetsOf(auth).download(req),
    held: async (userId, sha256) => {
      const copy = await targeting.ownCopy(userId, sha256);
      if (copy === undefined) return undefined;
      // The row says what the store believes; the bytes must be there to back it.
      const bytes = await blobStore.size(copy.blobKey);
      return copy.complete && bytes === copy.totalBytes ? 'complete' : 'partial';
    },
  };
}
