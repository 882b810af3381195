/**
 * HTTP outcomes a real server cannot be made to produce on demand (a proxy's HTML 502, a
 * 503 with an HTTP-date Retry-After, a reset connection, a hanging answer, a 200 that is
 * not protocol JSON) mapped to SyncError kinds, with msw answering for the server.
 */
import {
  createSessionSource,
  createSyncClient,
  isSyncError,
  memoryStorage,
  type SyncError,
} from '@syncline/sync-core';
import { delay, HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { devSignIn, restTransport } from '../src/index.js';
import { pushRequest, putMutation, record } from './support/fixtures.js';

const BASE = 'http://sync.test';
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const NOW = Date.parse('2026-01-01T00:00:00Z');

function transport(overrides: Partial<Parameters<typeof restTransport>[0]> = {}) {
  return restTransport({
    baseUrl: BASE,
    getToken: () => 'token',
    realtime: false,
    environment: { now: () => NOW },
    ...overrides,
  });
}

async function pushError(t = transport()): Promise<SyncError> {
  try {
    await t.push(pushRequest([putMutation('user:1', 'a', { title: 'x' })]));
  } catch (error) {
    if (isSyncError(error)) return error;
    throw new Error(`not a SyncError: ${String(error)}`);
  }
  throw new Error('push resolved');
}

const errorBody = (code: string, message: string) => ({ error: { code, message } });

describe('HTTP status to SyncError kind', () => {
  const cases: Array<{
    status: number;
    body?: unknown;
    headers?: Record<string, string>;
    kind: SyncError['kind'];
    code?: string;
    message?: RegExp;
    retryAfterMs?: number;
  }> = [
    {
      status: 400,
      body: errorBody('invalid', '$.mutations[0].op: bad'),
      kind: 'rejected',
      code: 'invalid',
      message: /mutations\[0\]\.op/,
    },
    { status: 403, body: errorBody('forbidden', 'not a member'), kind: 'auth', code: 'forbidden' },
    {
      status: 404,
      body: errorBody('not_found', 'no such route'),
      kind: 'misconfigured',
      code: 'no_such_route',
      message: /no such route\): check baseUrl's path/,
    },
    { status: 405, body: '<html>405</html>', kind: 'misconfigured', code: 'no_such_route' },
    {
      status: 404,
      body: errorBody('delivery_not_found', 'no such delivery'),
      kind: 'rejected',
      code: 'delivery_not_found',
    },
    {
      status: 400,
      body: '<html><body>Bad Request</body></html>',
      kind: 'misconfigured',
      code: 'not_syncline',
      // One wording for every answer that is not a syncline one, naming status and content type.
      message: /answered HTTP 400 with text\/html that is not a syncline answer/,
    },
    {
      status: 413,
      body: '<html>nginx</html>',
      kind: 'misconfigured',
      code: 'not_syncline',
      // A proxy's body-size limit, in front of the right server: baseUrl is not the mistake.
      message:
        /answered HTTP 413 with text\/html that is not a syncline answer: a proxy refuses a body this large/,
    },
    { status: 409, kind: 'misconfigured', code: 'not_syncline' },
    { status: 408, kind: 'timeout' },
    { status: 409, body: errorBody('conflict', 'busy'), kind: 'conflict', code: 'conflict' },
    {
      status: 413,
      body: errorBody('too_large', 'body over 1 MiB'),
      kind: 'rejected',
      code: 'too_large',
    },
    {
      status: 429,
      headers: { 'retry-after': '3' },
      body: errorBody('rate_limited', 'slow down'),
      kind: 'rate-limited',
      code: 'rate_limited',
      retryAfterMs: 3000,
    },
    {
      status: 503,
      headers: { 'retry-after': new Date(NOW + 7000).toUTCString() },
      kind: 'server',
      retryAfterMs: 7000,
    },
    {
      status: 500,
      body: '<html>Internal Server Error</html>',
      kind: 'server',
      message: /HTTP 500/,
    },
    { status: 502, kind: 'server', message: /HTTP 502/ },
  ];

  for (const c of cases) {
    it(`${c.status} -> ${c.kind}`, async () => {
      server.use(
        http.post(`${BASE}/v1/push`, () => {
          const body =
            c.body === undefined
              ? null
              : typeof c.body === 'string'
                ? c.body
                : JSON.stringify(c.body);
          const type = typeof c.body === 'string' ? { 'content-type': 'text/html' } : {};
          return new HttpResponse(body, { status: c.status, headers: { ...type, ...c.headers } });
        }),
      );
      const error = await pushError();
      expect(error.kind).toBe(c.kind);
      expect(error.status).toBe(c.status);
      expect(error.code).toBe(c.code);
      expect(error.retryAfterMs).toBe(c.retryAfterMs);
      if (c.message) expect(error.message).toMatch(c.message);
    });
  }
});

