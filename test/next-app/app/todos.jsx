'use client';
/**
 * The client part: one sync client per browser tab, created in a state initializer (so the
 * server render creates one that is never started and touches no storage), started in an
 * effect, and the hooks below the provider.
 */
import { restTransport } from '@syncline/adapter-rest';
import {
  SyncProvider,
  useCollection,
  useMutations,
  usePendingCount,
  useSyncStatus,
} from '@syncline/react';
import { createSyncClient } from '@syncline/sync-core';
import { useEffect, useState } from 'react';

function TodoList() {
  const status = useSyncStatus();
  const pending = usePendingCount();
  const todos = useCollection('todos', { orderBy: 'title' });
  const { put } = useMutations('todos');
  const [title, setTitle] = useState('');
  return (
    <section>
      <p data-testid="status" data-state={status.state}>
        {status.state} · {pending} pending
      </p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void put(crypto.randomUUID(), { title, done: false });
          setTitle('');
        }}
      >
        <input aria-label="new todo" value={title} onChange={(e) => setTitle(e.target.value)} />
        <button type="submit">Add</button>
      </form>
      <ul>
        {todos.map((todo) => (
          <li key={todo.id} data-testid="todo">
            {todo.data.title}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function Todos() {
  // Signed out (no token): writes stay local, in IndexedDB, as "Saved locally".
  const [client] = useState(() =>
    createSyncClient({
      transport: restTransport({ baseUrl: 'http://127.0.0.1:9', getToken: async () => null }),
    }),
  );
  useEffect(() => {
    void client.start();
    return () => void client.stop();
  }, [client]);
  return (
    <SyncProvider client={client}>
      <TodoList />
    </SyncProvider>
  );
}
