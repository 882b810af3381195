/**
 * Load one user cannot hog (issue 11), over HTTP against the real server on PGlite: HTTP
 * timeouts (a body shorter than its Content-Length, headers that never end, idle keep-alive,
 * tested with raw sockets), per-user budgets of mutations and bytes (429 + Retry-After), and
 * fair turns of pushes per user (a light user's push is not queued behind a heavy user's
 * burst).
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devAuth } from '../src/auth/dev-auth.js';
import { createSyncHandler, type ServerLimits } from '../src/handler.js';
import { type RunningServer, serve } from '../src/node/serve.js';
import { pgliteStore } from '../src/store/pglite-store.js';
import type { SyncStore } from '../src/store/types.js';
import { call, openEvents, wirePut } from './http-support.js';
import { freshUser } from './support.js';

const dev = devAuth();
let store: SyncStore;
const pushCalls: string[] = [];
// Users whose pushes take 200 ms longer in the store: a heavy push, whatever the machine's speed.
const slowUsers = new Set<string>();
const servers: RunningServer[] = [];

beforeAll(async () => {
  const real = await pgliteStore();
  // The store as the handler sees it, recording which user's push reached it, in order.
  store = new Proxy(real, {
    get(target, key) {
      if (key === 'push') {
        return async (...args: Parameters<SyncStore['push']>) => {
          pushCalls.push(args[0].userId);
          if (slowUsers.has(args[0].userId)) await new Promise((r) => setTimeout(r, 200));
          return target.push(...args);
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
});
afterAll(async () => {
  for (const server of servers) await server.close();
  await store?.close();
});

async function start(
  limits: Partial<ServerLimits>,
  timeouts: Parameters<typeof serve>[1] = {},
): Promise<string> {
  const handler = createSyncHandler({
    store,
    authenticate: dev.authenticate,
    devAuth: dev,
    limits,
  });
  const server = await serve(handler, { port: 0, ...timeouts });
  servers.push(server);
  return server.url;
}

function pushBody(userId: string, count: number, filler = 0) {
  const mutations = Array.from({ length: count }, (_, i) =>
    wirePut(`user:${userId}`, `r${i}-${crypto.randomUUID()}`, { i, filler: 'x'.repeat(filler) }),
  );
  return { clientId: 'load-test', sessionId: 's', mutations };
}

async function push(url: string, userId: string, count: number, filler = 0) {
  const { token } = await dev.issueToken(userId);
  return call(`${url}/v1/push`, { method: 'POST', token, json: pushBody(userId, count, filler) });
}

/** A raw connection that records what it receives and when it is closed. */
function rawSocket(
  url: string,
  { allowHalfOpen = false } = {},
): Promise<{ socket: Socket; received: () => string; closed: () => boolean }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let text = '';
    let closed = false;
    const socket = connect({ port: Number(port), host: hostname, allowHalfOpen }, () =>
      resolve({ socket, received: () => text, closed: () => closed }),
    );
    socket.on('data', (chunk) => {
      text += chunk.toString();
    });
    socket.on('close', () => {
      closed = true;
    });
    socket.once('error', reject);
  });
}

