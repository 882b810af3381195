// @vitest-environment happy-dom
import { createSyncClient, memoryStorage, type StorageAdapter } from '@syncline/sync-core';
import { createMemoryServer } from '@syncline/sync-core/testing';
import { hydrateRoot } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  SyncProvider,
  useCollection,
  useConflicts,
  useDeadLetters,
  useDeliveries,
  usePendingCount,
  useRecord,
  useRecordStatus,
  useSessions,
  useSyncStatus,
  useTransfers,
} from '../src/index.js';
import { settle, startedClient, until } from './support.js';

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false;

/** Every call reaching storage, by method. */
function countingStorage(): StorageAdapter & { calls: string[] } {
  const inner = memoryStorage();
  const calls: string[] = [];
  function seen<T>(method: string, result: T): T {
    calls.push(method);
    return result;
  }
  return {
    calls,
    get: (namespace, key) => seen('get', inner.get(namespace, key)),
    list: (namespace, prefix) => seen('list', inner.list(namespace, prefix)),
    write: (namespace, ops) => seen('write', inner.write(namespace, ops)),
    clear: (namespace) => seen('clear', inner.clear(namespace)),
  };
}

function Page() {
  const status = useSyncStatus();
  const pending = usePendingCount();
  const todos = useCollection('todos', { orderBy: 'title' });
  const first = useRecord('todos', 't1');
  const firstStatus = useRecordStatus('todos', 't1');
  const { conflicts } = useConflicts();
  const { deadLetters } = useDeadLetters();
  const { current, sessions } = useSessions();
  const transfers = useTransfers();
  const received = useDeliveries();
  return (
    <main>
      <p id="status">{`${status.state}/${pending}`}</p>
      <p id="first">{`${String(first?.title ?? '-')}/${firstStatus}`}</p>
      <p id="review">{`${conflicts.length}/${deadLetters.length}`}</p>
      <p id="devices">{`${current?.sessionId ?? '-'}/${sessions?.length ?? '-'}/${transfers.length}/${received.length}`}</p>
      <ul>
        {todos.map((todo) => (
          <li key={todo.id}>{String(todo.data.title)}</li>
        ))}
      </ul>
    </main>
  );
}

describe('server rendering and hydration', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('renders on the server without touching storage, with fixed snapshots', () => {
    const storage = countingStorage();
    const client = createSyncClient({
      transport: createMemoryServer().connect({ userId: 'alice' }),
      storage,
    });
    const html = renderToString(
      <SyncProvider client={client}>
        <Page />
      </SyncProvider>,
    );
    expect(storage.calls).toEqual([]);
    expect(html).toContain('<p id="status">local/0</p>');
    expect(html).toContain('<p id="first">-/synced</p>');
    expect(html).toContain('<p id="review">0/0</p>');
    expect(html).toContain('<p id="devices">-/-/0/0</p>');
    expect(html).toContain('<ul></ul>');
  });

  it('hydrates a started client with data without a mismatch, then shows the live data', async () => {
    const serverClient = createSyncClient({
      transport: createMemoryServer().connect({}),
      storage: memoryStorage(),
    });
    const html = renderToString(
      <SyncProvider client={serverClient}>
        <Page />
      </SyncProvider>,
    );

    // The browser's client already holds data and a pending write when React hydrates.
    const client = await startedClient(createMemoryServer(), undefined);
    await client.put('todos', 't1', { title: 'Milk', done: false });
    await client.put('todos', 't2', { title: 'Bread', done: false });
    const container = document.createElement('div');
    container.innerHTML = html;
    document.body.append(container);
    const recoverable = vi.fn();
    const consoleError = vi.spyOn(console, 'error');
    const root = hydrateRoot(
      container,
      <SyncProvider client={client}>
        <Page />
      </SyncProvider>,
      { onRecoverableError: recoverable },
    );
    await until(
      () => container.querySelectorAll('li').length === 2,
      'the live data after hydration',
    );
    await settle(10);
    expect(recoverable).not.toHaveBeenCalled();
    expect(consoleError).not.toHaveBeenCalled();
    expect(container.querySelector('#status')?.textContent).toBe('local/2'); // signed-out writes wait in the outbox
    expect(container.querySelector('#first')?.textContent).toBe('Milk/pending');
    expect([...container.querySelectorAll('li')].map((li) => li.textContent)).toEqual([
      'Bread',
      'Milk',
    ]);
    root.unmount();
    container.remove();
    await client.stop();
  });

  it('a mismatching first render is reported, so the check above can fail', async () => {
    const container = document.createElement('div');
    container.innerHTML = '<main><p id="status">synced/3</p></main>';
    document.body.append(container);
    const recoverable = vi.fn();
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const client = await startedClient(createMemoryServer(), undefined);
    const root = hydrateRoot(
      container,
      <SyncProvider client={client}>
        <Page />
      </SyncProvider>,
      { onRecoverableError: recoverable },
    );
    await settle(20);
    expect(recoverable).toHaveBeenCalled();
    root.unmount();
    container.remove();
    await client.stop();
  });
});
