// @vitest-environment happy-dom
import { manual, type OnlineSource } from '@syncline/sync-core';
import { createMemoryServer, withFaults } from '@syncline/sync-core/testing';
import {
  act,
  cleanup,
  configure,
  fireEvent,
  render,
  screen,
  waitFor,
} from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import {
  SyncProvider,
  useConflicts,
  useDeadLetters,
  useMutations,
  usePendingCount,
  useRecord,
  useRecordStatus,
  useSyncStatus,
} from '../src/index.js';
import { RenderLog, settle, startedClient, testClient } from './support.js';

/** An online source the test switches by hand. */
function switchableOnline(): OnlineSource & { set(online: boolean): void } {
  let online = true;
  const listeners = new Set<(online: boolean) => void>();
  return {
    isOnline: () => online,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(next) {
      online = next;
      for (const listener of [...listeners]) listener(next);
    },
  };
}

function Badge({ log }: { log: RenderLog }) {
  const status = useSyncStatus();
  log.hit('state', status.state);
  return <p data-testid="badge">{`${status.state} ${status.pending}`}</p>;
}

// A shared CI machine can be slow: wait up to 10 s for each expected screen.
configure({ asyncUtilTimeout: 10_000 });
afterEach(cleanup);

describe('useSyncStatus', () => {
  it('moves through local, syncing, synced, offline, error and back, as the client does', async () => {
    const server = createMemoryServer();
    const transport = withFaults(server.connect({}));
    const online = switchableOnline();
    const client = testClient(server, undefined, { transport, environment: { online } });
    await client.start();
    const log = new RenderLog();
    render(
      <SyncProvider client={client}>
        <Badge log={log} />
      </SyncProvider>,
    );
    expect(screen.getByTestId('badge').textContent).toBe('local 0');
    await act(() => client.put('todos', 't1', { title: 'offline first', done: false }));
    expect(screen.getByTestId('badge').textContent).toBe('local 1');

    const session = transport.session as unknown as { set(s: unknown): void };
    session.set({ userId: 'alice', sessionId: 'session-a' });
    await waitFor(() => expect(screen.getByTestId('badge').textContent).toBe('synced 0'));

    act(() => online.set(false));
    await waitFor(() => expect(screen.getByTestId('badge').textContent).toBe('offline 0'));
    act(() => online.set(true));

    transport.setFaults({ serverError: 1 });
    await act(() => client.put('todos', 't2', { title: 'x', done: false }));
    await waitFor(() => expect(screen.getByTestId('badge').textContent).toBe('error 1'));
    transport.setFaults({ serverError: 0 });
    await waitFor(() => expect(screen.getByTestId('badge').textContent).toBe('synced 0'));

    const states = log.values('state').filter((s, i, all) => s !== all[i - 1]);
    expect(states[0]).toBe('local');
    const order = ['local', 'syncing', 'synced', 'offline', 'error', 'synced'];
    let at = 0;
    for (const state of states) if (state === order[at]) at++;
    expect(at, `states seen: ${states.join(' > ')}`).toBe(order.length);
    await client.stop();
  });
});

function PendingCount({ log }: { log: RenderLog }) {
  const pending = usePendingCount();
  log.hit('pending', pending);
  return <p data-testid="pending">{pending}</p>;
}

describe('usePendingCount', () => {
  it('shows the writes not yet confirmed, one render per change of their number', async () => {
    const server = createMemoryServer();
    const client = testClient(server, undefined);
    await client.start();
    const log = new RenderLog();
    render(
      <SyncProvider client={client}>
        <PendingCount log={log} />
      </SyncProvider>,
    );
    expect(screen.getByTestId('pending').textContent).toBe('0');
    await act(() => client.put('todos', 't1', { title: 'one', done: false }));
    await waitFor(() => expect(screen.getByTestId('pending').textContent).toBe('1'));
    await act(() => client.put('todos', 't2', { title: 'two', done: false }));
    await waitFor(() => expect(screen.getByTestId('pending').textContent).toBe('2'));
    await act(() => settle(10));
    expect(log.values('pending')).toEqual([0, 1, 2]);
    await client.stop();
  });
});

function Row({ id }: { id: string }) {
  const todo = useRecord('todos', id);
  const state = useRecordStatus('todos', id);
  return <li data-testid={`row-${id}`}>{`${String(todo?.title)} ${state}`}</li>;
}

