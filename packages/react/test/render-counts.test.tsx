// @vitest-environment happy-dom
import type { SyncClient } from '@syncline/sync-core';
import { createMemoryServer } from '@syncline/sync-core/testing';
import { useRef } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncProvider, useCollection, useRecord } from '../src/index.js';
import {
  RenderLog,
  settle,
  startedClient,
  type TestCollections,
  testClient,
  until,
} from './support.js';

// Renders here happen outside act(), exactly as in an app: React batches what arrives in one
// microtask, and the counts below are what a user's components would see.
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false;

function TodoTitle({ id, log }: { id: string; log: RenderLog }) {
  const todo = useRecord<TestCollections, 'todos'>('todos', id);
  log.hit(`todo:${id}`);
  return <li data-id={id}>{todo?.title ?? '(none)'}</li>;
}

function NoTodo({ log }: { log: RenderLog }) {
  const todo = useRecord<TestCollections, 'todos'>('todos', null);
  log.hit('none');
  return <p data-testid="none">{todo === undefined ? '(none)' : 'a record'}</p>;
}

function TodoList({ log }: { log: RenderLog }) {
  const todos = useCollection<TestCollections, 'todos'>('todos', { orderBy: 'title' });
  log.hit('list', todos.length);
  return <p data-testid="count">{todos.length}</p>;
}

const isOpen = (todo: Readonly<{ done: boolean }>) => !todo.done;

/** Also reads todo `x`, so it renders when `x` changes: the list must keep its identity then. */
function FirstOpen({ log }: { log: RenderLog }) {
  const todos = useCollection<TestCollections, 'todos'>('todos', {
    where: isOpen,
    orderBy: ['title', 'asc'],
    limit: 2,
  });
  const x = useRecord<TestCollections, 'todos'>('todos', 'x');
  const previous = useRef(todos);
  log.hit('x', x?.title);
  if (log.of('first') === 0 || previous.current !== todos) {
    log.hit('first', todos.map((t) => t.id).join(','));
  }
  previous.current = todos;
  return <p>{todos.length}</p>;
}

const PAGE = 500;

describe('render counts', () => {
  let container: HTMLElement;
  let root: Root;
  const clients: SyncClient[] = [];

  beforeEach(() => {
    container = document.createElement('div');
    document.body.append(container);
    root = createRoot(container);
  });
  afterEach(async () => {
    root.unmount();
    container.remove();
    for (const client of clients.splice(0)) await client.stop();
  });

  async function mount(client: SyncClient, log: RenderLog) {
    root.render(
      <SyncProvider client={client}>
        <ul>
          <TodoTitle id="a" log={log} />
          <TodoTitle id="b" log={log} />
        </ul>
        <TodoList log={log} />
      </SyncProvider>,
    );
    await settle();
  }

  it('a change of one record re-renders only its readers; another collection re-renders nothing', async () => {
    const client = await startedClient(createMemoryServer(), undefined);
    clients.push(client);
    const log = new RenderLog();
    await client.put('todos', 'a', { title: 'A', done: false });
    await client.put('todos', 'b', { title: 'B', done: false });
    await mount(client, log);
    expect(log.snapshot()).toEqual({ 'todo:a': 1, 'todo:b': 1, list: 1 });
    expect(container.querySelector('[data-id="a"]')?.textContent).toBe('A');

    await client.patch('todos', 'a', { title: 'A2' });
    await settle();
    expect(container.querySelector('[data-id="a"]')?.textContent).toBe('A2');
    expect(log.snapshot()).toEqual({ 'todo:a': 2, 'todo:b': 1, list: 2 });

    await client.put('notes', 'n1', { body: 'unrelated' });
    await client.put('notes', 'n2', { body: 'unrelated too' });
    await settle();
    expect(log.snapshot()).toEqual({ 'todo:a': 2, 'todo:b': 1, list: 2 });
  });

  it('useRecord without an id reads undefined and renders for no change', async () => {
    const client = await startedClient(createMemoryServer(), undefined);
    clients.push(client);
    const log = new RenderLog();
    root.render(
      <SyncProvider client={client}>
        <NoTodo log={log} />
      </SyncProvider>,
    );
    await settle();
    await client.put('todos', 'a', { title: 'A', done: false });
    await client.transaction((tx) => tx.delete('todos', 'a'));
    await settle();
    expect(log.of('none')).toBe(1);
    expect(container.querySelector('[data-testid="none"]')?.textContent).toBe('(none)');
  });

  it('useCollection with where, orderBy and limit renders only when its result changes', async () => {
    const client = await startedClient(createMemoryServer(), undefined);
    clients.push(client);
    const log = new RenderLog();
    await client.put('todos', 'a', { title: 'A', done: false });
    await client.put('todos', 'b', { title: 'B', done: false });
    await client.put('todos', 'c', { title: 'C', done: false });
    await client.put('todos', 'x', { title: 'X', done: true });
    // An inline query object (and an inline orderBy array) each render, as apps write it.
    root.render(
      <SyncProvider client={client}>
        <FirstOpen log={log} />
      </SyncProvider>,
    );
    await settle();
    expect(log.values('first')).toEqual(['a,b']);

    await client.patch('todos', 'x', { title: 'X2' }); // filtered out, stays out
    await client.patch('todos', 'c', { title: 'C2' }); // past the limit, stays past it
    await settle();
    expect(log.values('x')).toEqual(['X', 'X2']); // rendered for x, with an inline query
    expect(log.values('first')).toEqual(['a,b']); // the same list, by identity

    await client.patch('todos', 'a', { done: true }); // leaves: c enters
    await settle();
    expect(log.values('first')).toEqual(['a,b', 'b,c']);
  });

  it('a transaction of many writes renders each reader once', async () => {
    const client = await startedClient(createMemoryServer(), undefined);
    clients.push(client);
    const log = new RenderLog();
    await mount(client, log);
    await client.transaction((tx) => {
      for (let i = 0; i < 300; i++) tx.put('todos', `t${i}`, { title: `T${i}`, done: false });
      tx.put('todos', 'a', { title: 'A', done: false });
    });
    await settle();
    expect(container.querySelector('[data-testid="count"]')?.textContent).toBe('301');
    expect(log.snapshot()).toEqual({ 'todo:a': 2, 'todo:b': 1, list: 2 });
  });

  it('a pulled page of 500 records causes one render of the list', async () => {
    const server = createMemoryServer();
    const writer = await startedClient(server, 'alice');
    clients.push(writer);
    // 500 separate writes (a transaction would travel and be pulled as one unit anyway).
    await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        writer.put('todos', `p${i}`, { title: `P${i}`, done: false }),
      ),
    );
    await writer.syncNow();
    expect(writer.status.pending).toBe(0);

    const reader = testClient(server, 'alice', { pullPageSize: PAGE });
    clients.push(reader);
    const log = new RenderLog();
    root.render(
      <SyncProvider client={reader}>
        <TodoList log={log} />
      </SyncProvider>,
    );
    await settle();
    await reader.start();
    await until(
      () => container.querySelector('[data-testid="count"]')?.textContent === '500',
      'the page to render',
    );
    await settle(20);
    // The mount's render (before the pull), then exactly one render for the whole page.
    expect(log.values('list')).toEqual([0, 500]);
  });
});
