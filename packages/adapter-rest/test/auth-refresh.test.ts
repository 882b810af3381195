/**
 * A 401 asks `getToken` for a fresh token once and re-sends the same request: an expired
 * access token must cost one round trip, never a dropped mutation.
 */
import type { Mutation } from '@syncline/sync-core';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { restTransport } from '../src/index.js';
import { pushRequest, putMutation } from './support/fixtures.js';

const BASE = 'http://auth.test';
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

/** A server that accepts only `validToken` and records every push body it received. */
function acceptOnly(validToken: string) {
  const received: Array<{ auth: string | null; mutations: Mutation[] }> = [];
  server.use(
    http.post(`${BASE}/v1/push`, async ({ request }) => {
      const auth = request.headers.get('authorization');
      const body = (await request.json()) as { mutations: Mutation[] };
      received.push({ auth, mutations: body.mutations });
      if (auth !== `Bearer ${validToken}`) {
        return HttpResponse.json(
          { error: { code: 'unauthorized', message: 'token expired' } },
          { status: 401 },
        );
      }
      return HttpResponse.json({
        results: body.mutations.map((m, i) => ({ id: m.id, status: 'applied', revision: i + 1 })),
      });
    }),
  );
  return received;
}

/** A token provider that hands out `old` until asked to refresh, then `fresh`. */
function tokens(old: string, fresh: string | null) {
  const calls: boolean[] = [];
  let current: string | null = old;
  return {
    calls,
    getToken: async ({ forceRefresh }: { forceRefresh: boolean }) => {
      calls.push(forceRefresh);
      if (forceRefresh) current = fresh;
      return current;
    },
  };
}

