import { describe, expect, it } from 'vitest';
import { SyncError } from '../errors/sync-error.js';
import type { PushRequest, PushResponse } from '../protocol/types.js';
import type { DeadLetter } from '../replication/dead-letter.js';
import { memoryStorage } from '../storage/memory.js';
import { createMemoryServer, type MemoryServer } from '../testing/memory-server.js';
import { withFaults } from '../testing/with-faults.js';
import type { SyncTransport } from '../transport/types.js';
import { createSyncClient } from './create-sync-client.js';
import { controlledStorage, settle, testEnvironment } from './test-support.js';

let seed = 100;
const newEnv = () => testEnvironment({ seed: seed++ });

/** The mutation ids the server applied, with how many times each. */
function appliedCounts(server: MemoryServer): Map<string, number> {
  const counts = new Map<string, number>();
  for (const entry of server.appliedLog)
    counts.set(entry.mutationId, (counts.get(entry.mutationId) ?? 0) + 1);
  return counts;
}

function expectEachAppliedOnce(server: MemoryServer): void {
  for (const [id, count] of appliedCounts(server)) expect({ id, count }).toEqual({ id, count: 1 });
}

/** A transport whose pushes are swallowed (never answered) while `mode` says so. */
function gatedTransport(
  inner: SyncTransport,
  mode: () => 'pass' | 'drop' | 'apply-and-hang',
): SyncTransport {
  return {
    ...(inner.session === undefined ? {} : { session: inner.session }),
    pull: (req, signal) => inner.pull(req, signal),
    push(req: PushRequest, signal?: AbortSignal): Promise<PushResponse> {
      const m = mode();
      if (m === 'pass') return inner.push(req, signal);
      if (m === 'apply-and-hang') void inner.push(req, signal).catch(() => {});
      return new Promise<PushResponse>(() => {});
    },
  };
}

describe('exactly once', () => {
  it('applies a batch whose response was lost exactly once after the retry', async () => {
    const server = createMemoryServer();
    const env = newEnv();
    const transport = withFaults(
      server.connect({ userId: 'u1' }),
      {},
      { setTimeout: env.setTimeout },
    );
    const client = createSyncClient({ transport, storage: memoryStorage(), environment: env });
    await client.start();
    await client.syncNow();
    transport.next({ on: 'push', kind: 'loseResponse' });
    await client.put('counters', 'c', { n: 1 });
    await client.put('counters', 'd', { n: 1 });
    await settle();
    expect(transport.counts.loseResponse).toBe(1);
    await env.advance(120_000);
    await client.syncNow();
    // The scope version counts applications: two writes, two versions, not three or four.
    expect(server.version('user:u1')).toBe(2);
    expectEachAppliedOnce(server);
    expect(server.stats.dedupeHits).toBeGreaterThanOrEqual(1);
    expect(client.status).toMatchObject({ state: 'synced', pending: 0 });
  });
});

