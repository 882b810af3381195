// A signed-in sync client with session targeting over HTTP, as the targeting benches run it:
// createSyncClient + restTransport against a reference server started with dev sign-in.
import { restTransport } from '@syncline/adapter-rest';
import { restTargeting } from '@syncline/adapter-rest/targeting';
import { createSessionSource, createSyncClient, memoryStorage } from '@syncline/sync-core';
import { sessionTargeting } from '@syncline/sync-core/targeting';

async function signIn(url, userId) {
  const response = await fetch(`${url}/v1/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId }),
  });
  return response.json();
}

/**
 * Signs `userId` in on the server at `url` and starts a client; `extra` goes to
 * createSyncClient. Resolves once the client knows its session (or after 5 s).
 */
export async function device(url, userId, extra = {}) {
  const { token, sessionId } = await signIn(url, userId);
  const transport = restTransport({
    baseUrl: url,
    getToken: () => token,
    session: createSessionSource({ userId, sessionId }),
    targeting: restTargeting(),
  });
  const client = createSyncClient({
    transport,
    storage: memoryStorage(),
    targeting: sessionTargeting(),
    ...extra,
  });
  await client.start();
  for (let i = 0; i < 500 && client.sessions.current === null; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { client, transport, sessionId };
}
