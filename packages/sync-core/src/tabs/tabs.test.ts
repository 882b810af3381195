import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SyncClient } from '../api/client.js';
import { SyncError } from '../errors/sync-error.js';
import { memoryStorage } from '../storage/memory.js';
import type { StorageAdapter } from '../storage/types.js';
import { createMemoryServer } from '../testing/memory-server.js';
import { multiTab } from './multi-tab.js';
import { fakeTabLocks } from './test-locks.js';

const LOCK = 'syncline-tabs:test';
const clients: SyncClient[] = [];

afterEach(async () => {
  vi.unstubAllGlobals();
  await Promise.all(clients.splice(0).map((client) => client.stop()));
});

async function until(check: () => boolean, ms = 4000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Two "tabs": one storage, one lock manager, one channel name, one user. */
function profile(options: { webLocks?: boolean } = {}) {
  const server = createMemoryServer();
  const storage = blockableStorage(memoryStorage());
  const locks = options.webLocks === false ? null : fakeTabLocks();
  const tab = async (timers?: FrozenTimers) => {
    const { createSyncClient } = await import('../client/create-sync-client.js');
    const client = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: timers === undefined ? storage : timers.storage(storage),
      tabs: multiTab({
        name: 'test',
        locks,
        leaderTimeoutMs: 400,
        pageLifecycle: timers?.lifecycle ?? null,
      }),
      ...(timers === undefined ? {} : { environment: timers.environment }),
    });
    clients.push(client);
    await client.start();
    return client;
  };
  const applied = (recordId: string) =>
    server.appliedLog.filter((entry) => entry.recordId === recordId).length;
  return { server, storage, locks: locks as ReturnType<typeof fakeTabLocks>, tab, applied };
}

