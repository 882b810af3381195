/**
 * The optimistic push (`push-optimistic.ts`): a push reads a snapshot without locks, decides,
 * and applies only if nothing it read has changed; otherwise it runs again the locking way.
 * Each test lets something slip in between the read and the apply (the `afterSnapshot` hook)
 * and checks that the answer is the one a push arriving after it would get. On PGlite always,
 * on PostgreSQL when SYNCLINE_PG_URL is set.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describePostgres, postgresUrl } from '../../../test/support/env.js';
import type { SqlExecutor } from '../src/store/executor.js';
import { pgliteExecutor } from '../src/store/pglite-store.js';
import { postgresExecutor } from '../src/store/postgres-store.js';
import { createSqlStore, type SqlStoreTestHooks } from '../src/store/sql-store.js';
import type { SyncStore } from '../src/store/types.js';
import { preparedPglite, preparedPgliteStore } from './prepared-pglite.js';
import {
  authOf,
  del,
  freshDatabase,
  freshUser,
  openPostgresStore,
  put,
  request,
  revisionOf,
} from './support.js';

const DAY = 24 * 60 * 60 * 1000;

interface Fixture {
  store: SyncStore;
  clock: { now: number };
  /** Runs `between` once, in the next push that reaches its apply. */
  slipIn(between: () => Promise<void>): void;
  /** How many pushes reached the optimistic apply so far. */
  optimisticApplies(): number;
  close(): Promise<void>;
}

type Open = (
  hooks: SqlStoreTestHooks,
  now: () => number,
) => Promise<{
  store: SyncStore;
  close(): Promise<void>;
}>;

async function fixture(open: Open): Promise<Fixture> {
  const clock = { now: Date.UTC(2030, 0, 1) };
  let pending: (() => Promise<void>) | undefined;
  let applies = 0;
  const { store, close } = await open(
    {
      async afterSnapshot() {
        applies++;
        const between = pending;
        pending = undefined;
        await between?.();
      },
    },
    () => clock.now,
  );
  return {
    store,
    clock,
    slipIn(between) {
      pending = between;
    },
    optimisticApplies: () => applies,
    close,
  };
}