function ConflictPanel() {
  const { conflicts, resolve } = useConflicts();
  return (
    <ul>
      {conflicts.map((c) => (
        <li key={c.mutationId}>
          <span data-testid="mine">{String(c.local?.title)}</span>
          <span data-testid="theirs">{String(c.server?.data?.title)}</span>
          <button type="button" onClick={() => resolve(c.mutationId, { action: 'server' })}>
            keep theirs
          </button>
        </li>
      ))}
    </ul>
  );
}

function DeadLetterList() {
  const { deadLetters, retry, discard } = useDeadLetters();
  return (
    <ul>
      {deadLetters.map((d) => (
        <li key={d.mutation.id} data-testid="dead" data-mutation={d.mutation.id}>
          {d.code}
          <button type="button" onClick={() => retry(d.mutation.id)}>
            retry
          </button>
          <button type="button" onClick={() => discard(d.mutation.id)}>
            discard
          </button>
        </li>
      ))}
    </ul>
  );
}

function Editor() {
  const todos = useMutations('todos');
  return (
    <button type="button" onClick={() => todos.patch('t1', { title: 'mine' })}>
      edit
    </button>
  );
}

describe('useConflicts, useRecordStatus, useMutations', () => {
  it('shows a parked conflict with both versions and settles it', async () => {
    const server = createMemoryServer();
    const collections = { todos: { conflict: manual() } };
    const a = await startedClient(server, 'alice', { collections });
    const bTransport = withFaults(server.connect({ userId: 'alice' }));
    const b = await startedClient(server, 'alice', { collections, transport: bTransport });
    await a.put('todos', 't1', { title: 'first', done: false });
    await a.syncNow();
    await b.syncNow();
    expect(b.get('todos', 't1')?.title).toBe('first');
    bTransport.setOffline(true);
    await a.patch('todos', 't1', { title: 'theirs' });
    await a.syncNow();

    render(
      <SyncProvider client={b}>
        <Row id="t1" />
        <Editor />
        <ConflictPanel />
      </SyncProvider>,
    );
    // b edits offline, on the old revision; back online, its push conflicts and is parked.
    fireEvent.click(screen.getByText('edit'));
    await waitFor(() => expect(screen.getByTestId('row-t1').textContent).toBe('mine pending'));
    bTransport.setOffline(false);
    await waitFor(() => expect(screen.getByTestId('row-t1').textContent).toMatch(/ conflict$/));
    expect(screen.getByTestId('mine').textContent).toBe('mine');
    expect(screen.getByTestId('theirs').textContent).toBe('theirs');
    fireEvent.click(screen.getByText('keep theirs'));
    await waitFor(() => expect(screen.getByTestId('row-t1').textContent).toBe('theirs synced'));
    expect(screen.queryByTestId('mine')).toBeNull();
    await a.stop();
    await b.stop();
  });
});

describe('useDeadLetters', () => {
  it('lists a rejected write, retries it and discards it', async () => {
    const server = createMemoryServer({ limits: { maxFieldsPerRecord: 2 } });
    const client = await startedClient(server, 'alice');
    await client.syncNow();
    render(
      <SyncProvider client={client}>
        <Row id="t9" />
        <DeadLetterList />
      </SyncProvider>,
    );
    // Three fields: over the server's limit, so the server rejects the write for good.
    await act(() => client.put('todos', 't9', { title: 'nope', done: false, extra: 1 }));
    await waitFor(() => expect(screen.getAllByTestId('dead')).toHaveLength(1));
    expect(screen.getByTestId('dead').textContent).toMatch(/^invalid/);
    expect(screen.getByTestId('row-t9').textContent).toBe('undefined rejected');
    const first = screen.getByTestId('dead').dataset.mutation;
    fireEvent.click(screen.getByText('retry'));
    // Retried as is, it is rejected again: a new dead letter (a new mutation) replaces the old one.
    await waitFor(() => {
      expect(screen.getAllByTestId('dead')).toHaveLength(1);
      expect(screen.getByTestId('dead').dataset.mutation).not.toBe(first);
    });
    fireEvent.click(screen.getByText('discard'));
    await waitFor(() => expect(screen.queryAllByTestId('dead')).toHaveLength(0));
    expect(screen.getByTestId('row-t9').textContent).toBe('undefined synced');
    await client.stop();
  });
});
