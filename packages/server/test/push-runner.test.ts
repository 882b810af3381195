/**
 * The push's own parts, below the store: what `pushInputs` and `pokesOf` compute, which
 * statements `pushInTransaction` and `PushRunner` send for a push (none for an empty one, no
 * write for a replay), what they store (outcomes, released conflict claims, each outcome's
 * scope), what `onCommitted` is told, the `beforeCommit` hook's path, the per-scope queue and
 * the pruning of contended scopes. Counted by statement on a real PGlite database (one per
 * file, from the prepared data directory).
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlExecutor, SqlQueryable } from '../src/store/executor.js';
import { pgliteExecutor } from '../src/store/pglite-store.js';
import { type CommittedScope, type PushHooks, PushRunner } from '../src/store/push-optimistic.js';
import type { PushPlan } from '../src/store/push-plan.js';
import { pokesOf, pushInputs, pushInTransaction } from '../src/store/push-transaction.js';
import type { StorePushRequest } from '../src/store/types.js';
import { preparedPglite } from './prepared-pglite.js';
import { authOf, freshUser, put, request, revisionOf } from './support.js';

const NOW = Date.UTC(2030, 0, 1);
const LIMITS = { maxFieldsPerRecord: 100 };

/** Counts the `syncline.push_*` statements sent through `q`. */
function counting<Q extends SqlQueryable>(q: Q, calls: Map<string, number>): SqlQueryable {
  return {
    query: <Row>(sql: string, params?: readonly unknown[]) => {
      const name = /syncline\.(push_\w+)/.exec(sql)?.[1];
      if (name !== undefined) calls.set(name, (calls.get(name) ?? 0) + 1);
      return q.query<Row>(sql, params);
    },
    exec: (sql: string) => q.exec(sql),
  };
}

let db: SqlExecutor;
beforeAll(async () => {
  db = pgliteExecutor(await preparedPglite());
});
afterAll(async () => {
  await db?.close();
});

/** A counted executor over `db`, and its counts. */
function countedDb(): { executor: SqlExecutor; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const executor: SqlExecutor = {
    ...db,
    ...counting(db, calls),
    transaction: (fn) => db.transaction((tx) => fn(counting(tx, calls))),
    listen: (channel, onPayload) => db.listen(channel, onPayload),
    close: () => db.close(),
  };
  return { executor, calls };
}

/** The stored row of a mutation id: `undefined` when none (never claimed, or released). */
async function storedOutcome(
  id: string,
): Promise<{ scope: string | null; outcome: unknown } | undefined> {
  const rows = await db.query<{ scope: string | null; outcome: unknown }>(
    'SELECT scope, outcome FROM syncline.mutations WHERE id = $1',
    [id],
  );
  return rows[0];
}

const user = () => {
  const userId = freshUser();
  return { scope: `user:${userId}`, auth: authOf(userId) };
};

describe('pushInputs', () => {
  it('locks the scopes in sorted order (every push the same order: no deadlock), each once', () => {
    const req = request([put('s:b', 'x', {}), put('s:c', 'y', {}), put('s:a', 'z', {})]);
    req.entries.push(req.entries[0] as StorePushRequest['entries'][number]);
    expect(pushInputs(req).scopes).toEqual(['s:a', 's:b', 's:c']);
  });

  it('claims a refused mutation id too, with no scope', () => {
    const ok = put('s:a', 'x', {});
    const req = request([ok, { ok: false, id: 'refused-1', code: 'invalid', message: 'bad' }]);
    expect(pushInputs(req).claims).toEqual([
      { id: ok.id, scope: 's:a' },
      { id: 'refused-1', scope: null },
    ]);
  });
});

