/**
 * SEC-R1, SEC-J1, SEC-J2, SEC-J3, SEC-F3, SEC-F4: who the caller is comes from a verified token
 * and nothing else. Already covered in `../http-security.ts` and referenced, not repeated:
 * missing/forged/tampered/expired/alg:none/wrong aud/wrong iss/RS-signed/no-session/garbage
 * tokens on a pull ("answers 401 to missing, forged, ..."), a `role: service_role` pull
 * ("lets a role claim escalate nothing"), and B replaying A's mutation under A's client id
 * ("gives nothing of A's to B pushing under A's client id"). Key confusion against a JWKS
 * server is in `sec-jwks.ts`.
 */
import {
  createSessionSource,
  createSyncClient,
  isSyncError,
  memoryStorage,
  type SyncClient,
} from '@syncline/sync-core';
import { type JWTPayload, SignJWT } from 'jose';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { restTransport } from '../../../adapter-rest/src/index.js';
import { call, openEvents } from '../http-support.js';
import { freshUser } from '../support.js';
import { resultsOf, SECRET, type SecFixture } from './fixture.js';

const key = new TextEncoder().encode(SECRET);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An HS256 token of the `jwt` server with `claims` on top of valid defaults. */
function hsToken(userId: string, claims: JWTPayload = {}, secret: Uint8Array = key) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ session_id: 'sess-1', ...claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuer((claims.iss as string | undefined) ?? 'test')
    .setAudience((claims.aud as string | undefined) ?? 'syncline')
    .setIssuedAt(claims.iat ?? now)
    .setExpirationTime(claims.exp ?? now + 3600)
    .sign(secret);
}

