/**
 * The realtime channel's failure handling, with msw playing a server whose event streams can
 * be cut, stalled or refused on demand: catch-up hint after every (re)connect, reconnect with
 * backoff, token refresh, idle detection, clean stop.
 */
import type { Poke, SyncError } from '@syncline/sync-core';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { restTransport } from '../src/index.js';

// Outcomes, not timings: generous so a loaded CI machine does not turn slowness into failure.
const EVENTUALLY = { timeout: 5000, interval: 10 };

const BASE = 'http://events.test';
const server = setupServer();
const cleanups: Array<() => void> = [];
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  // A failed assertion must not leave a reconnecting subscription behind for the next test.
  for (const cleanup of cleanups.splice(0)) cleanup();
  server.resetHandlers();
});
afterAll(() => server.close());

interface Connection {
  auth: string | null;
  scopes: string | null;
  send(text: string): void;
  close(): void;
  /** Breaks the stream (a dropped socket, a server restart). */
  fail(): void;
}

/** An msw event-stream endpoint; `respond` may refuse a connection with an error response. */
function eventsEndpoint(respond?: (n: number, auth: string | null) => Response | undefined) {
  const connections: Connection[] = [];
  server.use(
    http.get(`${BASE}/v1/events`, ({ request }) => {
      const auth = request.headers.get('authorization');
      const refusal = respond?.(connections.length, auth);
      const encoder = new TextEncoder();
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      const connection: Connection = {
        auth,
        scopes: new URL(request.url).searchParams.get('scopes'),
        send: (text) => controller.enqueue(encoder.encode(text)),
        close: () => controller.close(),
        fail: () => controller.error(new Error('connection reset')),
      };
      connections.push(connection);
      if (refusal) return refusal;
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          controller = c;
        },
      });
      return new HttpResponse(stream, {
        headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
      });
    }),
  );
  return connections;
}

const poke = (scope: string, version: number) =>
  `event: poke\ndata: ${JSON.stringify({ scope, version, originClientId: 'c1' })}\n\n`;

/**
 * An environment whose timers record every wait under a second (the reconnect backoff's: the
 * request deadline and the idle timer are longer), with the backoff's jitter at its middle.
 */
function recordedWaits() {
  const waits: number[] = [];
  const environment: Parameters<typeof restTransport>[0]['environment'] = {
    random: () => 0.5,
    setTimeout: (callback, ms) => {
      if (ms < 1000) waits.push(ms);
      return setTimeout(callback, ms);
    },
  };
  return { waits, environment };
}

function listen(options: Partial<Parameters<typeof restTransport>[0]> = {}) {
  const pokes: Poke[] = [];
  const errors: SyncError[] = [];
  let connects = 0;
  const transport = restTransport({
    baseUrl: BASE,
    getToken: () => 'token',
    reconnect: { baseDelayMs: 1, maxDelayMs: 5 },
    onRealtimeError: (e) => errors.push(e),
    ...options,
  });
  const unsubscribe = transport.subscribe!({
    scopes: ['user:1', 'workspace:7'],
    onPoke: (p) => pokes.push(p),
    onConnect: () => connects++,
  });
  cleanups.push(unsubscribe);
  return { pokes, errors, connects: () => connects, unsubscribe };
}

