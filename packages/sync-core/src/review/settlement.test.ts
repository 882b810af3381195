/**
 * What the app does about mutations the server did not take (review/settlement.ts): record
 * states name only the record concerned, unknown ids are refused, a failed storage write
 * changes nothing, and every decision is durable across a restart.
 */
import { describe, expect, it } from 'vitest';
import { createSyncClient } from '../client/create-sync-client.js';
import { controlledStorage, testEnvironment } from '../client/test-support.js';
import { manual } from '../conflict/resolvers.js';
import { isSyncError } from '../errors/sync-error.js';
import { memoryStorage } from '../storage/memory.js';
import { createMemoryServer, type MemoryServer } from '../testing/memory-server.js';

let seed = 900;

async function kindOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isSyncError(error)) return error.kind;
    throw error;
  }
  return 'resolved';
}

/** A client with one dead letter (`todos/x`: too many fields) and one synced record (`todos/y`). */
async function withDeadLetter() {
  const server = createMemoryServer({ limits: { maxFieldsPerRecord: 1 } });
  const storage = controlledStorage(memoryStorage());
  const client = createSyncClient({
    transport: server.connect({ userId: 'u1', sessionId: 's1' }),
    storage,
    environment: testEnvironment({ seed: seed++ }),
  });
  await client.start();
  await client.put('todos', 'x', { a: 1, b: 2 });
  await client.put('todos', 'y', { a: 1 });
  await client.syncNow();
  expect(client.deadLetters()).toHaveLength(1);
  const id = client.deadLetters()[0]?.mutation.id as string;
  return { server, storage, client, id };
}

/** Client `b` holds a parked conflict on `docs/d`, on storage `disk`. */
async function withParkedConflict(maxRecordBytes?: number) {
  const server = createMemoryServer();
  // `notes` is declared so that the same id in another collection can be read (undeclared: refused).
  const options = { collections: { docs: { conflict: manual() }, notes: {} } };
  const disk = memoryStorage();
  const storage = controlledStorage(disk);
  const envA = testEnvironment({ seed: seed++ });
  const envB = testEnvironment({ seed: seed++ });
  const a = createSyncClient({
    transport: server.connect({ userId: 'u1' }),
    storage: memoryStorage(),
    environment: envA,
    ...options,
  });
  const bTransport = server.connect({ userId: 'u1', sessionId: 'b' });
  const b = createSyncClient({
    // With `maxRecordBytes`, B learns that limit at sign-in as from `GET /v1/info`.
    transport:
      maxRecordBytes === undefined
        ? bTransport
        : Object.assign(bTransport, {
            info: async () => ({
              protocol: 1 as const,
              limits: {
                maxBodyBytes: 1 << 20,
                maxRecordBytes,
                maxMutationsPerPush: 500,
                maxPullLimit: 1000,
              },
            }),
          }),
    storage,
    environment: envB,
    ...options,
  });
  await a.start();
  await b.start();
  await a.put('docs', 'd', { title: 'base' });
  await a.put('docs', 'other', { title: 'fine' });
  await a.syncNow();
  await b.syncNow();
  envA.setOnline(false);
  envB.setOnline(false);
  await a.put('docs', 'd', { title: 'A' });
  await b.put('docs', 'd', { title: 'B' });
  envA.setOnline(true);
  await a.syncNow();
  envB.setOnline(true);
  await b.syncNow();
  expect(b.conflicts()).toHaveLength(1);
  const id = b.conflicts()[0]?.mutationId as string;
  const restart = async () => {
    await b.stop();
    const again = createSyncClient({
      transport: server.connect({ userId: 'u1', sessionId: 'b' }),
      storage: disk,
      environment: testEnvironment({ seed: seed++ }),
      ...options,
    });
    await again.start();
    return again;
  };
  return { server, storage, b, id, restart };
}

const serverData = (server: MemoryServer, id: string) =>
  server.records('user:u1').find((r) => r.id === id);

