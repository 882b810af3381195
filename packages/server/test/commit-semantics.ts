/**
 * What a store tells `onCommit` (the pushes of this process as they commit, DESIGN §4): run by
 * {@link storeSemantics} on its store, against every store.
 */

import { expect, it } from 'vitest';
import type { CommittedChanges } from '../src/store/types.js';
import type { StoreFixture } from './store-semantics.js';
import { authOf, del, freshUser, put, request } from './support.js';

/** Registers the `onCommit` tests on the store `fixture()` returns (opened in a `beforeAll`). */
export function commitSemantics(fixture: () => StoreFixture): void {
  it("tells onCommit each push's changes: exactly a pull from its fromCheckpoint", async () => {
    const { store } = fixture();
    if (store.onCommit === undefined) throw new Error('the store has no onCommit');
    const userId = freshUser();
    const scope = `user:${userId}`;
    const auth = authOf(userId);
    const commits: CommittedChanges[] = [];
    const stop = store.onCommit((commit) => {
      if (commit.scope === scope) commits.push(commit);
    });
    // Right after each push, what it told onCommit is what a pull from fromCheckpoint returns.
    const pushThenCompare = async (...args: Parameters<typeof store.push>) => {
      await store.push(...args);
      const commit = commits.at(-1);
      if (commit === undefined) throw new Error('no commit told');
      const page = await store.pull(auth, { scope, checkpoint: commit.fromCheckpoint });
      expect(page.changes).toEqual(commit.changes);
      expect(page.checkpoint).toBe(commit.checkpoint);
    };
    try {
      await pushThenCompare(
        auth,
        request([put(scope, 'a', { v: 1 }), put(scope, 'b', { v: 1 })], 'c1'),
      );
      // `c` is written twice: its final write (5) comes after `a`'s (4) in version order.
      await pushThenCompare(
        auth,
        request(
          [
            put(scope, 'c', { v: 1 }),
            put(scope, 'a', { v: 2 }, 1),
            put(scope, 'c', { v: 2 }, 3),
            del(scope, 'b', 2),
          ],
          'c2',
        ),
      );
      // A conflict changes nothing: no commit.
      await store.push(auth, request([put(scope, 'a', { v: 3 }, 1)], 'c3'));
      expect(commits.map((c) => [c.from, c.version, c.originClientId, c.hasMore])).toEqual([
        [0, 2, 'c1', false],
        [2, 6, 'c2', false],
      ]);
      expect(commits[1]?.changes.map((r) => [r.id, r.revision, r.deleted])).toEqual([
        ['a', 4, false],
        ['c', 5, false],
        ['b', 6, true],
      ]);
    } finally {
      stop();
    }
  });
}
