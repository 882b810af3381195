import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSyncClient } from '../client/create-sync-client.js';
import { settle, testEnvironment } from '../client/test-support.js';
import { isSyncError, type SyncError } from '../errors/sync-error.js';
import { memoryStorage } from '../storage/memory.js';
import { createMemoryServer } from '../testing/memory-server.js';
import type { InvalidRecord } from './check-schema.js';
import { collection } from './collections.js';
import type { StandardSchemaV1 } from './standard-schema.js';

let seed = 500;
const newEnv = () => testEnvironment({ seed: seed++ });

const zodTodo = z.object({
  title: z.string().min(1),
  done: z.boolean(),
  tags: z.array(z.string()),
});
const valibotNote = v.object({ body: v.string(), pinned: v.optional(v.boolean()) });

function typedClient(server = createMemoryServer(), storage = memoryStorage()) {
  return createSyncClient({
    transport: server.connect({ userId: 'u1' }),
    storage,
    environment: newEnv(),
    collections: {
      todos: { schema: zodTodo },
      notes: { schema: valibotNote },
      plain: collection<{ n: number }>(),
    },
  });
}

function thrown(run: () => unknown): SyncError {
  try {
    run();
  } catch (error) {
    if (isSyncError(error)) return error;
    throw error;
  }
  throw new Error('expected a SyncError');
}

describe('typed collections: local writes', () => {
  it('refuses a put that fails a zod schema, naming the field, and queues nothing', async () => {
    const client = typedClient();
    await client.start();
    const error = thrown(() =>
      client.put('todos', 't1', { title: 'a', done: 'yes', tags: [] } as never),
    );
    expect(error.kind).toBe('invalid');
    expect(error.code).toBe('schema');
    expect(error.message).toContain('done');
    expect(error.details).toMatchObject({
      collection: 'todos',
      id: 't1',
      issues: [{ path: ['done'] }],
    });
    expect(client.get('todos', 't1')).toBeUndefined();
    expect(client.status.pending).toBe(0);
  });

  it('names a nested path (tags[1]) from zod, and a valibot field', async () => {
    const client = typedClient();
    await client.start();
    const nested = thrown(() =>
      client.put('todos', 't1', { title: 'a', done: false, tags: ['x', 2] } as never),
    );
    expect(nested.message).toContain('$.tags[1]: ');
    const note = thrown(() => client.put('notes', 'n1', { body: 42 } as never));
    expect(note.code).toBe('schema');
    expect(note.details).toMatchObject({ issues: [{ path: ['body'] }] });
    await client.put('notes', 'n1', { body: 'hello' });
    expect(client.get('notes', 'n1')).toEqual({ body: 'hello' });
  });

  it('stores the schema output (zod strips unknown keys)', async () => {
    const client = typedClient();
    await client.start();
    await client.put('todos', 't1', { title: 'a', done: false, tags: [], extra: 1 } as never);
    expect(client.get('todos', 't1')).toEqual({ title: 'a', done: false, tags: [] });
  });

  it('checks a patch merged with the current record', async () => {
    const client = typedClient();
    await client.start();
    await client.put('todos', 't1', { title: 'a', done: false, tags: [] });
    await client.patch('todos', 't1', { done: true });
    expect(client.get('todos', 't1')).toEqual({ title: 'a', done: true, tags: [] });
    const error = thrown(() => client.patch('todos', 't1', { title: '' }));
    expect(error.details).toMatchObject({ issues: [{ path: ['title'] }] });
    expect(client.get('todos', 't1')?.title).toBe('a');
    // A patch of a record the view does not have must be a whole record.
    expect(thrown(() => client.patch('todos', 't2', { done: true })).code).toBe('schema');
  });

  it('checks the writes of a transaction against what the transaction built so far', async () => {
    const client = typedClient();
    await client.start();
    await client.transaction((tx) => {
      tx.put('todos', 't1', { title: 'a', done: false, tags: [] });
      tx.patch('todos', 't1', { done: true });
    });
    expect(client.get('todos', 't1')).toEqual({ title: 'a', done: true, tags: [] });
    const before = client.status.pending;
    expect(() =>
      client.transaction((tx) => {
        tx.put('todos', 't2', { title: 'b', done: false, tags: [] });
        tx.patch('todos', 't2', { done: 'no' as never });
      }),
    ).toThrow(/done/);
    expect(client.get('todos', 't2')).toBeUndefined();
    expect(client.status.pending).toBe(before);
    // Deleted earlier in the transaction, the record is gone: a patch is its only fields.
    expect(() =>
      client.transaction((tx) => {
        tx.delete('todos', 't1');
        tx.patch('todos', 't1', { done: false });
      }),
    ).toThrow(/fails its schema/);
    expect(client.get('todos', 't1')).toEqual({ title: 'a', done: true, tags: [] });
  });

  it('refuses an undeclared collection at runtime with unknown_collection', async () => {
    const client = typedClient();
    await client.start();
    const error = thrown(() => client.put('todoz' as 'todos', 't1', {} as never));
    expect(error.kind).toBe('invalid');
    expect(error.code).toBe('unknown_collection');
    expect(error.message).toContain('"todos"');
    expect(thrown(() => client.delete('todoz' as 'todos', 't1')).code).toBe('unknown_collection');
    expect(client.status.pending).toBe(0);
  });

  it('refuses an undeclared collection in reads too, not an empty answer', async () => {
    // A typo in a read (`client.query('todoz')` from plain JavaScript) used to return [] silently.
    const client = typedClient();
    await client.start();
    await client.put('todos', 't1', { title: 'a', done: false, tags: [] });
    expect(thrown(() => client.get('todoz' as 'todos', 't1')).code).toBe('unknown_collection');
    expect(thrown(() => client.query('todoz' as 'todos')).code).toBe('unknown_collection');
    expect(thrown(() => client.recordStatus('todoz' as 'todos', 't1')).code).toBe(
      'unknown_collection',
    );
    expect(client.get('todos', 't1')).toEqual({ title: 'a', done: false, tags: [] });
    expect(client.query('plain')).toEqual([]);
    expect(client.recordStatus('todos', 't1')).toBe('pending');
  });

  it('keeps the untyped API for a client that declares no collections', async () => {
    const client = createSyncClient({
      transport: createMemoryServer().connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: newEnv(),
    });
    await client.start();
    await client.put('anything', 'a', { free: ['form'] });
    expect(client.get('anything', 'a')).toEqual({ free: ['form'] });
  });

  it('refuses a schema that validates asynchronously', async () => {
    const asyncSchema: StandardSchemaV1<unknown, { x: number }> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) => Promise.resolve({ value: value as { x: number } }),
      },
    };
    const client = createSyncClient({
      transport: createMemoryServer().connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: newEnv(),
      collections: { xs: { schema: asyncSchema } },
    });
    await client.start();
    expect(thrown(() => client.put('xs', 'a', { x: 1 })).code).toBe('async_schema');
  });
});

