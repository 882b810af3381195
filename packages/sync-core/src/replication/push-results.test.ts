/**
 * Applying push answers (replication/push-results.ts), seen without the pull that would
 * otherwise repair the state: an applied delete is stored as a tombstone, and a conflict makes
 * the server's record the base at once (the view shows it before any pull).
 */
import { describe, expect, it } from 'vitest';
import { createSyncClient } from '../client/sync-client.js';
import { settle, testEnvironment } from '../client/test-support.js';
import { serverWins } from '../conflict/resolvers.js';
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
});
