/**
 * Event streams end when access does (issue 11): a stream opened with a token carries no
 * record data after the token's `exp` and ends with `end {code: 'token_expired'}`; read access
 * to each scope is checked again every `streamAccessCheckMs`, and a revoked membership ends the
 * stream (`forbidden`); a user's open streams are capped. All over HTTP against a real store.
 */
import { afterEach, expect, it } from 'vitest';
import { type DevAuth, devAuth } from '../src/auth/dev-auth.js';
import type { AuthorizeScope } from '../src/auth/types.js';
import { createSyncHandler, type SyncHandlerOptions } from '../src/handler.js';
import type { StreamTimers } from '../src/http/event-stream.js';
import { serve } from '../src/node/serve.js';
import type { SyncStore } from '../src/store/types.js';
import { call, type EventsReader, openEvents, wirePut } from './http-support.js';
import { freshUser } from './support.js';

type Extra = Partial<Omit<SyncHandlerOptions, 'store' | 'authenticate' | 'devAuth'>>;

/** Registers the tests; `store()` is the suite's store (opened in its `beforeAll`). */
export function streamAccessTests(store: () => SyncStore) {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A server on the suite's store with dev auth `dev` (tokens of 3 s by default). */
  const start = async (extra: Extra = {}, dev: DevAuth = devAuth({ tokenTtlSeconds: 3 })) => {
    const handler = createSyncHandler({
      store: store(),
      authenticate: dev.authenticate,
      devAuth: dev,
      ...extra,
    });
    const running = await serve(handler, { port: 0 });
    cleanups.push(async () => {
      handler.closeStreams();
      await running.close();
    });
    const push = async (userId: string, scope: string, recordId: string) => {
      const { token } = await dev.issueToken(userId);
      const answer = await call(`${running.url}/v1/push`, {
        method: 'POST',
        token,
        json: {
          clientId: 'c-push',
          sessionId: 's',
          mutations: [wirePut(scope, recordId, { recordId })],
        },
      });
      expect(answer.status).toBe(200);
    };
    const events = async (token: string, scopes: string[]) => {
      const reader = await openEvents(running.url, token, scopes);
      cleanups.push(() => reader.close());
      return reader;
    };
    return { url: running.url, dev, push, events };
  };

  const expiryOf = (token: string): number =>
    (
      JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as {
        exp: number;
      }
    ).exp * 1000;

  const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('ends a stream when its token expires: pokes with data before, none after, and the end says token_expired', async () => {
    const server = await start();
    const alice = freshUser();
    const scope = `user:${alice}`;
    const { token } = await server.dev.issueToken(alice);
    const expiresAt = expiryOf(token);
    const stream = await server.events(token, [scope]);
    expect(stream.status).toBe(200);
    await server.push(alice, scope, 'a');
    await expect.poll(() => stream.pokes.length).toBe(1);
    await server.push(alice, scope, 'b');
    await expect.poll(() => stream.pokes.length).toBe(2);
    expect(stream.pokes[1]?.changes?.map((r) => r.id)).toEqual(['b']); // record data flowed

    await expect.poll(() => stream.closed, { timeout: 5000 }).toBe(true);
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    expect(stream.ends).toEqual([
      { code: 'token_expired', message: 'the token of this stream has expired' },
    ]);
    await server.push(alice, scope, 'c');
    await settle(300);
    expect(stream.pokes).toHaveLength(2);

    // Inside the verifier's 5 s clock tolerance the token still authenticates, but a stream
    // is refused with the 401 that makes a client fetch a fresh token.
    const again = await server.events(token, [scope]);
    expect(again.status).toBe(401);
  });

  it('sends no poke after expiry even when no timer fires: the token is checked at each poke', async () => {
    // Timers that never fire: only the check at send time can stop the data.
    const frozen: StreamTimers = { setInterval: () => 0, clearInterval: () => undefined };
    const server = await start({ timers: frozen });
    const alice = freshUser();
    const scope = `user:${alice}`;
    const { token } = await server.dev.issueToken(alice);
    const stream = await server.events(token, [scope]);
    await server.push(alice, scope, 'a');
    await expect.poll(() => stream.pokes.length).toBe(1);
    await settle(Math.max(0, expiryOf(token) - Date.now()) + 50);
    await server.push(alice, scope, 'b');
    await expect.poll(() => stream.closed, { timeout: 5000 }).toBe(true);
    expect(stream.pokes).toHaveLength(1);
    expect(stream.ends.map((e) => e.code)).toEqual(['token_expired']);
  });

  it('rechecks scope access on the operator schedule: a revoked membership ends the stream', async () => {
    const members = new Set<string>();
    const workspace = `workspace:${freshUser()}`;
    const authorizeScope: AuthorizeScope = (auth, scope) =>
      scope === `user:${auth.userId}` || (scope === workspace && members.has(auth.userId));
    const server = await start(
      { authorizeScope, streamAccessCheckMs: 200 },
      devAuth({ tokenTtlSeconds: 3600 }),
    );
    const [alice, bob] = [freshUser(), freshUser()];
    members.add(alice).add(bob);
    const { token } = await server.dev.issueToken(alice);
    const stream = await server.events(token, [`user:${alice}`, workspace]);
    expect(stream.status).toBe(200);
    await server.push(bob, workspace, 'w1');
    await expect.poll(() => stream.pokes.length).toBe(1);
    await settle(500); // rechecks that allow keep the stream open
    expect(stream.closed).toBe(false);

    members.delete(alice);
    await expect.poll(() => stream.closed, { timeout: 3000 }).toBe(true);
    expect(stream.ends).toEqual([
      { code: 'forbidden', message: `you may no longer read scope ${workspace}`, scope: workspace },
    ]);
    await server.push(bob, workspace, 'w2');
    await settle(300);
    expect(stream.pokes).toHaveLength(1);
    expect((await server.events(token, [workspace])).status).toBe(403);
  });

  it('keeps a stream whose access is unchanged, and ends it unavailable when the check fails', async () => {
    let failing = false;
    const authorizeScope: AuthorizeScope = (auth, scope) => {
      if (failing) throw new Error('membership service down');
      return scope === `user:${auth.userId}`;
    };
    const errors: string[] = [];
    const server = await start(
      {
        authorizeScope,
        streamAccessCheckMs: 100,
        logger: { error: (message) => errors.push(message), warn: () => undefined },
      },
      devAuth({ tokenTtlSeconds: 3600 }),
    );
    const alice = freshUser();
    const { token } = await server.dev.issueToken(alice);
    const stream = await server.events(token, [`user:${alice}`]);
    await settle(400);
    expect(stream.closed).toBe(false);
    failing = true;
    await expect.poll(() => stream.closed, { timeout: 3000 }).toBe(true);
    expect(stream.ends.map((e) => e.code)).toEqual(['unavailable']);
    expect(errors).toContain('rechecking the access of an event stream failed');
  });

  it('caps the open event streams of one user with a 429 that says so', async () => {
    const server = await start({ limits: { maxStreamsPerUser: 2 } }, devAuth());
    const [alice, bob] = [freshUser(), freshUser()];
    const { token } = await server.dev.issueToken(alice);
    const open: EventsReader[] = [];
    for (let i = 0; i < 2; i++) open.push(await server.events(token, [`user:${alice}`]));
    expect(open.map((s) => s.status)).toEqual([200, 200]);
    const refused = await call(`${server.url}/v1/events?scopes=user:${alice}`, { token });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(refused.body).toEqual({
      error: {
        code: 'too_many_streams',
        message:
          'this user already has 2 open event streams (the limit); close one before opening another',
      },
    });
    const other = await server.events((await server.dev.issueToken(bob)).token, [`user:${bob}`]);
    expect(other.status).toBe(200);
    open[0]?.close();
    await expect
      .poll(async () => {
        const reader = await server.events(token, [`user:${alice}`]);
        return reader.status;
      })
      .toBe(200);
  });
}