describe('answers that are not protocol JSON', () => {
  it('a 200 with an HTML body is a misconfigured transport, not a crash', async () => {
    server.use(http.post(`${BASE}/v1/push`, () => HttpResponse.html('<html>proxy</html>')));
    const error = await pushError();
    expect(error).toMatchObject({ kind: 'misconfigured', code: 'not_syncline', status: 200 });
    expect(error.message).toMatch(/text\/html that is not a syncline answer/);
  });

  it("a 200 with another API's JSON is a misconfigured transport", async () => {
    server.use(http.post(`${BASE}/v1/push`, () => HttpResponse.json({ message: 'hello' })));
    const error = await pushError();
    expect(error).toMatchObject({ kind: 'misconfigured', code: 'not_syncline' });
  });

  it('a syncline answer that fails its check is handed over once; the client refuses it (server, retried) and applies nothing', async () => {
    const otherScope = {
      changes: [record('user:2', 'x', 1)],
      checkpoint: '1',
      hasMore: false,
    };
    server.use(
      http.get(`${BASE}/v1/pull`, () => HttpResponse.json(otherScope)),
      http.post(`${BASE}/v1/push`, () => HttpResponse.json({ results: [] })),
      http.get(`${BASE}/v1/info`, () =>
        HttpResponse.json({ protocol: 1, limits: { maxBodyBytes: 1e6, maxRecordBytes: 1e5 } }),
      ),
    );
    // The transport only tells a syncline answer from anything else: the check is the client's.
    expect(await transport().pull({ scope: 'user:1', checkpoint: null })).toEqual(otherScope);
    const session = createSessionSource({ userId: '1', sessionId: 's1' });
    const client = createSyncClient({
      transport: transport({ session }),
      storage: memoryStorage(),
    });
    const failures: SyncError[] = [];
    client.on('status', (status) => {
      if (status.error !== undefined) failures.push(status.error);
    });
    await client.start();
    await client.put('todos', 'a', { title: 'kept' });
    await vi.waitFor(() => {
      const messages = failures.map((f) => `${f.kind} ${f.code} ${f.message}`).join('\n');
      expect(messages).toMatch(/server invalid_response .*malformed pull answer.*pulled scope/);
      expect(messages).toMatch(
        /server invalid_response .*malformed push answer.*expected 1 results/,
      );
    }, 10_000); // the push's refusal comes after the pull's, on a loaded CI host well past 1 s
    expect(client.get('todos', 'x')).toBeUndefined();
    expect(client.get('todos', 'a')).toEqual({ title: 'kept' });
    expect(client.status.pending).toBe(1);
    expect(client.deadLetters()).toEqual([]);
    await client.stop();
  });

  it('a body cut off mid-stream is a network error', async () => {
    server.use(
      http.get(`${BASE}/v1/pull`, () => {
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"changes":['));
            controller.error(new Error('connection reset'));
          },
        });
        return new HttpResponse(stream, { headers: { 'content-type': 'application/json' } });
      }),
    );
    await expect(transport().pull({ scope: 'user:1', checkpoint: null })).rejects.toMatchObject({
      kind: 'network',
    });
  });
});

describe('no answer', () => {
  it('a refused or reset connection is a network error', async () => {
    server.use(http.post(`${BASE}/v1/push`, () => HttpResponse.error()));
    const error = await pushError();
    expect(error.kind).toBe('network');
    expect(error.cause).toBeDefined();
  });

  it('an answer slower than timeoutMs is a timeout', async () => {
    server.use(
      http.post(`${BASE}/v1/push`, async () => {
        await delay('infinite');
        return HttpResponse.json({ results: [] });
      }),
    );
    const error = await pushError(transport({ timeoutMs: 50, environment: {} }));
    expect(error.kind).toBe('timeout');
  });

  it("the caller's abort ends the request as an aborted network error", async () => {
    server.use(
      http.post(`${BASE}/v1/push`, async () => {
        await delay('infinite');
        return HttpResponse.json({ results: [] });
      }),
    );
    const controller = new AbortController();
    const pending = transport().push(
      pushRequest([putMutation('user:1', 'a', { n: 1 })]),
      controller.signal,
    );
    controller.abort();
    await expect(pending).rejects.toMatchObject({ kind: 'network', code: 'aborted' });
  });
});

