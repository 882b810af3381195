import { describe, expect, it } from 'vitest';
import { SyncError } from '../errors/sync-error.js';
import { memoryStorage } from '../storage/memory.js';
import { createMemoryServer } from '../testing/memory-server.js';
import type { SyncTransport } from '../transport/types.js';
import { createSyncClient } from './create-sync-client.js';
import { controlledStorage, replacedTransport, settle, testEnvironment } from './test-support.js';

let seed = 1;
/** Each client gets its own seed: two clients with one seed would mint the same mutation ids. */
const newEnv = () => testEnvironment({ seed: seed++ });

function setup(userId = 'u1') {
  const server = createMemoryServer();
  const env = newEnv();
  const storage = memoryStorage();
  const transport = server.connect({ userId });
  const client = createSyncClient({ transport, storage, environment: env });
  return { server, env, storage, transport, client };
}

describe('SyncClient: local writes', () => {
  it('changes the view synchronously and resolves once the outbox entry is durable', async () => {
    const { client, storage } = setup();
    await client.start();
    const done = client.put('todos', 't1', { title: 'milk', done: false });
    expect(client.get('todos', 't1')).toEqual({ title: 'milk', done: false });
    expect(client.recordStatus('todos', 't1')).toBe('pending');
    await done;
    const outbox = await storage.list('user:u1', 'o/');
    expect(outbox).toHaveLength(1);
    expect(outbox[0]?.[1]).toMatchObject({ mutation: { recordId: 't1' } });
  });

  it('rejects bad input synchronously with an invalid SyncError and queues nothing', async () => {
    const { client } = setup();
    await client.start();
    const bad: unknown[] = [
      JSON.parse('{"__proto__": {"x": 1}}'),
      { s: 'a\u0000b' },
      { s: '\ud800' },
      { f: () => 1 },
      { n: Number.NaN },
      [1, 2],
    ];
    for (const data of bad) {
      expect(() => client.put('todos', 'x', data as never)).toThrowError(SyncError);
    }
    expect(() => client.put('bad/collection', 'x', {})).toThrow(/collection/);
    expect(() => client.put('todos', '', {})).toThrow(/id/);
    expect(client.status.pending).toBe(0);
    expect(client.get('todos', 'x')).toBeUndefined();
  });

  it('refuses nonsensical options at construction', () => {
    const transport = createMemoryServer().connect();
    expect(() => createSyncClient({ transport, pushBatchSize: 0 })).toThrow(/pushBatchSize/);
    expect(() => createSyncClient({ transport, requestTimeoutMs: Number.NaN })).toThrow(
      /requestTimeoutMs/,
    );
    expect(() => createSyncClient({ transport: {} as never })).toThrow(/transport/);
  });

  it('freezes what it stores, so the caller cannot change a queued write', async () => {
    const { client } = setup();
    await client.start();
    const data = { tags: ['a'] };
    await client.put('todos', 't', data);
    data.tags.push('b');
    expect(client.get('todos', 't')).toEqual({ tags: ['a'] });
    expect(Object.isFrozen(client.get('todos', 't'))).toBe(true);
  });

  it('rolls a write back from the view and rejects with storage when storage fails', async () => {
    const server = createMemoryServer();
    const storage = controlledStorage(memoryStorage());
    const client = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage,
      environment: newEnv(),
    });
    await client.start();
    await client.put('todos', 'a', { v: 1 });
    storage.failNext();
    const failing = client.patch('todos', 'a', { v: 2 });
    expect(client.get('todos', 'a')).toEqual({ v: 2 });
    await expect(failing).rejects.toMatchObject({ kind: 'storage' });
    expect(client.get('todos', 'a')).toEqual({ v: 1 });
    storage.failNext();
    await expect(client.put('todos', 'b', { v: 1 })).rejects.toMatchObject({ kind: 'storage' });
    expect(client.get('todos', 'b')).toBeUndefined();
    // A full storage's code is the write's, so the app can say what to free.
    storage.failNext(new SyncError('storage', 'full', { code: 'quota_exceeded' }));
    await expect(client.put('todos', 'c', { v: 1 })).rejects.toMatchObject({
      kind: 'storage',
      code: 'quota_exceeded',
    });
    expect(client.get('todos', 'c')).toBeUndefined();
    await client.syncNow();
    expect(server.records('user:u1').map((r) => [r.id, r.data])).toEqual([['a', { v: 1 }]]);
  });

  it('reports changes to listeners added, removed and added once at any time', async () => {
    const { client } = setup();
    await client.start();
    await client.put('todos', 'before', { n: 0 }); // nobody listens: nothing collected
    const once: string[][] = [];
    client.once('change', (e) => once.push(e.ids));
    await client.put('todos', 'a', { n: 1 });
    await settle();
    await client.put('todos', 'b', { n: 2 }); // the once listener has left
    await settle();
    expect(once).toEqual([['a']]);
    const seen: string[][] = [];
    const listener = (e: { ids: string[] }) => seen.push(e.ids);
    client.on('change', listener);
    await client.put('todos', 'c', { n: 3 });
    await settle();
    client.off('change', listener);
    await client.put('todos', 'd', { n: 4 });
    await settle();
    client.on('change', listener);
    await client.put('todos', 'e', { n: 5 });
    await settle();
    expect(seen).toEqual([['c'], ['e']]);
  });

  it('batches change events: one per collection per batch', async () => {
    const { client, server } = setup();
    const writer = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: newEnv(),
    });
    await writer.start();
    await writer.transaction((tx) => {
      for (let i = 0; i < 50; i++) tx.put('todos', `t${i}`, { i });
      tx.put('notes', 'n1', { text: 'x' });
    });
    await writer.syncNow();
    const events: Array<{ collection: string; ids: string[] }> = [];
    let notified = 0;
    client.on('change', (e) => events.push(e));
    client.subscribe(() => notified++);
    await client.start();
    await client.syncNow();
    await settle();
    const todoEvents = events.filter((e) => e.collection === 'todos');
    expect(todoEvents).toHaveLength(1);
    expect(todoEvents[0]?.ids).toHaveLength(50);
    expect(events.filter((e) => e.collection === 'notes')).toHaveLength(1);
    expect(client.query('todos')).toHaveLength(50);
    expect(notified).toBeGreaterThan(0);
  });
});

