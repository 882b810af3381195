/**
 * Type tests of typed collections. `expectTypeOf` is checked by the type checker: `npm test`
 * runs `tsc` over this file (`npm run typecheck`), where every `@ts-expect-error` must be an
 * error, and vitest runs it too.
 */
import * as v from 'valibot';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import type { AnySyncClient, CollectionName, RecordOf, SyncClient } from '../api/client.js';
import { createSyncClient } from '../client/create-sync-client.js';
import type { JsonObject } from '../protocol/types.js';
import type { ViewRecord } from '../store/query.js';
import { createMemoryServer } from '../testing/memory-server.js';
import { collection } from './collections.js';

interface Note {
  body: string;
  pinned?: boolean;
}

const todoSchema = z.object({ title: z.string(), done: z.boolean(), rank: z.number() });
type Todo = z.infer<typeof todoSchema>;
const tagSchema = v.object({ label: v.string(), color: v.picklist(['red', 'blue']) });

function typed() {
  return createSyncClient({
    transport: createMemoryServer().connect({ userId: 'u1' }),
    collections: {
      todos: { schema: todoSchema },
      tags: { schema: tagSchema },
      notes: collection<Note>(),
      loose: {},
    },
  });
}

describe('typed collections (types)', () => {
  it('infers each record type from a zod schema, a valibot schema or collection<T>()', () => {
    const client = typed();
    expectTypeOf<RecordOf<typeof client, 'todos'>>().toEqualTypeOf<Todo>();
    expectTypeOf<RecordOf<typeof client, 'tags'>>().toEqualTypeOf<{
      label: string;
      color: 'red' | 'blue';
    }>();
    expectTypeOf<RecordOf<typeof client, 'notes'>>().toEqualTypeOf<Note>();
    expectTypeOf<RecordOf<typeof client, 'loose'>>().toEqualTypeOf<JsonObject>();
    expectTypeOf<CollectionName<typeof client>>().toEqualTypeOf<
      'todos' | 'tags' | 'notes' | 'loose'
    >();
  });

  it('types put, patch, get, query and events without type arguments', () => {
    const client = typed();
    expectTypeOf(client.get('todos', 't1')).toEqualTypeOf<Readonly<Todo> | undefined>();
    expectTypeOf(client.query('notes')).toEqualTypeOf<readonly ViewRecord<Note>[]>();
    client.query('todos', {
      where: (todo) => {
        expectTypeOf(todo).toEqualTypeOf<Readonly<Todo>>();
        return !todo.done;
      },
      orderBy: ['rank', 'desc'],
    });
    client.on('change', ({ collection }) => {
      expectTypeOf(collection).toEqualTypeOf<'todos' | 'tags' | 'notes' | 'loose'>();
    });
    expectTypeOf(client.put<'todos'>)
      .parameter(2)
      .toEqualTypeOf<Todo>();
    expectTypeOf(client.patch<'todos'>)
      .parameter(2)
      .toEqualTypeOf<Partial<Todo>>();
  });

  it('rejects a wrong field type, an unknown field in orderBy and an unknown collection', () => {
    const client = typed();
    // Never run: only the type checker looks at these.
    const compileOnly = () => {
      // @ts-expect-error done must be a boolean
      void client.put('todos', 't1', { title: 'a', done: 'yes', rank: 1 });
      // @ts-expect-error a missing field
      void client.put('todos', 't1', { title: 'a', done: false });
      // @ts-expect-error pinned must be a boolean
      void client.patch('notes', 'n1', { pinned: 1 });
      // @ts-expect-error 'red' | 'blue' only
      void client.put('tags', 'x', { label: 'a', color: 'green' });
      // @ts-expect-error no such field to order by
      client.query('todos', { orderBy: 'titel' });
      // @ts-expect-error an undeclared collection
      void client.put('todoz', 't1', { title: 'a', done: false, rank: 1 });
      // @ts-expect-error an undeclared collection
      client.get('todoz', 't1');
      void client.transaction((tx) => {
        // @ts-expect-error inside a transaction too
        tx.put('todos', 't1', { title: 1, done: false, rank: 1 });
      });
    };
    expectTypeOf(compileOnly).toBeFunction();
  });

  it('lets helpers generic over any client (such as React hooks) read the types back', () => {
    // What a `useRecord(collection, id)` hook would be typed as.
    function readRecord<Client extends AnySyncClient, Name extends CollectionName<Client>>(
      client: Client,
      name: Name,
      id: string,
    ): Readonly<RecordOf<Client, Name>> | undefined {
      return client.get(name, id) as Readonly<RecordOf<Client, Name>> | undefined;
    }
    const client = typed();
    expectTypeOf(readRecord(client, 'todos', 't1')).toEqualTypeOf<Readonly<Todo> | undefined>();
    const untyped = createSyncClient({ transport: createMemoryServer().connect({ userId: 'u' }) });
    expectTypeOf(readRecord(untyped, 'x', 'a')).toEqualTypeOf<Readonly<JsonObject> | undefined>();
    const compileOnly = () => {
      // @ts-expect-error an undeclared collection
      readRecord(client, 'todoz', 't1');
    };
    expectTypeOf(compileOnly).toBeFunction();
  });

  it('keeps the untyped JsonObject API for a client that declares no collections', () => {
    const client = createSyncClient({
      transport: createMemoryServer().connect({ userId: 'u1' }),
    });
    expectTypeOf(client).toEqualTypeOf<SyncClient>();
    expectTypeOf(client.get('anything', 'a')).toEqualTypeOf<Readonly<JsonObject> | undefined>();
    expectTypeOf<CollectionName<typeof client>>().toEqualTypeOf<string>();
  });
});
