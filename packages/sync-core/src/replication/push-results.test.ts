/**
 * Applying push answers (replication/push-results.ts), seen without the pull that would
 * otherwise repair the state: an applied delete is stored as a tombstone, and a conflict makes
 * the server's record the base at once (the view shows it before any pull).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSyncClient } from '../client/create-sync-client.js';
import { settle, testEnvironment } from '../client/test-support.js';
import { lww, manual, serverWins } from '../conflict/resolvers.js';
import type { ConflictResolver } from '../conflict/types.js';
import { SyncError } from '../errors/sync-error.js';
import { memoryStorage } from '../storage/memory.js';
import type { StorageAdapter } from '../storage/types.js';
import { createMemoryServer } from '../testing/memory-server.js';
import type { MemoryTransport } from '../testing/memory-transport.js';
import type { SyncTransport } from '../transport/types.js';

let seed = 1300;

/** `inner` with a switch that makes every later pull hang (only push answers change the base). */
function withoutPulls(inner: MemoryTransport): { transport: SyncTransport; cut: () => void } {
  let pulls = true;
  const transport: SyncTransport = {
    push: (request, signal) => inner.push(request, signal),
    pull: (request, signal) => (pulls ? inner.pull(request, signal) : new Promise(() => {})),
    session: inner.session,
    subscribe: (options) => inner.subscribe({ ...options, onPoke: () => {} }),
  };
  return { transport, cut: () => (pulls = false) };
}

