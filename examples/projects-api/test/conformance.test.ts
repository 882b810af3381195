/**
 * resourceTransport against this real backend keeps every rule of the transport conformance
 * kit, through a per-resource mapping (the kit's records travel in the project's `data` field).
 */
import { resourceTransport } from '@syncline/adapter-rest';
import { createSessionSource, type JsonObject } from '@syncline/sync-core';
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

/** The kit's records travel in the project's `data` field. */
const conformanceResource = {
  path: '/api/projects',
  toBody: (data: JsonObject) => ({ name: 'conformance', data }),
  toData: (item: JsonObject) => (item.data ?? {}) as JsonObject,
};

describeTransportConformance(
  { describe, it },
  {
    name: 'resourceTransport, a list with tombstones and data, read in pages of 7',
    capabilities: { transactions: false, mutationHlc: false },
    async connect(email) {
      const { token, userId } = await signIn(api.url, email);
      return resourceTransport({
        baseUrl: api.url,
        getToken: () => token,
        session: createSessionSource({ userId, sessionId: 's' }),
        resources: {
          conformance_items: {
            ...conformanceResource,
            listQuery: { includeDeleted: '1', include: 'data' },
            listIncludesDeleted: true,
            listIncludesData: true,
            listPageSize: 7,
          },
        },
      });
    },
  },
);

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
        resources: { conformance_items: conformanceResource },
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
