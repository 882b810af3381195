/**
 * The transport through unmodified supabase-js against the stand-in project: push and pull
 * round trips, conflicts, stored outcomes, a lost answer after commit, txId groups, sessions
 * from Supabase Auth, authorisation (own scope, shared scope, another user's), and the error
 * classification of real PostgREST answers. Run on PGlite and on PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { isSyncError, type Mutation, type SyncError } from '@syncline/sync-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushRequest, putMutation } from '../../adapter-rest/test/support/fixtures.js';
import { type SupabaseTransport, supabaseTransport } from '../src/index.js';
import { type DatabaseKind, openSupabaseDatabase, SETUP_TIMEOUT_MS } from './support/database.js';
import { freshEmail, signedInClient } from './support/devices.js';
import { type SupabaseStandIn, startSupabaseStandIn } from './support/supabase-standin.js';

/** Defines the suite for one database. */
export function transportSuite(kind: () => DatabaseKind, adminUrl?: () => string | undefined) {
  let project: SupabaseStandIn;
  const transports: SupabaseTransport[] = [];

  beforeAll(async () => {
    const url = adminUrl?.();
    project = await startSupabaseStandIn(
      await openSupabaseDatabase(kind(), url === undefined ? {} : { adminUrl: url }),
    );
  }, SETUP_TIMEOUT_MS);
  afterAll(async () => {
    for (const t of transports) t.stop();
    await project?.close();
    await project?.db.close();
  });

  async function user(email = freshEmail()) {
    const signedIn = await signedInClient(project, email);
    const transport = supabaseTransport({ client: signedIn.supabase, realtime: false });
    transports.push(transport);
    return { ...signedIn, transport, scope: `user:${signedIn.userId}` };
  }

  async function pullAll(transport: SupabaseTransport, scope: string) {
    const changes = [];
    let checkpoint: string | null = null;
    for (;;) {
      const page = await transport.pull({ scope, checkpoint, limit: 2 });
      changes.push(...page.changes);
      checkpoint = page.checkpoint;
      if (!page.hasMore) return { changes, checkpoint };
    }
  }

  const failure = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (e: unknown) => e as SyncError,
    );

  describe('push and pull through client.rpc', () => {
    it('round-trips records, paging by checkpoint', async () => {
      const alice = await user();
      const pushed = await alice.transport.push(
        pushRequest(['a', 'b', 'c'].map((id) => putMutation(alice.scope, id, { title: id }))),
      );
      expect(pushed.results.map((r) => r.status === 'applied' && r.revision)).toEqual([1, 2, 3]);
      const { changes, checkpoint } = await pullAll(alice.transport, alice.scope);
      expect(changes.map((c) => [c.id, c.revision, c.data])).toEqual([
        ['a', 1, { title: 'a' }],
        ['b', 2, { title: 'b' }],
        ['c', 3, { title: 'c' }],
      ]);
      const after = await alice.transport.pull({ scope: alice.scope, checkpoint });
      expect(after).toMatchObject({ changes: [], hasMore: false, checkpoint });
    });

    it('reports a stale write as a conflict carrying the server record', async () => {
      const alice = await user();
      await alice.transport.push(pushRequest([putMutation(alice.scope, 'r', { v: 1 })]));
      const stale = await alice.transport.push(
        pushRequest([putMutation(alice.scope, 'r', { v: 2 })]),
      );
      expect(stale.results[0]).toMatchObject({
        status: 'conflict',
        server: { id: 'r', revision: 1, data: { v: 1 }, deleted: false },
      });
    });

    it('patches merge top-level fields; a delete leaves a tombstone a stale put cannot revive', async () => {
      const alice = await user();
      const t = alice.transport;
      await t.push(pushRequest([putMutation(alice.scope, 'r', { a: 1, b: 1 })]));
      const patch: Mutation = {
        ...putMutation(alice.scope, 'r', {}),
        op: 'patch',
        data: { b: 2, c: 3 },
        baseRevision: 1,
      };
      expect((await t.push(pushRequest([patch]))).results[0]).toMatchObject({ revision: 2 });
      const del: Mutation = { ...putMutation(alice.scope, 'r', {}), op: 'delete', baseRevision: 2 };
      delete del.data;
      expect((await t.push(pushRequest([del]))).results[0]).toMatchObject({ revision: 3 });
      const revive = { ...putMutation(alice.scope, 'r', { a: 9 }), baseRevision: 2 };
      expect((await t.push(pushRequest([revive]))).results[0]).toMatchObject({
        status: 'conflict',
        server: { revision: 3, deleted: true, data: null },
      });
      const { changes } = await pullAll(t, alice.scope);
      expect(changes).toEqual([expect.objectContaining({ id: 'r', deleted: true, data: null })]);
    });

    it('answers a re-sent batch with the stored outcomes and applies nothing twice', async () => {
      const alice = await user();
      const request = pushRequest([
        putMutation(alice.scope, 'x', { n: 1 }),
        putMutation(alice.scope, 'y', { n: 2 }),
      ]);
      const first = await alice.transport.push(request);
      expect(await alice.transport.push(request)).toEqual(first);
      const { changes } = await pullAll(alice.transport, alice.scope);
      expect(changes.map((c) => c.revision)).toEqual([1, 2]);
    });

    it('a push whose answer is lost after commit fails as `network`; the retry is applied once', async () => {
      const alice = await user();
      const request = pushRequest([
        putMutation(alice.scope, 'p', { title: 'once' }),
        putMutation(alice.scope, 'q', { title: 'once' }),
      ]);
      project.dropNextResponses('syncline_push');
      const lost = await failure(alice.transport.push(request));
      expect(isSyncError(lost) && lost.kind).toBe('network');
      const dropped = project.dropped.at(-1);
      expect(dropped?.status).toBe(200);
      const retried = await alice.transport.push(request);
      expect(retried).toEqual(JSON.parse(dropped?.body ?? 'null'));
      const { changes } = await pullAll(alice.transport, alice.scope);
      expect(changes.map((c) => [c.id, c.revision])).toEqual([
        ['p', 1],
        ['q', 2],
      ]);
    });

    it('a txId group applies together, and one conflicting member holds back every member', async () => {
      const alice = await user();
      const t = alice.transport;
      await t.push(pushRequest([putMutation(alice.scope, 'taken', { v: 1 })]));
      const txId = randomUUID();
      const group = [
        { ...putMutation(alice.scope, 'fresh', { v: 1 }), txId },
        { ...putMutation(alice.scope, 'taken', { v: 2 }), txId },
      ];
      const answer = await t.push(pushRequest(group));
      expect(answer.results.map((r) => r.status)).toEqual(['conflict', 'conflict']);
      const bad = { ...putMutation(alice.scope, 'x', { v: 1 }), txId: randomUUID() };
      const invalid = { ...bad, id: randomUUID(), recordId: '', txId: bad.txId };
      const rejected = await t.push(pushRequest([bad, invalid]));
      expect(rejected.results.map((r) => r.status === 'rejected' && r.code)).toEqual([
        'tx_rejected',
        'tx_rejected',
      ]);
      const { changes } = await pullAll(t, alice.scope);
      expect(changes.map((c) => c.id)).toEqual(['taken']);
    });

    it('a malformed push is a permanent `rejected` error (22023 -> 400)', async () => {
      const alice = await user();
      const bad = putMutation(alice.scope, 'x', { v: 1 });
      const error = await failure(alice.transport.push(pushRequest([bad, { ...bad }])));
      expect(error).toMatchObject({ kind: 'rejected', status: 400, code: '22023' });
    });
  });

  describe('authorisation', () => {
    it("one user can neither read nor write another user's scope", async () => {
      const alice = await user();
      const mallory = await user();
      await alice.transport.push(pushRequest([putMutation(alice.scope, 's', { s: 1 })]));
      expect(
        await failure(mallory.transport.pull({ scope: alice.scope, checkpoint: null })),
      ).toMatchObject({ kind: 'auth', status: 403, code: '42501' });
      const write = await mallory.transport.push(
        pushRequest([putMutation(alice.scope, 'evil', { s: 2 })]),
      );
      expect(write.results[0]).toMatchObject({ status: 'rejected', code: 'forbidden' });
      expect((await pullAll(alice.transport, alice.scope)).changes.map((c) => c.id)).toEqual(['s']);
    });

    it('a shared scope is open to the members the app lists, read-only where it says so', async () => {
      const owner = await user();
      const reader = await user();
      const outsider = await user();
      const scope = `workspace:${randomUUID()}`;
      await project.db.admin.query(
        `INSERT INTO syncline.scope_members (scope, user_id, can_write) VALUES ($1, $2, true), ($1, $3, false)`,
        [scope, owner.userId, reader.userId],
      );
      const written = await owner.transport.push(
        pushRequest([putMutation(scope, 'doc', { v: 1 })]),
      );
      expect(written.results[0]).toMatchObject({ status: 'applied' });
      expect((await reader.transport.pull({ scope, checkpoint: null })).changes).toHaveLength(1);
      const readOnly = await reader.transport.push(
        pushRequest([putMutation(scope, 'r', { v: 1 })]),
      );
      expect(readOnly.results[0]).toMatchObject({ status: 'rejected', code: 'forbidden' });
      expect(await failure(outsider.transport.pull({ scope, checkpoint: null }))).toMatchObject({
        kind: 'auth',
      });
    });

    it('signed out (anon key only) is an `auth` error (42501 -> 401)', async () => {
      const anon = supabaseTransport({ client: project.createClient(), realtime: false });
      transports.push(anon);
      expect(await failure(anon.pull({ scope: 'user:x', checkpoint: null }))).toMatchObject({
        kind: 'auth',
        status: 401,
        code: '42501',
      });
    });

    it('a session revoked in auth.sessions stops syncing at once, though its token is unexpired', async () => {
      const alice = await user();
      await project.db.admin.query('DELETE FROM auth.sessions WHERE id = $1', [alice.sessionId]);
      expect(
        await failure(alice.transport.push(pushRequest([putMutation(alice.scope, 'x', { v: 1 })]))),
      ).toMatchObject({ kind: 'auth', code: '42501' });
    });
  });

  describe('sessions from Supabase Auth', () => {
    it('follows SIGNED_IN, TOKEN_REFRESHED and SIGNED_OUT, with session_id as the session id', async () => {
      const supabase = project.createClient();
      const transport = supabaseTransport({ client: supabase, realtime: false });
      transports.push(transport);
      const seen: Array<string | null> = [];
      transport.session.subscribe((s) => seen.push(s === null ? null : s.sessionId));
      const { data } = await supabase.auth.signInWithPassword({
        email: freshEmail(),
        password: 'pw',
      });
      const userId = data.user?.id;
      const [row] = await project.db.admin.query<{ id: string }>(
        'SELECT id FROM auth.sessions WHERE user_id = $1',
        [userId],
      );
      expect(transport.session.current()).toEqual({ userId, sessionId: row?.id });
      const refreshed = await supabase.auth.refreshSession();
      expect(refreshed.error).toBeNull();
      expect(transport.session.current()).toEqual({ userId, sessionId: row?.id });
      await supabase.auth.signOut({ scope: 'local' });
      expect(transport.session.current()).toBeNull();
      expect(seen).toEqual([row?.id, null]);
      const left = await project.db.admin.query('SELECT 1 FROM auth.sessions WHERE id = $1', [
        row?.id,
      ]);
      expect(left).toEqual([]);
    });
  });
}
