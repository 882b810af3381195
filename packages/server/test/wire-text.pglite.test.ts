/**
 * Records keep their wire JSON (migration 6): a pull page is built from the stored texts, and
 * rows without one (written by a server of the previous release, or by hand) are rendered from
 * their columns, the same shape either way.
 */
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pgliteExecutor } from '../src/store/pglite-store.js';
import { createSqlStore } from '../src/store/sql-store.js';
import type { SyncStore } from '../src/store/types.js';
import { authOf, del, freshUser, patch, put, request, revisionOf } from './support.js';

let db: PGlite;
let store: SyncStore;
beforeAll(async () => {
  db = await PGlite.create();
  store = await createSqlStore(pgliteExecutor(db));
});
afterAll(async () => {
  await store?.close();
});

it('stores the wire text of every pushed record and serves pages from it', async () => {
  const userId = freshUser();
  const scope = `user:${userId}`;
  const auth = authOf(userId);
  const [r1] = (await store.push(auth, request([put(scope, 'a', { n: 1, s: 'é"\\' })]))).results;
  await store.push(auth, request([patch(scope, 'a', { m: 2 }, revisionOf(r1))]));
  await store.push(auth, request([put(scope, 'b', { n: 3 }), del(scope, 'b', 3)]));
  const rows = await db.query<{ id: string; wire: string | null; data: unknown }>(
    'SELECT id, wire, data FROM syncline.records WHERE scope = $1 ORDER BY revision',
    [scope],
  );
  // `b` was put and deleted (on the put's revision) in one push: one row, the tombstone.
  expect(rows.rows.map((r) => [r.id, r.wire === null ? null : JSON.parse(r.wire), r.data])).toEqual(
    [
      [
        'a',
        {
          scope,
          collection: 'todos',
          id: 'a',
          data: { n: 1, s: 'é"\\', m: 2 },
          revision: 2,
          hlc: expect.any(String),
          deleted: false,
        },
        { n: 1, s: 'é"\\', m: 2 },
      ],
      [
        'b',
        {
          scope,
          collection: 'todos',
          id: 'b',
          data: null,
          revision: 4,
          hlc: expect.any(String),
          deleted: true,
        },
        null,
      ],
    ],
  );
  const { text } = await (store.pullText as NonNullable<SyncStore['pullText']>)(auth, {
    scope,
    checkpoint: null,
  });
  expect(text).toContain(rows.rows[0]?.wire);
  expect(JSON.parse(text).changes.map((c: { id: string }) => c.id)).toEqual(['a', 'b']);
});

it('renders rows without a wire text from their columns, and replaces them on the next write', async () => {
  const userId = freshUser();
  const scope = `user:${userId}`;
  const auth = authOf(userId);
  await db.query('INSERT INTO syncline.scopes (scope, version) VALUES ($1, 3)', [scope]);
  await db.query(
    `INSERT INTO syncline.records (scope, collection, id, data, revision, hlc, deleted, deleted_at)
     VALUES ($1, 'todos', 'old', '{"k": [1, {"x": null}]}', 1, '0000000000aa:0000:c', false, NULL),
            ($1, 'todos', 'gone', NULL, 2, '0000000000ab:0000:c', true, 0),
            ($1, 'todos', 'bare', NULL, 3, '0000000000ac:0000:c', false, NULL)`,
    [scope],
  );
  const page = await store.pull(auth, { scope, checkpoint: null, limit: 2 });
  expect(page.changes).toEqual([
    {
      scope,
      collection: 'todos',
      id: 'old',
      data: { k: [1, { x: null }] },
      revision: 1,
      hlc: '0000000000aa:0000:c',
      deleted: false,
    },
    {
      scope,
      collection: 'todos',
      id: 'gone',
      data: null,
      revision: 2,
      hlc: '0000000000ab:0000:c',
      deleted: true,
    },
  ]);
  expect(page.hasMore).toBe(true);
  const rest = await store.pull(auth, { scope, checkpoint: page.checkpoint, limit: 2 });
  // A live row without data reads as an empty object, as before.
  expect(rest.changes.map((c) => [c.id, c.data])).toEqual([['bare', {}]]);
  expect(rest.hasMore).toBe(false);

  const [written] = (await store.push(auth, request([patch(scope, 'old', { y: 1 }, 1)]))).results;
  expect(revisionOf(written)).toBe(4);
  const after = await store.pull(auth, { scope, checkpoint: rest.checkpoint });
  expect(after.changes.map((c) => [c.id, c.revision, c.data])).toEqual([
    ['old', 4, { k: [1, { x: null }], y: 1 }],
  ]);
  const [row] = (
    await db.query<{ wire: string | null }>(
      "SELECT wire FROM syncline.records WHERE scope = $1 AND id = 'old'",
      [scope],
    )
  ).rows;
  expect(row?.wire === null ? null : JSON.parse(row?.wire ?? '')).toMatchObject({ revision: 4 });
});

it('serves a page in revision order when the table holds the rows in another order', async () => {
  // The page's texts are concatenated in the order the index scan reads them, not sorted again
  // (migration 6): rows inserted in reverse, so a scan of the table itself would get it wrong.
  const userId = freshUser();
  const scope = `user:${userId}`;
  const auth = authOf(userId);
  await db.query('INSERT INTO syncline.scopes (scope, version) VALUES ($1, 40)', [scope]);
  await db.query(
    `INSERT INTO syncline.records (scope, collection, id, data, revision, hlc, deleted, wire)
     SELECT $1, 'todos', 'r' || g, jsonb_build_object('g', g), g,
            lpad(to_hex(g), 12, '0') || ':0000:c', false,
            json_build_object('scope', $1::text, 'collection', 'todos', 'id', 'r' || g,
                              'data', json_build_object('g', g), 'revision', g,
                              'hlc', lpad(to_hex(g), 12, '0') || ':0000:c', 'deleted', false)::text
     FROM generate_series(40, 1, -1) AS g`,
    [scope],
  );
  const first = await store.pull(auth, { scope, checkpoint: null, limit: 25 });
  expect(first.changes.map((c) => c.revision)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  const rest = await store.pull(auth, { scope, checkpoint: first.checkpoint, limit: 25 });
  expect(rest.changes.map((c) => c.revision)).toEqual(Array.from({ length: 15 }, (_, i) => i + 26));
  expect(rest.hasMore).toBe(false);
});
