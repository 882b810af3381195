// The push loop's failure paths through a real client and the in-memory server: a malformed
// answer, a request refused as a whole (one unit, several units, a transaction), the limits a
// 413 teaches, and push results that storage fails to save.
import { describe, expect, it } from 'vitest';
import { createSyncClient } from '../client/create-sync-client.js';
import {
  controlledStorage,
  replacedTransport,
  settle,
  testEnvironment,
} from '../client/test-support.js';
import { SyncError } from '../errors/sync-error.js';
import type { PushRequest, PushResponse } from '../protocol/types.js';
import { memoryStorage } from '../storage/memory.js';
import { createMemoryServer, type MemoryServer } from '../testing/memory-server.js';
import type { SyncTransport } from '../transport/types.js';

let seed = 700;
const newEnv = () => testEnvironment({ seed: seed++ });

/** The server's transport for `u1`, with `push` replaced by `push(request, inner)`. */
function pushThrough(
  server: MemoryServer,
  push: (request: PushRequest, inner: SyncTransport) => Promise<PushResponse>,
): SyncTransport {
  const inner = server.connect({ userId: 'u1', sessionId: 's1' });
  return replacedTransport(inner, { push: (req) => push(req, inner) });
}

/** Refuses (4xx, as a whole) every request that carries a write with `data.poison`. */
function refusePoison(server: MemoryServer, error: () => SyncError): SyncTransport {
  return pushThrough(server, (req, inner) =>
    req.mutations.some((m) => m.data?.poison === true) ? Promise.reject(error()) : inner.push(req),
  );
}

const ids = (server: MemoryServer) =>
  server
    .records('user:u1')
    .map((r) => r.id)
    .sort();

describe('push loop: a malformed answer', () => {
  it('is the server fault: the batch is kept and sent again, never dead-lettered', async () => {
    const server = createMemoryServer();
    let malformed = 1;
    const transport = pushThrough(server, async (req, inner) => {
      if (malformed > 0) {
        malformed--;
        // The server applied it, but the answer is not a push response.
        await inner.push(req);
        return { results: 'nope' } as unknown as PushResponse;
      }
      return inner.push(req);
    });
    const env = newEnv();
    const client = createSyncClient({ transport, storage: memoryStorage(), environment: env });
    await client.start();
    await client.syncNow();
    await client.put('todos', 'a', { v: 1 });
    await settle();
    expect(client.status.error).toMatchObject({
      kind: 'server',
      code: 'invalid_response',
      message: expect.stringMatching(/^The server sent a malformed push answer: /),
    });
    // Why it was malformed stays readable.
    expect(client.status.error?.cause).toBeInstanceOf(Error);
    expect(client.status.pending).toBe(1);
    await env.advance(120_000);
    await client.syncNow();
    expect(client.deadLetters()).toEqual([]);
    expect(client.status).toMatchObject({ pending: 0, state: 'synced' });
    expect(server.appliedLog.filter((e) => e.recordId === 'a')).toHaveLength(1);
    await client.stop();
  });
});

describe('push loop: the last synced time', () => {
  it('is not moved by a push answer while writes queued meanwhile are still pending', async () => {
    const server = createMemoryServer();
    const held: Array<() => void> = [];
    const transport = pushThrough(server, async (req, inner) => {
      await new Promise<void>((resolve) => held.push(resolve));
      return inner.push(req);
    });
    const env = newEnv();
    const client = createSyncClient({ transport, storage: memoryStorage(), environment: env });
    await client.start();
    await client.syncNow();
    const before = client.status.lastSyncedAt;
    expect(before).toBeDefined();
    await client.put('todos', 'a', { v: 1 });
    await settle();
    expect(held).toHaveLength(1);
    await client.put('todos', 'b', { v: 1 }); // queued behind the push in flight
    await env.advance(5000);
    held.shift()?.();
    await settle();
    expect(held).toHaveLength(1); // `b` is out now
    expect(client.status.lastSyncedAt).toBe(before);
    held.shift()?.();
    await settle();
    expect(client.status.pending).toBe(0);
    expect(client.status.lastSyncedAt).toBe(env.now());
    await client.stop();
  });
});