describe('pokesOf', () => {
  const planOf = (scope: string): PushPlan => ({
    results: [],
    store: new Map(),
    writes: new Map(),
    versions: new Map([[scope, 7]]),
  });
  // The payload around the client id: {"scope":"s","version":7,"originClientId":"..."}.
  const frame = JSON.stringify({ scope: 's', version: 7, originClientId: '' }).length;

  it('keeps a payload of exactly 7900 bytes and leaves out one of 7901 (NOTIFY limit 8000)', () => {
    expect(pokesOf(planOf('s'), 'c'.repeat(7900 - frame))).toHaveLength(1);
    expect(pokesOf(planOf('s'), 'c'.repeat(7901 - frame))).toEqual([]);
    // Bytes, not characters: 'é' is two bytes of UTF-8 (7901 bytes in about 4000 characters).
    const accented = 'é'.repeat((7901 - frame) / 2);
    expect(new TextEncoder().encode(accented).length + frame).toBe(7901);
    expect(pokesOf(planOf('s'), accented)).toEqual([]);
  });
});

describe('pushInTransaction on PGlite', () => {
  async function locked(req: StorePushRequest, auth = authOf(freshUser())) {
    const calls = new Map<string, number>();
    const outcome = await db.transaction((tx) =>
      pushInTransaction(counting(tx, calls), auth, req, pushInputs(req), NOW, LIMITS),
    );
    return { outcome, calls };
  }

  it('answers an empty push without a statement', async () => {
    const { outcome, calls } = await locked(request([]));
    expect(outcome).toEqual({ response: { results: [] } });
    expect(calls.size).toBe(0);
  });

  it('stores the applied outcome; a re-send only reads it, writes nothing', async () => {
    const a = user();
    const mutation = put(a.scope, 'r', { n: 1 });
    const first = await locked(request([mutation]), a.auth);
    expect(revisionOf(first.outcome.response.results[0])).toBe(1);
    expect(Object.fromEntries(first.calls)).toEqual({ push_read: 1, push_write: 1 });
    expect((await storedOutcome(mutation.id))?.outcome).toMatchObject({ status: 'applied' });
    const again = await locked(request([mutation]), a.auth);
    expect(again.outcome).toEqual({ response: first.outcome.response });
    expect(Object.fromEntries(again.calls)).toEqual({ push_read: 1 });
  });

  it('stores a rejection that writes no record', async () => {
    const a = user();
    const refused = { ok: false as const, id: `refused-${a.scope}`, code: 'invalid', message: 'x' };
    const { outcome, calls } = await locked(request([refused]), a.auth);
    expect(outcome.response.results[0]).toMatchObject({ status: 'rejected' });
    expect(calls.get('push_write')).toBe(1);
    expect((await storedOutcome(refused.id))?.outcome).toMatchObject({ status: 'rejected' });
  });

  it('releases the claim of a conflict (judged again on a re-send), keeps the applied one', async () => {
    const a = user();
    await locked(request([put(a.scope, 'taken', { v: 1 })]), a.auth);
    const applied = put(a.scope, 'new', { v: 1 });
    const conflict = put(a.scope, 'taken', { v: 2 }); // base 0, but revision 1 exists
    const { outcome } = await locked(request([applied, conflict]), a.auth);
    expect(outcome.response.results.map((r) => r.status)).toEqual(['applied', 'conflict']);
    expect(await storedOutcome(conflict.id)).toBeUndefined();
    expect((await storedOutcome(applied.id))?.outcome).toMatchObject({ status: 'applied' });
    // A conflict alone: released too.
    const alone = put(a.scope, 'taken', { v: 3 });
    const second = await locked(request([alone]), a.auth);
    expect(second.outcome.response.results[0]).toMatchObject({ status: 'conflict' });
    expect(await storedOutcome(alone.id)).toBeUndefined();
  });
});