describe('crash and restart during a push', () => {
  type Step = 'before-outbox-write' | 'before-send' | 'after-send' | 'after-answer';
  const steps: Step[] = ['before-outbox-write', 'before-send', 'after-send', 'after-answer'];

  for (const step of steps) {
    it(`loses nothing and applies nothing twice when the client dies ${step}`, async () => {
      const server = createMemoryServer();
      const disk = memoryStorage();
      const storage = controlledStorage(disk);
      let mode: 'pass' | 'drop' | 'apply-and-hang' = 'pass';
      const transport = gatedTransport(server.connect({ userId: 'u1' }), () => mode);
      const first = createSyncClient({ transport, storage, environment: newEnv() });
      await first.start();
      await first.put('todos', 'kept', { v: 1 });
      await first.syncNow();
      let acknowledged = true;
      if (step === 'before-outbox-write') {
        storage.hold();
        void first.put('todos', 'x', { v: 2 }).catch(() => {});
        acknowledged = false; // the promise never resolved: the app was never told it was saved
        expect(first.get('todos', 'x')).toEqual({ v: 2 });
        storage.crash();
        await storage.release();
      } else if (step === 'before-send') {
        mode = 'drop';
        await first.put('todos', 'x', { v: 2 });
        await settle();
        storage.crash();
      } else if (step === 'after-send') {
        mode = 'apply-and-hang';
        await first.put('todos', 'x', { v: 2 });
        await settle();
        expect(server.version('user:u1')).toBe(2); // the server applied it; the answer never came
        storage.crash();
      } else {
        // The answer arrives, but the write that removes the entry from the outbox never lands.
        storage.crashOn((_ns, ops) =>
          ops.some((op) => op.type === 'delete' && op.key.startsWith('o/')),
        );
        await first.put('todos', 'x', { v: 2 });
        await settle();
        expect(server.version('user:u1')).toBe(2);
      }
      await first.stop();

      const second = createSyncClient({
        transport: server.connect({ userId: 'u1' }),
        storage: disk,
        environment: newEnv(),
      });
      await second.start();
      await second.syncNow();
      expectEachAppliedOnce(server);
      expect(second.get('todos', 'kept')).toEqual({ v: 1 });
      if (acknowledged) {
        expect(second.get('todos', 'x')).toEqual({ v: 2 });
        expect(server.records('user:u1').find((r) => r.id === 'x')?.data).toEqual({ v: 2 });
        expect(server.version('user:u1')).toBe(2);
      } else {
        expect(second.get('todos', 'x')).toBeUndefined();
        expect(server.version('user:u1')).toBe(1);
      }
      expect(second.status.pending).toBe(0);
      expect(await disk.list('user:u1', 'o/')).toEqual([]);
      if (step === 'after-send' || step === 'after-answer') {
        // The restarted client re-sent the applied mutation and the server deduplicated it.
        expect(server.stats.dedupeHits).toBeGreaterThanOrEqual(1);
      }
    });
  }
});

describe('crash during a pull', () => {
  it('never leaves a checkpoint ahead of the records it covers', async () => {
    const server = createMemoryServer();
    const writer = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: newEnv(),
    });
    await writer.start();
    for (let i = 0; i < 5; i++) await writer.put('todos', `t${i}`, { i });
    await writer.syncNow();
    const disk = memoryStorage();
    const storage = controlledStorage(disk);
    // The process dies when the page's records are written.
    storage.crashOn((_ns, ops) => ops.some((op) => op.key.startsWith('r/')));
    const reader = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage,
      environment: newEnv(),
    });
    await reader.start();
    await settle();
    await reader.stop();
    const restarted = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: disk,
      environment: newEnv(),
    });
    await restarted.start();
    await restarted.syncNow();
    expect(
      restarted
        .query('todos')
        .map((r) => r.id)
        .sort(),
    ).toEqual(['t0', 't1', 't2', 't3', 't4']);
  });
});

describe('crash during a reset', () => {
  it('finishes the reset after a restart: purged records go, live ones stay', async () => {
    const server = createMemoryServer();
    const a = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: newEnv(),
    });
    await a.start();
    await a.put('todos', 'keep', { v: 1 });
    await a.put('todos', 'gone', { v: 1 });
    await a.syncNow();
    const disk = memoryStorage();
    const b = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: disk,
      environment: newEnv(),
    });
    await b.start();
    await b.syncNow();
    await b.stop();
    await a.delete('todos', 'gone');
    await a.syncNow();
    server.purgeTombstones();
    // b restarts, learns it must reset, and dies when the fresh snapshot's last page is written.
    const storage = controlledStorage(disk);
    storage.crashOn((_ns, ops) =>
      ops.some((op) => op.type === 'delete' && op.key.startsWith('z/')),
    );
    const crashing = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage,
      environment: newEnv(),
    });
    await crashing.start();
    await settle();
    expect(await disk.list('user:u1', 'z/')).toHaveLength(1); // the reset is on record
    await crashing.stop();
    const restarted = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: disk,
      environment: newEnv(),
    });
    await restarted.start();
    expect(restarted.get('todos', 'gone')).toEqual({ v: 1 }); // still the old base until the reset ends
    await restarted.syncNow();
    expect(restarted.get('todos', 'gone')).toBeUndefined();
    expect(restarted.get('todos', 'keep')).toEqual({ v: 1 });
    expect(await disk.list('user:u1', 'z/')).toEqual([]);
    expect((await disk.list('user:u1', 'r/')).map(([key]) => key)).toEqual(['r/todos/keep']);
  });
});