function optimisticSuite(open: Open): void {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await fixture(open);
  });
  afterAll(async () => {
    await fx?.close();
  });
  const user = () => {
    const userId = freshUser();
    return { scope: `user:${userId}`, auth: authOf(userId), client: `c-${userId}` };
  };

  it('takes the version after a push that committed between its read and its apply', async () => {
    const a = user();
    await fx.store.push(a.auth, request([put(a.scope, 'base', { n: 0 })], a.client));
    let inner: number | undefined;
    fx.slipIn(async () => {
      const other = await fx.store.push(a.auth, request([put(a.scope, 'other', { n: 1 })]));
      inner = revisionOf(other.results[0]);
    });
    // Decided on version 1 (a new record, base 0); applied after `other` took version 2.
    const outer = await fx.store.push(a.auth, request([put(a.scope, 'late', { n: 2 })]));
    expect(inner).toBe(2);
    expect(revisionOf(outer.results[0])).toBe(3);
    const page = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: null });
    expect(page.changes.map((c) => [c.id, c.revision, c.data])).toEqual([
      ['base', 1, { n: 0 }],
      ['other', 2, { n: 1 }],
      ['late', 3, { n: 2 }],
    ]);
  });

  it('judges a conflict against the record written between its read and its apply', async () => {
    const a = user();
    await fx.store.push(a.auth, request([put(a.scope, 'r', { v: 1 })], a.client));
    fx.slipIn(async () => {
      await fx.store.push(a.auth, request([put(a.scope, 'r', { v: 2 }, 1)]));
    });
    // Base revision 1 was current in the snapshot, but not when it applies.
    const outer = await fx.store.push(a.auth, request([put(a.scope, 'r', { v: 3 }, 1)]));
    expect(outer.results[0]).toMatchObject({
      status: 'conflict',
      server: { id: 'r', revision: 2, data: { v: 2 } },
    });
    const page = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: null });
    expect(page.changes.map((c) => [c.id, c.revision, c.data])).toEqual([['r', 2, { v: 2 }]]);
  });

  it('answers the stored outcome when the same mutation id was stored meanwhile', async () => {
    const a = user();
    const mutation = put(a.scope, 'once', { n: 1 });
    let first: unknown;
    fx.slipIn(async () => {
      first = (await fx.store.push(a.auth, request([mutation]))).results[0];
    });
    const again = await fx.store.push(a.auth, request([mutation]));
    expect(first).toEqual({ id: mutation.id, status: 'applied', revision: 1 });
    expect(again.results[0]).toEqual(first);
    const page = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: null });
    expect(page.changes.map((c) => [c.id, c.revision])).toEqual([['once', 1]]);
    expect(page.checkpoint).toMatch(/\.1$/);
  });

  it('sends a scope whose optimistic push failed the locking way for a second', async () => {
    const a = user();
    fx.slipIn(async () => {
      await fx.store.push(a.auth, request([put(a.scope, 'first', { n: 1 })]));
    });
    await fx.store.push(a.auth, request([put(a.scope, 'second', { n: 2 })]));
    const before = fx.optimisticApplies();
    // Within the second: straight to the locking way (no optimistic apply), same answers.
    const locked = await fx.store.push(a.auth, request([put(a.scope, 'third', { n: 3 })]));
    expect(revisionOf(locked.results[0])).toBe(3);
    expect(fx.optimisticApplies()).toBe(before);
    // Other scopes are not affected.
    const b = user();
    await fx.store.push(b.auth, request([put(b.scope, 'x', { n: 1 })]));
    expect(fx.optimisticApplies()).toBe(before + 1);
    fx.clock.now += 1001;
    const later = await fx.store.push(a.auth, request([put(a.scope, 'fourth', { n: 4 })]));
    expect(revisionOf(later.results[0])).toBe(4);
    expect(fx.optimisticApplies()).toBe(before + 2);
  });

  it('sends a push the locking way when any of its scopes is contended, until the second ends', async () => {
    const a = user();
    fx.slipIn(async () => {
      await fx.store.push(a.auth, request([put(a.scope, 'first', { n: 1 })]));
    });
    await fx.store.push(a.auth, request([put(a.scope, 'second', { n: 2 })]));
    const before = fx.optimisticApplies();
    // One contended scope and one that is not: the locking way.
    const side = `${a.scope}:side`;
    await fx.store.push(a.auth, request([put(side, 's', {}), put(a.scope, 'third', { n: 3 })]));
    expect(fx.optimisticApplies()).toBe(before);
    // The second is over at exactly 1000 ms: optimistic again.
    fx.clock.now += 1000;
    const later = await fx.store.push(a.auth, request([put(a.scope, 'fourth', { n: 4 })]));
    expect(revisionOf(later.results[0])).toBe(4);
    expect(fx.optimisticApplies()).toBe(before + 1);
  });

  it('pushes optimistically to a scope purged before its read (the horizon it read holds)', async () => {
    const a = user();
    await fx.store.push(a.auth, request([put(a.scope, 'gone', { v: 1 })], a.client));
    await fx.store.push(a.auth, request([del(a.scope, 'gone', 1)], a.client));
    fx.clock.now += 31 * DAY;
    expect((await fx.store.purgeTombstones()).scopes).toContain(a.scope);
    const before = fx.optimisticApplies();
    const first = await fx.store.push(a.auth, request([put(a.scope, 'x', { n: 1 })]));
    const second = await fx.store.push(a.auth, request([put(a.scope, 'y', { n: 2 })]));
    expect([revisionOf(first.results[0]), revisionOf(second.results[0])]).toEqual([3, 4]);
    // Neither snapshot went stale: both applied optimistically, the scope never contended.
    expect(fx.optimisticApplies()).toBe(before + 2);
  });

  it('does not revive a tombstone that a purge removed between its read and its apply', async () => {
    const a = user();
    await fx.store.push(a.auth, request([put(a.scope, 'gone', { v: 1 })], a.client));
    await fx.store.push(a.auth, request([del(a.scope, 'gone', 1)], a.client));
    fx.clock.now += 31 * DAY;
    fx.slipIn(async () => {
      expect((await fx.store.purgeTombstones()).scopes).toContain(a.scope);
    });
    // On the snapshot the tombstone (revision 2) is current; after the purge it is gone.
    const late = await fx.store.push(a.auth, request([put(a.scope, 'gone', { v: 2 }, 2)]));
    expect(late.results[0]).toMatchObject({ status: 'conflict', server: null });
    const page = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: null });
    expect(page.changes).toEqual([]);
  });
}