describe('typed collections: records from the server', () => {
  it('quarantines a pulled record that fails the schema, reports it, and lifts it on a valid version', async () => {
    const server = createMemoryServer();
    const storage = memoryStorage();
    const writer = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: newEnv(),
    });
    const reader = typedClient(server, storage);
    const reported: InvalidRecord[] = [];
    reader.on('invalid-record', (invalid) => reported.push(invalid));
    await writer.start();
    await reader.start();
    await writer.put('todos', 'good', { title: 'ok', done: false, tags: [] });
    await writer.put('todos', 'bad', { title: 'x', done: 'maybe', tags: [] });
    await writer.syncNow();
    await reader.syncNow();
    await settle();
    expect(reader.get('todos', 'good')).toEqual({ title: 'ok', done: false, tags: [] });
    expect(reader.get('todos', 'bad')).toBeUndefined();
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({
      collection: 'todos',
      id: 'bad',
      issues: [{ path: ['done'] }],
    });
    expect(reader.invalidRecords()).toHaveLength(1);
    // The quarantine is stored: a restarted client still lists it.
    await reader.stop();
    const restarted = typedClient(server, storage);
    await restarted.start();
    expect(restarted.invalidRecords().map((r) => r.id)).toEqual(['bad']);
    // A valid version from the server ends it.
    await writer.patch('todos', 'bad', { done: true });
    await writer.syncNow();
    await restarted.syncNow();
    expect(restarted.get('todos', 'bad')).toEqual({ title: 'x', done: true, tags: [] });
    expect(restarted.invalidRecords()).toEqual([]);
  });
});
