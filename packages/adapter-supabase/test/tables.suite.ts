/**
 * The tables mode: sync clients over `supabaseTablesTransport`, through unmodified supabase-js
 * and realtime-js, against the stand-in project with the app's own tables (projects;
 * conversations owning messages) under the app's row-level security, two users. Convergence
 * through Realtime pokes, isolation (B never sees or changes A's rows), a server-side job's
 * plain UPDATE reaching the clients, offline edits, a conflict through a resolver, a delete
 * against an edit (no resurrection), a lost answer, setup mistakes. On PostgreSQL also a late
 * commit: a row written by a transaction that commits after a later one is never skipped.
 */
import { randomUUID } from 'node:crypto';
import type { SupabaseClient } from '@supabase/supabase-js';
import { type ConflictResolver, type JsonObject, serverWins } from '@syncline/sync-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { pushRequest, putMutation } from '../../adapter-rest/test/support/fixtures.js';
import { type SupabaseTablesTransport, supabaseTablesTransport } from '../src/index.js';
import {
  applyTablesApp,
  type DatabaseKind,
  openSupabaseDatabase,
  SETUP_TIMEOUT_MS,
} from './support/database.js';
import {
  type Device,
  freshEmail,
  signedInClient,
  startDevice,
  stopDevices,
} from './support/devices.js';
import { type SupabaseStandIn, startSupabaseStandIn } from './support/supabase-standin.js';

// Outcomes, not timings: generous so a loaded machine does not turn slowness into failure.
const EVENTUALLY = { timeout: 20_000, interval: 20 };
const COLLECTIONS = ['projects', 'conversations', 'messages'];

const tablesOf = (client: SupabaseClient) =>
  supabaseTablesTransport({
    client,
    tables: { projects: {}, conversations: {}, messages: {} },
    onRealtimeError: () => undefined,
    heldRetryMs: 100,
  });

