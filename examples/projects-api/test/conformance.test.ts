/**
 * resourceTransport against this real backend keeps every rule of the transport conformance
 * kit, through a per-resource mapping (the kit's records travel in the project's `data` field).
 */
import { resourceTransport } from '@syncline/adapter-rest';
import { createSessionSource } from '@syncline/sync-core';
import { describeTransportConformance } from '@syncline/sync-core/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type RunningApi, startProjectsApi } from '../src/server.js';
import { signIn } from './support.js';

let api: RunningApi;
beforeAll(async () => {
  api = await startProjectsApi();
});
afterAll(async () => {
  await api?.close();
});

describeTransportConformance(
  { describe, it },
  {
    name: 'resourceTransport against the projects API (Drizzle on PGlite)',
    capabilities: { transactions: false, mutationHlc: false },
    async connect(email) {
      const { token, userId } = await signIn(api.url, email);
      return resourceTransport({
        baseUrl: api.url,
        getToken: () => token,
        session: createSessionSource({ userId, sessionId: 's' }),
        // Any collection name the kit uses maps onto the one projects resource.
        resources: {
          conformance_items: {
            path: '/api/projects',
            toBody: (data) => ({ name: 'conformance', data }),
            toData: (item) => (item.data ?? {}) as never,
          },
        },
      });
    },
    connectUnauthorized: (userId) =>
      resourceTransport({
        baseUrl: api.url,
        getToken: () => 'forged.token',
        session: createSessionSource({ userId, sessionId: 's' }),
        resources: { conformance_items: { path: '/api/projects' } },
      }),
  },
);
