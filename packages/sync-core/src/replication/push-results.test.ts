/**
 * Applying push answers (replication/push-results.ts), seen without the pull that would
 * otherwise repair the state: an applied delete is stored as a tombstone, and a conflict makes
 * the server's record the base at once (the view shows it before any pull).
 */
import { describe, expect, it } from 'vitest';
import { createSyncClient } from '../client/sync-client.js';
import { settle, testEnvironment } from '../client/test-support.js';
import { serverWins } from '../conflict/resolvers.js';
import type { ConflictResolver } from '../conflict/types.js';
import { memoryStorage } from '../storage/memory.js';
import { createMemoryServer } from '../testing/memory-server.js';
import type { SyncTransport } from '../transport/types.js';

let seed = 1300;

describe('applying push answers', () => {
  it('stores an applied delete as a tombstone at the new revision', async () => {
    const server = createMemoryServer();
    const storage = memoryStorage();
    const client = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage,
      environment: testEnvironment({ seed: seed++ }),
    });
    await client.start();
    await client.put('todos', 'x', { v: 1 });
    await client.syncNow();
    await client.delete('todos', 'x');
    await client.syncNow();
    expect(client.get('todos', 'x')).toBeUndefined();
    expect(await storage.get('user:u1', 'r/todos/x')).toMatchObject({
      id: 'x',
      revision: 2,
      deleted: true,
    });
    await client.stop();
  });

  it("makes the server's record of a conflict the base before any pull", async () => {
    const server = createMemoryServer();
    const options = { collections: { docs: { conflict: serverWins() } } };
    const other = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
      ...options,
    });
    const inner = server.connect({ userId: 'u1' });
    let pulls = true;
    const transport: SyncTransport = {
      push: (request, signal) => inner.push(request, signal),
      // Once `pulls` is off, a pull never answers: only the push answer can change the base.
      pull: (request, signal) => (pulls ? inner.pull(request, signal) : new Promise(() => {})),
      session: inner.session,
      subscribe: (scopes, _onPoke, onConnect) => inner.subscribe(scopes, () => {}, onConnect),
    };
    const mine = createSyncClient({
      transport,
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
      ...options,
    });
    await other.start();
    await other.put('docs', 'd', { title: 'base' });
    await other.syncNow();
    await mine.start();
    await mine.syncNow();
    pulls = false;
    await other.put('docs', 'd', { title: 'server' });
    await other.syncNow();
    await mine.put('docs', 'd', { title: 'mine' });
    await settle(); // pushed: a conflict, resolved for the server
    expect(server.records('user:u1').find((r) => r.id === 'd')?.data).toEqual({ title: 'server' });
    expect(mine.get('docs', 'd')).toEqual({ title: 'server' });
    expect(mine.recordStatus('docs', 'd')).toBe('synced');
    await other.stop();
  });

  /**
   * `mine` writes `title: 'mine'` over a record `other` has just changed on the server (to
   * `title: 'server'`, or deleted it), with pulls cut off: only the push answer and `resolver`
   * decide what `mine` and the server end with.
   */
  async function conflictWithoutPull(resolver: ConflictResolver, serverChange: 'put' | 'delete') {
    const server = createMemoryServer();
    const options = { collections: { docs: { conflict: resolver } } };
    const other = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
    });
    const inner = server.connect({ userId: 'u1' });
    let pulls = true;
    const transport: SyncTransport = {
      push: (request, signal) => inner.push(request, signal),
      pull: (request, signal) => (pulls ? inner.pull(request, signal) : new Promise(() => {})),
      session: inner.session,
      subscribe: (scopes, _onPoke, onConnect) => inner.subscribe(scopes, () => {}, onConnect),
    };
    const mine = createSyncClient({
      transport,
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
      ...options,
    });
    await other.start();
    await other.put('docs', 'd', { title: 'base' });
    await other.syncNow();
    await mine.start();
    await mine.syncNow();
    pulls = false;
    if (serverChange === 'put') await other.put('docs', 'd', { title: 'server' });
    else await other.delete('docs', 'd');
    await other.syncNow();
    await other.stop();
    await mine.put('docs', 'd', { title: 'mine' });
    await settle();
    await settle(); // a rewrite of the resolution is pushed too
    const onServer = () => server.records('user:u1').find((r) => r.id === 'd');
    return { mine, onServer };
  }

  it("pushes a resolver's merged data over the server's record", async () => {
    const { mine, onServer } = await conflictWithoutPull(
      ({ server }) => ({ action: 'write', data: { title: `mine+${server?.title}` } }),
      'put',
    );
    expect(onServer()).toMatchObject({ data: { title: 'mine+server' }, revision: 3 });
    expect(mine.get('docs', 'd')).toEqual({ title: 'mine+server' });
    expect(mine.recordStatus('docs', 'd')).toBe('synced');
    await mine.stop();
  });

  it('revives a record the server deleted when the resolver keeps the local write', async () => {
    const seen: unknown[] = [];
    const { mine, onServer } = await conflictWithoutPull(({ local, server }) => {
      seen.push(server);
      return { action: 'write', data: local };
    }, 'delete');
    // The resolver saw no server data (a tombstone is no data), and the write went over it.
    expect(seen).toEqual([null]);
    expect(onServer()).toMatchObject({ data: { title: 'mine' }, deleted: false, revision: 3 });
    expect(mine.get('docs', 'd')).toEqual({ title: 'mine' });
    expect(mine.recordStatus('docs', 'd')).toBe('synced');
    await mine.stop();
  });

  it('deletes the record on the server when the resolver writes null', async () => {
    const { mine, onServer } = await conflictWithoutPull(
      () => ({ action: 'write', data: null }),
      'put',
    );
    expect(onServer()).toMatchObject({ deleted: true, revision: 3 });
    expect(mine.get('docs', 'd')).toBeUndefined();
    expect(mine.recordStatus('docs', 'd')).toBe('synced');
    await mine.stop();
  });

  it('settles without another push when the resolution equals what the server holds', async () => {
    const { mine, onServer } = await conflictWithoutPull(
      ({ server }) => ({ action: 'write', data: server }),
      'put',
    );
    expect(onServer()).toMatchObject({ data: { title: 'server' }, revision: 2 });
    expect(mine.get('docs', 'd')).toEqual({ title: 'server' });
    expect(mine.recordStatus('docs', 'd')).toBe('synced');
    await mine.stop();
  });

  it('parks the conflict, losing nothing, when the resolver throws', async () => {
    const { mine, onServer } = await conflictWithoutPull(() => {
      throw new Error('resolver bug');
    }, 'put');
    expect(onServer()).toMatchObject({ data: { title: 'server' }, revision: 2 });
    expect(mine.conflicts()).toEqual([
      expect.objectContaining({
        collection: 'docs',
        recordId: 'd',
        local: { title: 'mine' },
        server: expect.objectContaining({ data: { title: 'server' }, revision: 2 }),
      }),
    ]);
    await mine.stop();
  });
});