/** Registers the token and identity describes. */
export function secAuth(fx: () => SecFixture): void {
  describe('SEC-R1 anonymous callers get nothing', () => {
    it('no token: pull, push and events answer 401 and nothing is stored', async () => {
      const f = fx();
      const a = await f.signIn();
      await f.push(a, [f.mutation(a.scope, 'mine', { v: 1 })]);
      const before = await f.fingerprint();
      for (const answer of [
        await call(`${f.dev.url}/v1/pull?scope=${a.scope}`),
        await call(`${f.dev.url}/v1/push`, {
          method: 'POST',
          json: { clientId: 'c', sessionId: 's', mutations: [f.mutation(a.scope, 'anon', {})] },
        }),
        await call(`${f.dev.url}/v1/events?scopes=${a.scope}`),
        await call(`${f.dev.url}/v1/pull?scope=${a.scope}&access_token=${a.token}`),
        await call(`${f.dev.url}/v1/pull?scope=${a.scope}`, {
          headers: { authorization: `Basic ${a.token}` },
        }),
        await call(`${f.dev.url}/v1/pull?scope=${a.scope}`, {
          headers: { cookie: `token=${a.token}` },
        }),
      ]) {
        expect(answer).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
      }
      expect(await f.fingerprint()).toBe(before);
    });
  });

  describe('SEC-J1 forged or invalid tokens answer 401', () => {
    it('not-yet-valid, just-expired, empty-sub, bad-session and other-key tokens; a refused push stores nothing', async () => {
      const f = fx();
      const userId = freshUser();
      const scope = `user:${userId}`;
      const now = Math.floor(Date.now() / 1000);
      const url = `${f.jwt.url}/v1/pull?scope=${scope}`;
      expect((await call(url, { token: await hsToken(userId) })).status).toBe(200);
      const bad = {
        notYetValid: await hsToken(userId, { nbf: now + 3600 }),
        justExpired: await hsToken(userId, { iat: now - 120, exp: now - 30 }),
        emptySub: await hsToken('', {}),
        sessionNotString: await hsToken(userId, { session_id: 42 }),
        spaceInSession: await hsToken(userId, { session_id: 'a b' }),
        algNoneUpper: `${b64({ alg: 'NONE' })}.${b64({ sub: userId, session_id: 's', iss: 'test', aud: 'syncline', exp: now + 60 })}.`,
        hs512WithOtherKey: await new SignJWT({ session_id: 's' })
          .setProtectedHeader({ alg: 'HS512' })
          .setSubject(userId)
          .setIssuer('test')
          .setAudience('syncline')
          .setExpirationTime('1h')
          .sign(new TextEncoder().encode(`${SECRET}-rotated-out-rotated-out-rotated-out`)),
      };
      const before = await f.fingerprint();
      for (const [name, token] of Object.entries(bad)) {
        const answer = await call(url, { token });
        expect({ name, status: answer.status }).toEqual({ name, status: 401 });
        const push = await call(`${f.jwt.url}/v1/push`, {
          method: 'POST',
          token,
          json: { clientId: 'c1', sessionId: 's', mutations: [f.mutation(scope, name, { name })] },
        });
        expect({ name, status: push.status }).toEqual({ name, status: 401 });
        const events = await openEvents(f.jwt.url, token, [scope]);
        events.close();
        expect({ name, status: events.status }).toEqual({ name, status: 401 });
      }
      expect(await f.fingerprint()).toBe(before);
    });
  });

  describe('SEC-J2 role and identity claims escalate nothing', () => {
    it("service_role/postgres/admin claims can neither read, write nor listen to another user's scope", async () => {
      const f = fx();
      const victim = freshUser();
      const victimScope = `user:${victim}`;
      const own = await hsToken(victim);
      const seeded = await call(`${f.jwt.url}/v1/push`, {
        method: 'POST',
        token: own,
        json: {
          clientId: 'v1',
          sessionId: 's',
          mutations: [f.mutation(victimScope, 'pin', { pin: '1234' })],
        },
      });
      expect(resultsOf(seeded)[0]?.status).toBe('applied');
      const before = await f.fingerprint();
      const attacker = freshUser();
      for (const claims of [
        { role: 'service_role' },
        { role: 'postgres' },
        { role: 'supabase_admin', is_admin: true, app_metadata: { role: 'admin' } },
        { user_id: victim, uid: victim, scope: victimScope, scopes: [victimScope] },
        { aud: 'syncline', sid: victim },
      ]) {
        const token = await hsToken(attacker, claims);
        const read = await call(`${f.jwt.url}/v1/pull?scope=${victimScope}`, { token });
        expect({ claims, status: read.status }).toEqual({ claims, status: 403 });
        const write = await call(`${f.jwt.url}/v1/push`, {
          method: 'POST',
          token,
          json: {
            clientId: 'v1',
            sessionId: 's',
            mutations: [f.mutation(victimScope, 'pin', { pin: '0000' }, { baseRevision: 1 })],
          },
        });
        expect(resultsOf(write).map((r) => r.code)).toEqual(['forbidden']);
        const events = await openEvents(f.jwt.url, token, [victimScope]);
        expect(events.status).toBe(403);
      }
      expect(await f.fingerprint()).toBe(before);
      expect((await f.stored(victimScope)).map((r) => r.data)).toEqual([{ pin: '1234' }]);
    });
  });

  describe('SEC-F3 identity comes from the token, never from the body or query', () => {
    it("a body sessionId or a user_id query of B's changes nothing: the mutation is logged under A", async () => {
      const f = fx();
      const a = await f.signIn();
      const b = await f.signIn();
      const m = f.mutation(a.scope, 'r', { v: 1 });
      const answer = await f.push(a, [m], { sessionId: b.sessionId });
      expect(resultsOf(answer).map((r) => r.status)).toEqual(['applied']);
      const [row] = await f.db.query<{ user_id: string }>(
        'SELECT user_id FROM syncline.mutations WHERE id = $1',
        [m.id],
      );
      expect(row?.user_id).toBe(a.userId);
      for (const query of [`user_id=${b.userId}`, `user=${b.userId}`, `sub=${b.userId}`]) {
        const read = await call(`${f.dev.url}/v1/pull?scope=${b.scope}&${query}`, {
          token: a.token,
        });
        expect(read.status).toBe(400);
      }
      // A cannot spoof B by a header either.
      const spoof = await call(`${f.dev.url}/v1/pull?scope=${b.scope}`, {
        token: a.token,
        headers: { 'x-user-id': b.userId, 'x-session-id': b.sessionId },
      });
      expect(spoof.status).toBe(403);
    });
  });

  describe('SEC-F4 a client id of another user grants nothing (ids are not bound to users, by design)', () => {
    it("A pushing with B's clientId and sessionId cannot write B's scope nor read B's stored outcomes", async () => {
      const f = fx();
      const a = await f.signIn();
      const b = await f.signIn();
      const bm = f.mutation(b.scope, 'r', { secret: 'b-only' });
      const bFirst = await f.push(b, [bm], { sessionId: b.sessionId });
      expect(resultsOf(bFirst)[0]).toMatchObject({ status: 'applied', revision: 1 });
      const before = await f.fingerprint();
      const asB = { token: a.token, clientId: b.clientId };
      // B's very mutation, re-sent by A: forbidden, and B's outcome is not echoed.
      const replay = await f.push(asB, [bm], { sessionId: b.sessionId });
      expect(resultsOf(replay)).toEqual([
        expect.objectContaining({ id: bm.id, status: 'rejected', code: 'forbidden' }),
      ]);
      // B's mutation id reused by A for A's own scope: still B's id, still forbidden.
      const hijack = await f.push(asB, [{ ...bm, scope: a.scope, data: { mine: true } }], {
        sessionId: b.sessionId,
      });
      expect(resultsOf(hijack).map((r) => r.code)).toEqual(['forbidden']);
      // A new write into B's scope under B's client id.
      const write = await f.push(asB, [f.mutation(b.scope, 'r', { x: 1 }, { baseRevision: 1 })], {
        sessionId: b.sessionId,
      });
      expect(resultsOf(write).map((r) => r.code)).toEqual(['forbidden']);
      expect(JSON.stringify([replay.body, hijack.body, write.body])).not.toContain('b-only');
      expect(await f.fingerprint()).toBe(before);
      expect(await f.stored(a.scope)).toEqual([]);
      // B's stored outcome is intact: B's own retry still gets it.
      expect(await f.push(b, [bm], { sessionId: b.sessionId })).toMatchObject({
        body: bFirst.body,
      });
    });
  });

  describe('SEC-J3 a refused token is refreshed and no outbox entry is lost', () => {
    const clients: SyncClient[] = [];
    afterAll(async () => {
      await Promise.all(clients.map((c) => c.stop()));
    });

    it('a client whose first token is expired writes through once a fresh token is supplied', async () => {
      const f = fx();
      const userId = freshUser();
      const scope = `user:${userId}`;
      const now = Math.floor(Date.now() / 1000);
      const expired = await hsToken(userId, {
        iat: now - 7200,
        exp: now - 3600,
        session_id: 'old',
      });
      let fresh: string | null = null;
      const asked: boolean[] = [];
      const session = createSessionSource({ userId, sessionId: 'old' });
      const client = createSyncClient({
        transport: restTransport({
          baseUrl: f.jwt.url,
          realtime: false,
          getToken: ({ forceRefresh }) => {
            asked.push(forceRefresh);
            return fresh ?? expired;
          },
          session,
        }),
        storage: memoryStorage(),
        pullIntervalMs: 600_000,
        retry: { baseDelayMs: 10, maxDelayMs: 50 },
      });
      clients.push(client);
      await client.start();
      await client.put('todos', 'a', { n: 1 });
      await client.put('todos', 'b', { n: 2 });
      // The refresh also gave an expired token: an `auth` error, the writes wait in the outbox.
      await vi.waitFor(() => expect(client.status.state).toBe('error'), { timeout: 10_000 });
      expect(client.status.error?.kind).toBe('auth');
      expect(asked).toContain(true);
      expect(client.status.pending).toBe(2);
      expect(await f.stored(scope)).toEqual([]);
      await client.put('todos', 'c', { n: 3 });
      // The identity provider answers again: a new session with a fresh token.
      fresh = await hsToken(userId, { session_id: 'new' });
      session.set({ userId, sessionId: 'new' });
      await vi.waitFor(() => expect(client.status.pending).toBe(0), { timeout: 10_000 });
      expect(client.status.state).not.toBe('error');
      expect((await f.stored(scope)).map((r) => [r.id, r.data])).toEqual([
        ['a', { n: 1 }],
        ['b', { n: 2 }],
        ['c', { n: 3 }],
      ]);
      expect(client.deadLetters()).toEqual([]);
    });

    it('one 401 is answered by one forced refresh and the same request succeeds', async () => {
      const f = fx();
      const userId = freshUser();
      const now = Math.floor(Date.now() / 1000);
      const expired = await hsToken(userId, { iat: now - 7200, exp: now - 3600 });
      const good = await hsToken(userId);
      const asked: boolean[] = [];
      const transport = restTransport({
        baseUrl: f.jwt.url,
        realtime: false,
        getToken: ({ forceRefresh }) => {
          asked.push(forceRefresh);
          return forceRefresh ? good : expired;
        },
      });
      const m = f.mutation(`user:${userId}`, 'x', { ok: true });
      const answer = await transport.push({
        clientId: 'c1',
        sessionId: 's',
        mutations: [m],
      } as never);
      expect(answer.results[0]).toMatchObject({ status: 'applied', revision: 1 });
      expect(asked).toEqual([false, true]);
      const failing = restTransport({
        baseUrl: f.jwt.url,
        realtime: false,
        getToken: () => expired,
      });
      const error = await failing
        .pull({ scope: `user:${userId}`, checkpoint: null })
        .catch((e: unknown) => e);
      expect(isSyncError(error) && [error.kind, error.status]).toEqual(['auth', 401]);
    });
  });
}