describe('permanent rejections', () => {
  it('dead-letters a rejected mutation, rolls the view back and applies the five good ones', async () => {
    const server = createMemoryServer({ limits: { maxFieldsPerRecord: 3 } });
    const storage = memoryStorage();
    // One session for both clients: a reload keeps the session (a new one would be a re-login,
    // which revokes the old session of the same installation).
    const client = createSyncClient({
      transport: server.connect({ userId: 'u1', sessionId: 's1' }),
      storage,
      environment: newEnv(),
    });
    const rejected: DeadLetter[] = [];
    client.on('rejected', (letter) => rejected.push(letter));
    await client.start();
    await client.put('todos', 'x', { a: 1 });
    await client.syncNow();
    await client.patch('todos', 'x', { b: 2, c: 3, d: 4 }); // 4 fields: over the server's limit
    expect(client.get('todos', 'x')).toEqual({ a: 1, b: 2, c: 3, d: 4 });
    for (let i = 0; i < 5; i++) await client.put('todos', `good${i}`, { i });
    await client.syncNow();
    expect(server.records('user:u1').filter((r) => r.id.startsWith('good'))).toHaveLength(5);
    expect(client.get('todos', 'x')).toEqual({ a: 1 });
    expect(client.deadLetters()).toHaveLength(1);
    expect(client.deadLetters()[0]).toMatchObject({ code: 'invalid', mutation: { recordId: 'x' } });
    expect(rejected).toHaveLength(1);
    expect(client.recordStatus('todos', 'x')).toBe('rejected');
    expect(client.status).toMatchObject({ rejected: 1, pending: 0 });
    expect(client.deadLetters()).toBe(client.deadLetters());

    // The dead letter is persisted.
    const restarted = createSyncClient({
      transport: server.connect({ userId: 'u1', sessionId: 's1' }),
      storage,
      environment: newEnv(),
    });
    await restarted.start();
    expect(restarted.deadLetters().map((l) => l.mutation.id)).toEqual([rejected[0]?.mutation.id]);
    await restarted.stop();

    // Retrying sends it again under a new id (and it is rejected again); discarding forgets it.
    const firstId = client.deadLetters()[0]?.mutation.id as string;
    await client.retryDeadLetter(firstId);
    expect(client.get('todos', 'x')).toEqual({ a: 1, b: 2, c: 3, d: 4 });
    await client.syncNow();
    expect(client.deadLetters()).toHaveLength(1);
    const secondId = client.deadLetters()[0]?.mutation.id as string;
    expect(secondId).not.toBe(firstId);
    await client.discardDeadLetter(secondId);
    expect(client.deadLetters()).toHaveLength(0);
    expect(client.status.rejected).toBe(0);
    expect(await storage.list('user:u1', 'd/')).toEqual([]);
  });

  it('splits a batch refused as a whole (4xx) so only the bad mutation is dead-lettered', async () => {
    const server = createMemoryServer();
    const inner = server.connect({ userId: 'u1' });
    const transport: SyncTransport = {
      session: inner.session,
      pull: (req, signal) => inner.pull(req, signal),
      push(req, signal) {
        if (req.mutations.some((m) => m.data?.poison === true)) {
          return Promise.reject(
            new SyncError('rejected', 'Payload too large', { status: 413, code: 'too_large' }),
          );
        }
        return inner.push(req, signal);
      },
    };
    const storage = controlledStorage(memoryStorage());
    const client = createSyncClient({ transport, storage, environment: newEnv() });
    await client.start();
    await client.syncNow();
    storage.hold(); // queue all four before the first push
    const writes = [
      client.put('todos', 'a', { v: 1 }),
      client.put('todos', 'p', { poison: true }),
      client.put('todos', 'b', { v: 2 }),
      client.put('todos', 'c', { v: 3 }),
    ];
    await storage.release();
    await Promise.all(writes);
    await client.syncNow();
    expect(
      server
        .records('user:u1')
        .map((r) => r.id)
        .sort(),
    ).toEqual(['a', 'b', 'c']);
    expect(client.deadLetters()).toMatchObject([
      { code: 'too_large', mutation: { recordId: 'p' } },
    ]);
    expect(client.get('todos', 'p')).toBeUndefined();
    expect(client.status.pending).toBe(0);
  });

  it('a dead letter over the size limit the server told is refused on retry, and stays listed', async () => {
    const server = createMemoryServer();
    const inner = server.connect({ userId: 'u1' });
    let pushes = 0;
    const transport: SyncTransport = {
      session: inner.session,
      pull: (req, signal) => inner.pull(req, signal),
      push(req, signal) {
        pushes += 1;
        if (req.mutations.some((m) => JSON.stringify(m.data ?? null).length > 100)) {
          return Promise.reject(
            new SyncError('rejected', 'Payload too large', {
              status: 413,
              code: 'too_large',
              details: { maxBodyBytes: 10_000, maxRecordBytes: 100 },
            }),
          );
        }
        return inner.push(req, signal);
      },
    };
    const client = createSyncClient({ transport, storage: memoryStorage(), environment: newEnv() });
    await client.start();
    await client.syncNow();
    await client.put('todos', 'big', { text: 'x'.repeat(200) });
    await client.syncNow();
    const [letter] = client.deadLetters();
    expect(letter?.code).toBe('too_large');
    const before = pushes;

    await expect(client.retryDeadLetter(letter?.mutation.id as string)).rejects.toMatchObject({
      kind: 'invalid',
      code: 'too_large',
    });
    await client.syncNow();
    expect(client.deadLetters()).toEqual([letter]);
    expect(client.get('todos', 'big')).toBeUndefined();
    expect(client.status.pending).toBe(0);
    expect(pushes).toBe(before);
    await client.stop();
  });
});

