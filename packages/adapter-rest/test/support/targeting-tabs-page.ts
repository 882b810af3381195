/**
 * The page of `targeting-tabs.browser.test.ts`: an app as a browser tab runs it, from the
 * packages' browser builds (IndexedDB storage and asset store, `navigator.locks`: the
 * defaults). `start` signs the tab in to a given session; `received` lists what its
 * `delivery` listener was handed.
 */

import { restTransport } from '@syncline/adapter-rest';
import { restTargeting } from '@syncline/adapter-rest/targeting';
import { createSessionSource, createSyncClient } from '@syncline/sync-core';
import { sessionTargeting } from '@syncline/sync-core/targeting';

const page = globalThis as unknown as {
  received: string[];
  start(baseUrl: string, token: string, userId: string, sessionId: string): Promise<string | null>;
};
page.received = [];
page.start = async (baseUrl, token, userId, sessionId) => {
  const client = createSyncClient({
    transport: restTransport({
      baseUrl,
      getToken: () => token,
      session: createSessionSource({ userId, sessionId }),
      targeting: restTargeting(),
    }),
    targeting: sessionTargeting(),
    label: 'tab',
    platform: 'web',
  });
  client.on('delivery', async ({ delivery }) => {
    page.received.push(delivery.id);
    if (delivery.assetHash !== undefined) {
      const file = await client.assets.get(delivery.assetHash);
      page.received.push(`asset:${file?.size}`);
    }
    // A handler that takes a while, so the other tab has every chance to run it too.
    await new Promise((resolve) => setTimeout(resolve, 100));
  });
  await client.start();
  return client.clientId;
};