describe('several tabs of one app', () => {
  it('elects one leader; the follower shows its changes and writes through it, once', async () => {
    const { tab, applied, locks } = profile();
    const a = await tab();
    const b = await tab();
    expect(locks.holder(LOCK)).toBeDefined();
    await a.put('todos', 't1', { title: 'from A' });
    await until(() => b.get('todos', 't1') !== undefined);
    expect(b.get('todos', 't1')).toEqual({ title: 'from A' });
    await b.put('todos', 't2', { title: 'from B' });
    await until(() => a.get('todos', 't2') !== undefined);
    await until(() => a.status.state === 'synced' && b.status.state === 'synced');
    expect(b.status.pending).toBe(0);
    expect(applied('t1')).toBe(1);
    expect(applied('t2')).toBe(1);
    expect(b.recordStatus('todos', 't2')).toBe('synced');
  });

  it("a follower shows the leader's status as it changes: offline, then synced again", async () => {
    const server = createMemoryServer();
    const storage = memoryStorage();
    const locks = fakeTabLocks();
    let down = false;
    const { createSyncClient } = await import('../client/create-sync-client.js');
    const tab = async () => {
      const inner = server.connect({ userId: 'u1' });
      const client = createSyncClient({
        transport: {
          session: inner.session,
          pull: (req, signal) =>
            down ? Promise.reject(new SyncError('network', 'down')) : inner.pull(req, signal),
          push: (req, signal) =>
            down ? Promise.reject(new SyncError('network', 'down')) : inner.push(req, signal),
        },
        storage,
        tabs: multiTab({ name: 'test', locks, leaderTimeoutMs: 400 }),
      });
      clients.push(client);
      await client.start();
      return client;
    };
    const a = await tab();
    const b = await tab();
    await until(() => a.status.state === 'synced' && b.status.state === 'synced');
    down = true;
    await b.put('todos', 't1', { title: 'from B' });
    await until(() => a.status.state === 'offline');
    await until(() => b.status.state === 'offline' && b.status.pending === 1);
    expect(b.status.error?.kind).toBe('network');
    down = false;
    await a.syncNow({ timeoutMs: 3000 });
    await until(() => b.status.state === 'synced' && b.status.pending === 0);
    expect(server.appliedLog.filter((entry) => entry.recordId === 't1')).toHaveLength(1);
  });

  it("a follower's syncNow is run by the leader, which pushes the follower's write", async () => {
    const { tab, applied } = profile();
    await tab();
    const b = await tab();
    await b.put('todos', 't1', { title: 'from B' });
    const result = await b.syncNow({ timeoutMs: 3000 });
    expect(result).toMatchObject({ outcome: 'settled', pending: 0 });
    expect(applied('t1')).toBe(1);
  });

  it('a follower whose view is stale before the leader answers still sees its write', async () => {
    const { tab } = profile();
    await tab();
    const b = await tab();
    await b.transaction((tx) => {
      tx.put('notes', 'n1', { text: 'one' });
      tx.put('notes', 'n2', { text: 'two' });
    });
    await until(() => b.query('notes').length === 2);
  });

  it("a follower's write is in its view at once, and stays through the leader's answer", async () => {
    const { tab, applied } = profile();
    const a = await tab();
    const b = await tab();
    await a.put('todos', 't1', { title: 'one' });
    await until(() => b.get('todos', 't1') !== undefined);
    const seen: Array<string | undefined> = [];
    b.subscribe(() => seen.push(b.get('todos', 't1')?.title as string | undefined));
    const write = b.patch('todos', 't1', { title: 'two' });
    expect(b.get('todos', 't1')).toEqual({ title: 'two' }); // synchronously, as in the leader
    expect(b.recordStatus('todos', 't1')).toBe('pending');
    const added = b.put('todos', 't2', { title: 'new' });
    expect(b.query('todos').map((r) => r.id)).toEqual(['t1', 't2']);
    await Promise.all([write, added]);
    await until(() => a.status.state === 'synced' && b.recordStatus('todos', 't2') === 'synced');
    expect(b.get('todos', 't1')).toEqual({ title: 'two' });
    expect(a.get('todos', 't1')).toEqual({ title: 'two' });
    // Never shown without the write once it was made (no flicker back to 'one').
    expect(seen.slice(seen.indexOf('two'))).not.toContain('one');
    expect(applied('t2')).toBe(1);
  });

  it("a follower's write the leader could not save leaves its view again", async () => {
    const { tab, storage } = profile();
    await tab();
    const b = await tab();
    const write = storage.write.bind(storage);
    storage.write = (namespace, ops) =>
      JSON.stringify(ops).includes('"recordId":"bad"')
        ? Promise.reject(new Error('disk full'))
        : write(namespace, ops);
    const put = b.put('todos', 'bad', { title: 'never saved' });
    expect(b.get('todos', 'bad')).toEqual({ title: 'never saved' });
    await expect(put).rejects.toMatchObject({ kind: 'storage' });
    expect(b.get('todos', 'bad')).toBeUndefined();
    // A full storage (the leader's) reaches the follower with its code.
    storage.write = (namespace, ops) =>
      JSON.stringify(ops).includes('"recordId":"full"')
        ? Promise.reject(new SyncError('storage', 'quota', { code: 'quota_exceeded' }))
        : write(namespace, ops);
    await expect(b.put('todos', 'full', { title: 'no room' })).rejects.toMatchObject({
      kind: 'storage',
      code: 'quota_exceeded',
    });
    expect(b.get('todos', 'full')).toBeUndefined();
    await b.put('todos', 'good', { title: 'saved' });
    expect(b.get('todos', 'good')).toEqual({ title: 'saved' });
  });

  it('the leader closes: the follower takes over and its waiting writes land once', async () => {
    const { tab, applied, server } = profile();
    const a = await tab();
    const b = await tab();
    await a.put('todos', 'before', { n: 1 });
    await until(() => b.get('todos', 'before') !== undefined);
    await a.stop();
    const write = b.put('todos', 'during', { n: 2 });
    await write;
    await until(() => b.status.state === 'synced');
    expect(applied('before')).toBe(1);
    expect(applied('during')).toBe(1);
    expect(
      server
        .records('user:u1')
        .map((r) => r.id)
        .sort(),
    ).toEqual(['before', 'during']);
  });

  it('a write the old leader saved but never answered is not queued again by the new one', async () => {
    const Real = globalThis.BroadcastChannel;
    let dropReplies = false;
    class Lossy extends Real {
      override postMessage(message: unknown): void {
        if (dropReplies && (message as { t?: string }).t === 'reply') return;
        super.postMessage(message);
      }
    }
    vi.stubGlobal('BroadcastChannel', Lossy);
    const { tab, applied, storage } = profile();
    const a = await tab();
    const b = await tab();
    dropReplies = true;
    let settled = false;
    const write = b.put('todos', 'lost-reply', { n: 1 }).then(() => {
      settled = true;
    });
    await until(() => a.get('todos', 'lost-reply') !== undefined);
    await until(() => applied('lost-reply') === 1);
    expect(settled).toBe(false);
    dropReplies = false;
    await a.stop(); // the leader goes before answering
    await write;
    await until(() => b.status.state === 'synced');
    expect(applied('lost-reply')).toBe(1);
    expect(await storage.list('user:u1', 'o/')).toEqual([]);
  });

  it('a frozen leader (no answers) is deposed by a follower, which steals the lock', async () => {
    const Real = globalThis.BroadcastChannel;
    const frozen = new Set<string>();
    class Freezable extends Real {
      override postMessage(message: unknown): void {
        if (frozen.has((message as { from?: string }).from ?? '')) return;
        super.postMessage(message);
      }
    }
    vi.stubGlobal('BroadcastChannel', Freezable);
    const { tab, applied, locks } = profile();
    const a = await tab();
    const b = await tab();
    await a.put('todos', 'x', { n: 1 });
    await until(() => b.get('todos', 'x') !== undefined);
    const before = locks.holder(LOCK);
    // Freeze A: everything it sends is lost, as from a frozen page.
    frozen.add(await leaderTabId(a));
    const write = b.put('todos', 'y', { n: 2 });
    await write;
    expect(locks.holder(LOCK)).not.toBe(before);
    await until(() => b.status.state === 'synced');
    expect(applied('y')).toBe(1);
    expect(applied('x')).toBe(1);
  });
});