describe('backoff', () => {
  it('sends nothing before a 429 Retry-After of 7 s has passed', async () => {
    const server = createMemoryServer();
    const env = newEnv();
    const faulty = withFaults(server.connect({ userId: 'u1' }), {}, { setTimeout: env.setTimeout });
    const requests: Array<{ op: string; at: number }> = [];
    const transport: SyncTransport = {
      session: faulty.session as NonNullable<SyncTransport['session']>,
      push: (req, signal) => {
        requests.push({ op: 'push', at: env.now() });
        return faulty.push(req, signal);
      },
      pull: (req, signal) => {
        requests.push({ op: 'pull', at: env.now() });
        return faulty.pull(req, signal);
      },
    };
    const client = createSyncClient({ transport, storage: memoryStorage(), environment: env });
    await client.start();
    await client.syncNow();
    faulty.next({ on: 'push', kind: 'rateLimit', retryAfterMs: 7000 });
    const t0 = env.now();
    requests.length = 0;
    await client.put('todos', 'a', { v: 1 });
    await settle();
    expect(requests).toEqual([{ op: 'push', at: t0 }]);
    expect(client.status.state).toBe('error');
    expect(client.status.error?.kind).toBe('rate-limited');
    void client.syncNow(); // asking again must not bypass the wait
    await env.advance(6999);
    expect(requests).toHaveLength(1);
    await env.advance(1);
    await settle();
    expect(requests.length).toBeGreaterThanOrEqual(2);
    expect(requests.slice(1).every((r) => r.at - t0 >= 7000)).toBe(true);
    await client.syncNow();
    expect(server.records('user:u1')).toHaveLength(1);
    expect(client.status.state).toBe('synced');
  });
});
