/**
 * A burst of large pushes past the server's per-user byte budget (issue 11), through the REST
 * adapter against the real server on PGlite: every refused push reaches the client as a
 * `rate-limited` error carrying the server's `Retry-After` (which the engine's retryer waits),
 * never as a broken connection (`EPIPE` while the body was still being sent).
 */
import { isSyncError } from '@syncline/sync-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyncHandler, devAuth, pgliteStore, type SyncStore } from '../../server/src/index.js';
import { type RunningServer, serve } from '../../server/src/node.js';
import { restTransport } from '../src/index.js';
import { pushRequest, putMutation } from './support/fixtures.js';

describe('adapter-rest pushes past the byte budget', () => {
  const dev = devAuth();
  let store: SyncStore;
  let running: RunningServer;

  beforeAll(async () => {
    store = await pgliteStore();
    const handler = createSyncHandler({
      store,
      authenticate: dev.authenticate,
      devAuth: dev,
      limits: {
        maxBodyBytes: 4 * 1024 * 1024,
        rateLimit: { bytesPerSecond: 1000, byteBurst: 4_000_000 },
      },
    });
    running = await serve(handler, { port: 0, onError: () => undefined });
  });
  afterAll(async () => {
    await running?.close();
    await store?.close();
  });

  it('reports each refused ~3 MB push as rate-limited with its Retry-After', async () => {
    const userId = 'heavy';
    const { token } = await dev.issueToken(userId);
    const transport = restTransport({
      baseUrl: running.url,
      getToken: () => token,
      realtime: false,
    });
    const filler = 'x'.repeat(3_000_000);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        transport.push(pushRequest([putMutation(`user:${userId}`, `big-${i}`, { filler })])),
      ),
    );
    const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
    expect(failures.length).toBeGreaterThanOrEqual(10);
    for (const error of failures) {
      expect(
        isSyncError(error) && { kind: error.kind, waits: (error.retryAfterMs ?? 0) >= 1000 },
      ).toEqual({
        kind: 'rate-limited',
        waits: true,
      });
    }
  });
});