describe('SyncClient: clock', () => {
  it('stamps later writes after earlier ones across a restart with the device clock set back', async () => {
    const server = createMemoryServer();
    const storage = memoryStorage();
    const start = 1_800_000_000_000;
    const first = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage,
      environment: testEnvironment({ seed: seed++, startMs: start }),
    });
    await first.start();
    await first.put('todos', 'a', { v: 1 });
    await first.syncNow();
    await first.put('todos', 'b', { v: 1 }); // still queued at "crash" time
    await first.stop();
    const again = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage,
      environment: testEnvironment({ seed: seed++, startMs: start - 3_600_000 }),
    });
    await again.start();
    await again.put('todos', 'c', { v: 1 });
    await again.syncNow();
    const hlc = (id: string) => server.records('user:u1').find((r) => r.id === id)?.hlc ?? '';
    expect(hlc('b') > hlc('a')).toBe(true);
    expect(hlc('c') > hlc('b')).toBe(true);
  });
});

describe('SyncClient: clock across users', () => {
  it('resumes after writes made as another user before a restart', async () => {
    const server = createMemoryServer();
    const storage = memoryStorage();
    const start = 1_800_000_000_000;
    const first = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage,
      environment: testEnvironment({ seed: seed++, startMs: start }),
    });
    await first.start();
    await first.put('todos', 'a', { v: 1 }); // queued in u1's namespace, never pushed
    await first.stop();
    // The device restarts signed in as u2, its wall clock an hour behind.
    const again = createSyncClient({
      transport: server.connect({ userId: 'u2' }),
      storage,
      environment: testEnvironment({ seed: seed++, startMs: start - 3_600_000 }),
    });
    await again.start();
    await again.put('todos', 'b', { v: 1 });
    const hlcOf = async (namespace: string) => {
      const [entry] = await storage.list(namespace, 'o/');
      return (entry?.[1] as { mutation: { hlc: string } } | undefined)?.mutation.hlc ?? '';
    };
    expect((await hlcOf('user:u2')) > (await hlcOf('user:u1'))).toBe(true);
  });
});

