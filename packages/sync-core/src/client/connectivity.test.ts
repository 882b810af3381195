/**
 * What the app sees when the server cannot be reached, refuses the token, or does not answer:
 * `syncNow()` says what happened and never waits forever; a 401 pause resumes on a good token;
 * network failures read `offline` (in Node too) and the client probes back within seconds.
 * Virtual time throughout (a manual environment).
 */
import { describe, expect, it } from 'vitest';
import { SyncError } from '../errors/sync-error.js';
import type { PullRequest, PushRequest } from '../protocol/types.js';
import type { SyncStatus } from '../status/types.js';
import { memoryStorage } from '../storage/memory.js';
import { createMemoryServer } from '../testing/memory-server.js';
import { createSessionSource } from '../transport/session-source.js';
import type { SyncTransport } from '../transport/types.js';
import { createSyncClient } from './create-sync-client.js';
import { settle, testEnvironment } from './test-support.js';

let seed = 7000;

type Mode = 'up' | 'down' | 'hang' | 'unauthorized';

/** A memory-server transport whose server can be made unreachable, silent, or to refuse the token. */
function switchable(options: { probe?: boolean } = {}) {
  const server = createMemoryServer();
  const inner = server.connect({ userId: 'u1' });
  const state = { mode: 'up' as Mode, probes: 0, tokenAsks: 0 };
  const gate = <T>(call: () => Promise<T>): Promise<T> => {
    state.tokenAsks++;
    if (state.mode === 'down')
      return Promise.reject(new SyncError('network', 'fetch failed: ECONNREFUSED'));
    if (state.mode === 'hang') return new Promise<T>(() => {});
    if (state.mode === 'unauthorized')
      return Promise.reject(new SyncError('auth', 'a valid bearer token is required'));
    return call();
  };
  const transport: SyncTransport = {
    session: inner.session!,
    push: (req: PushRequest, signal?: AbortSignal) => gate(() => inner.push(req, signal)),
    pull: (req: PullRequest, signal?: AbortSignal) => gate(() => inner.pull(req, signal)),
  };
  if (options.probe !== false) {
    transport.probe = () => {
      state.probes++;
      return state.mode === 'down'
        ? Promise.reject(new SyncError('network', 'fetch failed: ECONNREFUSED'))
        : Promise.resolve();
    };
  }
  const env = testEnvironment({ seed: seed++ });
  const client = createSyncClient({ transport, storage: memoryStorage(), environment: env });
  const statuses: SyncStatus[] = [];
  client.on('status', (status) => statuses.push(status));
  return { server, state, env, client, statuses };
}

describe('syncNow', () => {
  it('says settled only after it synced, with nothing pending', async () => {
    const { client } = switchable();
    await client.start();
    await client.put('todos', 'a', { title: 'x' });
    const result = await client.syncNow();
    expect(result).toMatchObject({ outcome: 'settled', pending: 0 });
  });

  it('resolves offline (not never) while the server is unreachable', async () => {
    const { client, state } = switchable();
    await client.start();
    state.mode = 'down';
    await client.put('todos', 'a', { title: 'x' });
    const result = await client.syncNow();
    expect(result).toMatchObject({ outcome: 'offline', pending: 1, error: { kind: 'network' } });
  });

  it('resolves pending after timeoutMs when the server does not answer, and on abort', async () => {
    const { client, state, env } = switchable();
    await client.start();
    await client.syncNow();
    state.mode = 'hang';
    await client.put('todos', 'a', { title: 'x' });
    const waiting = client.syncNow({ timeoutMs: 5000 });
    await env.advance(5000);
    expect(await waiting).toMatchObject({ outcome: 'pending', reason: 'timeout', pending: 1 });

    const controller = new AbortController();
    const aborted = client.syncNow({ signal: controller.signal });
    controller.abort();
    expect(await aborted).toMatchObject({ outcome: 'pending', reason: 'aborted', pending: 1 });
  });

  it('says paused-auth, not settled, while the server refuses the token', async () => {
    const { client, state } = switchable();
    await client.start();
    state.mode = 'unauthorized';
    await client.put('todos', 'a', { title: 'x' });
    const result = await client.syncNow();
    expect(result).toMatchObject({ outcome: 'paused-auth', pending: 1, error: { kind: 'auth' } });
    expect(await client.syncNow()).toMatchObject({ outcome: 'paused-auth' });
  });

  it('says local when nobody is signed in, and stopped before start', async () => {
    const env = testEnvironment({ seed: seed++ });
    const transport = createMemoryServer().connect();
    const client = createSyncClient({ transport, storage: memoryStorage(), environment: env });
    expect(await client.syncNow()).toEqual({ outcome: 'stopped', pending: 0 });
    await client.start();
    if (client.status.userId === null) {
      expect(await client.syncNow()).toEqual({ outcome: 'local', pending: 0 });
    }
  });
});

