/**
 * The handler's error mapping with a store that fails on purpose: bad input the database
 * refuses is a 400, anything unexpected a generic 500 whose details go only to the logger.
 */
import type { PullResponse } from '@syncline/sync-core/protocol';
import { describe, expect, it } from 'vitest';
import { createSyncHandler } from '../src/handler.js';
import type { SyncStore } from '../src/store/types.js';

function failingStore(error: unknown, healthy = true): SyncStore {
  return {
    push: async () => {
      throw error;
    },
    pull: async (): Promise<PullResponse> => {
      throw error;
    },
    onPoke: () => () => undefined,
    purgeTombstones: async () => ({ purged: 0, scopes: [] }),
    purgeMutations: async () => ({ purged: 0 }),
    health: async () => {
      if (!healthy) throw new Error('connection refused');
    },
    close: async () => undefined,
  };
}

function handlerFor(store: SyncStore, logged: unknown[]) {
  return createSyncHandler({
    store,
    authenticate: async () => ({ userId: 'u1', sessionId: 's' }),
    logger: { error: (message, details) => logged.push([message, details]), warn: () => undefined },
  });
}

const pull = new Request('http://x/v1/pull?scope=user:u1');

describe('error mapping', () => {
  it('answers a database data exception (e.g. 22P05) with 400 and no SQL', async () => {
    const sqlError = Object.assign(
      new Error('unsupported Unicode escape sequence in INSERT INTO syncline.records'),
      {
        code: '22P05',
      },
    );
    const logged: unknown[] = [];
    const response = await handlerFor(failingStore(sqlError), logged)(pull);
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).not.toMatch(/INSERT|syncline\.|Unicode/);
    expect(JSON.parse(text)).toEqual({ error: { code: 'invalid', message: expect.any(String) } });
  });

  it('answers an unexpected error with a generic 500 and logs the details', async () => {
    const logged: unknown[] = [];
    const bug = new Error('relation "syncline.records" does not exist at push-transaction.ts:42');
    const response = await handlerFor(failingStore(bug), logged)(pull);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({
      error: { code: 'internal', message: 'internal server error' },
    });
    expect(logged).toEqual([[expect.any(String), bug]]);
  });

  it('answers /healthz 503 when the store does not answer', async () => {
    const logged: unknown[] = [];
    const handler = handlerFor(failingStore(new Error('x'), false), logged);
    const response = await handler(new Request('http://x/healthz'));
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      error: { code: 'unavailable', message: expect.any(String) },
    });
  });

  it('mounts under a base path and answers CORS preflights when configured', async () => {
    const handler = createSyncHandler({
      store: failingStore(new Error('unused')),
      authenticate: async () => null,
      basePath: '/api/sync',
      cors: { origins: ['https://app.example'] },
    });
    expect((await handler(new Request('http://x/api/sync/v1/pull?scope=user:u1'))).status).toBe(
      401,
    );
    expect((await handler(new Request('http://x/v1/pull?scope=user:u1'))).status).toBe(404);
    const preflight = await handler(
      new Request('http://x/api/sync/v1/push', {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      }),
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const foreign = await handler(
      new Request('http://x/api/sync/v1/pull?scope=user:u1', {
        headers: { origin: 'https://evil.example' },
      }),
    );
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });
});