describe('401 refresh and retry', () => {
  it('refreshes once and re-sends the identical batch, so every mutation is applied', async () => {
    const received = acceptOnly('fresh');
    const auth = tokens('expired', 'fresh');
    const transport = restTransport({ baseUrl: BASE, getToken: auth.getToken, realtime: false });
    const mutations = [1, 2, 3].map((n) => putMutation('user:1', `r${n}`, { n }));

    const response = await transport.push(pushRequest(mutations));

    expect(response.results.map((r) => [r.id, r.status])).toEqual(
      mutations.map((m) => [m.id, 'applied']),
    );
    expect(auth.calls).toEqual([false, true]);
    expect(received.map((r) => r.auth)).toEqual(['Bearer expired', 'Bearer fresh']);
    // Nothing dropped or altered between the two attempts.
    expect(received[1]!.mutations).toEqual(mutations);
    expect(received[0]!.mutations).toEqual(mutations);
  });

  it('does not refresh the token of a signed-out session: a 401 `session_revoked` is answered as is', async () => {
    let requests = 0;
    server.use(
      http.post(`${BASE}/v1/push`, () => {
        requests += 1;
        return HttpResponse.json(
          { error: { code: 'session_revoked', message: 'this session was signed out' } },
          { status: 401 },
        );
      }),
    );
    const auth = tokens('revoked-session', 'a-new-session');
    const transport = restTransport({ baseUrl: BASE, getToken: auth.getToken, realtime: false });

    await expect(
      transport.push(pushRequest([putMutation('user:1', 'a', { n: 1 })])),
    ).rejects.toMatchObject({ kind: 'auth', status: 401, code: 'session_revoked' });
    // A refresh would have signed a new session in (an app's getToken may sign in again).
    expect(auth.calls).toEqual([false]);
    expect(requests).toBe(1);
  });

  it('gives up with `auth` after the refreshed token is refused too, without a third attempt', async () => {
    const received = acceptOnly('never-issued');
    const auth = tokens('expired', 'also-bad');
    const transport = restTransport({ baseUrl: BASE, getToken: auth.getToken, realtime: false });

    await expect(
      transport.push(pushRequest([putMutation('user:1', 'a', { n: 1 })])),
    ).rejects.toMatchObject({ kind: 'auth', status: 401, code: 'unauthorized' });
    expect(auth.calls).toEqual([false, true]);
    expect(received).toHaveLength(2);
  });

  it('treats a refresh that yields no token as signed out: `auth`', async () => {
    acceptOnly('fresh');
    const auth = tokens('expired', null);
    const transport = restTransport({ baseUrl: BASE, getToken: auth.getToken, realtime: false });
    await expect(
      transport.push(pushRequest([putMutation('user:1', 'a', { n: 1 })])),
    ).rejects.toMatchObject({ kind: 'auth' });
  });

  it('a throwing token provider is an `auth` error, not an exception of another type', async () => {
    acceptOnly('fresh');
    const transport = restTransport({
      baseUrl: BASE,
      getToken: () => {
        throw new Error('refresh token revoked');
      },
      realtime: false,
    });
    await expect(
      transport.push(pushRequest([putMutation('user:1', 'a', { n: 1 })])),
    ).rejects.toMatchObject({ kind: 'auth', code: 'token_unavailable' });
  });

  it('concurrent 401s share one refresh', async () => {
    acceptOnly('fresh');
    const auth = tokens('expired', 'fresh');
    const transport = restTransport({ baseUrl: BASE, getToken: auth.getToken, realtime: false });
    const pushes = [1, 2, 3, 4].map((n) =>
      transport.push(pushRequest([putMutation('user:1', `r${n}`, { n })])),
    );
    const responses = await Promise.all(pushes);
    expect(responses.every((r) => r.results[0]?.status === 'applied')).toBe(true);
    expect(auth.calls.filter((forced) => forced)).toHaveLength(1);
  });

  it('a 401 that arrives after a refresh replaced its token is retried with that token, not refreshed again', async () => {
    const received = acceptOnly('fresh');
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The expired-token request of record `late` is answered only once the other push is done.
    server.use(
      http.post(`${BASE}/v1/push`, async ({ request }) => {
        const body = (await request.clone().json()) as { mutations: Mutation[] };
        const auth = request.headers.get('authorization');
        if (body.mutations[0]?.recordId === 'late' && auth === 'Bearer expired') await held;
        return undefined; // answered by acceptOnly's handler
      }),
    );
    const auth = tokens('expired', 'fresh');
    const transport = restTransport({ baseUrl: BASE, getToken: auth.getToken, realtime: false });
    const late = transport.push(pushRequest([putMutation('user:1', 'late', { n: 1 })]));
    const first = await transport.push(pushRequest([putMutation('user:1', 'early', { n: 2 })]));
    expect(first.results[0]?.status).toBe('applied');
    release();
    expect((await late).results[0]?.status).toBe('applied');
    expect(auth.calls.filter((forced) => forced)).toHaveLength(1);
    expect(received.map((r) => [r.mutations[0]?.recordId, r.auth])).toEqual([
      ['early', 'Bearer expired'],
      ['early', 'Bearer fresh'],
      ['late', 'Bearer expired'],
      ['late', 'Bearer fresh'],
    ]);
  });

  it('a 401 for a token taken while a refresh was under way waits for that refresh, not another', async () => {
    const received = acceptOnly('fresh');
    let finishRefresh: () => void = () => undefined;
    const refreshing = new Promise<void>((resolve) => {
      finishRefresh = resolve;
    });
    const calls: boolean[] = [];
    let current = 'expired';
    const getToken = async ({ forceRefresh }: { forceRefresh: boolean }) => {
      calls.push(forceRefresh);
      if (forceRefresh) {
        await refreshing;
        current = 'fresh';
      }
      return current;
    };
    const transport = restTransport({ baseUrl: BASE, getToken, realtime: false });
    const first = transport.push(pushRequest([putMutation('user:1', 'first', { n: 1 })]));
    await vi.waitFor(() => expect(calls).toEqual([false, true]));
    // Sent with the old token while the refresh is under way.
    const second = transport.push(pushRequest([putMutation('user:1', 'second', { n: 2 })]));
    await vi.waitFor(() => expect(received).toHaveLength(2));
    await new Promise((resolve) => setTimeout(resolve, 20));
    finishRefresh();
    const answers = await Promise.all([first, second]);
    expect(answers.map((answer) => answer.results[0]?.status)).toEqual(['applied', 'applied']);
    expect(calls.filter((forced) => forced)).toHaveLength(1);
  });

  it('403 is `auth` at once: a forbidden scope is not cured by a new token', async () => {
    const auth = tokens('t', 't2');
    server.use(
      http.post(`${BASE}/v1/push`, () =>
        HttpResponse.json({ error: { code: 'forbidden', message: 'no' } }, { status: 403 }),
      ),
    );
    const transport = restTransport({ baseUrl: BASE, getToken: auth.getToken, realtime: false });
    await expect(
      transport.push(pushRequest([putMutation('user:9', 'a', { n: 1 })])),
    ).rejects.toMatchObject({ kind: 'auth', status: 403 });
    expect(auth.calls).toEqual([false]);
  });
});