describe('optimistic push on PGlite', () => {
  optimisticSuite(async (hooks, now) => {
    const store = await preparedPgliteStore({ environment: { now } }, hooks);
    return { store, close: () => store.close() };
  });
});

/**
 * Pushes of one process to one scope queue in the process: twenty devices pushing at once cost
 * one snapshot and one apply each, never the locking way. Counted by statement, on `open`'s
 * executor; `hooks` (even no-op ones) turn the queue off, which shows what it prevents.
 */
function queueSuite(open: () => Promise<{ db: SqlExecutor; close(): Promise<void> }>): void {
  async function twentyAtOnce(hooks: SqlStoreTestHooks) {
    const { db, close } = await open();
    const calls = new Map<string, number>();
    const count = (sql: string) => {
      const name = /syncline\.(push_\w+)/.exec(sql)?.[1];
      if (name !== undefined) calls.set(name, (calls.get(name) ?? 0) + 1);
    };
    const counted = <Q extends Pick<SqlExecutor, 'query' | 'exec'>>(q: Q) => ({
      query: <Row>(sql: string, params?: readonly unknown[]) => {
        count(sql);
        return q.query<Row>(sql, params);
      },
      exec: (sql: string) => q.exec(sql),
    });
    const executor: SqlExecutor = {
      ...db,
      ...counted(db),
      transaction: (fn) => db.transaction((tx) => fn(counted(tx))),
      listen: (channel, onPayload) => db.listen(channel, onPayload),
      close: () => db.close(),
    };
    const store = await createSqlStore(executor, {}, hooks);
    try {
      const userId = freshUser();
      const scope = `user:${userId}`;
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.push(authOf(userId), request([put(scope, `r${i}`, { i })], `device-${i}`)),
        ),
      );
      const revisions = answers.map((answer) => revisionOf(answer.results[0]));
      return { revisions: [...revisions].sort((a, b) => a - b), calls };
    } finally {
      await store.close();
      await close();
    }
  }
  const oneToTwenty = Array.from({ length: 20 }, (_, i) => i + 1);
  // Each test opens its own database and store (PGlite's start and the migrations take seconds
  // on a loaded machine): outcomes are checked, not timings.
  const SETUP_HEAVY_MS = 90_000;

  it(
    'twenty devices pushing to one scope at once: one read and one apply each',
    async () => {
      const { revisions, calls } = await twentyAtOnce({});
      expect(revisions).toEqual(oneToTwenty);
      expect(calls.get('push_snapshot')).toBe(20);
      expect(calls.get('push_apply')).toBe(20);
      expect(calls.get('push_read') ?? 0).toBe(0);
    },
    SETUP_HEAVY_MS,
  );

  it(
    'without the queue, the same pushes go stale and fall back to locking',
    async () => {
      const { revisions, calls } = await twentyAtOnce({ afterSnapshot: async () => {} });
      expect(revisions).toEqual(oneToTwenty);
      expect(calls.get('push_read') ?? 0).toBeGreaterThan(0);
    },
    SETUP_HEAVY_MS,
  );
}

describe('one process queues its pushes per scope, on PGlite', () => {
  queueSuite(async () => {
    const pglite = await preparedPglite();
    return { db: pgliteExecutor(pglite), close: async () => {} };
  });
});

describePostgres()('one process queues its pushes per scope, on PostgreSQL', () => {
  queueSuite(async () => {
    const database = await freshDatabase(postgresUrl() as string);
    return { db: await postgresExecutor({ connectionString: database.url }), close: database.drop };
  });
});

const adminUrl = postgresUrl();
describePostgres()('optimistic push on PostgreSQL', () => {
  optimisticSuite(async (hooks, now) => {
    return openPostgresStore(adminUrl as string, { environment: { now } }, hooks);
  });
});