describe('PushRunner on PGlite', () => {
  function runner(hooks: PushHooks = {}, onCommitted?: (c: CommittedScope) => void) {
    const { executor, calls } = countedDb();
    return { runner: new PushRunner(executor, LIMITS, hooks, onCommitted), calls };
  }

  it('answers an empty push without a statement', async () => {
    const { runner: r, calls } = runner();
    expect(await r.push(authOf(freshUser()), request([]), NOW)).toEqual({ results: [] });
    expect(calls.size).toBe(0);
  });

  it('commits without an onCommitted listener', async () => {
    const a = user();
    const { runner: r } = runner();
    const answer = await r.push(a.auth, request([put(a.scope, 'r', { n: 1 })]), NOW);
    expect(revisionOf(answer.results[0])).toBe(1);
  });

  it('tells onCommitted each scope with only its own records; nothing for a replay', async () => {
    const a = user();
    const other = `${a.scope}:other`;
    const told: CommittedScope[] = [];
    const { runner: r, calls } = runner({}, (c) => told.push(c));
    const m1 = put(a.scope, 'x', { n: 1 });
    const m2 = put(other, 'y', { n: 2 });
    const m3 = put(a.scope, 'z', { n: 3 });
    await r.push(a.auth, request([m1, m2, m3], 'dev'), NOW);
    const brief = told.map((c) => ({ ...c, changes: c.changes.map((x) => [x.id, x.revision]) }));
    expect(brief.sort((p, q) => p.scope.localeCompare(q.scope))).toEqual([
      {
        scope: a.scope,
        from: 0,
        version: 2,
        changes: [
          ['x', 1],
          ['z', 2],
        ],
        originClientId: 'dev',
      },
      { scope: other, from: 0, version: 1, changes: [['y', 1]], originClientId: 'dev' },
    ]);
    // Each outcome is stored under its own scope.
    expect((await storedOutcome(m2.id))?.scope).toBe(other);
    expect((await storedOutcome(m3.id))?.scope).toBe(a.scope);
    // A replay: read once, nothing applied, nobody told.
    told.length = 0;
    calls.clear();
    await r.push(a.auth, request([m1], 'dev'), NOW);
    expect(told).toEqual([]);
    expect(Object.fromEntries(calls)).toEqual({ push_snapshot: 1 });
  });

  it('queues a push behind one still running after an earlier one of its scope finished', async () => {
    const a = user();
    const { runner: r, calls } = runner();
    const first = r.push(a.auth, request([put(a.scope, 'a', {})]), NOW);
    const second = r.push(a.auth, request([put(a.scope, 'b', {})]), NOW);
    await first;
    // `second` is running now; `third` must wait for it, not for `first` only.
    const third = r.push(a.auth, request([put(a.scope, 'c', {})]), NOW);
    const answers = await Promise.all([first, second, third]);
    expect(answers.map((x) => revisionOf(x.results[0]))).toEqual([1, 2, 3]);
    expect(calls.get('push_read') ?? 0).toBe(0);
  });

  it('past 1000 contended scopes, forgets only those whose second is over', async () => {
    const userId = freshUser();
    const auth = authOf(userId);
    const scopes = Array.from({ length: 1000 }, (_, i) => `user:${userId}:${i}`);
    // `slip` runs between the next push's read and its apply, through another runner.
    let slip: string | undefined;
    const other = new PushRunner(db, LIMITS);
    const { executor, calls } = countedDb();
    const r = new PushRunner(executor, LIMITS, {
      afterSnapshot: async () => {
        const scope = slip;
        slip = undefined;
        if (scope !== undefined) await other.push(auth, request([put(scope, 'slip', {})]), NOW);
      },
    });
    // One push goes stale on 1000 scopes: all contended until NOW + 1000.
    slip = scopes[0];
    await r.push(auth, request(scopes.map((scope) => put(scope, 'r', {}))), NOW);
    expect(calls.get('push_read')).toBe(1);
    // Half a second later another scope goes stale: 1000 remembered, so the expired are dropped.
    const y = `user:${userId}:y`;
    slip = y;
    await r.push(auth, request([put(y, 'r', {})]), NOW + 500);
    expect(calls.get('push_read')).toBe(2);
    // None had expired: scope 1 still takes the locking way.
    const again = await r.push(auth, request([put(scopes[1] as string, 'r', {}, 1)]), NOW + 500);
    expect(revisionOf(again.results[0])).toBe(2);
    expect(calls.get('push_read')).toBe(3);
  });

  /** A runner whose next push goes stale (another runner writes `slip` in between). */
  function staleable(userId: string) {
    const auth = authOf(userId);
    const other = new PushRunner(db, LIMITS);
    const state: { slip: string | undefined } = { slip: undefined };
    const r = new PushRunner(db, LIMITS, {
      afterSnapshot: async () => {
        const scope = state.slip;
        state.slip = undefined;
        if (scope !== undefined) await other.push(auth, request([put(scope, 'slip', {})]), NOW);
      },
    });
    /** Pushes to `scopes` at `now`, made stale by a write to the first of them. */
    const stale = async (scopes: string[], now: number) => {
      state.slip = scopes[0];
      await r.push(auth, request(scopes.map((scope) => put(scope, 'r', {}))), now);
    };
    return { r, stale };
  }

  it('at 1000 contended scopes, drops those whose second is over (at exactly the second)', async () => {
    const userId = freshUser();
    const { r, stale } = staleable(userId);
    await stale(
      Array.from({ length: 1000 }, (_, i) => `user:${userId}:${i}`),
      NOW,
    );
    expect(r.held.contended).toBe(1000);
    // A second later all 1000 are over: remembering one more drops them.
    await stale([`user:${userId}:y`], NOW + 1000);
    expect(r.held.contended).toBe(1);
  });

  it('under 1000 contended scopes, keeps them all (no pruning pass)', async () => {
    const userId = freshUser();
    const { r, stale } = staleable(userId);
    await stale([`user:${userId}:a`, `user:${userId}:b`], NOW);
    await stale([`user:${userId}:c`], NOW + 1000);
    expect(r.held.contended).toBe(3);
  });

  it('holds no queue entry once its pushes settle', async () => {
    const a = user();
    const b = user();
    const { runner: r } = runner();
    const pushes = [
      r.push(a.auth, request([put(a.scope, 'x', {})]), NOW),
      r.push(a.auth, request([put(a.scope, 'y', {})]), NOW),
      r.push(b.auth, request([put(b.scope, 'x', {})]), NOW),
    ];
    expect(r.held.queued).toBe(2);
    await Promise.all(pushes);
    expect(r.held).toEqual({ queued: 0, contended: 0 });
  });

  it('runs beforeCommit inside the optimistic apply, once', async () => {
    const a = user();
    let ran = 0;
    const { runner: r, calls } = runner({
      beforeCommit: async () => {
        ran++;
      },
    });
    const answer = await r.push(a.auth, request([put(a.scope, 'r', { n: 1 })]), NOW);
    expect(revisionOf(answer.results[0])).toBe(1);
    expect(ran).toBe(1);
    expect(Object.fromEntries(calls)).toEqual({ push_snapshot: 1, push_apply: 1 });
    // Applied for real: a second put on base 1 applies as revision 2.
    const next = await r.push(a.auth, request([put(a.scope, 'r', { n: 2 }, 1)]), NOW);
    expect(revisionOf(next.results[0])).toBe(2);
  });

  it('fails the push on an apply error other than a stale snapshot (no locking retry)', async () => {
    const a = user();
    let ran = 0;
    const { runner: r, calls } = runner({
      beforeCommit: async () => {
        ran++;
        if (ran === 1) throw new Error('hook failed');
      },
    });
    await expect(r.push(a.auth, request([put(a.scope, 'r', { n: 1 })]), NOW)).rejects.toThrow(
      'hook failed',
    );
    expect(calls.get('push_read') ?? 0).toBe(0);
    // Rolled back: the same record on base 0 still applies as revision 1.
    const again = await r.push(a.auth, request([put(a.scope, 'r', { n: 1 })]), NOW);
    expect(revisionOf(again.results[0])).toBe(1);
  });
});
