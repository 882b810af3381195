/**
 * Sync clients over `supabaseTransport`, through unmodified supabase-js and realtime-js, against
 * the stand-in project: the scenarios of the REST adapter's real-server suite (two devices
 * converge through pokes, a lost answer after commit is applied once, a dropped connection
 * catches up) plus offline edits landing and each conflict resolver, and Realtime's private
 * channel authorisation. Run on PGlite and on PostgreSQL.
 */
import {
  type ConflictResolver,
  clientWins,
  fieldMerge,
  type JsonObject,
  lww,
  manual,
  type SyncError,
  serverWins,
} from '@syncline/sync-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { supabaseTransport } from '../src/index.js';
import { type DatabaseKind, openSupabaseDatabase, SETUP_TIMEOUT_MS } from './support/database.js';
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

/** Defines the suite for one database. */
export function behaviourSuite(kind: () => DatabaseKind, adminUrl?: () => string | undefined) {
  let project: SupabaseStandIn;
  const devices: Device[] = [];

  beforeAll(async () => {
    const url = adminUrl?.();
    project = await startSupabaseStandIn(
      await openSupabaseDatabase(kind(), url === undefined ? {} : { adminUrl: url }),
    );
  }, SETUP_TIMEOUT_MS);
  afterEach(async () => {
    project.realtime.refuseConnections(false);
    await stopDevices(devices);
  });
  afterAll(async () => {
    await project?.close();
    await project?.db.close();
  });

  const device = (email: string, options: Parameters<typeof startDevice>[3] = {}) =>
    startDevice(project, email, devices, options);
  const synced = (d: Device) =>
    vi.waitFor(() => {
      expect(d.client.status.state).toBe('synced');
      expect(d.client.status.pending).toBe(0);
    }, EVENTUALLY);

  describe('two devices of one user', () => {
    it('a write on one device reaches the other through a Realtime poke, and back', async () => {
      const email = freshEmail('pair');
      const phone = await device(email);
      const laptop = await device(email);
      await synced(laptop);
      await phone.client.put('todos', 't1', { title: 'buy milk' });
      await vi.waitFor(
        () => expect(laptop.client.get('todos', 't1')).toEqual({ title: 'buy milk' }),
        EVENTUALLY,
      );
      await laptop.client.patch('todos', 't1', { done: true });
      await vi.waitFor(
        () => expect(phone.client.get('todos', 't1')).toEqual({ title: 'buy milk', done: true }),
        EVENTUALLY,
      );
    });

    it('a poke that carries its page is applied without a pull', async () => {
      const email = freshEmail('page');
      const phone = await device(email);
      const laptop = await device(email);
      await synced(phone);
      await synced(laptop);
      // Both have joined their channel, and the catch-up pull of the join is done.
      await vi.waitFor(() => expect(project.realtime.connections).toBeGreaterThan(1), EVENTUALLY);
      await new Promise((resolve) => setTimeout(resolve, 500));
      await synced(laptop);
      const pullsBefore = laptop.pulls();
      await phone.client.put('todos', 'paged', { title: 'in the poke' });
      await vi.waitFor(
        () => expect(laptop.client.get('todos', 'paged')).toEqual({ title: 'in the poke' }),
        EVENTUALLY,
      );
      expect(laptop.pulls()).toBe(pullsBefore);
    });

    it('works with realtime-js speaking the 1.0.0 protocol too', async () => {
      const email = freshEmail('vsn1');
      const phone = await device(email, { vsn: '1.0.0' });
      const laptop = await device(email, { vsn: '1.0.0' });
      await synced(laptop);
      await phone.client.put('todos', 'v1', { title: 'old protocol' });
      await vi.waitFor(
        () => expect(laptop.client.get('todos', 'v1')).toEqual({ title: 'old protocol' }),
        EVENTUALLY,
      );
    });

    it('edits made offline land when the device is back online', async () => {
      const email = freshEmail('offline');
      const phone = await device(email, { online: false });
      const laptop = await device(email);
      await phone.client.put('todos', 'a', { title: 'written offline' });
      await phone.client.put('todos', 'b', { title: 'also offline' });
      await phone.client.delete('todos', 'a');
      expect(phone.client.status.pending).toBeGreaterThan(0);
      phone.online.set(true);
      await synced(phone);
      await vi.waitFor(() => {
        expect(laptop.client.get('todos', 'b')).toEqual({ title: 'also offline' });
        expect(laptop.client.get('todos', 'a')).toBeUndefined();
      }, EVENTUALLY);
    });

    it('a push whose answer is lost after commit is retried by the client and applied once', async () => {
      const email = freshEmail('lost');
      const phone = await device(email);
      await synced(phone);
      const before = project.dropped.length;
      project.dropNextResponses('syncline_push');
      await phone.client.put('todos', 'once', { title: 'exactly once' });
      await vi.waitFor(() => {
        expect(project.dropped.length).toBe(before + 1);
        expect(phone.client.recordStatus('todos', 'once')).toBe('synced');
      }, EVENTUALLY);
      const [row] = await project.db.admin.query<{ revision: string | number; n: string | number }>(
        `SELECT max(revision) AS revision, count(*) AS n FROM syncline.records WHERE scope = $1`,
        [`user:${phone.userId}`],
      );
      expect([Number(row?.revision), Number(row?.n)]).toEqual([1, 1]);
    });

    it('a device whose connection dropped reconnects, resubscribes and catches up', async () => {
      const email = freshEmail('drop');
      const phone = await device(email, { vsn: '2.0.0' });
      const laptop = await device(email);
      await synced(laptop);
      await vi.waitFor(() => expect(project.realtime.connections).toBeGreaterThan(0), EVENTUALLY);
      const pullsBefore = laptop.pulls();
      project.realtime.refuseConnections(true);
      project.realtime.dropConnections();
      await phone.client.put('todos', 'while-down', { title: 'missed poke' });
      await synced(phone);
      expect(laptop.client.get('todos', 'while-down')).toBeUndefined();
      project.realtime.refuseConnections(false);
      await vi.waitFor(
        () => expect(laptop.client.get('todos', 'while-down')).toEqual({ title: 'missed poke' }),
        EVENTUALLY,
      );
      expect(laptop.pulls()).toBeGreaterThan(pullsBefore);
    });
  });

  describe('conflict resolvers', () => {
    /**
     * Both devices hold r = {title: 'base'}; offline, the laptop edits first and the phone
     * second; the phone pushes first, so the laptop's push conflicts and its resolver decides.
     */
    async function race(conflict: ConflictResolver, phoneEdit: JsonObject, laptopEdit: JsonObject) {
      const email = freshEmail('race');
      const phone = await device(email);
      const laptop = await device(email, { conflict });
      await phone.client.put('todos', 'r', { title: 'base' });
      await vi.waitFor(() => expect(laptop.client.get('todos', 'r')).toBeDefined(), EVENTUALLY);
      await synced(phone);
      phone.online.set(false);
      laptop.online.set(false);
      await laptop.client.patch('todos', 'r', laptopEdit);
      await new Promise((resolve) => setTimeout(resolve, 5));
      await phone.client.patch('todos', 'r', phoneEdit);
      phone.online.set(true);
      await synced(phone);
      laptop.online.set(true);
      return { phone, laptop };
    }

    const settled = async (a: Device, b: Device, expected: object) => {
      await vi.waitFor(() => {
        expect(a.client.get('todos', 'r')).toEqual(expected);
        expect(b.client.get('todos', 'r')).toEqual(expected);
        expect(a.client.status.pending + b.client.status.pending).toBe(0);
      }, EVENTUALLY);
    };

    it('serverWins keeps the committed edit', async () => {
      const { phone, laptop } = await race(serverWins(), { title: 'phone' }, { title: 'laptop' });
      await settled(phone, laptop, { title: 'phone' });
    });

    it('clientWins re-sends the local edit on top', async () => {
      const { phone, laptop } = await race(clientWins(), { title: 'phone' }, { title: 'laptop' });
      await settled(phone, laptop, { title: 'laptop' });
    });

    it('lww keeps the later write (by HLC), here the committed one', async () => {
      const { phone, laptop } = await race(lww(), { title: 'phone' }, { title: 'laptop' });
      await settled(phone, laptop, { title: 'phone' });
    });

    it('fieldMerge keeps both edits to different fields', async () => {
      const { phone, laptop } = await race(fieldMerge(), { title: 'phone' }, { done: true });
      await settled(phone, laptop, { title: 'phone', done: true });
    });

    it('manual parks the conflict for the app and goes on', async () => {
      const { laptop } = await race(manual(), { title: 'phone' }, { title: 'laptop' });
      await vi.waitFor(() => expect(laptop.client.conflicts()).toHaveLength(1), EVENTUALLY);
      expect(laptop.client.conflicts()[0]).toMatchObject({
        recordId: 'r',
        server: { data: { title: 'phone' } },
      });
    });
  });

  describe('Realtime private channels', () => {
    it('joins with the session token even when subscribing while the session is still being set', async () => {
      const { supabase, userId } = await signedInClient(project, freshEmail('restore'));
      const { data } = await supabase.auth.getSession();
      const restored = project.createClient();
      // A session restored at start-up: Realtime has no token yet when the app subscribes.
      void restored.auth.setSession({
        access_token: data.session?.access_token as string,
        refresh_token: data.session?.refresh_token as string,
      });
      const errors: Error[] = [];
      let connected = 0;
      const transport = supabaseTransport({
        client: restored,
        onRealtimeError: (e) => errors.push(e),
      });
      const stop = transport.subscribe?.({
        scopes: [`user:${userId}`],
        onPoke: () => undefined,
        onConnect: () => {
          connected++;
        },
      });
      await vi.waitFor(() => expect(connected).toBe(1), EVENTUALLY);
      expect(errors).toEqual([]);
      stop?.();
      transport.stop();
    });

    it("a user cannot join another user's channel; its own joins carry the token", async () => {
      const alice = await signedInClient(project, freshEmail('alice'));
      const mallory = await signedInClient(project, freshEmail('mallory'));
      const errors: Error[] = [];
      const pokes: unknown[] = [];
      const spy = supabaseTransport({
        client: mallory.supabase,
        onRealtimeError: (e) => errors.push(e),
      });
      const stop = spy.subscribe?.({
        scopes: [`user:${alice.userId}`],
        onPoke: (p) => pokes.push(p),
      });
      await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), EVENTUALLY);
      expect((errors[0] as SyncError).kind).toBe('auth');
      expect(project.realtime.joins).toContainEqual({
        topic: `syncline:user:${alice.userId}`,
        ok: false,
      });

      let connected = 0;
      const own = supabaseTransport({ client: alice.supabase });
      const stopOwn = own.subscribe?.({
        scopes: [`user:${alice.userId}`],
        onPoke: (p) => pokes.push(p),
        onConnect: () => {
          connected++;
        },
      });
      await vi.waitFor(() => expect(connected).toBe(1), EVENTUALLY);
      await own.push({
        clientId: 'alice-phone',
        sessionId: alice.sessionId,
        mutations: [
          {
            id: crypto.randomUUID(),
            scope: `user:${alice.userId}`,
            collection: 'todos',
            recordId: 'x',
            op: 'put',
            data: { s: 1 },
            baseRevision: 0,
            hlc: '000000000001:0000:alice',
          },
        ],
      });
      await vi.waitFor(() => expect(pokes).toHaveLength(1), EVENTUALLY);
      // The poke carries its page: what a pull from version 0 would read.
      expect(pokes[0]).toMatchObject({
        scope: `user:${alice.userId}`,
        version: 1,
        originClientId: 'alice-phone',
        fromCheckpoint: expect.stringMatching(/^c1\.[0-9a-f]+\.0$/),
        checkpoint: expect.stringMatching(/^c1\.[0-9a-f]+\.1$/),
        changes: [{ collection: 'todos', id: 'x', data: { s: 1 }, revision: 1, deleted: false }],
      });
      stop?.();
      stopOwn?.();
      spy.stop();
      own.stop();
    });
  });
}