describe('requests', () => {
  it('pull sends scope, checkpoint and limit as query parameters, and no checkpoint when null', async () => {
    const seen: URLSearchParams[] = [];
    server.use(
      http.get(`${BASE}/sync/v1/pull`, ({ request }) => {
        seen.push(new URL(request.url).searchParams);
        return HttpResponse.json({
          changes: [record('workspace:a/b&c=d', 'r', 4)],
          checkpoint: '4',
          hasMore: true,
        });
      }),
    );
    const t = transport({ baseUrl: `${BASE}/sync/` });
    const first = await t.pull({ scope: 'workspace:a/b&c=d', checkpoint: null, limit: 50 });
    await t.pull({ scope: 'workspace:a/b&c=d', checkpoint: '4' });
    expect(first).toMatchObject({
      checkpoint: '4',
      hasMore: true,
      changes: [{ id: 'r', revision: 4 }],
    });
    expect(Object.fromEntries(seen[0]!)).toEqual({ scope: 'workspace:a/b&c=d', limit: '50' });
    expect(Object.fromEntries(seen[1]!)).toEqual({ scope: 'workspace:a/b&c=d', checkpoint: '4' });
  });

  it('sends the bearer token and a JSON body', async () => {
    let auth: string | null = null;
    let type: string | null = null;
    server.use(
      http.post(`${BASE}/v1/push`, async ({ request }) => {
        auth = request.headers.get('authorization');
        type = request.headers.get('content-type');
        const body = (await request.json()) as { mutations: Array<{ id: string }> };
        return HttpResponse.json({
          results: body.mutations.map((m) => ({ id: m.id, status: 'applied', revision: 1 })),
        });
      }),
    );
    await transport({ getToken: async () => 'abc' }).push(
      pushRequest([putMutation('user:1', 'a', { n: 1 })]),
    );
    expect(auth).toBe('Bearer abc');
    expect(type).toBe('application/json');
  });
});

describe('devSignIn and session', () => {
  it('returns the token and session of the dev sign-in', async () => {
    let body: unknown;
    server.use(
      http.post(`${BASE}/v1/dev/token`, async ({ request }) => {
        body = await request.json();
        return HttpResponse.json({ token: 'tok', sessionId: 'sess-1' });
      }),
    );
    await expect(devSignIn({ baseUrl: BASE, userId: 'alice' })).resolves.toEqual({
      userId: 'alice',
      sessionId: 'sess-1',
      token: 'tok',
    });
    expect(body).toEqual({ userId: 'alice' });
  });

  it('a server without dev auth (404) is a `misconfigured` error; an answer without a token is `server`', async () => {
    server.use(
      http.post(`${BASE}/v1/dev/token`, () =>
        HttpResponse.json(
          { error: { code: 'not_found', message: 'no such route' } },
          { status: 404 },
        ),
      ),
    );
    await expect(devSignIn({ baseUrl: BASE, userId: 'alice' })).rejects.toMatchObject({
      kind: 'misconfigured',
      code: 'no_such_route',
    });
    server.use(http.post(`${BASE}/v1/dev/token`, () => HttpResponse.json({ sessionId: 's' })));
    await expect(devSignIn({ baseUrl: BASE, userId: 'alice' })).rejects.toMatchObject({
      kind: 'server',
      code: 'invalid_response',
    });
  });

  it('exposes the session source it was given, and none when not given', () => {
    const session = createSessionSource({ userId: 'u', sessionId: 's' });
    expect(transport({ session }).session).toBe(session);
    expect(transport().session).toBeUndefined();
  });
});

describe('configuration mistakes, at construction', () => {
  const bad: Array<[string, unknown]> = [
    ['missing', undefined],
    ['empty', ''],
    ['without a scheme', 'localhost:8787'],
    ['host and port only', '127.0.0.1:8787'],
    ['not http', 'ftp://sync.example.com'],
  ];
  for (const [what, baseUrl] of bad) {
    it(`a ${what} baseUrl is a misconfigured SyncError from restTransport and devSignIn`, async () => {
      const options = { baseUrl, getToken: () => 'token', userId: 'alice' } as never;
      const expected = { name: 'SyncError', kind: 'misconfigured', code: 'bad_base_url' };
      expect(() => restTransport(options)).toThrow(
        /baseUrl must be an absolute http:\/\/ or https:\/\/ URL/,
      );
      let error: unknown;
      try {
        restTransport(options);
      } catch (caught) {
        error = caught;
      }
      expect(error).toMatchObject(expected);
      await expect(devSignIn(options)).rejects.toMatchObject(expected);
    });
  }

  it('no options at all (plain JavaScript) is the same misconfigured SyncError, not a TypeError', async () => {
    const expected = { name: 'SyncError', kind: 'misconfigured', code: 'bad_base_url' };
    let error: unknown;
    try {
      (restTransport as (options?: unknown) => unknown)();
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject(expected);
    await expect((devSignIn as (options?: unknown) => unknown)()).rejects.toMatchObject(expected);
  });
});
