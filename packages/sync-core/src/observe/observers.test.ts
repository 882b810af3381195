import { describe, expect, it } from 'vitest';
import { createSyncClient } from '../client/create-sync-client.js';
import { memoryStorage } from '../storage/memory.js';
import { createMemoryServer } from '../testing/memory-server.js';
import { createChangeRouter } from './change-router.js';
import { observeQuery, observeRecord } from './observers.js';

async function localClient() {
  const client = createSyncClient({
    transport: createMemoryServer().connect({}),
    storage: memoryStorage(),
  });
  await client.start();
  return client;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('change router and observers', () => {
  it('wakes a record observer only for its record, once per batch', async () => {
    const client = await localClient();
    const router = createChangeRouter(client);
    const a = observeRecord(client, router, 'todos', 'a');
    const calls: string[] = [];
    const stopA = a.subscribe(() => calls.push('a'));
    const stopB = router.subscribeRecord('todos', 'b', () => calls.push('b'));
    const stopNotes = router.subscribeCollection('notes', () => calls.push('notes'));
    await client.transaction((tx) => {
      tx.put('todos', 'a', { n: 1 });
      tx.put('todos', 'c', { n: 1 });
    });
    await tick();
    expect(calls).toEqual(['a']);
    expect(a.getSnapshot()).toEqual({ n: 1 });
    expect(a.getSnapshot()).toBe(client.get('todos', 'a'));
    await client.put('notes', 'n', { body: 'x' });
    await tick();
    expect(calls).toEqual(['a', 'notes']);
    stopA();
    stopA(); // twice is harmless
    await client.put('todos', 'a', { n: 2 });
    await tick();
    expect(calls).toEqual(['a', 'notes']);
    stopB();
    // A's second stop took nothing else away: the notes listener still hears its changes.
    await client.put('notes', 'n', { body: 'y' });
    await tick();
    expect(calls).toEqual(['a', 'notes', 'notes']);
    stopNotes();
    await client.stop();
  });

  it('stops listening to the client when its last listener leaves', async () => {
    const client = await localClient();
    const router = createChangeRouter(client);
    const seen: string[][] = [];
    client.on('change', ({ ids }) => seen.push(ids));
    const stop = router.subscribeCollection('todos', () => {});
    const emitter = client as unknown as { off: typeof client.off };
    let removed = 0;
    const off = emitter.off.bind(client);
    emitter.off = ((event, listener) => {
      removed++;
      return off(event, listener);
    }) as typeof client.off;
    stop();
    expect(removed).toBe(1);
    await client.stop();
  });

  it('keeps a query result by identity while it holds the same records, even with a new where', async () => {
    const client = await localClient();
    const router = createChangeRouter(client);
    await client.put('todos', 'a', { done: false, title: 'A' });
    const open = observeQuery(client, router, 'todos', { where: (d) => d.done === false });
    const first = open.getSnapshot();
    expect(first.map((r) => r.id)).toEqual(['a']);
    expect(open.getSnapshot()).toBe(first);
    await client.put('todos', 'b', { done: true, title: 'B' }); // not in the result
    expect(open.getSnapshot()).toBe(first);
    await client.put('todos', 'c', { done: false, title: 'C' });
    expect(open.getSnapshot().map((r) => r.id)).toEqual(['a', 'c']);
    await client.stop();
  });
});
