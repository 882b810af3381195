/**
 * The HTTP contract and its security, against a real server over loopback. Every "must
 * reject" test reads back afterwards to prove that nothing changed.
 */
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { jwtAuth } from '../src/auth/jwt-auth.js';
import { createSyncHandler } from '../src/handler.js';
import type { Logger } from '../src/http/problem.js';
import { type RunningServer, serve } from '../src/node/serve.js';
import { type StartedServer, startServer } from '../src/node/start-server.js';
import type { SyncStore } from '../src/store/types.js';
import { call, devToken, hlcNow, openEvents, wirePut } from './http-support.js';
import { freshUser } from './support.js';

const SECRET = 'test-secret-of-at-least-32-bytes-long!!';

/** Registers the HTTP tests; call inside a `describe`. */
export function httpSecurity(
  open: () => Promise<{ store: SyncStore; close(): Promise<void> }>,
): void {
  let fixture: { store: SyncStore; close(): Promise<void> };
  let server: StartedServer;
  let jwtServer: RunningServer;
  let limitedServer: RunningServer;
  const logged: unknown[] = [];
  const logger: Logger = { error: (m, d) => logged.push([m, d]), warn: () => undefined };

  beforeAll(async () => {
    fixture = await open();
    server = await startServer({
      port: 0,
      store: fixture.store,
      devAuth: true,
      logger,
      heartbeatMs: 200,
    });
    jwtServer = await serve(
      createSyncHandler({
        store: fixture.store,
        authenticate: jwtAuth({ secret: SECRET, issuer: 'test', audience: 'syncline' }),
        logger,
      }),
      { port: 0 },
    );
    limitedServer = await serve(
      createSyncHandler({
        store: fixture.store,
        authenticate: server.devAuth?.authenticate ?? (async () => null),
        limits: { rateLimit: { requestsPerSecond: 0.5, burst: 2 } },
        logger,
      }),
      { port: 0 },
    );
  });
  afterAll(async () => {
    await limitedServer?.close();
    await jwtServer?.close();
    await server?.close();
    await fixture?.close();
    // No request in this suite may have been a 500.
    expect(logged).toEqual([]);
  });

  const signIn = async () => {
    const userId = freshUser();
    const { token, sessionId } = await devToken(server.url, userId);
    return { userId, token, sessionId, scope: `user:${userId}`, clientId: `c-${userId}` };
  };
  const push = (who: { token: string; clientId: string }, mutations: unknown[], url = server.url) =>
    call(`${url}/v1/push`, {
      method: 'POST',
      token: who.token,
      json: { clientId: who.clientId, sessionId: 's1', mutations },
    });
  const pull = (who: { token: string }, scope: string, url = server.url) =>
    call(`${url}/v1/pull?scope=${encodeURIComponent(scope)}`, { token: who.token });
  const changesOf = async (who: { token: string; scope: string }) => {
    const answer = await pull(who, who.scope);
    expect(answer.status).toBe(200);
    return (answer.body as { changes: Array<{ id: string; data: unknown }> }).changes;
  };
  const rawPush = (
    who: { token: string },
    body: string | Uint8Array<ArrayBuffer>,
    contentType = 'application/json',
  ) =>
    call(`${server.url}/v1/push`, {
      method: 'POST',
      token: who.token,
      headers: { 'content-type': contentType },
      body,
    });

  it('pushes and pulls over HTTP', async () => {
    const a = await signIn();
    const answer = await push(a, [wirePut(a.scope, 'r1', { title: 'x' })]);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      results: [expect.objectContaining({ status: 'applied', revision: 1 })],
    });
    expect(await changesOf(a)).toEqual([
      expect.objectContaining({ id: 'r1', data: { title: 'x' } }),
    ]);
  });

  it("keeps user A out of user B's scope: pull 403, push rejected, events 403", async () => {
    const a = await signIn();
    const b = await signIn();
    await push(b, [wirePut(b.scope, 'secret', { pin: '1234' })]);
    const read = await pull(a, b.scope);
    expect(read.status).toBe(403);
    expect(read.body).toEqual({ error: { code: 'forbidden', message: expect.any(String) } });
    const write = await push(a, [wirePut(b.scope, 'secret', { pin: '0000' }, { baseRevision: 1 })]);
    expect(write.status).toBe(200);
    expect(write.body).toEqual({
      results: [expect.objectContaining({ status: 'rejected', code: 'forbidden' })],
    });
    const events = await openEvents(server.url, a.token, [a.scope, b.scope]);
    expect(events.status).toBe(403);
    expect(await changesOf(b)).toEqual([
      expect.objectContaining({ id: 'secret', data: { pin: '1234' } }),
    ]);
  });

  it("never pokes user A about user B's scope", async () => {
    const a = await signIn();
    const b = await signIn();
    const events = await openEvents(server.url, a.token, [a.scope]);
    expect(events.status).toBe(200);
    await expect.poll(() => events.comments).toContain('connected');
    await push(b, [wirePut(b.scope, 'r', { v: 1 })]);
    await push(a, [wirePut(a.scope, 'r', { v: 1 })]);
    await expect.poll(() => events.pokes.length).toBe(1);
    expect(events.pokes).toEqual([{ scope: a.scope, version: 1, originClientId: a.clientId }]);
    // Heartbeats keep the stream alive.
    await expect.poll(() => events.comments).toContain('heartbeat');
    expect(server.handler.openStreams).toBeGreaterThanOrEqual(1);
    events.close();
    // The server notices the disconnect and cleans the stream up.
    await expect.poll(() => server.handler.openStreams).toBe(0);
  });

  it("gives nothing of A's to B pushing under A's client id (one device, two users)", async () => {
    const a = await signIn();
    const b = await signIn();
    const m = wirePut(a.scope, 'r', { pin: '1234' });
    await push(a, [m]);
    const borrowed = { token: b.token, clientId: a.clientId };
    const replay = await push(borrowed, [m]);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual({
      results: [expect.objectContaining({ status: 'rejected', code: 'forbidden' })],
    });
    expect(JSON.stringify(replay.body)).not.toContain('1234');
    const own = await push(borrowed, [wirePut(b.scope, 'r', { v: 1 })]);
    expect(own.body).toEqual({
      results: [expect.objectContaining({ status: 'applied', revision: 1 })],
    });
    expect(await changesOf(a)).toEqual([
      expect.objectContaining({ id: 'r', data: { pin: '1234' } }),
    ]);
  });

  it('answers 401 to missing, forged, expired, alg:none, wrong-audience and RS-signed tokens', async () => {
    const userId = freshUser();
    const scope = `user:${userId}`;
    const url = `${jwtServer.url}/v1/pull?scope=${encodeURIComponent(scope)}`;
    const sign = (claims: { aud?: string; iss?: string }, secret = SECRET) =>
      new SignJWT({ session_id: 'sess-1' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(userId)
        .setIssuer(claims.iss ?? 'test')
        .setAudience(claims.aud ?? 'syncline')
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(secret));
    const good = await sign({});
    expect((await call(url, { token: good })).status).toBe(200);

    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: userId,
      session_id: 's',
      iss: 'test',
      aud: 'syncline',
      iat: now,
      exp: now + 3600,
    };
    const { privateKey } = await generateKeyPair('RS256');
    const rsSigned = await new SignJWT({ session_id: 's' })
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject(userId)
      .setIssuer('test')
      .setAudience('syncline')
      .setExpirationTime('1h')
      .sign(privateKey);
    const expired = await new SignJWT({ session_id: 's' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuer('test')
      .setAudience('syncline')
      .setIssuedAt(now - 7200)
      .setExpirationTime(now - 3600)
      .sign(new TextEncoder().encode(SECRET));
    const bad = {
      missing: undefined,
      forged: await sign({}, 'another-secret-another-secret-another'),
      tampered: `${good.split('.')[0]}.${b64({ ...claims, sub: 'someone-else' })}.${good.split('.')[2]}`,
      expired,
      algNone: `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`,
      wrongAudience: await sign({ aud: 'other' }),
      wrongIssuer: await sign({ iss: 'evil' }),
      rsSigned,
      noSession: await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(userId)
        .setIssuer('test')
        .setAudience('syncline')
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(SECRET)),
      garbage: 'not.a.token',
    };
    for (const [name, token] of Object.entries(bad)) {
      const answer = await call(url, token === undefined ? {} : { token });
      expect({ name, status: answer.status, body: answer.body }).toEqual({
        name,
        status: 401,
        body: { error: { code: 'unauthorized', message: expect.any(String) } },
      });
    }
  });

  it('lets a role claim escalate nothing', async () => {
    const victim = freshUser();
    const attacker = freshUser();
    const token = await new SignJWT({ session_id: 's', role: 'service_role' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(attacker)
      .setIssuer('test')
      .setAudience('syncline')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(SECRET));
    const answer = await call(`${jwtServer.url}/v1/pull?scope=user:${victim}`, { token });
    expect(answer.status).toBe(403);
  });

  it('rejects a body over maxBodyBytes with 413 before parsing, and stores nothing', async () => {
    const a = await signIn();
    const big = JSON.stringify({
      clientId: a.clientId,
      sessionId: 's1',
      mutations: [wirePut(a.scope, 'big', { blob: 'x'.repeat(1_100_000) })],
    });
    const answer = await rawPush(a, big);
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual({
      error: {
        code: 'too_large',
        message: expect.any(String),
        details: { maxBodyBytes: 1024 * 1024, maxRecordBytes: 1024 * 1024 - 16 * 1024 },
      },
    });
    expect(await changesOf(a)).toEqual([]);
  });

  it('cuts off a streamed 100 MB body early, reading a bounded amount', async () => {
    const a = await signIn();
    let produced = 0;
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (produced >= 100 * 1024 * 1024) return controller.close();
        produced += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    let status: number | 'connection closed';
    try {
      const response = await fetch(`${server.url}/v1/push`, {
        method: 'POST',
        headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' },
        body,
        duplex: 'half',
      } as RequestInit);
      status = response.status;
      await response.body?.cancel();
    } catch {
      status = 'connection closed';
    }
    expect([413, 'connection closed']).toContain(status);
    // The server stopped reading after ~1 MiB: far less than 100 MB was ever produced.
    expect(produced).toBeLessThan(16 * 1024 * 1024);
    expect(await changesOf(a)).toEqual([]);
  });

  it('answers malformed JSON 400, wrong content type 415, empty body 400, deep nesting 400', async () => {
    const a = await signIn();
    const cases: Array<[string, string | Uint8Array<ArrayBuffer>, string, number]> = [
      ['malformed', '{"clientId": "c", ', 'application/json', 400],
      ['truncated', '{"clientId":"c","sessionId":"s","mutations":[', 'application/json', 400],
      ['wrong type', '{}', 'text/plain', 415],
      ['form', 'a=1', 'application/x-www-form-urlencoded', 415],
      ['other charset', '{}', 'application/json; charset=latin1', 415],
      ['empty', '', 'application/json', 400],
      ['deep', `${'['.repeat(1000)}${']'.repeat(1000)}`, 'application/json', 400],
      [
        'deep data',
        `{"clientId":"c","sessionId":"s","mutations":[${'{"a":'.repeat(40)}1${'}'.repeat(40)}]}`,
        'application/json',
        400,
      ],
      [
        'invalid utf-8',
        new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
        'application/json',
        400,
      ],
      ['array', '[]', 'application/json', 400],
      [
        'unknown field',
        JSON.stringify({ clientId: a.clientId, sessionId: 's', mutations: [], admin: true }),
        'application/json',
        400,
      ],
    ];
    for (const [name, body, type, expected] of cases) {
      const answer = await rawPush(a, body, type);
      expect({ name, status: answer.status }).toEqual({ name, status: expected });
      expect(answer.body).toMatchObject({
        error: { code: expect.any(String), message: expect.any(String) },
      });
      expect(JSON.stringify(answer.body)).not.toMatch(/SELECT|INSERT|syncline\.|at .*\.ts/);
    }
    expect(await changesOf(a)).toEqual([]);
  });

  it('keeps __proto__, NUL and lone surrogates out: 400 or rejected, nothing stored, no pollution', async () => {
    const a = await signIn();
    const envelope = (mutations: string) =>
      `{"clientId":"${a.clientId}","sessionId":"s1","mutations":[${mutations}]}`;
    const m = (id: string, data: string, extra = '') =>
      `{"id":"${crypto.randomUUID()}","scope":"${a.scope}","collection":"todos","recordId":"${id}","op":"put","data":${data},"baseRevision":0,"hlc":"${hlcNow()}"${extra}}`;
    // Whole-request problems: 400.
    const envelopes = [
      `{"__proto__":{"polluted":1},"clientId":"${a.clientId}","sessionId":"s1","mutations":[]}`,
      `{"clientId":"bad\\u0000id","sessionId":"s1","mutations":[]}`,
      `{"clientId":"${a.clientId}","sessionId":"\\ud800","mutations":[]}`,
      envelope(`{"__proto__":{"polluted":1}}`),
    ];
    for (const body of envelopes) {
      const answer = await rawPush(a, body);
      expect({ body, status: answer.status }).toEqual({ body, status: 400 });
    }
    // One bad mutation: rejected `invalid` on its own, never a 500, nothing stored.
    const mutations = [
      m('p1', '{"__proto__":{"polluted":1}}'),
      m('p2', '{"nested":{"a":{"__proto__":{"polluted":1}}}}'),
      m('n1', '{"t":"nul\\u0000here"}'),
      m('n2', '{"key\\u0000":1}'),
      m('s1', '{"t":"\\ud800"}'),
      m('s2', '{"t":"\\udfff\\ud800"}'),
      m('r\\u0000id', '{}'),
      m('big', '{"n":1e400}'),
    ];
    const answer = await rawPush(a, envelope(mutations.join(',')));
    expect(answer.status).toBe(200);
    const results = (answer.body as { results: Array<{ status: string; code?: string }> }).results;
    expect(results.map((r) => [r.status, r.code])).toEqual(
      mutations.map(() => ['rejected', 'invalid']),
    );
    expect(await changesOf(a)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('stores SQL metacharacters in ids and values literally; the tables survive', async () => {
    const a = await signIn();
    const ids = [
      "'; DROP TABLE syncline.records; --",
      "' OR '1'='1",
      '$$',
      '\\',
      '/* */',
      "COPY (SELECT 1) TO PROGRAM 'touch /tmp/pwned'",
      "pg_sleep(5)'); SELECT pg_sleep(5); --",
      '../../etc/passwd',
      '..%2F..%2F',
      '\u200b\u202eabc',
    ];
    const answer = await push(
      a,
      ids.map((id) => wirePut(a.scope, id, { id, note: "'); DROP TABLE x; --" })),
    );
    expect(answer.status).toBe(200);
    expect(
      (answer.body as { results: Array<{ status: string }> }).results.map((r) => r.status),
    ).toEqual(ids.map(() => 'applied'));
    const changes = await changesOf(a);
    expect(changes.map((c) => [c.id, c.data])).toEqual(
      ids.map((id) => [id, { id, note: "'); DROP TABLE x; --" }]),
    );
    // Metacharacters in the scope and checkpoint of a pull are just bad input.
    const weird = await call(
      `${server.url}/v1/pull?scope=${encodeURIComponent(`${a.scope}' OR '1'='1`)}`,
      { token: a.token },
    );
    expect(weird.status).toBe(400);
    const quoted = await call(
      `${server.url}/v1/pull?scope=${encodeURIComponent(`${a.scope}'--`)}`,
      { token: a.token },
    );
    expect(quoted.status).toBe(403);
    const cp = await call(
      `${server.url}/v1/pull?scope=${a.scope}&checkpoint=${encodeURIComponent('1; DROP TABLE x')}`,
      { token: a.token },
    );
    expect(cp.status).toBe(200);
    expect(cp.body).toMatchObject({ resetRequired: true });
    expect(await changesOf(a)).toHaveLength(ids.length);
  });

  it('answers 429 with Retry-After over the rate limit', async () => {
    const a = await signIn();
    const url = `${limitedServer.url}/v1/pull?scope=${a.scope}`;
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 4; i++) {
      const answer = await call(url, { token: a.token });
      statuses.push(answer.status);
      if (answer.status === 429) {
        retryAfter = answer.headers.get('retry-after');
        expect(answer.body).toEqual({
          error: { code: 'rate_limited', message: expect.any(String) },
        });
      }
    }
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    // Another user has their own bucket.
    const b = await signIn();
    expect(
      (await call(`${limitedServer.url}/v1/pull?scope=${b.scope}`, { token: b.token })).status,
    ).toBe(200);
  });

  it('answers unknown routes 404, wrong methods 405, bad queries 400, health 200', async () => {
    const a = await signIn();
    expect((await call(`${server.url}/v1/nope`, { token: a.token })).status).toBe(404);
    const wrongMethod = await call(`${server.url}/v1/push`, { token: a.token });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect(
      (await call(`${server.url}/v1/pull?scope=${a.scope}`, { method: 'POST', token: a.token }))
        .status,
    ).toBe(405);
    const unknownParam = await call(`${server.url}/v1/pull?scope=${a.scope}&admin=1`, {
      token: a.token,
    });
    expect(unknownParam.status).toBe(400);
    expect(
      (await call(`${server.url}/v1/pull?scope=${a.scope}&limit=-1`, { token: a.token })).status,
    ).toBe(400);
    expect(
      (await call(`${server.url}/v1/pull?scope=${a.scope}&limit=99999`, { token: a.token })).status,
    ).toBe(400);
    expect((await call(`${server.url}/v1/pull`, { token: a.token })).status).toBe(400);
    expect((await call(`${server.url}/v1/events`, { token: a.token })).status).toBe(400);
    const health = await call(`${server.url}/healthz`);
    expect(health).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('issues a new dev session per call, validates userId, and has no dev route without dev auth', async () => {
    const userId = freshUser();
    const first = await devToken(server.url, userId);
    const second = await devToken(server.url, userId);
    expect(first.sessionId).not.toBe(second.sessionId);
    for (const body of [
      { userId: '' },
      { userId: 'a b' },
      { userId: 1 },
      { userId: 'x', admin: true },
      {},
    ]) {
      const answer = await call(`${server.url}/v1/dev/token`, { method: 'POST', json: body });
      expect({ body, status: answer.status }).toEqual({ body, status: 400 });
    }
    const off = await call(`${jwtServer.url}/v1/dev/token`, { method: 'POST', json: { userId } });
    expect(off.status).toBe(404);
  });
}
