/** Devices of the projects API: a signed-in resourceTransport, and a client on top of it. */
import { resourceTransport } from '@syncline/adapter-rest';
import {
  type ConflictResolver,
  createSessionSource,
  createSyncClient,
  type MutableSessionSource,
  memoryStorage,
  type SyncClient,
  type SyncTransport,
} from '@syncline/sync-core';

/** Signs in to the API as `email`. */
export async function signIn(
  baseUrl: string,
  email: string,
): Promise<{ token: string; userId: string }> {
  const response = await fetch(`${baseUrl}/api/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email }),
  });
  if (!response.ok) throw new Error(`sign-in failed: ${response.status}`);
  return (await response.json()) as { token: string; userId: string };
}

/** A resourceTransport for the projects API, exactly as an app would configure it. */
export function projectsTransport(
  baseUrl: string,
  token: () => string | null,
  session: MutableSessionSource,
): SyncTransport {
  return resourceTransport({
    baseUrl,
    getToken: token,
    session,
    resources: { projects: { path: '/api/projects' } },
  });
}

/** A device: its own storage, session and client. */
export interface Device {
  client: SyncClient;
  session: MutableSessionSource;
  signIn(email: string): Promise<void>;
}

/** A device of the API at `baseUrl` (signed out until `signIn`, or signed in as `email`). */
export async function device(
  baseUrl: string,
  options: {
    email?: string;
    conflict?: ConflictResolver;
    wrap?: (t: SyncTransport) => SyncTransport;
  } = {},
): Promise<Device> {
  const session = createSessionSource();
  let token: string | null = null;
  const transport = projectsTransport(baseUrl, () => token, session);
  const client = createSyncClient({
    transport: options.wrap ? options.wrap(transport) : transport,
    storage: memoryStorage(),
    collections: { projects: options.conflict ? { conflict: options.conflict } : {} },
    pullIntervalMs: 200,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
  });
  const dev: Device = {
    client,
    session,
    async signIn(email) {
      const signedIn = await signIn(baseUrl, email);
      token = signedIn.token;
      session.set({
        userId: signedIn.userId,
        sessionId: `s-${Math.random().toString(36).slice(2)}`,
      });
    },
  };
  if (options.email !== undefined) await dev.signIn(options.email);
  await client.start();
  return dev;
}