describe('after a 401', () => {
  it('resumes on syncNow once getToken gives a good token again', async () => {
    const { client, state, server } = switchable();
    await client.start();
    state.mode = 'unauthorized';
    await client.put('todos', 'a', { title: 'x' });
    await settle();
    expect(client.status).toMatchObject({ state: 'error', error: { kind: 'auth' } });
    state.mode = 'up'; // the auth layer refreshed the token
    expect(await client.syncNow()).toMatchObject({ outcome: 'settled', pending: 0 });
    expect(client.status.state).toBe('synced');
    expect(server.appliedLog).toHaveLength(1);
  });

  it('resumes by itself once the token is good again (no session change, no syncNow)', async () => {
    const { client, state, env, server } = switchable();
    await client.start();
    state.mode = 'unauthorized';
    await client.put('todos', 'a', { title: 'x' });
    await settle();
    expect(client.status.state).toBe('error');
    state.mode = 'up';
    await env.advance(25_000); // first auth retry: 15 s ± 50 %
    await settle();
    expect(client.status).toMatchObject({ state: 'synced', pending: 0 });
    expect(server.appliedLog).toHaveLength(1);
  });
});

describe('after a 401, a sign-in', () => {
  it('resumes sync on the new session', async () => {
    const server = createMemoryServer();
    const inner = server.connect({ userId: 'u1' });
    let refused = true;
    const session = createSessionSource({ userId: 'u1', sessionId: 'old' });
    const transport: SyncTransport = {
      session,
      push: (req, signal) =>
        refused ? Promise.reject(new SyncError('auth', 'expired')) : inner.push(req, signal),
      pull: (req, signal) =>
        refused ? Promise.reject(new SyncError('auth', 'expired')) : inner.pull(req, signal),
    };
    const env = testEnvironment({ seed: seed++ });
    const client = createSyncClient({ transport, storage: memoryStorage(), environment: env });
    await client.start();
    await client.put('todos', 'a', { title: 'x' });
    await settle();
    expect(client.status).toMatchObject({ state: 'error', error: { kind: 'auth' } });
    refused = false;
    session.set({ userId: 'u1', sessionId: 'new' }); // signed in again
    await settle();
    expect(client.status).toMatchObject({ state: 'synced', pending: 0 });
    expect(server.appliedLog).toHaveLength(1);
  });
});

describe('network failures', () => {
  it('read offline with the network error (not error), and reconnect within seconds of the server coming back', async () => {
    const { client, state, env, statuses } = switchable();
    await client.start();
    await client.syncNow();
    state.mode = 'down';
    await client.put('todos', 'a', { title: 'x' });
    await settle();
    expect(client.status).toMatchObject({ state: 'offline', error: { kind: 'network' } });
    expect(statuses.some((status) => status.state === 'error')).toBe(false);

    // Down for two minutes: the client probes every few seconds instead of hammering push.
    const asksBefore = state.tokenAsks;
    await env.advance(120_000);
    expect(state.tokenAsks - asksBefore).toBe(0);
    expect(state.probes).toBeGreaterThanOrEqual(120 / 4.5);
    expect(client.status.state).toBe('offline');

    state.mode = 'up';
    await env.advance(4500); // at most one probe interval (3 s + 50 % jitter)
    await settle();
    expect(client.status).toMatchObject({ state: 'synced', pending: 0 });
    expect(client.status.error).toBeUndefined();
  });

  it('read offline without a probe too, and retry with backoff', async () => {
    const { client, state, env } = switchable({ probe: false });
    await client.start();
    await client.syncNow();
    state.mode = 'down';
    await client.put('todos', 'a', { title: 'x' });
    await settle();
    expect(client.status).toMatchObject({ state: 'offline', error: { kind: 'network' } });
    state.mode = 'up';
    await env.advance(120_000);
    await settle();
    expect(client.status).toMatchObject({ state: 'synced', pending: 0 });
  });
});