describe('SyncClient: push and pull', () => {
  it('pushes local writes and another client of the same user pulls them', async () => {
    const { client, server } = setup();
    await client.start();
    await client.put('todos', 't1', { title: 'a' });
    await client.patch('todos', 't1', { done: true });
    await client.syncNow();
    expect(server.records('user:u1')).toMatchObject([
      { id: 't1', data: { title: 'a', done: true }, revision: expect.any(Number) },
    ]);
    expect(client.recordStatus('todos', 't1')).toBe('synced');
    expect(client.status).toMatchObject({ state: 'synced', pending: 0, userId: 'u1' });
    const other = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: newEnv(),
    });
    await other.start();
    await other.syncNow();
    expect(other.get('todos', 't1')).toEqual({ title: 'a', done: true });
  });

  it('sends a transaction in one storage write and one push, applied with one txId', async () => {
    const server = createMemoryServer();
    const storage = controlledStorage(memoryStorage());
    const client = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage,
      environment: newEnv(),
    });
    await client.start();
    const before = storage.writes.length;
    const pushesBefore = server.stats.pushes;
    await client.transaction((tx) => {
      tx.put('acct', 'a', { balance: 90 });
      tx.put('acct', 'b', { balance: 110 });
      tx.delete('acct', 'c');
    });
    const outboxWrites = storage.writes
      .slice(before)
      .filter((w) => w.ops.some((op) => op.type === 'set' && op.key.startsWith('o/')));
    expect(outboxWrites).toHaveLength(1);
    expect(outboxWrites[0]?.ops.filter((op) => op.key.startsWith('o/'))).toHaveLength(3);
    await client.syncNow();
    expect(server.stats.pushes - pushesBefore).toBe(1);
    const applied = server.appliedLog.filter((e) => e.collection === 'acct');
    expect(applied).toHaveLength(3);
    expect(new Set(applied.map((e) => e.version)).size).toBe(3);
  });

  it('never conflicts with its own earlier write: the next mutation is rebased', async () => {
    const server = createMemoryServer();
    const inner = server.connect({ userId: 'u1' });
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    // Answers to pushes wait at the gate: the first put stays in flight while we edit again.
    const transport: SyncTransport = {
      session: inner.session,
      pull: (req, signal) => inner.pull(req, signal),
      push: async (req, signal) => {
        const response = await inner.push(req, signal);
        await gate;
        return response;
      },
    };
    const client = createSyncClient({ transport, storage: memoryStorage(), environment: newEnv() });
    await client.start();
    await client.put('todos', 'a', { n: 1 });
    const first = client.syncNow();
    await settle();
    expect(server.version('user:u1')).toBe(1); // applied, answer held back
    await client.patch('todos', 'a', { n: 2 }); // queued behind the in-flight put
    expect(client.status.pending).toBe(2);
    open();
    await first;
    await client.syncNow();
    expect(server.stats.conflicts).toBe(0);
    expect(server.records('user:u1')[0]).toMatchObject({ data: { n: 2 }, revision: 2 });
    expect(client.get('todos', 'a')).toEqual({ n: 2 });
  });

  it('pulls page by page and keeps a pending local edit over a pulled change', async () => {
    const server = createMemoryServer();
    const envA = newEnv();
    const a = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: envA,
    });
    const bStorage = controlledStorage(memoryStorage());
    const b = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: bStorage,
      environment: newEnv(),
      pullPageSize: 3,
    });
    await a.start();
    for (let i = 0; i < 10; i++) await a.put('todos', `t${i}`, { i, title: 'server' });
    await a.syncNow();
    const pullsBefore = server.stats.pulls;
    await b.start();
    await b.syncNow();
    expect(b.query('todos')).toHaveLength(10);
    expect(server.stats.pulls - pullsBefore).toBeGreaterThanOrEqual(4);
    // b's edit is not durable yet (storage held), so it cannot be sent; a pulled change of the
    // same record must not erase it from the view.
    bStorage.hold();
    const edit = b.patch('todos', 't1', { title: 'mine' });
    await envA.advance(1000); // a edits later than b
    await a.patch('todos', 't1', { i: 100 });
    await a.syncNow();
    const sync = b.syncNow();
    await settle();
    expect(b.get('todos', 't1')).toEqual({ i: 100, title: 'mine' });
    await bStorage.release();
    await edit;
    await sync;
    await b.syncNow();
    await a.syncNow();
    // Per-field last-writer-wins (the default): a's `i` and b's `title` both survive.
    expect(server.records('user:u1').find((r) => r.id === 't1')?.data).toEqual({
      i: 100,
      title: 'mine',
    });
    expect(a.get('todos', 't1')).toEqual({ i: 100, title: 'mine' });
    expect(b.get('todos', 't1')).toEqual({ i: 100, title: 'mine' });
  });

  it('starts over from null when the server requires a reset, keeping pending edits', async () => {
    const server = createMemoryServer();
    const a = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: newEnv(),
    });
    const b = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: newEnv(),
    });
    await a.start();
    await b.start();
    await a.put('todos', 'keep', { v: 1 });
    await a.put('todos', 'gone', { v: 1 });
    await a.syncNow();
    await b.syncNow();
    expect(b.get('todos', 'gone')).toEqual({ v: 1 });
    await b.stop();
    await a.delete('todos', 'gone');
    await a.syncNow();
    expect(server.purgeTombstones()).toBe(1);
    let gap = false;
    b.on('change', () => {
      if (b.get('todos', 'keep') === undefined) gap = true;
    });
    await b.start();
    await b.put('todos', 'local', { mine: true });
    await b.syncNow();
    expect(gap).toBe(false); // the old base stayed visible during the re-pull
    expect(b.get('todos', 'gone')).toBeUndefined();
    expect(b.get('todos', 'keep')).toEqual({ v: 1 });
    expect(b.get('todos', 'local')).toEqual({ mine: true });
    expect(server.records('user:u1').some((r) => r.id === 'local')).toBe(true);
  });
});

