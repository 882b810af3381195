/**
 * "Test the tests" for the asset checks of the delivery simulation: each test-only fake below
 * breaks one asset rule (an asset store that loses a write of a download, a server that serves
 * asset bytes to whoever asks, a client transport that restarts every upload from 0), and the
 * simulation must name the broken rule within a few seeds that pass without the fake.
 */
import { setMaxListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { AssetStore } from '../../src/assets/asset-store.js';
import {
  type DeliveryBackend,
  memoryDeliveryBackend,
} from '../../src/testing/sim/deliveries/index.js';
import type { AuthSession, SyncTransport } from '../../src/transport/types.js';
import { firstCaught } from './first-caught.js';

// A device downloading a dozen assets at once has as many requests listening on its session's
// abort signal: more than Node's default of 10 listeners per signal, which it warns about.
setMaxListeners(100);

/** Every third append of a download past its first chunk resolves without being written. */
function losesDownloadWrites(store: AssetStore): AssetStore {
  let appends = 0;
  return {
    ...store,
    append: async (key, offset, bytes) => {
      if (key.startsWith('download-') && offset > 0 && ++appends % 3 === 0) return;
      return store.append(key, offset, bytes);
    },
  };
}

/** A server whose asset reads skip the check of who asks (read as the first uploader). */
function servesAnyone(inner: DeliveryBackend): DeliveryBackend {
  const assets = inner.assets;
  if (assets === undefined) throw new Error('the backend has no asset routes');
  const uploader = new Map<string, AuthSession>();
  return {
    ...inner,
    assets: {
      ...assets,
      upload: async (auth, req) => {
        if (!uploader.has(req.sha256)) uploader.set(req.sha256, auth);
        return assets.upload(auth, req);
      },
      download: async (auth, req) => assets.download(uploader.get(req.sha256) ?? auth, req),
    },
  };
}

/** A client transport that hides what the server holds of an upload: every upload starts at 0. */
function forgetsUploadOffsets(transport: SyncTransport): SyncTransport {
  const assets = transport.assets;
  if (assets?.probe === undefined) return transport;
  const probe = assets.probe;
  return {
    ...transport,
    assets: {
      ...assets,
      probe: async (sha256, signal) => {
        const held = await probe(sha256, signal);
        return held.complete ? held : { ...held, offset: 0 };
      },
    },
  };
}

describe('the delivery simulation catches broken asset rules', () => {
  it('an asset store that loses a download write hands a handler bytes that do not hash', async () => {
    const caught = await firstCaught({ wrapAssetStore: losesDownloadWrites }, 'asset-bytes');
    expect(caught).toBeDefined();
  }, 120_000);

  it('a server that serves asset bytes to anyone leaks them to outsiders', async () => {
    const caught = await firstCaught(
      { backend: (setup) => servesAnyone(memoryDeliveryBackend(setup)) },
      'asset-leak',
    );
    expect(caught).toBeDefined();
  }, 120_000);

  it('a client that restarts uploads from 0 does not resume from the server offset', async () => {
    const caught = await firstCaught({ wrapTransport: forgetsUploadOffsets }, 'upload-not-resumed');
    expect(caught).toBeDefined();
  }, 120_000);
});
