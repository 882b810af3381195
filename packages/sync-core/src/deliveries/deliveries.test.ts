import { describe, expect, it } from 'vitest';
import type { SyncClient } from '../api/client.js';
import { createSyncClient } from '../client/create-sync-client.js';
import { settle, testEnvironment } from '../client/test-support.js';
import { isSyncError, SyncError } from '../errors/sync-error.js';
import type { Delivery } from '../protocol/types.js';
import { sessionTargeting } from '../sessions/session-targeting.js';
import { memoryStorage } from '../storage/memory.js';
import type { StorageAdapter } from '../storage/types.js';
import { createMemoryServer, type MemoryServer } from '../testing/memory-server.js';
import type { SessionEvent } from '../transport/types.js';
import { type LockManagerLike, localLocks } from './locks.js';
import { otherSessions, scopeMembers, sessions } from './targets.js';

let seed = 4000;
const HOUR = 3_600_000;
const DELIVERY_ID = '018bcfe5-6800-7000-8000-000000000001';

function world(
  options: { members?: Record<string, string[]>; maxDeliveryTtlSeconds?: number } = {},
) {
  let now = 1_700_000_000_000;
  const server = createMemoryServer({
    environment: { now: () => now },
    ...(options.maxDeliveryTtlSeconds === undefined
      ? {}
      : { maxDeliveryTtlSeconds: options.maxDeliveryTtlSeconds }),
    authorizeScope: (userId, scope) =>
      scope === `user:${userId}` || (options.members?.[scope]?.includes(userId) ?? false),
    listScopeMembers: (scope) => options.members?.[scope] ?? [],
  });
  const clients: SyncClient[] = [];
  return {
    server,
    advance(ms: number) {
      now += ms;
    },
    /** A device: its own storage (one installation), signed in as `userId` with `sessionId`. */
    async device(
      userId: string,
      sessionId: string,
      extra: {
        storage?: StorageAdapter;
        locks?: LockManagerLike;
        label?: string;
        /** Registers the test's listener of every kind (`false`: the test registers its own). */
        all?: boolean;
        wrap?: (transport: ReturnType<MemoryServer['connect']>) => void;
      } = {},
    ) {
      const storage = extra.storage ?? memoryStorage();
      const transport = server.connect({ userId, sessionId });
      extra.wrap?.(transport);
      const received: Delivery[] = [];
      const client = createSyncClient({
        transport,
        storage,
        environment: testEnvironment({ seed: seed++ }),
        targeting: sessionTargeting(),
        label: extra.label ?? `${sessionId} device`,
        platform: 'test',
        ...(extra.locks === undefined ? {} : { locks: extra.locks }),
      });
      if (extra.all !== false) {
        client.on('delivery', ({ delivery }) => {
          received.push(delivery);
        });
      }
      clients.push(client);
      await client.start();
      await settle(10);
      return { client, storage, transport, received };
    },
    async stopAll() {
      for (const client of clients) await client.stop();
    },
  };
}

describe('client.sessions', () => {
  it('heartbeats with label and platform, lists devices, and a re-login replaces the old session', async () => {
    const w = world();
    const a = await w.device('u1', 'sA', { label: 'Desktop' });
    const c = await w.device('u1', 'sC', { label: 'Tablet' });
    expect(a.client.sessions.current).toMatchObject({
      sessionId: 'sA',
      label: 'Desktop',
      platform: 'test',
      active: true,
      clientId: a.client.clientId,
    });
    expect((await a.client.sessions.list()).map((s) => s.sessionId).sort()).toEqual(['sA', 'sC']);
    // C signs out and in again on the same device: same installation, new session.
    await c.client.stop();
    const c2 = await w.device('u1', 'sC2', { storage: c.storage, label: 'Tablet' });
    expect(c2.client.clientId).toBe(c.client.clientId);
    const listed = await a.client.sessions.list();
    expect(listed.map((s) => s.sessionId).sort()).toEqual(['sA', 'sC2']);
    await w.stopAll();
  });

  it('revoke signs one device out, revokeAll every one; a revoked device learns it', async () => {
    const w = world();
    const a = await w.device('u1', 'sA');
    const b = await w.device('u1', 'sB');
    const changes: Array<string | undefined> = [];
    b.client.sessions.on('change', ({ current }) => changes.push(current?.sessionId));
    await a.client.sessions.revoke('sB');
    expect((await a.client.sessions.list()).map((s) => s.sessionId)).toEqual(['sA']);
    // B's next call is refused as revoked.
    await expect(b.client.sessions.list()).rejects.toMatchObject({ code: 'session_revoked' });
    await a.client.sessions.revokeAll();
    expect(a.client.sessions.current?.revokedAt).toBeDefined();
    await expect(a.client.sessions.list()).rejects.toMatchObject({ kind: 'auth' });
    await w.stopAll();
  });

  it("another user's session cannot be revoked: 404, and nothing changes", async () => {
    const w = world();
    const a = await w.device('u1', 'sA');
    const other = await w.device('u2', 'sX');
    const error = await a.client.sessions.revoke('sX').catch((e: unknown) => e);
    expect(isSyncError(error) && error.status).toBe(404);
    expect((await other.client.sessions.list()).map((s) => s.sessionId)).toEqual(['sX']);
    await w.stopAll();
  });
});