/** Defines the suite for one database. */
export function tablesSuite(kind: () => DatabaseKind, adminUrl?: () => string | undefined) {
  let project: SupabaseStandIn;
  const devices: Device[] = [];
  const transports: SupabaseTablesTransport[] = [];

  beforeAll(async () => {
    const url = adminUrl?.();
    const db = await openSupabaseDatabase(kind(), url === undefined ? {} : { adminUrl: url });
    await applyTablesApp(db.admin);
    project = await startSupabaseStandIn(db);
  }, SETUP_TIMEOUT_MS);
  afterEach(async () => {
    await stopDevices(devices);
    for (const t of transports.splice(0)) t.stop();
  });
  afterAll(async () => {
    await project?.close();
    await project?.db.close();
  });

  const device = (email: string, options: { conflict?: ConflictResolver; online?: boolean } = {}) =>
    startDevice(project, email, devices, {
      ...options,
      transport: tablesOf,
      collections: COLLECTIONS,
    });
  const synced = (d: Device) =>
    vi.waitFor(() => {
      expect(d.client.status.state).toBe('synced');
      expect(d.client.status.pending).toBe(0);
    }, EVENTUALLY);
  /** A bare transport of a new sign-in of `email` (no sync client), realtime off. */
  const bare = async (email: string) => {
    const signedIn = await signedInClient(project, email);
    const transport = supabaseTablesTransport({
      client: signedIn.supabase,
      tables: { projects: {}, messages: {} },
      realtime: false,
    });
    transports.push(transport);
    await vi.waitFor(() => expect(transport.session.current()).not.toBeNull(), EVENTUALLY);
    return { ...signedIn, transport, scope: `user:${signedIn.userId}` };
  };
  const row = async (table: string, id: string) =>
    (
      await project.db.admin.query<JsonObject>(`SELECT * FROM public.${table} WHERE id = $1`, [id])
    )[0];
  /** A server-side job: plain SQL as the service role (no syncline code involved). */
  const asServiceRole = (sql: string, params: unknown[]) =>
    project.db.admin.transaction(async (tx) => {
      await tx.query(`SELECT set_config('role', 'service_role', true)`);
      await tx.query(sql, params);
    });

  it('two devices of one user converge through Realtime pokes, on a table owned through a parent row too', async () => {
    const email = freshEmail('tables-pair');
    const phone = await device(email);
    const laptop = await device(email);
    await synced(laptop);
    const p = randomUUID();
    await phone.client.put('projects', p, { name: 'Launch' });
    await vi.waitFor(
      () => expect(laptop.client.get('projects', p)).toMatchObject({ name: 'Launch' }),
      EVENTUALLY,
    );
    const c = randomUUID();
    const m = randomUUID();
    await laptop.client.put('conversations', c, { title: 'Plans' });
    await laptop.client.put('messages', m, { conversation_id: c, body: 'hello' });
    await vi.waitFor(
      () =>
        expect(phone.client.get('messages', m)).toMatchObject({
          conversation_id: c,
          body: 'hello',
        }),
      EVENTUALLY,
    );
    // The server's columns arrive with the row; the client never sets them.
    expect(laptop.client.get('projects', p)).toMatchObject({ user_id: phone.userId });
    expect(typeof laptop.client.get('projects', p)?.updated_at).toBe('string');
  });

  it('with a custom scopeOf, pokes from the owner channel still reach the other device', async () => {
    const email = freshEmail('tables-scope');
    const custom = (client: SupabaseClient) =>
      supabaseTablesTransport({
        client,
        tables: { projects: {}, conversations: {}, messages: {} },
        onRealtimeError: () => undefined,
        scopeOf: () => 'workspace:mine',
      });
    const start = () =>
      startDevice(project, email, devices, {
        transport: custom,
        collections: COLLECTIONS,
        scopeFor: () => 'workspace:mine',
      });
    const phone = await start();
    const laptop = await start();
    await synced(laptop);
    const p = randomUUID();
    await phone.client.put('projects', p, { name: 'Scoped' });
    // The pull interval is ten minutes: only a poke explains the laptop seeing it.
    await vi.waitFor(
      () => expect(laptop.client.get('projects', p)).toMatchObject({ name: 'Scoped' }),
      EVENTUALLY,
    );
  });

  it("user B never sees user A's rows, and cannot change them", async () => {
    const alice = await device(freshEmail('tables-alice'));
    const bob = await bare(freshEmail('tables-bob'));
    const p = randomUUID();
    const c = randomUUID();
    await alice.client.put('projects', p, { name: 'secret' });
    await alice.client.put('conversations', c, { title: 'private' });
    await alice.client.put('messages', randomUUID(), { conversation_id: c, body: 'private' });
    await synced(alice);

    const page = await bob.transport.pull({ scope: bob.scope, checkpoint: null });
    expect(page.changes).toEqual([]);
    // A pull of another user's scope is refused before any request.
    await expect(
      bob.transport.pull({ scope: `user:${alice.userId}`, checkpoint: null }),
    ).rejects.toMatchObject({ kind: 'auth' });

    const pushed = await bob.transport.push(
      pushRequest([
        { ...putMutation(bob.scope, p, { name: 'taken over' }), collection: 'projects' },
        {
          ...putMutation(bob.scope, randomUUID(), { conversation_id: c, body: 'intruder' }),
          collection: 'messages',
        },
      ]),
    );
    expect(pushed.results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(pushed.results[1]).toMatchObject({ code: 'forbidden' });
    expect(await row('projects', p)).toMatchObject({ name: 'secret', user_id: alice.userId });
    const [count] = await project.db.admin.query<{ n: number | string }>(
      'SELECT count(*) AS n FROM public.messages WHERE conversation_id = $1',
      [c],
    );
    expect(Number(count?.n)).toBe(1);

    // Nor hear about them: A's poke channel refuses B (the helper's realtime.messages policy).
    await bob.supabase.realtime.setAuth();
    const status = await new Promise<string>((resolve) => {
      bob.supabase
        .channel(`syncline:user:${alice.userId}`, { config: { private: true } })
        .subscribe((s) => {
          if (s !== 'SUBSCRIBED' && s !== 'CHANNEL_ERROR') return;
          resolve(s);
        });
    });
    expect(status).toBe('CHANNEL_ERROR');
    expect(project.realtime.joins).toContainEqual({
      topic: `syncline:user:${alice.userId}`,
      ok: false,
    });
  });

  it("a server-side job's plain UPDATE reaches the owner's devices, and only the owner's", async () => {
    const email = freshEmail('tables-job');
    const phone = await device(email);
    const bob = await device(freshEmail('tables-job-bob'));
    const p = randomUUID();
    await phone.client.put('projects', p, { name: 'before the job' });
    await synced(phone);
    await synced(bob);
    const pullsBefore = phone.pulls();
    await asServiceRole(`UPDATE public.projects SET name = 'renamed by the job' WHERE id = $1`, [
      p,
    ]);
    await vi.waitFor(() => {
      expect(phone.client.get('projects', p)).toMatchObject({ name: 'renamed by the job' });
      expect(phone.pulls()).toBeGreaterThan(pullsBefore);
    }, EVENTUALLY);
    expect(bob.client.get('projects', p)).toBeUndefined();
    // The job's write took the server's revision and time, whatever it set itself.
    await asServiceRole(
      `UPDATE public.projects SET revision = 1, updated_at = 'epoch' WHERE id = $1`,
      [p],
    );
    const after = await row('projects', p);
    expect(Number(after?.revision)).toBeGreaterThan(1);
    expect(new Date(String(after?.updated_at)).getFullYear()).toBeGreaterThan(2000);
  });

  it('edits made offline land when the device is back online', async () => {
    const email = freshEmail('tables-offline');
    const phone = await device(email, { online: false });
    const laptop = await device(email);
    const [a, b] = [randomUUID(), randomUUID()];
    await phone.client.put('projects', a, { name: 'written offline' });
    await phone.client.put('projects', b, { name: 'also offline' });
    await phone.client.patch('projects', b, { notes: { pinned: true } });
    await phone.client.delete('projects', a);
    expect(phone.client.status.pending).toBeGreaterThan(0);
    phone.online.set(true);
    await synced(phone);
    await vi.waitFor(() => {
      expect(laptop.client.get('projects', b)).toMatchObject({
        name: 'also offline',
        notes: { pinned: true },
      });
      expect(laptop.client.get('projects', a)).toBeUndefined();
    }, EVENTUALLY);
    // Written and deleted before it was ever pushed: no live row on the server either way.
    const gone = await row('projects', a);
    expect(gone === undefined || gone.deleted_at !== null).toBe(true);
  });

  it("a conflict goes through the collection's resolver, and both devices converge on its answer", async () => {
    const email = freshEmail('tables-conflict');
    // Joins both names: proof that the resolver saw the server's row and the local edit.
    const join: ConflictResolver = ({ server, local }) => ({
      action: 'write',
      data: { ...(server ?? {}), name: `${String(server?.name)} + ${String(local?.name)}` },
    });
    const phone = await device(email, { conflict: join, online: false });
    const laptop = await device(email, { conflict: join });
    const p = randomUUID();
    await laptop.client.put('projects', p, { name: 'draft' });
    phone.online.set(true);
    await vi.waitFor(() => expect(phone.client.get('projects', p)).toBeDefined(), EVENTUALLY);
    phone.online.set(false);
    await phone.client.patch('projects', p, { name: 'phone' });
    await laptop.client.patch('projects', p, { name: 'laptop' });
    await synced(laptop);
    phone.online.set(true);
    await vi.waitFor(() => {
      expect(phone.client.status.pending).toBe(0);
      expect(phone.client.get('projects', p)).toMatchObject({ name: 'laptop + phone' });
      expect(laptop.client.get('projects', p)).toMatchObject({ name: 'laptop + phone' });
    }, EVENTUALLY);
    expect(await row('projects', p)).toMatchObject({ name: 'laptop + phone' });
  });

  it('a delete on one device while the other edits offline: the edit conflicts, nothing is resurrected', async () => {
    const email = freshEmail('tables-delete');
    const phone = await device(email, { conflict: serverWins() });
    const laptop = await device(email, { conflict: serverWins() });
    const p = randomUUID();
    await phone.client.put('projects', p, { name: 'doomed' });
    await vi.waitFor(() => expect(laptop.client.get('projects', p)).toBeDefined(), EVENTUALLY);
    laptop.online.set(false);
    await phone.client.delete('projects', p);
    await synced(phone);
    await laptop.client.patch('projects', p, { name: 'edited while deleted' });
    laptop.online.set(true);
    await vi.waitFor(() => {
      expect(laptop.client.status.pending).toBe(0);
      expect(laptop.client.get('projects', p)).toBeUndefined();
    }, EVENTUALLY);
    expect(phone.client.get('projects', p)).toBeUndefined();
    expect(await row('projects', p)).toMatchObject({ name: 'doomed' });
    expect((await row('projects', p))?.deleted_at).not.toBeNull();
  });

  it('a push whose answer is lost after commit is retried and applied once, with no conflict', async () => {
    const phone = await device(freshEmail('tables-lost'), {
      conflict: () => ({ action: 'manual' }),
    });
    await synced(phone);
    const before = project.dropped.length;
    project.dropNextResponses('syncline_tables_push');
    const p = randomUUID();
    await phone.client.put('projects', p, { name: 'exactly once' });
    await vi.waitFor(() => {
      expect(project.dropped.length).toBe(before + 1);
      expect(phone.client.recordStatus('projects', p)).toBe('synced');
    }, EVENTUALLY);
    expect(phone.client.conflicts()).toEqual([]);
    expect(phone.client.deadLetters()).toEqual([]);
  });

  it('setup mistakes: a table without the helper fails the push as a retryable server error; an unknown column is rejected; a foreign checkpoint resets; bad options throw', async () => {
    const alice = await bare(freshEmail('tables-missing'));
    const transport = supabaseTablesTransport({
      client: alice.supabase,
      tables: { notes: { table: 'public.no_such_table' } },
      realtime: false,
    });
    transports.push(transport);
    await vi.waitFor(() => expect(transport.session.current()).not.toBeNull(), EVENTUALLY);
    const error = await transport
      .push(pushRequest([{ ...putMutation(alice.scope, 'n1', { a: 1 }), collection: 'notes' }]))
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ kind: 'server' });
    expect(String((error as Error).message)).toMatch(/not synced/);
    // An unknown column is the write's own fault: rejected, not retried forever.
    const pushed = await alice.transport.push(
      pushRequest([
        { ...putMutation(alice.scope, randomUUID(), { nme: 'typo' }), collection: 'projects' },
      ]),
    );
    expect(pushed.results[0]).toMatchObject({ status: 'rejected', code: 'invalid' });
    // A checkpoint that is not this transport's (another transport's, another set of tables).
    expect(
      await alice.transport.pull({
        scope: alice.scope,
        checkpoint: '{"v":1,"tables":{"x":[1,""]}}',
      }),
    ).toMatchObject({ changes: [], resetRequired: true });
    expect(() => supabaseTablesTransport({ client: alice.supabase, tables: {} })).toThrow(
      /at least one entry/,
    );
    expect(() =>
      supabaseTablesTransport({ client: alice.supabase, tables: { x: { table: 'a;drop' } } }),
    ).toThrow(/plain/);
  });

  describe.runIf(kind() === 'postgres')('a late commit', () => {
    it('rows held back behind a running transaction reach the device once it ends, without another poke', async () => {
      const email = freshEmail('tables-held');
      const phone = await device(email);
      const laptop = await device(email);
      const other = await device(freshEmail('tables-held-other'));
      const theirs = randomUUID();
      await other.client.put('projects', theirs, { name: 'unrelated' });
      await synced(other);
      await synced(laptop);
      const p = randomUUID();
      await project.db.admin.transaction(async (tx) => {
        // A job's transaction on another user's row: it takes an id, then stays open.
        await tx.query(`UPDATE public.projects SET name = 'job' WHERE id = $1`, [theirs]);
        await phone.client.put('projects', p, { name: 'behind the job' });
        await synced(phone);
        const pulls = laptop.pulls();
        // The poke made the laptop pull; the row was held back, so it pulls again after
        // heldRetryMs while the job still runs.
        await vi.waitFor(() => expect(laptop.pulls()).toBeGreaterThan(pulls + 1), EVENTUALLY);
        expect(laptop.client.get('projects', p)).toBeUndefined();
      });
      // The job commits: no poke reaches this user, yet the held row arrives.
      await vi.waitFor(
        () => expect(laptop.client.get('projects', p)).toMatchObject({ name: 'behind the job' }),
        EVENTUALLY,
      );
    });

    it('a row written by a transaction that commits after a later one is pulled, never skipped', async () => {
      const alice = await bare(freshEmail('tables-late'));
      const early = randomUUID();
      const later = randomUUID();
      const first = await alice.transport.push(
        pushRequest([
          { ...putMutation(alice.scope, early, { name: 'v1' }), collection: 'projects' },
        ]),
      );
      expect(first.results[0]?.status).toBe('applied');
      const start = await alice.transport.pull({ scope: alice.scope, checkpoint: null });
      expect(start.changes.map((c) => c.id)).toEqual([early]);

      let resumed: { changes: Array<{ id: string; data: JsonObject | null }>; checkpoint: string };
      await project.db.admin.transaction(async (tx) => {
        // Takes its transaction id (and so its revision) first, and commits last.
        await tx.query(`UPDATE public.projects SET name = 'late' WHERE id = $1`, [early]);
        const pushed = await alice.transport.push(
          pushRequest([
            {
              ...putMutation(alice.scope, later, { name: 'committed first' }),
              collection: 'projects',
            },
          ]),
        );
        expect(pushed.results[0]?.status).toBe('applied');
        // The later row is committed, but held back while the earlier transaction runs.
        const during = await alice.transport.pull({
          scope: alice.scope,
          checkpoint: start.checkpoint,
        });
        expect(during.changes).toEqual([]);
        resumed = during;
      });
      // Pulled on from where the pull during the transaction stopped: both rows arrive (other
      // transactions of the shared server may hold them back a little longer).
      const arrived = new Map<string, unknown>();
      let checkpoint = resumed!.checkpoint;
      await vi.waitFor(async () => {
        const page = await alice.transport.pull({ scope: alice.scope, checkpoint });
        checkpoint = page.checkpoint;
        for (const c of page.changes) arrived.set(c.id, c.data?.name);
        expect(Object.fromEntries(arrived)).toEqual({
          [early]: 'late',
          [later]: 'committed first',
        });
      }, EVENTUALLY);
    });
  });
}
