/**
 * A pull answer with more pages after it repeats its checkpoint in a header (issue 10): a client asks
 * for the next page as soon as they arrive, before it reads this page's body. Both for a store
 * that renders the page as text and for one that answers objects; a browser on another origin
 * may read them (CORS).
 */
import { PGlite } from '@electric-sql/pglite';
import { PULL_NEXT_CHECKPOINT_HEADER, type PullResponse } from '@syncline/sync-core/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyncHandler } from '../src/handler.js';
import { pgliteExecutor } from '../src/store/pglite-store.js';
import { createSqlStore } from '../src/store/sql-store.js';
import type { SyncStore } from '../src/store/types.js';
import { authOf, freshUser, put, request } from './support.js';

let store: SyncStore;
beforeAll(async () => {
  store = await createSqlStore(pgliteExecutor(await PGlite.create()));
});
afterAll(async () => {
  await store?.close();
});

function handlerOf(target: SyncStore, userId: string) {
  return createSyncHandler({
    store: target,
    authenticate: async () => ({ userId, sessionId: 's1' }),
    cors: { origins: ['https://app.example'] },
  });
}

describe('pull headers', { timeout: 60_000 }, () => {
  const textless = (): SyncStore => {
    const { pullText: _text, ...rest } = store;
    return rest;
  };
  for (const [name, target] of [
    ['a store that renders pages as text', () => store],
    ['a store that answers objects', textless],
  ] as const) {
    it(`repeats the checkpoint of each page that has more after it (${name})`, async () => {
      const userId = freshUser();
      const scope = `user:${userId}`;
      await store.push(
        authOf(userId),
        request([put(scope, 'a', { n: 1 }), put(scope, 'b', { n: 2 }), put(scope, 'c', { n: 3 })]),
      );
      const handler = handlerOf(target(), userId);
      let checkpoint: string | null = null;
      const seen: Array<[string | null, string | null]> = [];
      for (;;) {
        const query = checkpoint === null ? '' : `&checkpoint=${encodeURIComponent(checkpoint)}`;
        const response = await handler(
          new Request(`http://x/v1/pull?scope=${scope}&limit=2${query}`, {
            headers: { origin: 'https://app.example' },
          }),
        );
        expect(response.status).toBe(200);
        const page = (await response.json()) as PullResponse;
        const next = response.headers.get(PULL_NEXT_CHECKPOINT_HEADER);
        expect(next).toBe(page.hasMore ? page.checkpoint : null);
        const exposed = response.headers.get('access-control-expose-headers') ?? '';
        expect(exposed).toContain(PULL_NEXT_CHECKPOINT_HEADER);
        seen.push([next, page.changes[0]?.id ?? null]);
        checkpoint = page.checkpoint;
        if (!page.hasMore) break;
      }
      expect(seen).toEqual([
        [expect.any(String), 'a'],
        [null, 'c'],
      ]);
    });
  }
});