describe('client.deliveries', () => {
  it('reaches every other session once, never the sender or another user; stale sessions do not block completion', async () => {
    const w = world();
    const d = await w.device('u1', 'sD');
    await d.client.stop(); // an abandoned tab: silent from now on
    w.advance(25 * HOUR);
    const a = await w.device('u1', 'sA');
    const b = await w.device('u1', 'sB');
    const c = await w.device('u1', 'sC');
    const other = await w.device('u2', 'sX');
    const sent = await a.client.deliveries.send({ kind: 'note', payload: { text: 'hi' } });
    expect([...(sent.targetSessionIds ?? [])].sort()).toEqual(['sB', 'sC']);
    await settle(20);
    expect(b.received.map((x) => x.id)).toEqual([sent.id]);
    expect(c.received.map((x) => x.id)).toEqual([sent.id]);
    expect(b.received[0]?.payload).toEqual({ text: 'hi' });
    expect(a.received).toEqual([]);
    expect(other.received).toEqual([]);
    expect(d.received).toEqual([]);
    const status = await a.client.deliveries.status(sent.id);
    expect(status).toMatchObject({ complete: true, expired: false });
    expect([...status.acked].sort()).toEqual(['sB', 'sC']);
    // Catch-ups after reconnections hand nothing over again.
    await b.client.stop();
    await b.client.start();
    await settle(20);
    expect(b.received).toHaveLength(1);
    await w.stopAll();
  });

  it('sessions([...]) reaches only the listed sessions, scopeMembers every member', async () => {
    const w = world({ members: { 'workspace:1': ['u1', 'u2'] } });
    const a = await w.device('u1', 'sA');
    const b = await w.device('u1', 'sB');
    const c = await w.device('u1', 'sC');
    const x = await w.device('u2', 'sX');
    const only = await a.client.deliveries.send({ kind: 'k', target: sessions(['sC']) });
    const all = await a.client.deliveries.send({ kind: 'k', target: scopeMembers('workspace:1') });
    await settle(40);
    expect(b.received.map((d) => d.id)).toEqual([all.id]);
    expect(c.received.map((d) => d.id)).toEqual([only.id, all.id]);
    expect(x.received.map((d) => d.id)).toEqual([all.id]);
    // Targeting another user's session is refused.
    await expect(
      a.client.deliveries.send({ kind: 'k', target: sessions(['sX']) }),
    ).rejects.toMatchObject({ status: 403 });
    // A scope the sender is no member of is refused.
    await expect(
      a.client.deliveries.send({ kind: 'k', target: scopeMembers('workspace:2') }),
    ).rejects.toMatchObject({ status: 403 });
    expect(otherSessions()).toEqual({ type: 'otherSessions' });
    await w.stopAll();
  });

  it('a hint that carries the delivery is handled at once, without listing pending deliveries, and once', async () => {
    const w = world();
    const a = await w.device('u1', 'sA');
    let hint: ((event: SessionEvent) => void) | undefined;
    let listings = 0;
    const b = await w.device('u1', 'sB', {
      wrap(transport) {
        // B hears only the hints this test gives it.
        transport.sessionEvents = (listener) => {
          hint = listener;
          return () => {};
        };
        const pending = transport.deliveries.pending.bind(transport.deliveries);
        transport.deliveries.pending = (signal) => {
          listings++;
          return pending(signal);
        };
      },
    });
    const listedAtStart = listings;
    const sent = await a.client.deliveries.send({ kind: 'note', payload: { n: 1 } });
    const { targetSessionIds: _targets, ...delivery } = sent;
    hint?.({ type: 'delivery', id: sent.id, delivery });
    await settle(20);
    expect(b.received.map((x) => x.id)).toEqual([sent.id]);
    expect(b.received[0]?.payload).toEqual({ n: 1 });
    expect(listings).toBe(listedAtStart);
    expect((await a.client.deliveries.status(sent.id)).complete).toBe(true);
    // The same hint again (a duplicate, or after the ack): not handed over twice.
    hint?.({ type: 'delivery', id: sent.id, delivery });
    await settle(20);
    expect(b.received).toHaveLength(1);
    // A hint without the delivery still lists.
    hint?.({ type: 'delivery', id: sent.id });
    await settle(20);
    expect(listings).toBe(listedAtStart + 1);
    expect(b.received).toHaveLength(1);
    await w.stopAll();
  });

  it('a session that reloads before its acknowledgement landed never handles it twice', async () => {
    const w = world();
    const a = await w.device('u1', 'sA');
    const b = await w.device('u1', 'sB');
    let calls = 0;
    b.client.on('delivery', () => {
      calls++;
    });
    // B goes offline at the network level: the handler runs, the ack cannot be sent.
    b.transport.deliveries.ack = () => Promise.reject(new Error('network down'));
    const sent = await a.client.deliveries.send({ kind: 'k' });
    await settle(20);
    expect(calls).toBe(1);
    expect((await a.client.deliveries.status(sent.id)).acked).toEqual([]);
    await b.client.stop();
    // Reload: a new client on the same storage and session, network back.
    const b2 = await w.device('u1', 'sB', { storage: b.storage });
    let again = 0;
    b2.client.on('delivery', () => {
      again++;
    });
    await settle(20);
    expect(again).toBe(0);
    expect(b2.received).toEqual([]);
    expect((await a.client.deliveries.status(sent.id)).complete).toBe(true);
    await w.stopAll();
  });

  it('an acknowledgement answered by a wrong baseUrl (misconfigured 404) is sent again once fixed, not taken as gone', async () => {
    const w = world();
    const a = await w.device('u1', 'sA');
    const b = await w.device('u1', 'sB');
    const ack = b.transport.deliveries.ack.bind(b.transport.deliveries);
    let misconfigured = true;
    let refused = 0;
    b.transport.deliveries.ack = (id, signal) => {
      if (!misconfigured) return ack(id, signal);
      refused++;
      return Promise.reject(
        new SyncError('misconfigured', 'ack: no such route: check baseUrl', {
          status: 404,
          code: 'no_such_route',
        }),
      );
    };
    const sent = await a.client.deliveries.send({ kind: 'k' });
    await settle(20);
    expect(b.received.map((d) => d.id)).toEqual([sent.id]);
    expect(refused).toBeGreaterThan(0);
    expect((await a.client.deliveries.status(sent.id)).acked).toEqual([]);
    misconfigured = false; // the setup is corrected
    b.client.syncNow().catch(() => undefined);
    await settle(20);
    expect((await a.client.deliveries.status(sent.id)).acked).toEqual(['sB']);
    await w.stopAll();
  });

  it('several tabs of one session: the handler runs once in all', async () => {
    const w = world();
    const a = await w.device('u1', 'sA');
    const storage = memoryStorage();
    const locks = localLocks();
    const tab1 = await w.device('u1', 'sB', { storage, locks });
    const tab2 = await w.device('u1', 'sB', { storage, locks });
    await a.client.deliveries.send({ kind: 'k' });
    await settle(30);
    expect(tab1.received.length + tab2.received.length).toBe(1);
    await w.stopAll();
  });

  it('a listener of one kind: another kind waits unacknowledged, then reaches a listener of its kind once', async () => {
    const w = world();
    const a = await w.device('u1', 'sA');
    const b = await w.device('u1', 'sB', { all: false });
    const seen = { chat: [] as string[], url: [] as string[], all: [] as string[] };
    const push =
      (list: string[]) =>
      ({ delivery }: { delivery: Delivery }) => {
        list.push(delivery.id);
      };
    b.client.on('delivery', push(seen.chat), { kind: 'chat' });
    const url = await a.client.deliveries.send({ kind: 'open-url' });
    const chat = await a.client.deliveries.send({ kind: 'chat' });
    await settle(20);
    expect(seen.chat).toEqual([chat.id]);
    expect((await a.client.deliveries.status(chat.id)).complete).toBe(true);
    // Nobody in B listens for 'open-url': not acknowledged, it waits on the server.
    expect((await a.client.deliveries.status(url.id)).acked).toEqual([]);
    await b.client.stop();
    await b.client.start(); // a catch-up still hands it to nobody
    await settle(20);
    expect((await a.client.deliveries.status(url.id)).complete).toBe(false);
    b.client.on('delivery', push(seen.url), { kind: 'open-url' });
    await settle(20);
    expect(seen.url).toEqual([url.id]);
    expect((await a.client.deliveries.status(url.id)).complete).toBe(true);
    // An every-kind listener gets every later delivery, next to the listener of its kind.
    b.client.on('delivery', push(seen.all));
    const chat2 = await a.client.deliveries.send({ kind: 'chat' });
    const note = await a.client.deliveries.send({ kind: 'note' });
    await settle(20);
    expect(seen.all).toEqual([chat2.id, note.id]);
    expect(seen.chat).toEqual([chat.id, chat2.id]);
    expect(seen.url).toEqual([url.id]);
    // Exactly once still, after a reload.
    await b.client.stop();
    await b.client.start();
    await settle(20);
    expect(seen).toEqual({ chat: [chat.id, chat2.id], url: [url.id], all: [chat2.id, note.id] });
    expect(() => b.client.on('delivery', push(seen.all), { kind: '' })).toThrow(
      expect.objectContaining({ kind: 'invalid' }),
    );
    await w.stopAll();
  });

  it('two tabs of one session, one listening for chat, the other for open-url: each gets its own once', async () => {
    const w = world();
    const a = await w.device('u1', 'sA');
    const storage = memoryStorage();
    const locks = localLocks();
    const tab1 = await w.device('u1', 'sB', { storage, locks, all: false });
    const tab2 = await w.device('u1', 'sB', { storage, locks, all: false });
    const chats: string[] = [];
    const urls: string[] = [];
    tab1.client.on('delivery', ({ delivery }) => void chats.push(delivery.id), { kind: 'chat' });
    tab2.client.on('delivery', ({ delivery }) => void urls.push(delivery.id), { kind: 'open-url' });
    const url = await a.client.deliveries.send({ kind: 'open-url' });
    const chat = await a.client.deliveries.send({ kind: 'chat' });
    await settle(30);
    expect(chats).toEqual([chat.id]);
    expect(urls).toEqual([url.id]);
    expect((await a.client.deliveries.status(url.id)).complete).toBe(true);
    expect((await a.client.deliveries.status(chat.id)).complete).toBe(true);
    await w.stopAll();
  });

  it('a handler that throws leaves the delivery to be offered again; explicit ack() acknowledges', async () => {
    const w = world();
    const a = await w.device('u1', 'sA');
    const b = await w.device('u1', 'sB');
    let fail = true;
    const busy = new Error('busy');
    const failures: SyncError[] = [];
    b.client.on('deliveryFailed', (error) => failures.push(error));
    b.client.on('delivery', async ({ ack }) => {
      if (fail) throw busy;
      await ack();
    });
    const sent = await a.client.deliveries.send({ kind: 'k' });
    await settle(20);
    // The handler's own error, as kind `app` (not a network failure), with it as the cause.
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ kind: 'app', message: 'busy', cause: busy });
    expect((await a.client.deliveries.status(sent.id)).complete).toBe(false);
    fail = false;
    await b.client.stop();
    await b.client.start();
    await settle(20);
    expect((await a.client.deliveries.status(sent.id)).complete).toBe(true);
    await w.stopAll();
  });

  it('a payload that is not JSON (a BigInt, a cycle) is refused at once as invalid, not retried for ever', async () => {
    const w = world();
    const a = await w.device('u1', 'sA');
    await w.device('u1', 'sB');
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const payload of [{ n: 1n }, cycle]) {
      let outcome: unknown;
      a.client.deliveries.send({ kind: 'k', payload: payload as never }).then(
        (delivery) => (outcome = delivery),
        (error: unknown) => (outcome = error),
      );
      await settle(30);
      expect(outcome).toMatchObject({ name: 'SyncError', kind: 'invalid' });
    }
    expect(w.server.sessionRoutes.sessions.pending({ userId: 'u1', sessionId: 'sB' })).toEqual([]);
    await w.stopAll();
  });

  it('expires at its TTL on the server clock: no longer listed, acknowledgements answer 404', async () => {
    const w = world();
    const a = await w.device('u1', 'sA');
    const b = await w.device('u1', 'sB');
    b.client.off('delivery', () => {});
    const sent = await a.client.deliveries.send({ kind: 'k', ttl: 60 });
    w.advance(61_000);
    const status = await a.client.deliveries.status(sent.id);
    expect(status).toMatchObject({ expired: true, complete: false });
    const error = await b.transport.deliveries.ack(sent.id).catch((e: unknown) => e);
    expect(isSyncError(error) && error.status).toBe(404);
    expect(await b.transport.deliveries.pending()).toEqual([]);
    await w.stopAll();
  });

  it('under a server cap below 48 h, a send without ttl lives until the cap; a ttl above the cap is refused', async () => {
    const w = world({ maxDeliveryTtlSeconds: 3600 });
    const a = await w.device('u1', 'sA');
    const b = await w.device('u1', 'sB');
    await b.client.stop(); // B stays a target and never acknowledges
    const sent = await a.client.deliveries.send({ kind: 'k' });
    expect(sent.expiresAt - sent.createdAt).toBe(HOUR);
    w.advance(HOUR - 1_000);
    expect(await a.client.deliveries.status(sent.id)).toMatchObject({ expired: false });
    w.advance(1_000);
    expect(await a.client.deliveries.status(sent.id)).toMatchObject({ expired: true });
    const error = await a.client.deliveries.send({ kind: 'k', ttl: 7200 }).catch((e: unknown) => e);
    expect(isSyncError(error) && [error.kind, error.status, error.code]).toEqual([
      'rejected',
      400,
      'invalid',
    ]);
    expect(String(error)).toContain('3600');
    await w.stopAll();
  });

  it('acknowledgements from a non-target or another user change nothing and look like an unknown id', async () => {
    const w = world();
    const a = await w.device('u1', 'sA');
    const b = await w.device('u1', 'sB');
    const x = await w.device('u2', 'sX');
    const server: MemoryServer = w.server;
    await a.client.stop(); // A's own acknowledgement would land otherwise
    const sent = await b.transport.deliveries.send({
      id: DELIVERY_ID,
      scope: 'user:u1',
      kind: 'k',
      target: { type: 'sessions', ids: ['sA'] },
      ttlSeconds: 600,
    });
    const fromSender = await b.transport.deliveries.ack(sent.id).catch((e: unknown) => e);
    const fromOther = await x.transport.deliveries.ack(sent.id).catch((e: unknown) => e);
    const unknown = await x.transport.deliveries.ack('nope').catch((e: unknown) => e);
    for (const error of [fromSender, fromOther, unknown]) {
      expect(isSyncError(error) && [error.status, error.code]).toEqual([404, 'not_found']);
    }
    const status = server.sessionRoutes.sessions.status(
      { userId: 'u1', sessionId: 'sA' },
      DELIVERY_ID,
    );
    expect(status.status.acked).toEqual([]);
    // The other user cannot read its status either.
    await expect(x.transport.deliveries.status?.(DELIVERY_ID)).rejects.toMatchObject({
      status: 404,
    });
    void a;
    await w.stopAll();
  });
});