describe('push loop: a push refused for auth', () => {
  it('stops pushing (one request), keeps the write, and says so', async () => {
    const server = createMemoryServer();
    let pushes = 0;
    const transport = pushThrough(server, () => {
      pushes++;
      return Promise.reject(new SyncError('auth', 'Token expired', { status: 401 }));
    });
    const client = createSyncClient({ transport, storage: memoryStorage(), environment: newEnv() });
    await client.start();
    await client.syncNow();
    await client.put('todos', 'a', { v: 1 });
    await settle(10);
    expect(pushes).toBe(1);
    expect(client.status.error).toMatchObject({ kind: 'auth', message: 'Token expired' });
    expect(client.status.pending).toBe(1);
    expect(client.deadLetters()).toEqual([]);
    await client.stop();
  });
});

describe('push loop: a request refused as a whole (4xx)', () => {
  it('dead-letters a lone write with the error code and message, or `rejected` without a code', async () => {
    const server = createMemoryServer();
    let coded = true;
    const transport = refusePoison(server, () =>
      coded
        ? new SyncError('rejected', 'Bad record', { status: 422, code: 'bad_record' })
        : new SyncError('rejected', 'Bad request', { status: 400 }),
    );
    const client = createSyncClient({ transport, storage: memoryStorage(), environment: newEnv() });
    await client.start();
    await client.syncNow();
    await client.put('todos', 'p', { poison: true });
    await client.syncNow();
    expect(client.deadLetters()).toMatchObject([
      { code: 'bad_record', message: 'Bad record', mutation: { recordId: 'p' } },
    ]);
    coded = false;
    await client.put('todos', 'q', { poison: true });
    await client.syncNow();
    expect(client.deadLetters().map((l) => [l.mutation.recordId, l.code, l.message])).toEqual([
      ['p', 'bad_record', 'Bad record'],
      ['q', 'rejected', 'Bad request'],
    ]);
    expect(client.get('todos', 'p')).toBeUndefined();
    expect(client.status).toMatchObject({ pending: 0, rejected: 2 });
    expect(server.records('user:u1')).toEqual([]);
    await client.stop();
  });

  it('persists the dead letter, and goes on with writes queued while the request was refused', async () => {
    const server = createMemoryServer();
    let refuse: (() => void) | undefined;
    const transport = pushThrough(server, (req, inner) => {
      if (!req.mutations.some((m) => m.data?.poison === true)) return inner.push(req);
      return new Promise<PushResponse>((_, reject) => {
        refuse = () =>
          reject(new SyncError('rejected', 'Refused', { status: 400, code: 'refused' }));
      });
    });
    const disk = memoryStorage();
    const client = createSyncClient({ transport, storage: disk, environment: newEnv() });
    await client.start();
    await client.syncNow();
    await client.put('todos', 'p', { poison: true });
    await settle();
    expect(refuse).toBeDefined();
    await client.put('todos', 'q', { v: 1 }); // queued behind the request in flight
    await settle(); // its push trigger fires while the request is still out
    expect(ids(server)).toEqual([]);
    refuse?.();
    await settle(10);
    // No syncNow: the loop goes on by itself after the refusal.
    expect(ids(server)).toEqual(['q']);
    expect(client.status).toMatchObject({ pending: 0, rejected: 1 });
    await client.stop();

    const restarted = createSyncClient({
      transport: server.connect({ userId: 'u1', sessionId: 's1' }),
      storage: disk,
      environment: newEnv(),
    });
    await restarted.start();
    expect(restarted.deadLetters()).toMatchObject([
      { code: 'refused', mutation: { recordId: 'p' } },
    ]);
    expect(restarted.status.pending).toBe(0);
    await restarted.stop();
  });

  it('keeps a transaction together when splitting: its members are dead-lettered as one', async () => {
    const server = createMemoryServer();
    const transport = refusePoison(
      server,
      () => new SyncError('rejected', 'Refused', { status: 400, code: 'refused' }),
    );
    const storage = controlledStorage(memoryStorage());
    const client = createSyncClient({ transport, storage, environment: newEnv() });
    await client.start();
    await client.syncNow();
    storage.hold(); // one batch: the good write and the transaction
    const writes = [
      client.put('todos', 'good', { v: 1 }),
      client.transaction((tx) => {
        tx.put('todos', 't1', { v: 1 });
        tx.put('todos', 't2', { poison: true });
      }),
    ];
    await storage.release();
    await Promise.all(writes);
    await client.syncNow();
    // Sent alone, `t1` would have been accepted: the transaction is one unit.
    expect(ids(server)).toEqual(['good']);
    expect(
      client
        .deadLetters()
        .map((l) => l.mutation.recordId)
        .sort(),
    ).toEqual(['t1', 't2']);
    expect(client.get('todos', 't1')).toBeUndefined();
    await client.stop();
  });

  it('a unit written again while the split runs ends with the newer write', async () => {
    const server = createMemoryServer();
    let holdNext: (() => void) | undefined;
    let gate: Promise<void> | undefined;
    const transport = pushThrough(server, async (req, inner) => {
      if (req.mutations.some((m) => m.data?.poison === true)) {
        throw new SyncError('rejected', 'Refused', { status: 400, code: 'refused' });
      }
      if (gate !== undefined) {
        const waiting = gate;
        gate = undefined;
        await waiting;
      }
      return inner.push(req);
    });
    const storage = controlledStorage(memoryStorage());
    const client = createSyncClient({ transport, storage, environment: newEnv() });
    await client.start();
    await client.syncNow();
    storage.hold();
    const writes = [
      client.put('todos', 'a', { v: 1 }),
      client.put('todos', 'p', { poison: true }),
      client.put('todos', 'b', { v: 1 }),
    ];
    // The split's first unit (`a`) is held at the server's door.
    gate = new Promise<void>((resolve) => {
      holdNext = resolve;
    });
    await storage.release();
    await Promise.all(writes);
    await settle();
    expect(holdNext).toBeDefined();
    // Meanwhile `b` (released from the refused batch, not in flight) is written again.
    await client.put('todos', 'b', { v: 2 });
    holdNext?.();
    await client.syncNow();
    expect(ids(server)).toEqual(['a', 'b']);
    expect(server.records('user:u1').find((r) => r.id === 'b')?.data).toEqual({ v: 2 });
    // The refused batch's `b` was sent once, so the new write queues behind it: both apply, in order.
    expect(server.appliedLog.filter((e) => e.recordId === 'b')).toHaveLength(2);
    expect(client.deadLetters().map((l) => l.mutation.recordId)).toEqual(['p']);
    expect(client.status.pending).toBe(0);
    await client.stop();
  });

  it("learns the server's size limit from a 413 too_large answer's details", async () => {
    const server = createMemoryServer();
    const transport = refusePoison(
      server,
      () =>
        new SyncError('rejected', 'Payload too large', {
          status: 413,
          code: 'too_large',
          details: { maxRecordBytes: 64 },
        }),
    );
    const client = createSyncClient({ transport, storage: memoryStorage(), environment: newEnv() });
    await client.start();
    await client.syncNow();
    await client.put('todos', 'small', { v: 1, text: 'x'.repeat(80) }); // unknown limit: queued
    await client.put('todos', 'p', { poison: true });
    await client.syncNow();
    // Now known: a write over 64 bytes is refused before it enters the outbox.
    expect(() => client.put('todos', 'big', { text: 'x'.repeat(80) })).toThrow(
      expect.objectContaining({ kind: 'invalid', code: 'too_large' }),
    );
    await client.put('todos', 'ok', { v: 2 });
    await client.syncNow();
    expect(ids(server)).toEqual(['ok', 'small']);
    await client.stop();
  });
});