describe('SyncClient: status events', () => {
  it('a write that syncs ends in one `synced` event, carrying the new lastSyncedAt', async () => {
    // Issue 10, point 7 (outside audit): each write used to end in `synced, 0 pending` twice in a
    // row, the first with the previous lastSyncedAt (the push's counts were emitted while its
    // answer was being saved, and lastSyncedAt moved once it was).
    const { client, env } = setup();
    const events: Array<{ state: string; pending: number; lastSyncedAt: number | null }> = [];
    client.on('status', ({ state, pending, lastSyncedAt }) =>
      events.push({ state, pending, lastSyncedAt }),
    );
    await client.start();
    await settle();
    expect(client.status.state).toBe('synced');
    for (const id of ['t1', 't2']) {
      await env.advance(1000);
      events.length = 0;
      await client.put('todos', id, { title: id });
      await settle();
      const synced = events.filter((event) => event.state === 'synced');
      expect(synced).toEqual([{ state: 'synced', pending: 0, lastSyncedAt: env.now() }]);
      expect(events.at(-1)?.state).toBe('synced');
    }
  });

  it('the echo of its own push moves no lastSyncedAt: no second `synced` event', async () => {
    // The server pokes the pushing client too, with its own changes; applied a few ms after the
    // push's answer, it used to move lastSyncedAt and emit `synced, 0 pending` again.
    const server = createMemoryServer();
    const env = newEnv();
    const inner = server.connect({ userId: 'u1' });
    const transport: SyncTransport = {
      ...replacedTransport(inner, {}),
      subscribe: (options) =>
        (inner.subscribe as NonNullable<SyncTransport['subscribe']>)({
          ...options,
          onPoke: (poke) => env.setTimeout(() => options.onPoke(poke), 5),
        }),
    };
    const client = createSyncClient({ transport, storage: memoryStorage(), environment: env });
    const synced: Array<number | null> = [];
    client.on('status', (status) => {
      if (status.state === 'synced') synced.push(status.lastSyncedAt);
    });
    await client.start();
    await settle();
    await env.advance(1000);
    synced.length = 0;
    await client.put('todos', 't1', { title: 'a' });
    await settle();
    const answeredAt = env.now();
    await env.advance(5); // the echo arrives
    await settle();
    expect(synced).toEqual([answeredAt]);
    expect(client.status).toMatchObject({ state: 'synced', lastSyncedAt: answeredAt });
  });
});