describe('HTTP timeouts', () => {
  let url: string;
  beforeAll(async () => {
    url = await start(
      { rateLimit: false },
      { headersTimeoutMs: 500, requestTimeoutMs: 1000, keepAliveTimeoutMs: 300 },
    );
  });

  it('answers 408 and closes a connection whose body is shorter than its Content-Length', async () => {
    const { token } = await dev.issueToken(freshUser());
    const raw = await rawSocket(url);
    raw.socket.write(
      `POST /v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"clientId":`,
    );
    await expect.poll(raw.closed, { timeout: 5000 }).toBe(true);
    expect(raw.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes a connection whose headers never end', async () => {
    const raw = await rawSocket(url);
    raw.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    await expect.poll(raw.closed, { timeout: 5000 }).toBe(true);
    expect(raw.received()).not.toMatch(/ 200 /);
  });

  it('closes an idle keep-alive connection after its timeout', async () => {
    const raw = await rawSocket(url);
    raw.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    await expect.poll(raw.received).toMatch(/^HTTP\/1\.1 200 /);
    expect(raw.closed()).toBe(false);
    await expect.poll(raw.closed, { timeout: 5000 }).toBe(true);
  });

  it('leaves an event stream open past the request timeout', async () => {
    const userId = freshUser();
    const { token } = await dev.issueToken(userId);
    const events = await openEvents(url, token, [`user:${userId}`]);
    expect(events.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(events.closed).toBe(false);
    expect((await push(url, userId, 1)).status).toBe(200);
    await expect.poll(() => events.pokes.length).toBe(1);
    events.close();
  });
});

describe('per-user budgets of mutations and bytes', () => {
  it('answers 429 with Retry-After once a user has pushed its mutation burst, and not for others', async () => {
    const url = await start({ rateLimit: { mutationsPerSecond: 2, mutationBurst: 10 } });
    const [heavy, light] = [freshUser(), freshUser()];
    expect((await push(url, heavy, 10)).status).toBe(200);
    const refused = await push(url, heavy, 5);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(2);
    expect(refused.body).toEqual({
      error: { code: 'rate_limited', message: 'too many mutations pushed; slow down' },
    });
    expect((await push(url, light, 5)).status).toBe(200);
  });

  it('answers 429 with Retry-After once a user has uploaded its byte burst', async () => {
    const url = await start({ rateLimit: { bytesPerSecond: 1000, byteBurst: 20_000 } });
    const user = freshUser();
    expect((await push(url, user, 1, 15_000)).status).toBe(200);
    const refused = await push(url, user, 1, 15_000);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(10);
    expect((refused.body as { error: { message: string } }).error.message).toBe(
      'too many bytes uploaded; slow down',
    );
    expect((await push(url, freshUser(), 1, 15_000)).status).toBe(200);
  });
});

describe('refusing a body before reading it', () => {
  /** `count` concurrent pushes of the same JSON text; each settles with its status or its error. */
  async function concurrentPushes(url: string, count: number, text: string) {
    const { token } = await dev.issueToken(freshUser());
    const settled = await Promise.allSettled(
      Array.from({ length: count }, async () => {
        const response = await fetch(`${url}/v1/push`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: text,
        });
        await response.arrayBuffer();
        return { status: response.status, retryAfter: response.headers.get('retry-after') };
      }),
    );
    return settled.map((s) =>
      s.status === 'fulfilled' ? s.value : String(s.reason?.cause ?? s.reason),
    );
  }

  it('answers 429 with Retry-After to each of many concurrent ~4 MB pushes past the byte budget', async () => {
    const url = await start({
      rateLimit: { bytesPerSecond: 1000, byteBurst: 5_000_000 },
      maxBodyBytes: 5 * 1024 * 1024,
    });
    const text = JSON.stringify(pushBody('u', 1, 4_000_000));
    const answers = await concurrentPushes(url, 32, text);
    // Before the fix the client saw `write EPIPE` / `ECONNRESET` instead of some of the 429s.
    expect(answers.filter((a) => typeof a === 'string')).toEqual([]);
    const refused = answers.filter((a) => typeof a !== 'string' && a.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(30);
    for (const answer of refused) {
      expect(typeof answer !== 'string' && Number(answer.retryAfter)).toBeGreaterThan(0);
    }
  });

  /**
   * Sends a push's headers declaring `declared` bytes and the first `sent` bytes of its body on a
   * raw connection, waits for the answer, then sends the rest of the body.
   */
  async function refusedThenFinished(
    url: string,
    declared: number,
    sent: number,
    { userId = freshUser(), pauseMs = 0 } = {},
  ) {
    const { token } = await dev.issueToken(userId);
    // Half-open, as a client still sending its body is: the server's FIN does not end it.
    const raw = await rawSocket(url, { allowHalfOpen: true });
    let writeError: unknown;
    raw.socket.removeAllListeners('error');
    raw.socket.on('error', (error) => {
      writeError = error;
    });
    raw.socket.write(
      `POST /v1/push HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`,
    );
    raw.socket.write(Buffer.alloc(sent, 0x20));
    await expect.poll(raw.received, { timeout: 10_000 }).toMatch(/\r\n\r\n/);
    const answer = raw.received();
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    // The client was still sending when the answer came: it sends the rest, as fetch would.
    for (let left = declared - sent; left > 0; left -= 65_536) {
      raw.socket.write(Buffer.alloc(Math.min(left, 65_536), 0x20));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { raw, answer, writeError: () => writeError };
  }

  it('reads and discards a refused body of modest size, even sent slowly, then closes', async () => {
    const url = await start({ rateLimit: { bytesPerSecond: 1000, byteBurst: 20_000 } });
    const userId = freshUser();
    expect((await push(url, userId, 1, 15_000)).status).toBe(200);
    const { raw, answer, writeError } = await refusedThenFinished(url, 900_000, 1000, {
      userId,
      pauseMs: 2500,
    });
    expect(answer).toMatch(/^HTTP\/1\.1 429 /);
    expect(answer).toMatch(/\r\nretry-after: \d+\r\n/i);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(writeError()).toBeUndefined();
    raw.socket.end();
    await expect.poll(raw.closed, { timeout: 5000 }).toBe(true);
    expect(writeError()).toBeUndefined();
  });

  it('lingers after refusing a body too large to read: the client can finish sending', async () => {
    const url = await start({ rateLimit: false, maxBodyBytes: 64 * 1024 });
    const declared = 12 * 1024 * 1024;
    const { raw, answer, writeError } = await refusedThenFinished(url, declared, 200_000);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(writeError()).toBeUndefined();
    raw.socket.end();
    await expect.poll(raw.closed, { timeout: 5000 }).toBe(true);
    expect(writeError()).toBeUndefined();
  });

  it('answers 413 to each of many concurrent bodies far over the limit, then closes', async () => {
    const url = await start({ rateLimit: false, maxBodyBytes: 64 * 1024 });
    const answers = await concurrentPushes(url, 8, 'x'.repeat(12 * 1024 * 1024));
    expect(answers.filter((a) => typeof a === 'string')).toEqual([]);
    expect(answers.map((a) => typeof a !== 'string' && a.status)).toEqual(Array(8).fill(413));
  });
});

describe('fair turns of pushes', () => {
  it("puts a light user's push ahead of a heavy user's queued burst", async () => {
    const url = await start({ rateLimit: false });
    const [heavy, light] = [freshUser(), freshUser()];
    slowUsers.add(heavy);
    pushCalls.length = 0;
    const burst = Array.from({ length: 6 }, () => push(url, heavy, 200, 200));
    await expect.poll(() => pushCalls.length).toBeGreaterThanOrEqual(1);
    const lightPush = push(url, light, 1);
    const answers = await Promise.all([...burst, lightPush]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200, 200]);
    // Without turns, all six heavy pushes were in the store's queue before the light one.
    expect(pushCalls.indexOf(light)).toBeLessThanOrEqual(2);
    expect(pushCalls.filter((u) => u === heavy)).toHaveLength(6);
  });

  it("refuses a user's pushes beyond its queue with 429 busy", async () => {
    const url = await start({
      rateLimit: false,
      pushConcurrencyPerUser: 1,
      maxQueuedPushesPerUser: 2,
    });
    const heavy = freshUser();
    slowUsers.add(heavy);
    const answers = await Promise.all(Array.from({ length: 6 }, () => push(url, heavy, 100, 100)));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(3);
    const busy = answers.filter((a) => a.status === 429);
    expect(busy.length).toBeGreaterThanOrEqual(1);
    expect(busy[0]?.headers.get('retry-after')).toBe('1');
    expect(busy[0]?.body).toMatchObject({ error: { code: 'busy' } });
  });
});