describe('a leader frozen by the browser', () => {
  // As Chromium freezes a page (Page.setWebLifecycleState 'frozen', measured in the example
  // app's e2e test): it hears `freeze`, then its timers stop, but its BroadcastChannel handlers
  // still run.
  it('is deposed although its channel handlers still run, and follows once thawed; no write lost or doubled', async () => {
    const { tab, applied, locks } = profile();
    const timers = frozenTimers();
    const a = await tab(timers);
    const b = await tab();
    expect(a.tabRole).toBe('leader');
    await a.put('todos', 'before', { n: 1 });
    await until(() => b.get('todos', 'before') !== undefined && a.status.state === 'synced');
    const before = locks.holder(LOCK);
    timers.freeze();
    // Written while the frozen leader still holds the lock: the call reaches its channel
    // handler, and waits for the next leader.
    let during = false;
    const write = b.put('todos', 'during', { n: 2 }).then(() => {
      during = true;
    });
    try {
      await until(() => b.tabRole === 'leader', 3000);
      expect(locks.holder(LOCK)).not.toBe(before);
      await until(() => during, 3000); // not held up by the frozen tab's storage
      await b.put('todos', 'taken-over', { n: 3 });
      await until(() => b.status.state === 'synced' && applied('taken-over') === 1, 3000);
    } finally {
      timers.thaw();
    }
    await write;
    await until(() => a.tabRole === 'follower');
    await until(() => a.get('todos', 'during') !== undefined);
    await a.put('todos', 'after', { n: 3 });
    await until(() => b.get('todos', 'after') !== undefined);
    await until(() => b.status.state === 'synced' && applied('after') === 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect([a.tabRole, b.tabRole]).toEqual(['follower', 'leader']);
    expect(['before', 'during', 'taken-over', 'after'].map((id) => applied(id))).toEqual([
      1, 1, 1, 1,
    ]);
  });
});

/** One profile's storage, which a frozen tab's open transaction can hold (see frozenTimers). */
type BlockableStorage = StorageAdapter & { blockUntil(done: Promise<void>): void };

/** `inner`, each of whose operations first waits for `wait()`. */
function waitingStorage(inner: StorageAdapter, wait: () => Promise<void>): StorageAdapter {
  const run = async <T>(op: () => Promise<T>): Promise<T> => {
    await wait();
    return op();
  };
  return {
    get: (namespace, key) => run(() => inner.get(namespace, key)),
    list: (namespace, prefix) => run(() => inner.list(namespace, prefix)),
    write: (namespace, ops) => run(() => inner.write(namespace, ops)),
    clear: (namespace) => run(() => inner.clear(namespace)),
  };
}

function blockableStorage(inner: StorageAdapter): BlockableStorage {
  let blocked: Promise<void> = Promise.resolve();
  return {
    ...waitingStorage(inner, () => blocked),
    blockUntil: (done) => {
      blocked = done;
    },
  };
}

interface FrozenTimers {
  /** The page's lifecycle events: `freeze` when frozen, `resume` when thawed. */
  lifecycle: EventTarget;
  /** The tab's storage, as IndexedDB in a frozen page (see frozenTimers). */
  storage(shared: BlockableStorage): StorageAdapter;
  environment: {
    setTimeout(callback: () => void, ms: number): unknown;
    clearTimeout(handle: unknown): void;
  };
  freeze(): void;
  thaw(): void;
}

/**
 * A tab's page lifecycle (`freeze`, then `resume`), its timers that stop while it is frozen
 * (those due meanwhile run when it thaws), and its storage as IndexedDB in a frozen page: a transaction it starts while frozen ends only once
 * it thaws (its results come in tasks the page does not run), and holds the database meanwhile,
 * so every tab's storage waits for it (as measured in Chromium).
 */
function frozenTimers(): FrozenTimers {
  let frozen = false;
  const lifecycle = new EventTarget();
  const due: Array<() => void> = [];
  let thawed: Promise<void> | null = null;
  return {
    storage: (shared) =>
      waitingStorage(shared, async () => {
        if (frozen) {
          thawed ??= new Promise((resolve) => due.push(resolve));
          shared.blockUntil(thawed);
          await thawed;
        }
      }),
    environment: {
      setTimeout: (callback, ms) =>
        setTimeout(() => (frozen ? due.push(callback) : callback()), ms),
      clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    },
    lifecycle,
    freeze: () => {
      lifecycle.dispatchEvent(new Event('freeze'));
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      lifecycle.dispatchEvent(new Event('resume'));
      thawed = null;
      for (const callback of due.splice(0)) callback();
    },
  };
}

describe('several tabs where Web Locks are missing', () => {
  it('elect a leader by heartbeats; a silent leader is replaced and no write is lost', async () => {
    const { tab, applied } = profile({ webLocks: false });
    const a = await tab();
    const b = await tab();
    await b.put('todos', 'b1', { n: 1 });
    await until(() => a.get('todos', 'b1') !== undefined);
    await a.stop();
    await b.put('todos', 'b2', { n: 2 });
    await until(() => b.status.state === 'synced');
    expect(applied('b1')).toBe(1);
    expect(applied('b2')).toBe(1);
  });
});

/** The tab id the leader puts on its messages (read from one of them). */
function leaderTabId(_client: SyncClient): Promise<string> {
  return new Promise((resolve) => {
    const channel = new BroadcastChannel('syncline-tabs:test');
    channel.addEventListener('message', (event: MessageEvent) => {
      const data = event.data as { t: string; from: string };
      if (data.t === 'pong' || data.t === 'state') {
        channel.close();
        resolve(data.from);
      }
    });
    channel.postMessage({ t: 'ping', from: 'probe' });
  });
}
