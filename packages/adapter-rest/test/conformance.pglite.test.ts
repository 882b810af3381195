/**
 * The transport conformance suite of `@syncline/sync-core/testing` against `restTransport`
 * talking to the real server on PGlite over loopback: the REST adapter must keep every rule of
 * the transport contract, as any adapter must.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createSyncHandler, devAuth, pgliteStore, type SyncStore } from '../../server/src/index.js';
import { serve } from '../../server/src/node.js';
import { createSessionSource } from '../../sync-core/src/index.js';
import { describeTransportConformance } from '../../sync-core/src/testing/index.js';
import { devSignIn, restTransport } from '../src/index.js';
import { startServer, type TestServer } from './support/real-server.js';

let server: TestServer;
let limited: { url: string; store: SyncStore; close(): Promise<void> };

beforeAll(async () => {
  server = await startServer({ kind: 'pglite' });
  // A second server whose rate limit a handful of requests exhausts.
  const store = await pgliteStore();
  const auth = devAuth();
  const handler = createSyncHandler({
    store,
    authenticate: auth.authenticate,
    devAuth: auth,
    limits: { rateLimit: { requestsPerSecond: 0.1, burst: 3 } },
  });
  const running = await serve(handler, { port: 0, onError: () => undefined });
  limited = {
    url: running.url,
    store,
    async close() {
      handler.closeStreams();
      await running.close();
      await store.close();
    },
  };
});

afterAll(async () => {
  await server?.close();
  await limited?.close();
});

async function signedIn(baseUrl: string, userId: string) {
  const { token, sessionId } = await devSignIn({ baseUrl, userId });
  return restTransport({
    baseUrl,
    getToken: () => token,
    session: createSessionSource({ userId, sessionId }),
    realtime: false,
  });
}

describeTransportConformance(
  { describe, it },
  {
    name: 'restTransport against the real server (PGlite)',
    connect: (userId) => signedIn(server.url, userId),
    connectUnauthorized: () =>
      restTransport({ baseUrl: server.url, getToken: () => 'not-a-token', realtime: false }),
    connectRateLimited: (userId) => signedIn(limited.url, userId),
  },
);