describe('push loop: push results that storage fails to save', () => {
  for (const [name, error, expected] of [
    ['a storage error', new SyncError('storage', 'disk full'), 'disk full'],
    ['a plain exception', new Error('EIO'), 'Saving push results failed'],
  ] as const) {
    it(`${name}: the status says so, the view is synced, and a restart re-sends once`, async () => {
      const server = createMemoryServer();
      const disk = memoryStorage();
      const failing = controlledStorage(disk);
      const transport = pushThrough(server, async (req, inner) => {
        const answer = await inner.push(req);
        failing.failNext(error); // the next write is the push results' commit
        return answer;
      });
      const client = createSyncClient({
        transport,
        storage: failing,
        environment: newEnv(),
      });
      const errors: unknown[] = [];
      client.on('status', (status) => {
        if (status.error !== undefined) errors.push(status.error);
      });
      await client.start();
      await client.syncNow();
      await client.put('todos', 'a', { v: 1 });
      await client.syncNow();
      expect(errors).toEqual([expect.objectContaining({ kind: 'storage', message: expected })]);
      expect(client.get('todos', 'a')).toEqual({ v: 1 });
      expect(server.records('user:u1').map((r) => r.id)).toEqual(['a']);
      await client.stop();

      // Storage still holds the write as unsent: the restart sends it, the server knows it.
      const restarted = createSyncClient({
        transport: server.connect({ userId: 'u1', sessionId: 's1' }),
        storage: disk,
        environment: newEnv(),
      });
      await restarted.start();
      await restarted.syncNow();
      expect(restarted.status).toMatchObject({ pending: 0, rejected: 0 });
      expect(restarted.get('todos', 'a')).toEqual({ v: 1 });
      expect(server.appliedLog.filter((e) => e.recordId === 'a')).toHaveLength(1);
      await restarted.stop();
    });
  }
});

