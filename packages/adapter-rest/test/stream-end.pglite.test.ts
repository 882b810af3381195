/**
 * The event stream when the server ends it because access ended (issue 11): on
 * `token_expired` the adapter asks `getToken` for a fresh token and reconnects at once, and
 * pokes keep arriving; on `forbidden` it reports an `auth` error. Against the real server on
 * PGlite, with tokens that live 2 seconds.
 */
import type { Poke, SyncError } from '@syncline/sync-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyncHandler, devAuth, pgliteStore, type SyncStore } from '../../server/src/index.js';
import { type RunningServer, serve } from '../../server/src/node.js';
import { restTransport } from '../src/index.js';
import { pushRequest, putMutation } from './support/fixtures.js';

describe('adapter-rest event stream when the server ends it', () => {
  const dev = devAuth({ tokenTtlSeconds: 2 });
  const members = new Set<string>();
  let store: SyncStore;
  let running: RunningServer;
  let closeStreams: () => void;

  beforeAll(async () => {
    store = await pgliteStore();
    const handler = createSyncHandler({
      store,
      authenticate: dev.authenticate,
      devAuth: dev,
      limits: { rateLimit: false },
      streamAccessCheckMs: 200,
      authorizeScope: (auth, scope) =>
        scope === `user:${auth.userId}` || (scope === 'workspace:w' && members.has(auth.userId)),
    });
    closeStreams = () => handler.closeStreams();
    running = await serve(handler, { port: 0, onError: () => undefined });
  });
  afterAll(async () => {
    closeStreams?.();
    await running?.close();
    await store?.close();
  });

  const pushAs = async (userId: string, scope: string, recordId: string) => {
    const { token } = await dev.issueToken(userId);
    const transport = restTransport({
      baseUrl: running.url,
      getToken: () => token,
      realtime: false,
    });
    await transport.push(pushRequest([putMutation(scope, recordId, { recordId })]));
  };

  it('fetches a fresh token and reconnects at once when its token expires, and pokes keep coming', async () => {
    const userId = 'expiring';
    const scope = `user:${userId}`;
    const refreshes: boolean[] = [];
    let token = (await dev.issueToken(userId)).token;
    const transport = restTransport({
      baseUrl: running.url,
      realtime: 'sse',
      // A provider that hands out its cached token until asked to refresh.
      getToken: async ({ forceRefresh }) => {
        refreshes.push(forceRefresh);
        if (forceRefresh) token = (await dev.issueToken(userId)).token;
        return token;
      },
    });
    const pokes: Poke[] = [];
    let connects = 0;
    const stop = transport.subscribe?.({
      scopes: [scope],
      onPoke: (poke) => pokes.push(poke),
      onConnect: () => connects++,
    });
    try {
      await expect.poll(() => connects).toBe(1);
      await expect.poll(() => connects, { timeout: 6000 }).toBeGreaterThanOrEqual(2);
      // The reconnect asked for a fresh token straight away (no 401 round trip first).
      expect(refreshes.slice(0, 2)).toEqual([false, true]);
      await pushAs(userId, scope, 'after-refresh');
      await expect.poll(() => pokes.some((p) => p.scope === scope)).toBe(true);
    } finally {
      stop?.();
    }
  });

  it('reports an auth error when a recheck finds a scope no longer readable', async () => {
    const userId = 'member';
    members.add(userId);
    const errors: SyncError[] = [];
    const transport = restTransport({
      baseUrl: running.url,
      realtime: 'sse',
      getToken: async () => (await dev.issueToken(userId)).token,
      onRealtimeError: (error) => errors.push(error),
      reconnect: { baseDelayMs: 5000 },
    });
    let connects = 0;
    const stop = transport.subscribe?.({
      scopes: ['workspace:w'],
      onPoke: () => undefined,
      onConnect: () => connects++,
    });
    try {
      await expect.poll(() => connects).toBe(1);
      members.delete(userId);
      await expect.poll(() => errors.length, { timeout: 3000 }).toBeGreaterThan(0);
      expect(errors[0]?.kind).toBe('auth');
      expect(errors[0]?.code).toBe('forbidden');
      // Told by the stream's end event, before any reconnect met a 403.
      expect(errors[0]?.message).toBe('events: you may no longer read scope workspace:w');
    } finally {
      stop?.();
    }
  });
});
