/**
 * Differential test: the SQL server (handler + PGlite store) and the protocol's executable
 * reference, the in-memory server of `@syncline/sync-core/testing`, get the same seeded random
 * requests (pushes with stale bases, patches, deletes, txId groups, invalid and forbidden
 * mutations, re-sends, pulls with old/garbage checkpoints, tombstone purges) and must give the
 * same answers. Checkpoints are opaque and differ in format, so each system gets back its own.
 */
import type { PullResponse, PushResponse, SyncRecord } from '@syncline/sync-core/protocol';
import { createMemoryServer, createRandom, type Random } from '@syncline/sync-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyncHandler, type SyncHandler } from '../src/handler.js';
import { pgliteStore } from '../src/store/pglite-store.js';
import type { SyncStore } from '../src/store/types.js';

const DAY = 86_400_000;
type Answer = { status: number; body: unknown };

describe('SQL server vs in-memory reference server', () => {
  let store: SyncStore;
  let handler: SyncHandler;
  const clock = { now: Date.UTC(2031, 0, 1) };

  beforeAll(async () => {
    store = await pgliteStore({ environment: { now: () => clock.now } });
    handler = createSyncHandler({
      store,
      // Test auth: the user is named by a header.
      authenticate: async (request) => {
        const userId = request.headers.get('x-user');
        return userId === null ? null : { userId, sessionId: 's' };
      },
      limits: { rateLimit: false },
    });
  });
  afterAll(async () => {
    await store?.close();
  });

  // What the runs exercised, so the comparison cannot pass vacuously.
  const seen = new Map<string, number>();
  const hit = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);

  for (const seed of [1, 2, 3]) {
    it(`gives the same answers for seed ${seed}`, async () => {
      const memory = createMemoryServer({
        environment: { now: () => clock.now },
        schedule: () => undefined,
      });
      const random = createRandom(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
      const users = [`d${seed}a`, `d${seed}b`];
      const known = new Map<string, number>(); // scope/record -> last revision seen
      const checkpoints = new Map<string, [string, string]>(); // user/scope -> [memory, sql]
      const sent: Array<{ user: string; mutation: Record<string, unknown> }> = [];
      let hlcCounter = 0;

      const sql = async (user: string, path: string, body?: string): Promise<Answer> => {
        const response = await handler(
          new Request(`http://test${path}`, {
            method: body === undefined ? 'GET' : 'POST',
            headers: { 'x-user': user, 'content-type': 'application/json' },
            ...(body === undefined ? {} : { body }),
          }),
        );
        return { status: response.status, body: await response.json() };
      };
      const mem = (run: () => unknown): Answer => {
        try {
          return { status: 200, body: JSON.parse(JSON.stringify(run())) };
        } catch (error) {
          const status = (error as { status?: number }).status;
          if (status === undefined) throw error;
          return { status, body: null };
        }
      };
      const learn = (records: Array<SyncRecord | null | undefined>) => {
        for (const r of records) if (r) known.set(`${r.scope}/${r.id}`, r.revision);
      };

      for (let step = 0; step < 200; step++) {
        const user = pick(users);
        const other = users.find((u) => u !== user) as string;
        const roll = random();
        if (roll < 0.6) {
          const count = 1 + Math.floor(random() * 4);
          const txId = random() < 0.2 ? crypto.randomUUID() : undefined;
          const mutations: Array<Record<string, unknown> | string> = [];
          for (let k = 0; k < count; k++) {
            const r = random();
            if (r < 0.1 && sent.length > 0) {
              mutations.push(pick(sent).mutation); // a re-send (maybe of another user's id)
              continue;
            }
            const scope = `user:${random() < 0.1 ? other : user}`;
            const recordId = pick(['a', 'b', 'c', "o'; --"]);
            const op = pick(['put', 'put', 'patch', 'delete'] as const);
            const current = known.get(`${scope}/${recordId}`) ?? 0;
            const baseRevision = random() < 0.75 ? current : Math.floor(random() * 6);
            const mutation: Record<string, unknown> = {
              id: crypto.randomUUID(),
              scope,
              collection: random() < 0.05 ? 'bad name!' : 'todos',
              recordId,
              op,
              ...(op === 'delete' ? {} : { data: randomData(random) }),
              baseRevision,
              hlc: `${(1_900_000_000_000 + hlcCounter++).toString(16).padStart(12, '0')}:0000:${user}`,
              ...(txId === undefined ? {} : { txId }),
            };
            if (random() < 0.05 && op !== 'delete') {
              // Raw text: a __proto__ key survives only as JSON text.
              mutations.push(
                JSON.stringify({
                  ...mutation,
                  data: { ...(mutation.data as object), zz: 1 },
                }).replace('"data":{', '"data":{"__proto__":{"x":1},'),
              );
            } else mutations.push(mutation);
            sent.push({ user, mutation });
          }
          const body = `{"clientId":"c-${user}","sessionId":"s","mutations":[${mutations
            .map((m) => (typeof m === 'string' ? m : JSON.stringify(m)))
            .join(',')}]}`;
          const unique = new Set(
            mutations.map((m) => (typeof m === 'string' ? JSON.parse(m).id : m.id)),
          );
          if (unique.size !== mutations.length) continue; // duplicate ids: a 400 in both, boring
          const expected = mem(() =>
            memory.push({ userId: user, sessionId: 's' }, JSON.parse(body)),
          );
          const actual = await sql(user, '/v1/push', body);
          expect({ step, ...actual }).toEqual({ step, ...expected });
          if (actual.status === 200) {
            for (const result of (actual.body as PushResponse).results) {
              hit(result.status === 'rejected' ? `rejected:${result.code}` : result.status);
              if (result.status === 'conflict') learn([result.server]);
            }
          }
        } else if (roll < 0.93) {
          const scope = `user:${random() < 0.1 ? other : user}`;
          const key = `${user}/${scope}`;
          const r = random();
          const pair =
            r < 0.7
              ? checkpoints.get(key)
              : r < 0.8
                ? (['zzz', 'zzz'] as [string, string])
                : undefined;
          const limit = 1 + Math.floor(random() * 4);
          const query = (cp: string | undefined) =>
            `/v1/pull?scope=${encodeURIComponent(scope)}&limit=${limit}${cp === undefined ? '' : `&checkpoint=${encodeURIComponent(cp)}`}`;
          const expected = mem(() =>
            memory.pull(
              { userId: user, sessionId: 's' },
              { scope, checkpoint: pair?.[0] ?? null, limit },
            ),
          );
          const actual = await sql(user, query(pair?.[1]));
          const comparable = (a: Answer) =>
            a.status === 200
              ? { ...(a.body as PullResponse), checkpoint: 'opaque' }
              : { status: a.status };
          expect({ step, pull: comparable(actual) }).toEqual({ step, pull: comparable(expected) });
          if (actual.status === 200) {
            const memPage = expected.body as PullResponse;
            const sqlPage = actual.body as PullResponse;
            checkpoints.set(key, [memPage.checkpoint, sqlPage.checkpoint]);
            if (sqlPage.resetRequired) hit('resetRequired');
            if (sqlPage.hasMore) hit('hasMore');
            if (sqlPage.changes.some((c) => c.deleted)) hit('tombstone pulled');
            learn(sqlPage.changes);
          }
        } else {
          clock.now += Math.floor(random() * 3 * DAY);
          const removed = memory.purgeTombstones({ olderThan: clock.now - DAY });
          const purged = await store.purgeTombstones({ olderThanMs: DAY });
          // The store purges every scope of the database; count only this run's scopes.
          const mine = purged.scopes.filter((s) => users.some((u) => s === `user:${u}`));
          expect({ step, any: mine.length > 0 }).toEqual({ step, any: removed > 0 });
          if (removed > 0) hit('purged');
        }
      }
      // Final state: every record of every scope, tombstones included, is the same.
      for (const user of users) {
        const scope = `user:${user}`;
        const actual = await sql(user, `/v1/pull?scope=${encodeURIComponent(scope)}`);
        expect((actual.body as PullResponse).changes).toEqual(memory.records(scope));
      }
    });
  }

  it('exercised every path of the protocol', () => {
    for (const what of [
      'applied',
      'conflict',
      'rejected:invalid',
      'rejected:forbidden',
      'rejected:tx_rejected',
      'resetRequired',
      'hasMore',
      'tombstone pulled',
      'purged',
    ]) {
      expect({ what, seen: (seen.get(what) ?? 0) > 0 }).toEqual({ what, seen: true });
    }
  });
});

function randomData(random: Random): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  const fields = ['title', 'done', 'n', 'tags', 'constructor'];
  for (const field of fields) {
    if (random() < 0.4) {
      data[field] = field === 'tags' ? ['x', Math.floor(random() * 9)] : Math.floor(random() * 100);
    }
  }
  return data;
}