describe('push loop: one request at a time', () => {
  it('a write made while a push is out waits for its answer, even when syncNow asks at once', async () => {
    const server = createMemoryServer();
    const held: Array<() => void> = [];
    let out = 0;
    let mostOut = 0;
    const transport = pushThrough(server, async (req, inner) => {
      out++;
      mostOut = Math.max(mostOut, out);
      await new Promise<void>((resolve) => held.push(resolve));
      out--;
      return inner.push(req);
    });
    const client = createSyncClient({ transport, storage: memoryStorage(), environment: newEnv() });
    await client.start();
    await client.syncNow();
    await client.put('todos', 'a', { v: 1 });
    await settle();
    expect(held).toHaveLength(1);
    await client.put('todos', 'b', { v: 1 }); // its push trigger fires while `a` is out
    const syncing = client.syncNow(); // and syncNow asks the loop directly
    await settle();
    expect(held).toHaveLength(1);
    held.shift()?.();
    await settle();
    expect(held).toHaveLength(1); // `b`, now that `a` is answered
    held.shift()?.();
    await syncing;
    expect(mostOut).toBe(1);
    expect(server.appliedLog.map((e) => e.recordId)).toEqual(['a', 'b']);
    expect(client.status.pending).toBe(0);
    await client.stop();
  });
});

describe('push loop: a write queued while the send loop is finishing', () => {
  // The loop ends when `takeBatch` finds nothing sendable. A write made as the last answer
  // arrives is either in the outbox by then (taken) or not yet durable (not sendable): its own
  // trigger, when its storage write is durable, must still send it, with no syncNow.
  it('made from inside the push answer of the last batch: sent with no other trigger', async () => {
    const server = createMemoryServer();
    let writeLate: (() => void) | undefined;
    const transport = pushThrough(server, async (req, inner) => {
      const answer = await inner.push(req);
      writeLate?.();
      writeLate = undefined;
      return answer;
    });
    const client = createSyncClient({ transport, storage: memoryStorage(), environment: newEnv() });
    await client.start();
    await client.syncNow();
    let late: Promise<void> | undefined;
    writeLate = () => {
      late = client.put('todos', 'late', { v: 1 });
    };
    await client.put('todos', 'a', { v: 1 });
    await settle(10);
    await late;
    await settle(10);
    expect(ids(server)).toEqual(['a', 'late']);
    expect(client.status).toMatchObject({ pending: 0, state: 'synced' });
    await client.stop();
  });

  it('made when the push results are saved, its own save still pending as the loop ends: sent once saved', async () => {
    const server = createMemoryServer();
    const disk = memoryStorage();
    let afterNextWrite: (() => void) | undefined;
    let holdNextWrite = false;
    let releaseHeld: (() => void) | undefined;
    // A storage commit hook: runs a write as the push results' save completes, and holds that
    // write's own save, so the loop's last `takeBatch` sees it queued but not durable.
    const hooked: typeof disk = {
      get: (namespace, key) => disk.get(namespace, key),
      list: (namespace, prefix) => disk.list(namespace, prefix),
      clear: (namespace) => disk.clear(namespace),
      async write(namespace, ops) {
        if (holdNextWrite) {
          holdNextWrite = false;
          await new Promise<void>((resolve) => {
            releaseHeld = resolve;
          });
        }
        await disk.write(namespace, ops);
        const hook = afterNextWrite;
        afterNextWrite = undefined;
        hook?.();
      },
    };
    let late: Promise<void> | undefined;
    const transport = pushThrough(server, async (req, inner) => {
      const answer = await inner.push(req);
      if (late !== undefined) return answer;
      // The next storage write is this answer's push results: the loop resumes after it.
      afterNextWrite = () => {
        holdNextWrite = true;
        late = client.put('todos', 'late', { v: 1 });
      };
      return answer;
    });
    const client = createSyncClient({ transport, storage: hooked, environment: newEnv() });
    await client.start();
    await client.syncNow();
    await client.put('todos', 'a', { v: 1 });
    await settle(10);
    expect(late).toBeDefined();
    expect(ids(server)).toEqual(['a']);
    expect(client.status.pending).toBe(1);
    releaseHeld?.();
    await late;
    await settle(10);
    expect(ids(server)).toEqual(['a', 'late']);
    expect(client.status).toMatchObject({ pending: 0, state: 'synced' });
    await client.stop();
  });
});