describe('event stream', () => {
  it('hints a catch-up on connect, then delivers valid pokes of its scopes only', async () => {
    const connections = eventsEndpoint();
    const sub = listen();
    await vi.waitFor(() => expect(sub.connects()).toBe(1), EVENTUALLY);
    const [c] = connections;
    expect(c!.auth).toBe('Bearer token');
    expect(c!.scopes!.split(',').sort()).toEqual(['user:1', 'workspace:7']);

    c!.send(': heartbeat\n\n');
    c!.send(poke('user:1', 3));
    c!.send(poke('user:99', 4)); // not subscribed: ignored
    c!.send('event: poke\ndata: {"scope":"user:1","version":"x"}\n\n'); // invalid
    c!.send(`event: poke\ndata: ${JSON.stringify({ scope: 'workspace:7', version: 9 })}\n\n`);

    await vi.waitFor(() => expect(sub.pokes).toHaveLength(2), EVENTUALLY);
    expect(sub.pokes).toEqual([
      { scope: 'user:1', version: 3, originClientId: 'c1' },
      { scope: 'workspace:7', version: 9 },
    ]);
    expect(sub.errors.map((e) => [e.kind, e.code])).toEqual([['server', 'invalid_response']]);
    sub.unsubscribe();
  });

  it('delivers a poke with the changes it carries as they came (the client checks them); reports one that is not a plain poke', async () => {
    const connections = eventsEndpoint();
    const sub = listen();
    await vi.waitFor(() => expect(sub.connects()).toBe(1), EVENTUALLY);
    const record = (id: string, revision: number, scope = 'user:1') => ({
      scope,
      collection: 'todos',
      id,
      data: { title: id },
      revision,
      hlc: '0190a1b2c3d4:0000:c1',
      deleted: false,
    });
    const send = (body: unknown) =>
      connections[0]!.send(`event: poke\ndata: ${JSON.stringify(body)}\n\n`);
    const head = { scope: 'user:1', version: 5, originClientId: 'c1' };
    const page = { fromCheckpoint: 'c1.ab.3', checkpoint: 'c1.ab.5' };
    const good = { ...head, ...page, changes: [record('a', 4), record('b', 5)] };
    // A page that fails as a pull page is still the client's to check (sync-core's poke-pages test).
    const backwards = { ...head, ...page, changes: [record('a', 5), record('a', 4)] };
    send(good);
    send(backwards);
    send({ ...head, scope: 'user:2' }); // a scope not subscribed: ignored
    send({ scope: 'user:1', version: -1, ...page, changes: [] }); // not even a plain poke
    send({ scope: 'user:1', version: 2.5 }); // nor this
    send(null); // nor this
    connections[0]!.send('event: poke\ndata: {"scope":\n\n'); // not JSON

    await vi.waitFor(() => expect(sub.errors).toHaveLength(4), EVENTUALLY);
    expect(sub.pokes).toEqual([good, backwards]);
    expect(sub.errors.every((e) => e.code === 'invalid_response')).toBe(true);
    sub.unsubscribe();
  });

  it('reconnects after the server ends the stream, and hints a catch-up each time', async () => {
    const connections = eventsEndpoint();
    const sub = listen();
    await vi.waitFor(() => expect(connections).toHaveLength(1), EVENTUALLY);
    connections[0]!.send(poke('user:1', 1));
    connections[0]!.close();
    await vi.waitFor(() => expect(sub.connects()).toBe(2), EVENTUALLY);
    connections[1]!.send(poke('user:1', 2));
    await vi.waitFor(() => expect(sub.pokes.map((p) => p.version)).toEqual([1, 2]), EVENTUALLY);
    sub.unsubscribe();
  });

  /** The first `count` connections are refused with a 503 (the server is starting). */
  const refusedUntil = (count: number) => (n: number) =>
    n < count
      ? HttpResponse.json({ error: { code: 'unavailable', message: 'starting' } }, { status: 503 })
      : undefined;

  it('backs off through refused connections (503) and connects when the server is back', async () => {
    const connections = eventsEndpoint(refusedUntil(3));
    const sub = listen();
    await vi.waitFor(() => expect(sub.connects()).toBe(1), EVENTUALLY);
    expect(connections).toHaveLength(4);
    expect(sub.errors.map((e) => e.kind)).toEqual(['server', 'server', 'server']);
    sub.unsubscribe();
  });

  it('starts its backoff over after a healthy connection, also one that broke with an error', async () => {
    const connections = eventsEndpoint(refusedUntil(3));
    const { waits, environment } = recordedWaits();
    const sub = listen({
      reconnect: { baseDelayMs: 8, maxDelayMs: 10_000, healthyAfterMs: 50 },
      environment,
    });
    await vi.waitFor(() => expect(sub.connects()).toBe(1), EVENTUALLY);
    expect(waits).toEqual([4, 8, 16]); // attempts 0, 1 and 2: the refused connections
    await new Promise((resolve) => setTimeout(resolve, 100)); // open longer than healthyAfterMs
    connections[3]!.fail();
    await vi.waitFor(() => expect(sub.connects()).toBe(2), EVENTUALLY);
    expect(waits).toEqual([4, 8, 16, 4]); // attempt 0 again, not 3 (32 ms)
    expect(sub.errors.at(-1)).toMatchObject({ kind: 'network' });
    sub.unsubscribe();
  });

  it("paces its reconnects from the server's retry: field, also after a connection that sent none", async () => {
    const connections = eventsEndpoint();
    const { waits, environment } = recordedWaits();
    const sub = listen({ reconnect: { baseDelayMs: 1, maxDelayMs: 10_000 }, environment });
    await vi.waitFor(() => expect(sub.connects()).toBe(1), EVENTUALLY);
    connections[0]!.send('retry: 40\n\n');
    connections[0]!.fail();
    await vi.waitFor(() => expect(sub.connects()).toBe(2), EVENTUALLY);
    connections[1]!.fail(); // no retry: field on this one
    await vi.waitFor(() => expect(sub.connects()).toBe(3), EVENTUALLY);
    expect(waits).toEqual([20, 40]); // attempts 0 and 1 from 40 ms, not from baseDelayMs (1 ms)
    sub.unsubscribe();
  });

  it('reports an events answer that is not an event stream (a web app, a proxy) as misconfigured, and retries', async () => {
    const connections = eventsEndpoint((n) =>
      n === 0
        ? new HttpResponse('<html>sign in</html>', { headers: { 'content-type': 'text/html' } })
        : undefined,
    );
    const sub = listen();
    await vi.waitFor(() => expect(sub.connects()).toBe(1), EVENTUALLY);
    expect(connections).toHaveLength(2);
    expect(sub.errors.map((e) => [e.kind, e.code])).toEqual([['misconfigured', 'not_syncline']]);
    expect(sub.errors[0]?.message).toMatch(
      /^events: .*\/v1\/events.* answered with text\/html that is not a syncline answer/,
    );
    sub.unsubscribe();
  });

  it('refreshes the token once on 401 and connects with the fresh one', async () => {
    const connections = eventsEndpoint((_n, auth) =>
      auth === 'Bearer fresh'
        ? undefined
        : HttpResponse.json({ error: { code: 'unauthorized', message: 'x' } }, { status: 401 }),
    );
    const refreshes: boolean[] = [];
    const sub = listen({
      getToken: ({ forceRefresh }) => {
        refreshes.push(forceRefresh);
        return forceRefresh ? 'fresh' : 'stale';
      },
    });
    await vi.waitFor(() => expect(sub.connects()).toBe(1), EVENTUALLY);
    expect(connections.map((c) => c.auth)).toEqual(['Bearer stale', 'Bearer fresh']);
    expect(refreshes).toEqual([false, true]);
    expect(sub.errors).toEqual([]);
    sub.unsubscribe();
  });

  it('replaces a stream that went silent for idleTimeoutMs', async () => {
    const connections = eventsEndpoint();
    const sub = listen({ idleTimeoutMs: 30 });
    await vi.waitFor(() => expect(sub.connects()).toBeGreaterThanOrEqual(2), EVENTUALLY);
    expect(connections.length).toBeGreaterThanOrEqual(2);
    expect(sub.errors[0]).toMatchObject({ kind: 'timeout' });
    sub.unsubscribe();
  });

  it('keeps a stream that only sends heartbeats', async () => {
    const connections = eventsEndpoint();
    const sub = listen({ idleTimeoutMs: 200 });
    await vi.waitFor(() => expect(sub.connects()).toBe(1), EVENTUALLY);
    for (let i = 0; i < 10; i++) {
      connections[0]!.send(': hb\n\n');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(sub.connects()).toBe(1);
    expect(connections).toHaveLength(1);
    sub.unsubscribe();
  });

  it('stops for good on unsubscribe: nothing more is read and nothing reopened', async () => {
    const connections = eventsEndpoint();
    const sub = listen();
    await vi.waitFor(() => expect(sub.connects()).toBe(1), EVENTUALLY);
    connections[0]!.send(poke('user:1', 1));
    await vi.waitFor(() => expect(sub.pokes).toHaveLength(1), EVENTUALLY);
    sub.unsubscribe();
    try {
      connections[0]!.send(poke('user:1', 2));
      connections[0]!.close();
    } catch {
      // The stream may already be cancelled: also fine.
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(sub.pokes).toHaveLength(1);
    expect(connections).toHaveLength(1);
    expect(sub.connects()).toBe(1);
    expect(sub.errors).toEqual([]);
  });

  it('a throwing onPoke does not stop the channel', async () => {
    const connections = eventsEndpoint();
    const seen: number[] = [];
    const transport = restTransport({ baseUrl: BASE, getToken: () => 't' });
    const unsubscribe = transport.subscribe!({
      scopes: ['user:1'],
      onPoke: (p) => {
        seen.push(p.version);
        throw new Error('app bug');
      },
    });
    cleanups.push(unsubscribe);
    await vi.waitFor(() => expect(connections).toHaveLength(1), EVENTUALLY);
    await new Promise((r) => setTimeout(r, 10));
    connections[0]!.send(poke('user:1', 1) + poke('user:1', 2));
    await vi.waitFor(() => expect(seen).toEqual([1, 2]), EVENTUALLY);
    unsubscribe();
  });
});

describe('poll mode', () => {
  it('hints a catch-up at once and then every pollIntervalMs, until unsubscribed', async () => {
    const transport = restTransport({
      baseUrl: BASE,
      getToken: () => 't',
      realtime: 'poll',
      pollIntervalMs: 20,
    });
    let hints = 0;
    const unsubscribe = transport.subscribe!({
      scopes: ['user:1'],
      onPoke: () => undefined,
      onConnect: () => hints++,
    });
    await vi.waitFor(() => expect(hints).toBeGreaterThanOrEqual(3), EVENTUALLY);
    unsubscribe();
    const after = hints;
    await new Promise((r) => setTimeout(r, 60));
    expect(hints).toBe(after);
  });

  it('offers no subscribe at all with realtime: false', () => {
    const transport = restTransport({ baseUrl: BASE, getToken: () => 't', realtime: false });
    expect(transport.subscribe).toBeUndefined();
  });
});
