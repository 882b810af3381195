/**
 * The mutation-id log's retention window, run against every store with an injected clock:
 * outcomes younger than the window answer a re-send, older ones are purged, and a re-send that
 * arrives after the purge is recognised by its `hlc` (DESIGN §3.2) while its record still
 * carries it: `applied`, nothing changes.
 */
import { SyncError } from '@syncline/sync-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { StoreFixture } from './store-semantics.js';
import { authOf, del, freshUser, put, request } from './support.js';

const DAY = 24 * 60 * 60 * 1000;

/** Registers the retention tests; `open` gives a store whose window is the default (7 days). */
export function retentionSemantics(open: () => Promise<StoreFixture>): void {
  let fx: StoreFixture;
  beforeAll(async () => {
    fx = await open();
  });
  afterAll(async () => {
    await fx?.close();
  });
  const user = () => {
    const userId = freshUser();
    return { scope: `user:${userId}`, auth: authOf(userId), client: `c-${userId}` };
  };

  it('keeps outcomes younger than the window and purges older ones', async () => {
    const a = user();
    const old = put(a.scope, 'a', { v: 1 });
    await fx.store.push(a.auth, request([old], a.client));
    fx.clock.now += 8 * DAY;
    const young = put(a.scope, 'b', { v: 1 });
    await fx.store.push(a.auth, request([young], a.client));
    // Both records move on, so only a stored outcome can still answer `applied`.
    await fx.store.push(
      a.auth,
      request([put(a.scope, 'a', { v: 2 }, 1), put(a.scope, 'b', { v: 2 }, 2)], a.client),
    );

    const { purged } = await fx.store.purgeMutations();
    expect(purged).toBeGreaterThanOrEqual(1);
    const again = await fx.store.push(a.auth, request([old, young], a.client));
    expect(again.results[0]).toMatchObject({ id: old.id, status: 'conflict' });
    expect(again.results[0]).toHaveProperty('server.revision', 3);
    expect(again.results[1]).toEqual({ id: young.id, status: 'applied', revision: 2 });
    expect((await fx.store.purgeMutations()).purged).toBe(0);
  });

  it('recognises a retry that arrives after the purge by its hlc: applied, nothing changes', async () => {
    const a = user();
    const written = put(a.scope, 'r', { title: 'first' });
    const removed = del(a.scope, 'gone', 1);
    await fx.store.push(a.auth, request([put(a.scope, 'gone', { x: 1 })], a.client));
    const first = await fx.store.push(a.auth, request([written, removed], a.client));
    expect(first.results.map((r) => r.status)).toEqual(['applied', 'applied']);
    const before = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: null });

    fx.clock.now += 8 * DAY;
    expect((await fx.store.purgeMutations()).purged).toBeGreaterThanOrEqual(3);
    // The answer was lost; the client re-sends the same batch a week later.
    const retry = await fx.store.push(a.auth, request([written, removed], a.client));
    expect(retry.results).toEqual(first.results);
    const after = await fx.store.pull(a.auth, { scope: a.scope, checkpoint: before.checkpoint });
    expect(after.changes).toEqual([]);
    expect(after.checkpoint).toBe(before.checkpoint);
    // Its outcome is stored again: another user re-sending the id is refused.
    const other = user();
    const stolen = await fx.store.push(other.auth, request([{ ...written, scope: other.scope }]));
    expect(stolen.results[0]).toMatchObject({ status: 'rejected', code: 'forbidden' });
  });

  it('recognises a txId group only when every member is still its record', async () => {
    const a = user();
    const tx = { txId: `tx-${a.client}` };
    const group = [put(a.scope, 'x', { n: 1 }, 0, tx), put(a.scope, 'y', { n: 1 }, 0, tx)];
    const first = await fx.store.push(a.auth, request(group, a.client));
    expect(first.results.map((r) => r.status)).toEqual(['applied', 'applied']);
    fx.clock.now += 8 * DAY;
    await fx.store.purgeMutations();
    expect((await fx.store.push(a.auth, request(group, a.client))).results).toEqual(first.results);

    const b = user();
    const txb = { txId: `tx-${b.client}` };
    const moved = [put(b.scope, 'x', { n: 1 }, 0, txb), put(b.scope, 'y', { n: 1 }, 0, txb)];
    await fx.store.push(b.auth, request(moved, b.client));
    await fx.store.push(b.auth, request([put(b.scope, 'y', { n: 2 }, 2)], b.client));
    fx.clock.now += 8 * DAY;
    await fx.store.purgeMutations();
    const judged = await fx.store.push(b.auth, request(moved, b.client));
    expect(judged.results.map((r) => r.status)).toEqual(['conflict', 'conflict']);
    const page = await fx.store.pull(b.auth, { scope: b.scope, checkpoint: null });
    expect(page.changes.map((r) => [r.id, r.revision])).toEqual([
      ['x', 1],
      ['y', 3],
    ]);
  });

  it('takes a window from the options and purges with an explicit age', async () => {
    const a = user();
    await fx.store.purgeMutations({ olderThanMs: 0 });
    await fx.store.push(a.auth, request([put(a.scope, 'k', { v: 1 })], a.client));
    fx.clock.now += 2 * DAY;
    expect((await fx.store.purgeMutations()).purged).toBe(0);
    expect((await fx.store.purgeMutations({ olderThanMs: DAY })).purged).toBe(1);
  });
}

/** Checks that a store factory refuses a bad retention option with a typed error. */
export async function expectBadRetentionRefused(
  open: (options: { mutationRetentionMs: number }) => Promise<unknown>,
): Promise<void> {
  const error = await open({ mutationRetentionMs: -1 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SyncError);
  expect(error).toMatchObject({ kind: 'invalid', code: 'bad_option' });
}