describe('dead letters', () => {
  it('mark only their own record as rejected', async () => {
    const { client } = await withDeadLetter();
    expect(client.recordStatus('todos', 'x')).toBe('rejected');
    expect(client.recordStatus('todos', 'y')).toBe('synced');
    expect(client.recordStatus('notes', 'x')).toBe('synced');
    await client.stop();
  });

  it('refuses to retry an unknown id and ignores discarding one, writing nothing', async () => {
    const { client, storage } = await withDeadLetter();
    const writes = storage.writes.length;
    expect(await kindOf(client.retryDeadLetter('no-such-id'))).toBe('invalid');
    expect(await kindOf(client.discardDeadLetter('no-such-id'))).toBe('resolved');
    expect(storage.writes.length).toBe(writes);
    expect(client.deadLetters()).toHaveLength(1);
    await client.stop();
  });

  it('keeps the letter when storage fails, and counts it out as soon as a retry is queued', async () => {
    const { client, storage, id } = await withDeadLetter();
    storage.failNext();
    expect(await kindOf(client.retryDeadLetter(id))).toBe('storage');
    expect(client.deadLetters().map((l) => l.mutation.id)).toEqual([id]);
    storage.failNext();
    expect(await kindOf(client.discardDeadLetter(id))).toBe('storage');
    expect(client.deadLetters().map((l) => l.mutation.id)).toEqual([id]);
    expect(client.status.rejected).toBe(1);
    expect(await storage.list('user:u1', 'd/')).toHaveLength(1);
    await client.retryDeadLetter(id);
    expect(client.status).toMatchObject({ rejected: 0, pending: 1 });
    expect(client.recordStatus('todos', 'x')).toBe('pending');
    await client.stop();
  });
});

describe('parked conflicts', () => {
  it('mark only their own record, and an unknown id is refused', async () => {
    const { b } = await withParkedConflict();
    expect(b.recordStatus('docs', 'd')).toBe('conflict');
    expect(b.recordStatus('docs', 'other')).toBe('synced');
    expect(b.recordStatus('notes', 'd')).toBe('synced');
    expect(await kindOf(b.resolveConflict('no-such-id', { action: 'server' }))).toBe('invalid');
    expect(b.conflicts()).toHaveLength(1);
    await b.stop();
  });

  it("keeping the server's record is durable: gone after a restart, counted out at once", async () => {
    const { b, id, restart } = await withParkedConflict();
    await b.resolveConflict(id, { action: 'server' });
    expect(b.status.conflicts).toBe(0);
    const again = await restart();
    expect(again.conflicts()).toEqual([]);
    expect(again.get('docs', 'd')).toEqual({ title: 'A' });
    await again.stop();
  });

  it('writing a decision is durable, and writing null deletes the record', async () => {
    const { server, b, id, restart } = await withParkedConflict();
    await b.resolveConflict(id, { action: 'write', data: null });
    expect(b.get('docs', 'd')).toBeUndefined();
    expect(b.status.conflicts).toBe(0);
    const again = await restart();
    expect(again.conflicts()).toEqual([]);
    await again.syncNow();
    expect(serverData(server, 'd')?.deleted).toBe(true);
    await again.stop();
  });

  it('refuses a decision over the size limit the server told, and keeps the conflict', async () => {
    const { server, b, id } = await withParkedConflict(100);
    const refused = b.resolveConflict(id, { action: 'write', data: { title: 'x'.repeat(200) } });
    await expect(refused).rejects.toMatchObject({ kind: 'invalid', code: 'too_large' });
    expect(b.conflicts().map((c) => c.mutationId)).toEqual([id]);
    expect(b.status.conflicts).toBe(1);
    await b.resolveConflict(id, { action: 'write', data: { title: 'C' } });
    await b.syncNow();
    expect(serverData(server, 'd')?.data).toEqual({ title: 'C' });
    await b.stop();
  });

  it('keeps the conflict when storage fails', async () => {
    const { b, id, storage } = await withParkedConflict();
    storage.failNext();
    expect(await kindOf(b.resolveConflict(id, { action: 'write', data: { title: 'C' } }))).toBe(
      'storage',
    );
    expect(b.conflicts().map((c) => c.mutationId)).toEqual([id]);
    expect(b.status.conflicts).toBe(1);
    storage.failNext();
    expect(await kindOf(b.resolveConflict(id, { action: 'server' }))).toBe('storage');
    expect(b.conflicts().map((c) => c.mutationId)).toEqual([id]);
    await b.stop();
  });
});