describe('applying push answers', () => {
  it('stores an applied delete as a tombstone at the new revision', async () => {
    const server = createMemoryServer();
    const storage = memoryStorage();
    const { transport, cut } = withoutPulls(server.connect({ userId: 'u1' }));
    const client = createSyncClient({
      transport,
      storage,
      environment: testEnvironment({ seed: seed++ }),
    });
    await client.start();
    await client.put('todos', 'x', { v: 1 });
    await client.syncNow();
    cut(); // only the push answer can write the tombstone
    await client.delete('todos', 'x');
    await settle();
    expect(client.get('todos', 'x')).toBeUndefined();
    expect(await storage.get('user:u1', 'r/todos/x')).toMatchObject({
      id: 'x',
      revision: 2,
      deleted: true,
    });
    await client.stop();
  });

  it('keeps a newer pulled record when the answer to an older push arrives after it', async () => {
    const server = createMemoryServer();
    const { transport, held } = holdingPushes(server.connect({ userId: 'u1' }));
    const storage = memoryStorage();
    const mine = createSyncClient({
      transport,
      storage,
      environment: testEnvironment({ seed: seed++ }),
    });
    const other = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
    });
    await mine.start();
    await other.start();
    held.on = true;
    await mine.put('docs', 'd', { by: 'mine' }); // applied at revision 1, answer held
    await settle();
    await other.put('docs', 'd', { by: 'other' }); // revision 2
    await other.syncNow();
    await settle(); // mine pulls revision 2 while its push answer is still on the way
    held.on = false;
    held.release();
    await settle();
    expect(server.records('user:u1').find((r) => r.id === 'd')?.revision).toBe(2);
    expect(mine.get('docs', 'd')).toEqual({ by: 'other' });
    expect(await storage.get('user:u1', 'r/docs/d')).toMatchObject({ revision: 2 });
    await mine.stop();
    await other.stop();
  });

  it('does not pull for the plain poke its own push caused', async () => {
    // A page of more than one change goes as a plain poke (no changes): a pull would follow.
    const server = createMemoryServer({ limits: { maxPullLimit: 1 } });
    const inner = server.connect({ userId: 'u1' });
    let pulls = 0;
    const transport: SyncTransport = {
      ...inner,
      push: (request, signal) => inner.push(request, signal),
      pull: (request, signal) => {
        pulls++;
        return inner.pull(request, signal);
      },
      subscribe: (options) => inner.subscribe(options),
      session: inner.session,
    };
    const mine = createSyncClient({
      transport,
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
      pullPageSize: 1,
    });
    const other = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
    });
    await mine.start();
    await other.start();
    await settle();
    const before = pulls;
    await mine.transaction((tx) => {
      tx.put('docs', 'a', { v: 1 });
      tx.put('docs', 'b', { v: 1 });
    });
    await settle();
    expect(server.records('user:u1')).toHaveLength(2);
    expect(pulls).toBe(before); // the poke announced revisions our push already explains
    await other.put('docs', 'c', { v: 1 });
    await settle();
    expect(mine.get('docs', 'c')).toEqual({ v: 1 }); // another device's write still arrives
    await mine.stop();
    await other.stop();
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
      subscribe: (options) => inner.subscribe({ ...options, onPoke: () => {} }),
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
  async function conflictWithoutPull(
    resolver: ConflictResolver,
    serverChange: 'put' | 'delete',
    options: { storage?: StorageAdapter; pushes?: number; purge?: boolean } = {},
  ) {
    const server = createMemoryServer();
    const other = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
    });
    const inner = server.connect({ userId: 'u1' });
    let pulls = true;
    // After `options.pushes` pushes, a push never answers (the app is closed before the next).
    let pushesLeft = Number.POSITIVE_INFINITY;
    const transport: SyncTransport = {
      push: (request, signal) =>
        pushesLeft-- > 0 ? inner.push(request, signal) : new Promise(() => {}),
      pull: (request, signal) => (pulls ? inner.pull(request, signal) : new Promise(() => {})),
      session: inner.session,
      subscribe: (options) => inner.subscribe({ ...options, onPoke: () => {} }),
    };
    const mine = createSyncClient({
      transport,
      storage: options.storage ?? memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
      collections: { docs: { conflict: resolver } },
    });
    await other.start();
    await other.put('docs', 'd', { title: 'base' });
    await other.syncNow();
    await mine.start();
    await mine.syncNow();
    pulls = false;
    pushesLeft = options.pushes ?? Number.POSITIVE_INFINITY;
    if (serverChange === 'put') await other.put('docs', 'd', { title: 'server' });
    else await other.delete('docs', 'd');
    await other.syncNow();
    if (options.purge === true) server.purgeTombstones();
    await other.stop();
    await mine.put('docs', 'd', { title: 'mine' });
    await settle();
    await settle(); // a rewrite of the resolution is pushed too
    const onServer = () => server.records('user:u1').find((r) => r.id === 'd');
    return { server, mine, onServer };
  }

  /** A client "restarted" on `storage`: its pulls hang, its pushes go to `server`. */
  async function restartOn(
    server: ReturnType<typeof createMemoryServer>,
    storage: StorageAdapter,
    resolver: ConflictResolver,
  ) {
    const { transport, cut } = withoutPulls(server.connect({ userId: 'u1' }));
    cut();
    const client = createSyncClient({
      transport,
      storage,
      environment: testEnvironment({ seed: seed++ }),
      collections: { docs: { conflict: resolver } },
    });
    await client.start();
    await settle();
    return client;
  }

  it('the next queued write of a record, rebased on the applied one, is pushed after a restart without a conflict', async () => {
    const server = createMemoryServer();
    const storage = memoryStorage();
    const inner = server.connect({ userId: 'u1' });
    let pushes = 0;
    let release = (): void => {};
    const transport: SyncTransport = {
      ...withoutPulls(inner).transport,
      push: async (request, signal) => {
        // The first push answers once the second write is queued; later pushes never answer.
        if (pushes++ > 0) return new Promise(() => {});
        await new Promise<void>((r) => (release = r));
        return inner.push(request, signal);
      },
    };
    const mine = createSyncClient({
      transport,
      storage,
      environment: testEnvironment({ seed: seed++ }),
    });
    await mine.start();
    await mine.put('docs', 'd', { v: 1 });
    await settle(); // v1 in flight
    await mine.put('docs', 'd', { v: 2 }); // queued behind it
    release();
    await settle();
    expect(server.records('user:u1').find((r) => r.id === 'd')).toMatchObject({ revision: 1 });
    await mine.stop();
    let asked = 0;
    const restarted = await restartOn(server, storage, () => {
      asked++;
      return { action: 'server' };
    });
    expect(asked).toBe(0);
    expect(server.records('user:u1').find((r) => r.id === 'd')).toMatchObject({
      data: { v: 2 },
      revision: 2,
    });
    expect(restarted.recordStatus('docs', 'd')).toBe('synced');
    await restarted.stop();
  });

  it('a conflict resolved for the server stays resolved after a restart', async () => {
    const storage = memoryStorage();
    const { server, mine, onServer } = await conflictWithoutPull(serverWins(), 'put', {
      storage,
    });
    await mine.stop();
    let asked = 0;
    const restarted = await restartOn(server, storage, (ctx) => {
      asked++;
      return serverWins()(ctx);
    });
    expect(asked).toBe(0); // the settled conflict is not pushed and resolved again
    expect(restarted.get('docs', 'd')).toEqual({ title: 'server' });
    expect(restarted.recordStatus('docs', 'd')).toBe('synced');
    expect(onServer()).toMatchObject({ data: { title: 'server' }, revision: 2 });
    await restarted.stop();
  });

  it("a resolver's rewrite not yet pushed survives a restart and is pushed without a new conflict", async () => {
    const storage = memoryStorage();
    let calls = 0;
    const merge: ConflictResolver = ({ server }) => {
      calls++;
      return { action: 'write', data: { title: `mine+${server?.title}` } };
    };
    const { server, mine, onServer } = await conflictWithoutPull(merge, 'put', {
      storage,
      pushes: 1, // the conflicting push answers; the rewrite's push never does
    });
    expect(calls).toBe(1);
    expect(mine.recordStatus('docs', 'd')).not.toBe('synced');
    await mine.stop();
    const restarted = await restartOn(server, storage, merge);
    expect(calls).toBe(1);
    expect(onServer()).toMatchObject({ data: { title: 'mine+server' }, revision: 3 });
    expect(restarted.get('docs', 'd')).toEqual({ title: 'mine+server' });
    expect(restarted.recordStatus('docs', 'd')).toBe('synced');
    await restarted.stop();
  });

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

  it('recreates a record whose tombstone the server purged when the resolver keeps the local write', async () => {
    const seen: unknown[] = [];
    const serverHlcs: string[] = [];
    const { mine, onServer } = await conflictWithoutPull(
      ({ local, serverRecord, serverHlc }) => {
        seen.push(serverRecord);
        serverHlcs.push(serverHlc);
        return { action: 'write', data: local };
      },
      'delete',
      { purge: true },
    );
    expect(seen).toEqual([null]); // the server holds nothing for it any more
    expect(serverHlcs).toEqual(['']); // and no time: any local write is later
    expect(onServer()).toMatchObject({ data: { title: 'mine' }, deleted: false });
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

  it('a server-wins resolution on a record whose tombstone the server purged drops the stale base', async () => {
    const storage = memoryStorage();
    const { mine, onServer } = await conflictWithoutPull(serverWins(), 'delete', {
      storage,
      purge: true,
    });
    expect(onServer()).toBeUndefined();
    // The server holds nothing: neither the local write nor the old base stays.
    expect(mine.get('docs', 'd')).toBeUndefined();
    expect(mine.status.pending).toBe(0);
    expect(await storage.get('user:u1', 'r/docs/d')).toBeUndefined();
    await mine.put('docs', 'd', { title: 'again' }); // a create again, on nothing
    await settle();
    expect(onServer()).toMatchObject({ data: { title: 'again' }, deleted: false });
    expect(mine.conflicts()).toEqual([]);
    await mine.stop();
  });

  it('the default resolver keeps the local write over a record whose tombstone the server purged', async () => {
    const { mine, onServer } = await conflictWithoutPull(lww(), 'delete', { purge: true });
    expect(onServer()).toMatchObject({ data: { title: 'mine' }, deleted: false });
    expect(mine.get('docs', 'd')).toEqual({ title: 'mine' });
    expect(mine.recordStatus('docs', 'd')).toBe('synced');
    expect(mine.conflicts()).toEqual([]);
    await mine.stop();
  });

  it("a server-wins resolution rebases the record's next queued write on the server's revision", async () => {
    const server = createMemoryServer();
    const other = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
    });
    const inner = server.connect({ userId: 'u1' });
    const { transport: noPulls, cut } = withoutPulls(inner);
    let hold: Promise<void> | undefined;
    let release = (): void => {};
    const transport: SyncTransport = {
      ...noPulls,
      push: async (request, signal) => {
        const waiting = hold;
        hold = undefined;
        if (waiting !== undefined) await waiting;
        return inner.push(request, signal);
      },
    };
    let asked = 0;
    const mine = createSyncClient({
      transport,
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
      collections: {
        docs: {
          conflict: (context) => {
            asked++;
            return serverWins()(context);
          },
        },
      },
    });
    await other.start();
    await other.put('docs', 'd', { title: 'base' });
    await other.syncNow();
    await mine.start();
    await mine.syncNow();
    cut();
    await other.put('docs', 'd', { title: 'server' }); // revision 2
    await other.syncNow();
    await other.stop();
    hold = new Promise<void>((r) => (release = r));
    await mine.put('docs', 'd', { title: 'first' }); // on revision 1: a conflict
    await settle();
    await mine.put('docs', 'd', { title: 'second' }); // queued behind it
    release();
    await settle(10);
    expect(asked).toBe(1); // only the first write conflicted
    const onServer = server.records('user:u1').find((r) => r.id === 'd');
    expect(onServer).toMatchObject({ data: { title: 'second' }, revision: 3 });
    expect(mine.get('docs', 'd')).toEqual({ title: 'second' });
    expect(mine.status.pending).toBe(0);
    await mine.stop();
  });

  it('a create that meets a record another device created is resolved on the server record', async () => {
    const server = createMemoryServer();
    const other = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
    });
    await other.start();
    await other.put('docs', 'd', { title: 'other' });
    await other.syncNow();
    await other.stop();
    const { transport, cut } = withoutPulls(server.connect({ userId: 'u1' }));
    cut(); // `mine` never learns of `other`'s record before its push
    const storage = memoryStorage();
    const mine = createSyncClient({
      transport,
      storage,
      environment: testEnvironment({ seed: seed++ }),
      collections: { docs: { conflict: serverWins() } },
    });
    await mine.start();
    await mine.put('docs', 'd', { title: 'mine' });
    await settle(10);
    expect(mine.get('docs', 'd')).toEqual({ title: 'other' });
    expect(mine.status.pending).toBe(0);
    expect(await storage.get('user:u1', 'r/docs/d')).toMatchObject({
      data: { title: 'other' },
      revision: 1,
    });
    await mine.stop();
  });

  it('a conflict answer older than a record pulled meanwhile does not replace it', async () => {
    const server = createMemoryServer();
    const { transport, held } = holdingPushes(server.connect({ userId: 'u1' }));
    const storage = memoryStorage();
    const mine = createSyncClient({
      transport,
      storage,
      environment: testEnvironment({ seed: seed++ }),
      collections: { docs: { conflict: serverWins() } },
    });
    const other = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
    });
    await other.start();
    await other.put('docs', 'd', { by: 'base' });
    await other.syncNow();
    await mine.start();
    await mine.syncNow();
    held.pokes = false; // `mine` does not hear of `other2` before its push
    await other.put('docs', 'd', { by: 'other2' });
    await other.syncNow();
    held.on = true;
    await mine.put('docs', 'd', { by: 'mine' }); // answered: a conflict with `other2`, held
    await settle();
    held.pokes = true;
    await other.put('docs', 'd', { by: 'other3' });
    await other.syncNow();
    await settle(); // mine pulls `other3` while the conflict answer is still on the way
    held.on = false;
    held.release();
    await settle();
    const latest = server.records('user:u1').find((r) => r.id === 'd');
    expect(latest?.data).toEqual({ by: 'other3' });
    expect(mine.get('docs', 'd')).toEqual({ by: 'other3' });
    expect(await storage.get('user:u1', 'r/docs/d')).toMatchObject({
      data: { by: 'other3' },
      revision: latest?.revision,
    });
    expect(mine.status.pending).toBe(0);
    await mine.stop();
    await other.stop();
  });

  it("a transaction member held back by its sibling's conflict is not parked: only the sibling is", async () => {
    const server = createMemoryServer();
    const other = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
    });
    const { transport, cut } = withoutPulls(server.connect({ userId: 'u1' }));
    const mine = createSyncClient({
      transport,
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
      collections: { docs: { conflict: manual() } },
    });
    await other.start();
    await other.put('docs', 'a', { v: 'base' });
    await other.put('docs', 'b', { v: 'base' });
    await other.syncNow();
    await mine.start();
    await mine.syncNow();
    cut();
    await other.put('docs', 'b', { v: 'other' });
    await other.syncNow();
    await other.stop();
    await mine.transaction((tx) => {
      tx.patch('docs', 'a', { v: 'mine' }); // on `a`'s server revision: no conflict of its own
      tx.put('docs', 'b', { v: 'mine' });
      tx.put('docs', 'c', { v: 'mine' }); // a create: the server has nothing, at revision 0
    });
    await settle(10);
    expect(mine.conflicts().map((c) => c.recordId)).toEqual(['b']);
    expect(mine.deadLetters()).toEqual([]);
    expect(mine.get('docs', 'a')).toEqual({ v: 'mine' });
    expect(mine.get('docs', 'c')).toEqual({ v: 'mine' });
    await mine.stop();
  });

  it('a transaction member whose tombstone the server purged conflicts on its own, not as a sibling', async () => {
    const server = createMemoryServer();
    const other = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
    });
    const { transport, cut } = withoutPulls(server.connect({ userId: 'u1' }));
    const mine = createSyncClient({
      transport,
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
      collections: { docs: { conflict: ({ local }) => ({ action: 'write', data: local }) } },
    });
    await other.start();
    await other.put('docs', 'd', { v: 'base' });
    await other.put('docs', 'e', { v: 'base' });
    await other.syncNow();
    await mine.start();
    await mine.syncNow();
    cut();
    await other.delete('docs', 'd');
    await other.syncNow();
    await other.stop();
    server.purgeTombstones(); // `d`'s server record is gone: its conflict carries no record
    await mine.transaction((tx) => {
      tx.put('docs', 'd', { v: 'mine' });
      tx.put('docs', 'e', { v: 'mine' });
    });
    await settle(10);
    const onServer = (id: string) => server.records('user:u1').find((r) => r.id === id)?.data;
    expect(onServer('d')).toEqual({ v: 'mine' });
    expect(onServer('e')).toEqual({ v: 'mine' });
    expect(mine.status.pending).toBe(0);
    expect(mine.conflicts()).toEqual([]);
    await mine.stop();
  });

  it('a transaction patching a record whose create was refused is decided on its own, not held as a sibling', async () => {
    const server = createMemoryServer();
    const inner = server.connect({ userId: 'u1' });
    let refuse = (): void => {};
    const transport: SyncTransport = {
      ...withoutPulls(inner).transport,
      push: (request, signal) =>
        request.mutations.some((m) => m.data?.poison === true)
          ? new Promise((_, reject) => {
              refuse = () => reject(new SyncError('rejected', 'Refused', { status: 400 }));
            })
          : inner.push(request, signal),
    };
    const mine = createSyncClient({
      transport,
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
    });
    await mine.start();
    await mine.syncNow();
    await mine.put('docs', 'x', { poison: true });
    await settle(); // out, and held
    // The view has `x` (not yet answered): the patch stays a patch, on no base (revision 0).
    await mine.transaction((tx) => {
      tx.patch('docs', 'x', { v: 2 });
      tx.put('docs', 'y', { v: 1 });
    });
    refuse();
    await settle(10);
    // The server has no `x`: the patch conflicts on its own (the default resolver writes it
    // whole), `y` was only held back by it; both go through in the end.
    expect(mine.deadLetters().map((l) => l.mutation.recordId)).toEqual(['x']);
    expect(server.records('user:u1').map((r) => [r.id, r.data])).toEqual([
      ['x', { v: 2 }],
      ['y', { v: 1 }],
    ]);
    expect(mine.status.pending).toBe(0);
    await mine.stop();
  });

  it("a resolver's rewrite is based on the server's record: a second conflict shows it as the base", async () => {
    const server = createMemoryServer();
    const other = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
    });
    const inner = server.connect({ userId: 'u1' });
    const { transport: noPulls, cut } = withoutPulls(inner);
    let pushes = 0;
    let release = (): void => {};
    const second = new Promise<void>((r) => (release = r));
    const transport: SyncTransport = {
      ...noPulls,
      push: async (request, signal) => {
        if (pushes++ === 1) await second; // the rewrite waits at the server's door
        return inner.push(request, signal);
      },
    };
    const bases: unknown[] = [];
    const mine = createSyncClient({
      transport,
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
      collections: {
        docs: {
          conflict: ({ base, server }) => {
            bases.push(base);
            return { action: 'write', data: { title: `mine+${server?.title}` } };
          },
        },
      },
    });
    await other.start();
    await other.put('docs', 'd', { title: 'base' });
    await other.syncNow();
    await mine.start();
    await mine.syncNow();
    cut();
    pushes = 0;
    await other.put('docs', 'd', { title: 'server' });
    await other.syncNow();
    await mine.put('docs', 'd', { title: 'mine' }); // conflicts; its rewrite is held
    await settle();
    await other.put('docs', 'd', { title: 'server2' }); // the rewrite will conflict too
    await other.syncNow();
    release();
    await settle(10);
    expect(bases).toEqual([{ title: 'base' }, { title: 'server' }]);
    expect(server.records('user:u1').find((r) => r.id === 'd')?.data).toEqual({
      title: 'mine+server2',
    });
    await mine.stop();
    await other.stop();
  });

  it("quarantines a conflict's server record that fails the collection's schema instead of showing it", async () => {
    const server = createMemoryServer();
    const other = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
    });
    const { transport, cut } = withoutPulls(server.connect({ userId: 'u1' }));
    const todo = z.object({ title: z.string(), done: z.boolean() });
    const mine = createSyncClient({
      transport,
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
      collections: { todos: { schema: todo, conflict: manual() } },
    });
    await other.start();
    await other.put('todos', 'd', { title: 'base', done: false });
    await other.syncNow();
    await mine.start();
    await mine.syncNow();
    cut();
    await other.put('todos', 'd', { title: 'server', done: 'maybe' }); // fails `mine`'s schema
    await other.syncNow();
    await other.stop();
    await mine.put('todos', 'd', { title: 'mine', done: true });
    await settle(10);
    expect(mine.conflicts().map((c) => c.recordId)).toEqual(['d']);
    expect(mine.invalidRecords().map((r) => [r.id, r.record.data])).toEqual([
      ['d', { title: 'server', done: 'maybe' }],
    ]);
    expect(mine.get('todos', 'd')).not.toEqual({ title: 'server', done: 'maybe' });
    await mine.stop();
  });

  it("settles a conflict whose server record's hlc is not an HLC (a custom adapter's timestamp)", async () => {
    const server = createMemoryServer();
    const inner = server.connect({ userId: 'u1' });
    // The answer's record carries a timestamp text of the adapter's own (valid on the wire: a
    // record's hlc is any plain text), which the client's clock cannot read.
    const transport: SyncTransport = {
      ...inner,
      push: async (request, signal) => {
        const answer = await inner.push(request, signal);
        return {
          results: answer.results.map((result) =>
            result.status === 'applied'
              ? {
                  id: result.id,
                  status: 'conflict' as const,
                  server: {
                    scope: 'user:u1',
                    collection: 'docs',
                    id: 'd',
                    data: { title: 'server' },
                    revision: result.revision,
                    hlc: '2026-12-05T16:00:00Z',
                    deleted: false,
                  },
                }
              : result,
          ),
        };
      },
      pull: (request, signal) => inner.pull(request, signal),
      subscribe: (options) => inner.subscribe(options),
      session: inner.session,
    };
    const mine = createSyncClient({
      transport,
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++ }),
      collections: { docs: { conflict: serverWins() } },
    });
    await mine.start();
    await mine.put('docs', 'd', { title: 'mine' });
    await expect(mine.syncNow({ timeoutMs: 2000 })).resolves.toMatchObject({ outcome: 'settled' });
    expect(mine.status).toMatchObject({ state: 'synced', pending: 0 });
    expect(mine.deadLetters()).toEqual([]);
    await mine.stop();
  });
});

/**
 * `inner` with push answers that can be held: while `held.on`, each answer waits for
 * `held.release()`. Pokes reach the client while `held.pokes`.
 */
function holdingPushes(inner: MemoryTransport) {
  const held = { on: false, pokes: true, release: (): void => {} };
  const transport: SyncTransport = {
    ...inner,
    push: async (request, signal) => {
      const answer = await inner.push(request, signal);
      if (held.on) await new Promise<void>((r) => (held.release = r));
      return answer;
    },
    pull: (request, signal) => inner.pull(request, signal),
    subscribe: (options) =>
      inner.subscribe({ ...options, onPoke: (poke) => held.pokes && options.onPoke(poke) }),
    session: inner.session,
  };
  return { transport, held };
}
