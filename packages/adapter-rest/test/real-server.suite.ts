/**
 * The adapter against the real reference server over loopback: push/pull round trips,
 * conflicts, idempotent retries, a response lost after commit, realtime pokes and catch-up
 * after a reconnect, a real 401 and refresh, and isolation between users. Run on PGlite and on
 * PostgreSQL by the two `real-server.*.test.ts` files.
 */
import {
  createSessionSource,
  createSyncClient,
  isSyncError,
  memoryStorage,
  type Poke,
  type SyncClient,
  type SyncError,
} from '@syncline/sync-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type DevSession, devSignIn, type RestTransport, restTransport } from '../src/index.js';
import { type DroppingProxy, startDroppingProxy } from './support/dropping-proxy.js';
import { pushRequest, putMutation } from './support/fixtures.js';
import { type StoreKind, startServer, type TestServer } from './support/real-server.js';

// Outcomes, not timings: generous so a loaded CI machine does not turn slowness into failure.
const EVENTUALLY = { timeout: 15_000, interval: 20 };

/** Defines the suite for one database. */
export function realServerSuite(kind: () => StoreKind): void {
  let server: TestServer;
  let proxy: DroppingProxy;
  let userCounter = 0;

  beforeAll(async () => {
    server = await startServer(kind());
    proxy = await startDroppingProxy(server.url);
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.close();
  });

  /** A new user (fresh scope) signed in on a new device. */
  async function signIn(userId = `u${Date.now().toString(36)}${userCounter++}`) {
    return devSignIn({ baseUrl: server.url, userId });
  }

  function transportOf(
    session: DevSession,
    options: Partial<Parameters<typeof restTransport>[0]> = {},
  ): RestTransport {
    return restTransport({
      baseUrl: server.url,
      getToken: () => session.token,
      realtime: false,
      ...options,
    });
  }

  async function pullAll(transport: RestTransport, scope: string) {
    const changes = [];
    let checkpoint: string | null = null;
    for (;;) {
      const page = await transport.pull({ scope, checkpoint, limit: 2 });
      changes.push(...page.changes);
      checkpoint = page.checkpoint;
      if (!page.hasMore) return { changes, checkpoint };
    }
  }

  describe('push and pull', () => {
    it('round-trips records, paging by checkpoint', async () => {
      const alice = await signIn();
      const scope = `user:${alice.userId}`;
      const t = transportOf(alice);
      const mutations = ['a', 'b', 'c'].map((id) => putMutation(scope, id, { title: id }));
      const pushed = await t.push(pushRequest(mutations, alice.sessionId));
      expect(pushed.results.map((r) => r.status)).toEqual(['applied', 'applied', 'applied']);
      const revisions = pushed.results.map((r) => (r.status === 'applied' ? r.revision : -1));
      expect(revisions).toEqual([1, 2, 3]);

      const { changes, checkpoint } = await pullAll(t, scope);
      expect(changes.map((c) => [c.id, c.revision, c.data])).toEqual([
        ['a', 1, { title: 'a' }],
        ['b', 2, { title: 'b' }],
        ['c', 3, { title: 'c' }],
      ]);
      const after = await t.pull({ scope, checkpoint });
      expect(after.changes).toEqual([]);
      expect(after.hasMore).toBe(false);
    });

    it('reports a stale write as a conflict carrying the server record', async () => {
      const alice = await signIn();
      const scope = `user:${alice.userId}`;
      const t = transportOf(alice);
      await t.push(pushRequest([putMutation(scope, 'r', { v: 1 })], alice.sessionId));
      const stale = await t.push(pushRequest([putMutation(scope, 'r', { v: 2 })], alice.sessionId));
      expect(stale.results[0]).toMatchObject({
        status: 'conflict',
        server: { id: 'r', revision: 1, data: { v: 1 } },
      });
    });

    it('answers a re-sent batch with the stored outcomes and applies nothing twice', async () => {
      const alice = await signIn();
      const scope = `user:${alice.userId}`;
      const t = transportOf(alice);
      const request = pushRequest(
        [putMutation(scope, 'x', { n: 1 }), putMutation(scope, 'y', { n: 2 })],
        alice.sessionId,
      );
      const first = await t.push(request);
      const again = await t.push(request);
      expect(again).toEqual(first);
      const { changes } = await pullAll(t, scope);
      expect(changes.map((c) => c.revision)).toEqual([1, 2]);
    });
  });

  describe('lost response after commit', () => {
    it('the push fails as a retryable network error, the retry is applied once', async () => {
      const alice = await signIn();
      const scope = `user:${alice.userId}`;
      const viaProxy = restTransport({
        baseUrl: proxy.url,
        getToken: () => alice.token,
        realtime: false,
      });
      const request = pushRequest(
        [putMutation(scope, 'p', { title: 'once' }), putMutation(scope, 'q', { title: 'once' })],
        alice.sessionId,
      );
      proxy.dropNext(1, (method, path) => method === 'POST' && path.startsWith('/v1/push'));

      const lost = await viaProxy.push(request).catch((e: unknown) => e);
      expect(isSyncError(lost) && lost.kind).toBe('network');
      // The server did commit: the proxy read its full 200 answer before dropping it.
      const dropped = proxy.requests.find((r) => r.dropped);
      expect(dropped?.status).toBe(200);

      const retried = await viaProxy.push(request);
      expect(retried).toEqual(JSON.parse(dropped!.body));
      expect(retried.results.map((r) => r.status)).toEqual(['applied', 'applied']);

      // Server state: each record written exactly once, at versions 1 and 2, nothing more.
      const { changes } = await pullAll(transportOf(alice), scope);
      expect(changes.map((c) => [c.id, c.revision])).toEqual([
        ['p', 1],
        ['q', 2],
      ]);
      const probe = await transportOf(alice).push(
        pushRequest([putMutation(scope, 'z', { n: 0 })], alice.sessionId),
      );
      expect(probe.results[0]).toMatchObject({ status: 'applied', revision: 3 });
    });
  });

  describe('auth', () => {
    it('a token the server refuses is refreshed once and the push goes through', async () => {
      const alice = await signIn();
      const scope = `user:${alice.userId}`;
      const calls: boolean[] = [];
      const t = restTransport({
        baseUrl: server.url,
        realtime: false,
        getToken: ({ forceRefresh }) => {
          calls.push(forceRefresh);
          return forceRefresh ? alice.token : 'expired-or-garbage';
        },
      });
      const response = await t.push(
        pushRequest([putMutation(scope, 'a', { n: 1 })], alice.sessionId),
      );
      expect(response.results[0]).toMatchObject({ status: 'applied', revision: 1 });
      expect(calls).toEqual([false, true]);
    });

    it('no valid token at all is an `auth` error', async () => {
      const t = restTransport({ baseUrl: server.url, realtime: false, getToken: () => null });
      await expect(t.pull({ scope: 'user:nobody', checkpoint: null })).rejects.toMatchObject({
        kind: 'auth',
        status: 401,
      });
    });
  });

  describe('isolation between users', () => {
    it("one user can neither read nor write another user's scope, nor hear its pokes", async () => {
      const alice = await signIn();
      const mallory = await signIn();
      const aliceScope = `user:${alice.userId}`;
      const asAlice = transportOf(alice);
      const asMallory = transportOf(mallory, {
        realtime: 'sse',
        reconnect: { baseDelayMs: 50, maxDelayMs: 100 },
      });
      await asAlice.push(
        pushRequest([putMutation(aliceScope, 'secret', { s: 'x' })], alice.sessionId),
      );

      await expect(asMallory.pull({ scope: aliceScope, checkpoint: null })).rejects.toMatchObject({
        kind: 'auth',
        status: 403,
      });
      const write = await asMallory
        .push(pushRequest([putMutation(aliceScope, 'evil', { s: 'y' })], mallory.sessionId))
        .catch((e: unknown) => e);
      if (isSyncError(write)) expect(write.kind).toBe('auth');
      else
        expect((write as { results: Array<{ status: string }> }).results[0]?.status).toBe(
          'rejected',
        );

      const errors: SyncError[] = [];
      const pokes: Poke[] = [];
      const stop = restTransport({
        baseUrl: server.url,
        getToken: () => mallory.token,
        reconnect: { baseDelayMs: 50, maxDelayMs: 100 },
        onRealtimeError: (e) => errors.push(e),
      }).subscribe!({ scopes: [aliceScope], onPoke: (p) => pokes.push(p) });
      await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), EVENTUALLY);
      stop();
      expect(errors[0]).toMatchObject({ kind: 'auth', status: 403 });
      expect(pokes).toEqual([]);

      const { changes } = await pullAll(asAlice, aliceScope);
      expect(changes.map((c) => c.id)).toEqual(['secret']);
    });
  });

  describe('realtime', () => {
    it('a push by one device pokes the other devices of the same user', async () => {
      const phone = await signIn();
      const laptop = await devSignIn({ baseUrl: server.url, userId: phone.userId });
      const scope = `user:${phone.userId}`;
      const pokes: Poke[] = [];
      let connects = 0;
      const stop = transportOf(laptop, { realtime: 'sse' }).subscribe!({
        scopes: [scope],
        onPoke: (p) => pokes.push(p),
        onConnect: () => connects++,
      });
      await vi.waitFor(() => expect(connects).toBe(1), EVENTUALLY);
      await transportOf(phone).push({
        clientId: 'phone-1',
        sessionId: phone.sessionId,
        mutations: [putMutation(scope, 'n', { t: 1 })],
      });
      await vi.waitFor(
        () => expect(pokes).toEqual([{ scope, version: 1, originClientId: 'phone-1' }]),
        EVENTUALLY,
      );
      stop();
    });

    it('after the stream drops, the reconnect hints a catch-up that finds what was missed', async () => {
      const phone = await signIn();
      const laptop = await devSignIn({ baseUrl: server.url, userId: phone.userId });
      const scope = `user:${phone.userId}`;
      const laptopTransport = restTransport({
        baseUrl: proxy.url,
        getToken: () => laptop.token,
        reconnect: { baseDelayMs: 20, maxDelayMs: 50 },
      });
      const catchUps: string[][] = [];
      let checkpoint: string | null = null;
      const pokes: Poke[] = [];
      const stop = laptopTransport.subscribe!({
        scopes: [scope],
        onPoke: (p) => pokes.push(p),
        onConnect: () => {
          // What the client does on connect: pull everything after its checkpoint.
          void laptopTransport.pull({ scope, checkpoint }).then((page) => {
            checkpoint = page.checkpoint;
            catchUps.push(page.changes.map((c) => c.id));
          });
        },
      });
      await vi.waitFor(() => expect(catchUps).toEqual([[]]), EVENTUALLY);

      proxy.refuseStreams(true);
      proxy.killStreams();
      // Written while the laptop's stream is down: its poke reaches nobody.
      await transportOf(phone).push(
        pushRequest([putMutation(scope, 'missed', { t: 1 })], phone.sessionId),
      );
      proxy.refuseStreams(false);

      await vi.waitFor(() => expect(catchUps).toEqual([[], ['missed']]), EVENTUALLY);
      expect(pokes).toEqual([]);
      stop();
    });
  });

  describe('two sync clients of one user', () => {
    const clients: SyncClient[] = [];
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.stop()));
    });

    /** A client on its own device (new session of `userId`), reaching the server at `baseUrl`. */
    async function device(
      userId: string,
      baseUrl = server.url,
      realtime: 'sse' | 'poll' = 'sse',
    ): Promise<SyncClient> {
      const session = await devSignIn({ baseUrl: server.url, userId });
      const transport = restTransport({
        baseUrl,
        getToken: () => session.token,
        session: createSessionSource({ userId, sessionId: session.sessionId }),
        reconnect: { baseDelayMs: 20, maxDelayMs: 50 },
        realtime,
        pollIntervalMs: 50,
      });
      const client = createSyncClient({
        transport,
        storage: memoryStorage(),
        // Long enough that only pokes and reconnect catch-ups can explain a quick sync.
        pullIntervalMs: 600_000,
        retry: { baseDelayMs: 10, maxDelayMs: 50 },
      });
      clients.push(client);
      await client.start();
      return client;
    }

    it('a write on one device appears on the other through an SSE poke', async () => {
      const user = `pair${Date.now().toString(36)}`;
      const phone = await device(user);
      const laptop = await device(user);
      await vi.waitFor(() => expect(laptop.status.state).toBe('synced'), EVENTUALLY);
      await phone.put('todos', 't1', { title: 'buy milk' });
      await vi.waitFor(
        () => expect(laptop.get('todos', 't1')).toEqual({ title: 'buy milk' }),
        EVENTUALLY,
      );
      await laptop.patch('todos', 't1', { done: true });
      await vi.waitFor(
        () => expect(phone.get('todos', 't1')).toEqual({ title: 'buy milk', done: true }),
        EVENTUALLY,
      );
    });

    it('a push whose answer is lost after commit is retried by the client and applied once', async () => {
      const user = `lost${Date.now().toString(36)}`;
      const phone = await device(user, proxy.url);
      await vi.waitFor(() => expect(phone.status.state).toBe('synced'), EVENTUALLY);
      const before = proxy.requests.filter((r) => r.dropped).length;
      proxy.dropNext(1, (method, path) => method === 'POST' && path.startsWith('/v1/push'));
      await phone.put('todos', 'once', { title: 'exactly once' });
      await vi.waitFor(() => {
        expect(phone.status.pending).toBe(0);
        expect(phone.recordStatus('todos', 'once')).toBe('synced');
      }, EVENTUALLY);
      expect(proxy.requests.filter((r) => r.dropped).length).toBe(before + 1);

      const reader = await signIn(user);
      const { changes } = await pullAll(transportOf(reader), `user:${user}`);
      expect(changes.map((c) => [c.id, c.revision, c.data])).toEqual([
        ['once', 1, { title: 'exactly once' }],
      ]);
    });

    it('a device whose stream was down catches up on reconnect, without any poke', async () => {
      const user = `down${Date.now().toString(36)}`;
      const phone = await device(user);
      const laptop = await device(user, proxy.url);
      await vi.waitFor(() => expect(laptop.status.state).toBe('synced'), EVENTUALLY);
      proxy.refuseStreams(true);
      proxy.killStreams();
      await phone.put('todos', 'while-down', { title: 'missed poke' });
      await vi.waitFor(() => expect(phone.status.pending).toBe(0), EVENTUALLY);
      expect(laptop.get('todos', 'while-down')).toBeUndefined();
      proxy.refuseStreams(false);
      await vi.waitFor(
        () => expect(laptop.get('todos', 'while-down')).toEqual({ title: 'missed poke' }),
        EVENTUALLY,
      );
    });

    it("in 'poll' mode a device finds the other's write on its next poll", async () => {
      const user = `poll${Date.now().toString(36)}`;
      const phone = await device(user);
      const laptop = await device(user, server.url, 'poll');
      await phone.put('todos', 'polled', { title: 'no stream needed' });
      await vi.waitFor(
        () => expect(laptop.get('todos', 'polled')).toEqual({ title: 'no stream needed' }),
        EVENTUALLY,
      );
    });
  });

  describe('pokes that carry their changes', () => {
    const clients: SyncClient[] = [];
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.stop()));
    });

    /**
     * A device of `userId` that counts its `GET /v1/pull` requests; `tamper` sees every poke
     * before the client does and may change it, or drop it by returning `undefined`.
     */
    async function countingDevice(userId: string, tamper: (poke: Poke) => Poke | undefined) {
      const session = await devSignIn({ baseUrl: server.url, userId });
      let pulls = 0;
      const transport = restTransport({
        baseUrl: server.url,
        getToken: () => session.token,
        session: createSessionSource({ userId, sessionId: session.sessionId }),
        reconnect: { baseDelayMs: 20, maxDelayMs: 50 },
        fetch: (input, init) => {
          if (new URL(String(input)).pathname === '/v1/pull') pulls++;
          return fetch(input, init);
        },
      });
      const subscribe = transport.subscribe?.bind(transport);
      transport.subscribe = (options) =>
        subscribe?.({
          ...options,
          onPoke: (poke) => {
            const passed = tamper(poke);
            if (passed !== undefined) options.onPoke(passed);
          },
        }) ?? (() => undefined);
      const client = createSyncClient({
        transport,
        storage: memoryStorage(),
        // Only pokes and reconnect catch-ups can explain a sync.
        pullIntervalMs: 600_000,
        retry: { baseDelayMs: 10, maxDelayMs: 50 },
      });
      clients.push(client);
      await client.start();
      await vi.waitFor(() => expect(client.status.state).toBe('synced'), EVENTUALLY);
      return { client, pulls: () => pulls };
    }

    /** Two devices of a fresh user, after a first write that both have seen. */
    async function pair(tamper: (poke: Poke) => Poke | undefined = (poke) => poke) {
      const user = `carry${Date.now().toString(36)}${userCounter++}`;
      const writer = await countingDevice(user, (poke) => poke);
      const reader = await countingDevice(user, tamper);
      // The scope's first poke is plain (the server does not know where its changes start):
      // the reader pulls once here, and its checkpoint is then where the next poke starts.
      await writer.client.put('todos', 'first', { title: 'first' });
      await vi.waitFor(() => expect(reader.client.get('todos', 'first')).toBeDefined(), EVENTUALLY);
      await vi.waitFor(() => expect(writer.client.status.pending).toBe(0), EVENTUALLY);
      return { writer, reader };
    }

    it('a device applies a poke that continues its checkpoint without pulling', async () => {
      const carried: Poke[] = [];
      const { writer, reader } = await pair((poke) => {
        if (poke.changes !== undefined) carried.push(poke);
        return poke;
      });
      const before = reader.pulls();
      for (const id of ['a', 'b', 'c']) {
        await writer.client.put('todos', id, { title: id });
        await vi.waitFor(
          () => expect(reader.client.get('todos', id)).toEqual({ title: id }),
          EVENTUALLY,
        );
      }
      expect(carried.flatMap((poke) => poke.changes?.map((r) => r.id))).toEqual(['a', 'b', 'c']);
      expect(reader.pulls()).toBe(before);
    });

    it('a device that missed a poke pulls: the next one does not continue its checkpoint', async () => {
      let dropNext = false;
      const { writer, reader } = await pair((poke) => {
        if (dropNext && poke.changes !== undefined) {
          dropNext = false;
          return undefined;
        }
        return poke;
      });
      const before = reader.pulls();
      dropNext = true;
      await writer.client.put('todos', 'lost', { title: 'its poke is lost' });
      await vi.waitFor(() => expect(writer.client.status.pending).toBe(0), EVENTUALLY);
      await writer.client.put('todos', 'next', { title: 'after the gap' });
      await vi.waitFor(() => {
        expect(reader.client.get('todos', 'next')).toEqual({ title: 'after the gap' });
        expect(reader.client.get('todos', 'lost')).toEqual({ title: 'its poke is lost' });
      }, EVENTUALLY);
      expect(reader.pulls()).toBeGreaterThan(before);
    });

    it('a poke whose changes do not check out is not applied: the device pulls instead', async () => {
      const { writer, reader } = await pair((poke) =>
        poke.changes === undefined
          ? poke
          : // Records of another scope: a page no server sends for this scope.
            { ...poke, changes: poke.changes.map((r) => ({ ...r, scope: 'user:someone-else' })) },
      );
      const before = reader.pulls();
      await writer.client.put('todos', 'x', { title: 'x' });
      await writer.client.put('todos', 'y', { title: 'y' });
      await vi.waitFor(() => {
        expect(reader.client.get('todos', 'x')).toEqual({ title: 'x' });
        expect(reader.client.get('todos', 'y')).toEqual({ title: 'y' });
      }, EVENTUALLY);
      expect(reader.pulls()).toBeGreaterThan(before);
      expect(reader.client.status.state).not.toBe('error');
    });
  });
}
