/**
 * The store's semantics (DESIGN §3), run against every store: PGlite and real PostgreSQL.
 */
import type { Poke, PullResponse, SyncRecord } from '@syncline/sync-core/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SyncStore } from '../src/store/types.js';
import { commitSemantics } from './commit-semantics.js';
import { authOf, del, freshUser, patch, put, request, revisionOf } from './support.js';

/** A store under test and its clock. */
export interface StoreFixture {
  store: SyncStore;
  clock: { now: number };
  close(): Promise<void>;
}

const DAY = 24 * 60 * 60 * 1000;

async function pullAll(store: SyncStore, userId: string, scope: string, checkpoint: string | null) {
  const pages: PullResponse[] = [];
  let cp = checkpoint;
  for (;;) {
    const page = await store.pull(authOf(userId), { scope, checkpoint: cp, limit: 2 });
    pages.push(page);
    cp = page.checkpoint;
    if (!page.hasMore) return { pages, checkpoint: cp, changes: pages.flatMap((p) => p.changes) };
  }
}

/** Registers the semantic tests; call inside a `describe`. */
export function storeSemantics(open: () => Promise<StoreFixture>): void {
  let fx: StoreFixture;
  beforeAll(async () => {
    fx = await open();
  });
  afterAll(async () => {
    await fx?.close();
  });

  const user = () => {
    const userId = freshUser();
    return { userId, scope: `user:${userId}`, auth: authOf(userId), client: `c-${userId}` };
  };

  it('gives each applied mutation the next version of its scope as revision', async () => {
    const a = user();
    const b = user();
    const r1 = await fx.store.push(a.auth, request([put(a.scope, 'r1', { n: 1 })], a.client));
    const r2 = await fx.store.push(
      a.auth,
      request([put(a.scope, 'r2', { n: 2 }), put(a.scope, 'r3', { n: 3 })], a.client),
    );
    const r3 = await fx.store.push(b.auth, request([put(b.scope, 'r1', { n: 1 })], b.client));
    expect(r1.results.map(revisionOf)).toEqual([1]);
    expect(r2.results.map(revisionOf)).toEqual([2, 3]);
    expect(r3.results.map(revisionOf)).toEqual([1]);
    const page = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: null });
    expect(page.changes.map((c) => [c.id, c.revision, c.data])).toEqual([
      ['r1', 1, { n: 1 }],
      ['r2', 2, { n: 2 }],
      ['r3', 3, { n: 3 }],
    ]);
    expect(page.hasMore).toBe(false);
  });

  it('applies only on the current revision and answers conflict with the server record', async () => {
    const a = user();
    await fx.store.push(a.auth, request([put(a.scope, 'r', { v: 1 })], a.client));
    const stale = await fx.store.push(a.auth, request([put(a.scope, 'r', { v: 2 }, 0)], a.client));
    expect(stale.results[0]).toMatchObject({
      status: 'conflict',
      server: { id: 'r', revision: 1, data: { v: 1 }, deleted: false },
    });
    const ahead = await fx.store.push(a.auth, request([put(a.scope, 'x', { v: 1 }, 7)], a.client));
    expect(ahead.results[0]).toMatchObject({ status: 'conflict', server: null });
    const ok = await fx.store.push(a.auth, request([put(a.scope, 'r', { v: 3 }, 1)], a.client));
    expect(revisionOf(ok.results[0])).toBe(2);
    const page = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: null });
    expect(page.changes).toEqual([
      {
        scope: a.scope,
        collection: 'todos',
        id: 'r',
        data: { v: 3 },
        revision: 2,
        hlc: expect.any(String),
        deleted: false,
      },
    ]);
  });

  it('merges a patch into top-level fields; a patch of an absent or deleted record conflicts', async () => {
    const a = user();
    await fx.store.push(
      a.auth,
      request([put(a.scope, 'r', { title: 'a', done: false, tags: ['x'] })], a.client),
    );
    const patched = await fx.store.push(
      a.auth,
      request([patch(a.scope, 'r', { done: true, tags: ['y'] }, 1)], a.client),
    );
    expect(revisionOf(patched.results[0])).toBe(2);
    const absent = await fx.store.push(
      a.auth,
      request([patch(a.scope, 'nope', { x: 1 }, 0)], a.client),
    );
    expect(absent.results[0]).toMatchObject({ status: 'conflict', server: null });
    await fx.store.push(a.auth, request([del(a.scope, 'r', 2)], a.client));
    const onTombstone = await fx.store.push(
      a.auth,
      request([patch(a.scope, 'r', { x: 1 }, 3)], a.client),
    );
    expect(onTombstone.results[0]).toMatchObject({
      status: 'conflict',
      server: { id: 'r', deleted: true, data: null, revision: 3 },
    });
    const page = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: null });
    expect(page.changes).toHaveLength(1);
    expect(page.changes[0]).toMatchObject({ id: 'r', deleted: true, data: null, revision: 3 });
  });

  it('keeps patched data exact', async () => {
    const a = user();
    await fx.store.push(
      a.auth,
      request([put(a.scope, 'r', { title: 'a', done: false, n: { deep: 1 } })], a.client),
    );
    await fx.store.push(
      a.auth,
      request([patch(a.scope, 'r', { done: true, n: { other: 2 } }, 1)], a.client),
    );
    const page = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: null });
    expect(page.changes[0]?.data).toEqual({ title: 'a', done: true, n: { other: 2 } });
  });

  it('never resurrects a tombstone from a stale put, but a put on its revision applies', async () => {
    const a = user();
    await fx.store.push(a.auth, request([put(a.scope, 'r', { v: 1 })], a.client));
    await fx.store.push(a.auth, request([del(a.scope, 'r', 1)], a.client));
    const stale = await fx.store.push(a.auth, request([put(a.scope, 'r', { v: 9 }, 1)], a.client));
    expect(stale.results[0]).toMatchObject({
      status: 'conflict',
      server: { deleted: true, revision: 2 },
    });
    const fresh = await fx.store.push(a.auth, request([put(a.scope, 'r', { v: 9 }, 0)], a.client));
    expect(fresh.results[0]).toMatchObject({ status: 'conflict' });
    const onTop = await fx.store.push(a.auth, request([put(a.scope, 'r', { v: 10 }, 2)], a.client));
    expect(revisionOf(onTop.results[0])).toBe(3);
  });

  it('answers a re-sent mutation with its stored outcome and changes nothing', async () => {
    const a = user();
    const m = put(a.scope, 'r', { v: 1 });
    const first = await fx.store.push(a.auth, request([m], a.client));
    const { checkpoint } = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: null });
    const again = await fx.store.push(a.auth, request([m, put(a.scope, 'q', { v: 2 })], a.client));
    expect(again.results[0]).toEqual(first.results[0]);
    expect(revisionOf(again.results[1])).toBe(2);
    const after = await fx.store.pull(a.auth, { scope: a.scope, checkpoint });
    expect(after.changes.map((c) => c.id)).toEqual(['q']);
  });

  it('does not store a conflict: the same id re-sent on the right base applies', async () => {
    const a = user();
    await fx.store.push(a.auth, request([put(a.scope, 'r', { v: 1 })], a.client));
    const m = put(a.scope, 'r', { v: 2 }, 0);
    const conflict = await fx.store.push(a.auth, request([m], a.client));
    expect(conflict.results[0]?.status).toBe('conflict');
    const rebased = await fx.store.push(a.auth, request([{ ...m, baseRevision: 1 }], a.client));
    expect(revisionOf(rebased.results[0])).toBe(2);
  });

  it('rejects an invalid or forbidden mutation alone while the others apply', async () => {
    const a = user();
    const res = await fx.store.push(
      a.auth,
      request(
        [
          put(a.scope, 'ok1', { v: 1 }),
          {
            ok: false,
            id: '00000000-0000-4000-8000-000000000001',
            code: 'invalid',
            message: 'bad',
          },
          {
            ok: false,
            id: '00000000-0000-4000-8000-000000000002',
            code: 'forbidden',
            message: 'no',
          },
          put(a.scope, 'ok2', { v: 2 }),
        ],
        a.client,
      ),
    );
    expect(res.results.map((r) => r.status)).toEqual([
      'applied',
      'rejected',
      'rejected',
      'applied',
    ]);
    expect(res.results[1]).toMatchObject({ code: 'invalid' });
    expect(res.results[2]).toMatchObject({ code: 'forbidden' });
    expect(res.results.map((r) => r.id)[1]).toBe('00000000-0000-4000-8000-000000000001');
  });

  it('stores a rejection: a re-sent rejected id gets the same answer', async () => {
    const a = user();
    const id = crypto.randomUUID();
    const first = await fx.store.push(
      a.auth,
      request([{ ok: false, id, code: 'forbidden', message: 'no' }], a.client),
    );
    // Re-sent, now well-formed: the stored rejection stands and nothing is written.
    const again = await fx.store.push(
      a.auth,
      request([put(a.scope, 'r', { v: 1 }, 0, { id })], a.client),
    );
    expect(again.results).toEqual(first.results);
    const page = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: null });
    expect(page.changes).toEqual([]);
  });

  it('lets members of a txId group see each other staged writes', async () => {
    const a = user();
    const txId = crypto.randomUUID();
    const res = await fx.store.push(
      a.auth,
      request(
        [
          put(a.scope, 'r', { a: 1 }, 0, { txId }),
          patch(a.scope, 'r', { b: 2 }, 1, { txId }),
          put(a.scope, 's', { c: 3 }, 0, { txId }),
        ],
        a.client,
      ),
    );
    expect(res.results.map(revisionOf)).toEqual([1, 2, 3]);
    const page = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: null });
    expect(page.changes.map((c) => [c.id, c.revision, c.data])).toEqual([
      ['r', 2, { a: 1, b: 2 }],
      ['s', 3, { c: 3 }],
    ]);
  });

  it('applies a txId group all or none: one conflict makes every member conflict', async () => {
    const a = user();
    await fx.store.push(
      a.auth,
      request([put(a.scope, 'x', { v: 1 }), put(a.scope, 'y', { v: 1 })], a.client),
    );
    const txId = crypto.randomUUID();
    const res = await fx.store.push(
      a.auth,
      request(
        [
          put(a.scope, 'x', { v: 2 }, 1, { txId }),
          put(a.scope, 'y', { v: 2 }, 0, { txId }), // stale: y is at 2
          put(a.scope, 'z', { v: 2 }, 0, { txId }),
          put(a.scope, 'w', { v: 1 }),
        ],
        a.client,
      ),
    );
    expect(res.results.map((r) => r.status)).toEqual([
      'conflict',
      'conflict',
      'conflict',
      'applied',
    ]);
    const [x, y, z] = res.results as Array<{ server: SyncRecord | null }>;
    expect(x?.server?.revision).toBe(1); // equals its baseRevision: re-send unchanged
    expect(y?.server?.revision).toBe(2);
    expect(z?.server).toBeNull();
    expect(revisionOf(res.results[3])).toBe(3);
    const page = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: null });
    expect(page.changes.map((c) => [c.id, c.data])).toEqual([
      ['x', { v: 1 }],
      ['y', { v: 1 }],
      ['w', { v: 1 }],
    ]);
    // Once resolved, the same group applies as a whole, in consecutive versions.
    const ok = await fx.store.push(
      a.auth,
      request(
        [put(a.scope, 'x', { v: 2 }, 1, { txId }), put(a.scope, 'y', { v: 2 }, 2, { txId })],
        a.client,
      ),
    );
    expect(ok.results.map(revisionOf)).toEqual([4, 5]);
  });

  it('rejects a whole txId group when one member is refused', async () => {
    const a = user();
    const txId = crypto.randomUUID();
    const res = await fx.store.push(
      a.auth,
      request(
        [
          put(a.scope, 'x', { v: 1 }, 0, { txId }),
          {
            ok: false,
            id: '00000000-0000-4000-8000-0000000000aa',
            txId,
            code: 'invalid',
            message: 'bad',
          },
          put(a.scope, 'y', { v: 1 }, 0, { txId }),
        ],
        a.client,
      ),
    );
    expect(res.results).toEqual([
      expect.objectContaining({ status: 'rejected', code: 'tx_rejected' }),
      expect.objectContaining({ status: 'rejected', code: 'tx_rejected', message: 'invalid: bad' }),
      expect.objectContaining({ status: 'rejected', code: 'tx_rejected' }),
    ]);
    const page = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: null });
    expect(page.changes).toEqual([]);
  });

  it("never answers with another user's stored outcome", async () => {
    const a = user();
    const b = user();
    const m = put(a.scope, 'secret', { pin: '1234' });
    await fx.store.push(a.auth, request([m], a.client));
    const replay = await fx.store.push(b.auth, request([{ ...m, scope: b.scope }], b.client));
    expect(replay.results[0]).toMatchObject({ status: 'rejected', code: 'forbidden' });
    expect(JSON.stringify(replay)).not.toContain('1234');
    const page = await fx.store.pull(b.auth, { scope: b.scope, checkpoint: null });
    expect(page.changes).toEqual([]);
  });

  it('lets several users push from one installation (client id) in turn', async () => {
    const a = user();
    const b = user();
    const device = `shared-device-${a.userId}`;
    const first = await fx.store.push(a.auth, request([put(a.scope, 'r', { v: 'a' })], device));
    const second = await fx.store.push(b.auth, request([put(b.scope, 'r', { v: 'b' })], device));
    expect(first.results.map(revisionOf)).toEqual([1]);
    expect(second.results.map(revisionOf)).toEqual([1]);
    // Using the same client id gives B nothing of A's: A's ids answer forbidden to B.
    const m = put(a.scope, 'x', { secret: 1 });
    await fx.store.push(a.auth, request([m], device));
    const replay = await fx.store.push(b.auth, request([m], device));
    expect(replay.results[0]).toMatchObject({ status: 'rejected', code: 'forbidden' });
    expect(
      (await fx.store.pull(b.auth, { scope: b.scope, checkpoint: null })).changes.map(
        (c) => c.data,
      ),
    ).toEqual([{ v: 'b' }]);
  });

  it('pages in version order with opaque checkpoints and hasMore', async () => {
    const a = user();
    for (let i = 1; i <= 5; i++) {
      await fx.store.push(a.auth, request([put(a.scope, `r${i}`, { i })], a.client));
    }
    // r2 rewritten: its row moves to version 6, leaving a gap at 2.
    await fx.store.push(a.auth, request([put(a.scope, 'r2', { i: 22 }, 2)], a.client));
    const all = await pullAll(fx.store, a.userId, a.scope, null);
    expect(all.pages.map((p) => p.changes.length)).toEqual([2, 2, 1]);
    expect(all.pages.map((p) => p.hasMore)).toEqual([true, true, false]);
    expect(all.changes.map((c) => [c.id, c.revision])).toEqual([
      ['r1', 1],
      ['r3', 3],
      ['r4', 4],
      ['r5', 5],
      ['r2', 6],
    ]);
    const quiet = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: all.checkpoint });
    expect(quiet).toEqual({ changes: [], checkpoint: all.checkpoint, hasMore: false });
    // A page that holds exactly the rest of the scope is the last one.
    const exact = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: null, limit: 5 });
    expect(exact).toMatchObject({ hasMore: false, checkpoint: all.checkpoint });
    expect(exact.changes).toHaveLength(5);
    await fx.store.push(a.auth, request([del(a.scope, 'r1', 1)], a.client));
    const next = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: all.checkpoint });
    expect(next.changes.map((c) => [c.id, c.deleted])).toEqual([['r1', true]]);
  });

  it('answers a garbage, foreign or future checkpoint with resetRequired and a first page', async () => {
    const a = user();
    await fx.store.push(a.auth, request([put(a.scope, 'r', { v: 1 })], a.client));
    const first = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: null });
    // A first pull starts at the beginning: nothing to reset.
    expect(first.resetRequired).toBeUndefined();
    const { checkpoint } = first;
    const future = checkpoint.replace(/\.\d+$/, '.99');
    const foreign = checkpoint.replace(/^c1\.[0-9a-f]+\./, 'c1.abc.');
    for (const bad of ['garbage', "1' OR '1'='1", future, foreign, 'c1.x.-1']) {
      const page = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: bad });
      expect(page.resetRequired).toBe(true);
      expect(page.changes.map((c) => c.id)).toEqual(['r']);
    }
    const fine = await fx.store.pull(a.auth, { scope: a.scope, checkpoint });
    expect(fine.resetRequired).toBeUndefined();
  });

  it('purges tombstones past the retention window and resets clients behind the horizon', async () => {
    const a = user();
    await fx.store.push(
      a.auth,
      request([put(a.scope, 'keep', { v: 1 }), put(a.scope, 'gone', { v: 1 })], a.client),
    );
    const behind = (await fx.store.pull(a.auth, { scope: a.scope, checkpoint: null })).checkpoint;
    await fx.store.push(a.auth, request([del(a.scope, 'gone', 2)], a.client));
    const upToDate = (await fx.store.pull(a.auth, { scope: a.scope, checkpoint: null })).checkpoint;

    const young = await fx.store.purgeTombstones({ olderThanMs: DAY });
    expect(young.scopes).not.toContain(a.scope);
    fx.clock.now += 31 * DAY;
    const purged = await fx.store.purgeTombstones();
    expect(purged.scopes).toContain(a.scope);

    const reset = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: behind });
    expect(reset.resetRequired).toBe(true);
    expect(reset.changes.map((c) => c.id)).toEqual(['keep']);
    const fine = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: upToDate });
    expect(fine).toMatchObject({ changes: [], hasMore: false });
    expect(fine.resetRequired).toBeUndefined();
    // A put that still believes in the purged record conflicts with nothing: no silent create.
    const late = await fx.store.push(
      a.auth,
      request([put(a.scope, 'gone', { v: 2 }, 2)], a.client),
    );
    expect(late.results[0]).toMatchObject({ status: 'conflict', server: null });
  });

  it('a pull that starts over after a purge pages below the horizon without a reset', async () => {
    const a = user();
    await fx.store.push(
      a.auth,
      request(
        [put(a.scope, 'p', { v: 1 }), put(a.scope, 'q', { v: 1 }), put(a.scope, 'x', { v: 1 })],
        a.client,
      ),
    );
    await fx.store.push(a.auth, request([del(a.scope, 'x', 3)], a.client));
    fx.clock.now += 31 * DAY;
    await fx.store.purgeTombstones();
    // Pages of one from the start: both end below the horizon (4), and the second page must
    // not be told to reset again (a reset over more than one page would never end).
    const first = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: null, limit: 1 });
    expect(first).toMatchObject({ hasMore: true });
    const second = await fx.store.pull(a.auth, {
      scope: a.scope,
      checkpoint: first.checkpoint,
      limit: 1,
    });
    expect(second.resetRequired).toBeUndefined();
    expect([...first.changes, ...second.changes].map((c) => c.id)).toEqual(['p', 'q']);
    // The last page's checkpoint covers the purged tail (4), not just its last record (2): a
    // pull from it is quiet, never a reset.
    const quiet = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: second.checkpoint });
    expect(quiet).toEqual({ changes: [], checkpoint: second.checkpoint, hasMore: false });
    // A later purge moves the horizon: that checkpoint must reset now.
    await fx.store.push(a.auth, request([del(a.scope, 'q', 2)], a.client));
    fx.clock.now += 31 * DAY;
    await fx.store.purgeTombstones();
    const again = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: first.checkpoint });
    expect(again.resetRequired).toBe(true);
    expect(again.changes.map((c) => c.id)).toEqual(['p']);
  });

  it('pokes listeners after commit with scope, version and origin client', async () => {
    const a = user();
    const pokes: Poke[] = [];
    const stop = fx.store.onPoke((p) => {
      if (p.scope === a.scope) pokes.push(p);
    });
    await fx.store.push(
      a.auth,
      request([put(a.scope, 'r', { v: 1 }), put(a.scope, 's', { v: 1 })], a.client),
    );
    await expect
      .poll(() => pokes)
      .toEqual([{ scope: a.scope, version: 2, originClientId: a.client }]);
    // A push that changes nothing pokes nobody.
    await fx.store.push(a.auth, request([put(a.scope, 'r', { v: 1 }, 0)], a.client));
    await fx.store.push(a.auth, request([put(a.scope, 't', { v: 1 })], a.client));
    await expect.poll(() => pokes.length).toBe(2);
    expect(pokes[1]?.version).toBe(3);
    stop();
  });

  it('stores SQL metacharacters and odd ids literally', async () => {
    const a = user();
    const ids = [
      "'; DROP TABLE syncline.records; --",
      "' OR '1'='1",
      '$$',
      '\\',
      '/* */',
      '../../etc',
      '\u200b\u202e',
      'pg_sleep(5)',
    ];
    const res = await fx.store.push(
      a.auth,
      request(
        ids.map((id) => put(a.scope, id, { id, q: '\'"$1' })),
        a.client,
      ),
    );
    expect(res.results.map((r) => r.status)).toEqual(ids.map(() => 'applied'));
    const page = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: null });
    expect(page.changes.map((c) => [c.id, c.data])).toEqual(
      ids.map((id) => [id, { id, q: '\'"$1' }]),
    );
  });

  it('keeps constructor and prototype as plain data keys', async () => {
    const a = user();
    const data = { constructor: { prototype: { isAdmin: true } }, prototype: 1 };
    await fx.store.push(a.auth, request([put(a.scope, 'r', data)], a.client));
    await fx.store.push(a.auth, request([patch(a.scope, 'r', { constructor: 'x' }, 1)], a.client));
    const page = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: null });
    expect(page.changes[0]?.data).toEqual({ constructor: 'x', prototype: 1 });
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('serializes 20 concurrent pushes to one scope into versions 1..20', async () => {
    const a = user();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fx.store.push(a.auth, request([put(a.scope, `r${i}`, { i })], a.client)),
      ),
    );
    const versions = answers.map((answer) => revisionOf(answer.results[0])).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('answers health', async () => {
    await expect(fx.store.health()).resolves.toBeUndefined();
  });

  commitSemantics(() => fx);
}
