import { describe, expect, it } from 'vitest';
import type { ClaimLocalData, LocalDataClaim } from '../account/claim.js';
import { memoryStorage } from '../storage/memory.js';
import { createMemoryServer } from '../testing/memory-server.js';
import { createSyncClient } from './create-sync-client.js';
import { settle, testEnvironment } from './test-support.js';

let seed = 900;

function setup(claimLocalData?: ClaimLocalData) {
  const server = createMemoryServer();
  const storage = memoryStorage();
  const transport = server.connect(); // signed out
  const env = testEnvironment({ seed: seed++ });
  const client = createSyncClient({
    transport,
    storage,
    environment: env,
    ...(claimLocalData === undefined ? {} : { claimLocalData }),
  });
  return { server, storage, transport, env, client };
}

/** Waits until the client has applied a session change and synced. */
async function afterSwitch(client: { syncNow(): Promise<unknown> }): Promise<void> {
  await settle();
  await client.syncNow();
}

describe('signed out', () => {
  it('works locally, says "local", and pushes nothing', async () => {
    const { client, server, storage } = setup();
    await client.start();
    expect(client.status.state).toBe('local');
    await client.put('todos', 'l1', { title: 'offline note' });
    await client.syncNow();
    await settle();
    expect(client.get('todos', 'l1')).toEqual({ title: 'offline note' });
    expect(server.stats.pushes).toBe(0);
    expect(await storage.list('local', 'o/')).toHaveLength(1);
  });
});

describe('sign-in and claims', () => {
  it("'auto' moves local data into the user's scope and pushes it", async () => {
    const { client, server, transport, storage } = setup('auto');
    await client.start();
    await client.put('todos', 'l1', { title: 'mine' });
    transport.signIn('u1');
    await afterSwitch(client);
    expect(client.status).toMatchObject({ state: 'synced', userId: 'u1' });
    expect(server.records('user:u1').map((r) => [r.id, r.data])).toEqual([
      ['l1', { title: 'mine' }],
    ]);
    expect(client.get('todos', 'l1')).toEqual({ title: 'mine' });
    expect(await storage.list('local', 'o/')).toEqual([]);
  });

  it("'never' leaves local data local: not in the user's view, back when signed out", async () => {
    const { client, server, transport } = setup('never');
    await client.start();
    await client.put('todos', 'l1', { title: 'kept local' });
    transport.signIn('u1');
    await afterSwitch(client);
    expect(client.get('todos', 'l1')).toBeUndefined();
    expect(server.records('user:u1')).toEqual([]);
    transport.signOut();
    await afterSwitch(client);
    expect(client.status.state).toBe('local');
    expect(client.get('todos', 'l1')).toEqual({ title: 'kept local' });
  });

  it('a callback sees the records and decides', async () => {
    const offers: LocalDataClaim[] = [];
    let answer = false;
    const { client, server, transport } = setup(async (claim) => {
      offers.push(claim);
      return answer;
    });
    await client.start();
    await client.put('todos', 'l1', { title: 'draft' });
    await client.patch('todos', 'l1', { done: true });
    transport.signIn('u1');
    await afterSwitch(client);
    expect(offers).toEqual([
      {
        userId: 'u1',
        records: [{ collection: 'todos', id: 'l1', data: { title: 'draft', done: true } }],
      },
    ]);
    expect(server.records('user:u1')).toEqual([]);
    transport.signOut();
    await afterSwitch(client);
    answer = true;
    transport.signIn('u2');
    await afterSwitch(client);
    expect(offers.map((o) => o.userId)).toEqual(['u1', 'u2']);
    expect(server.records('user:u2').map((r) => r.data)).toEqual([{ title: 'draft', done: true }]);
    expect(server.records('user:u1')).toEqual([]);
  });
});

describe('several users on one device', () => {
  it('a callback is shown each record once, however many queued writes it has', async () => {
    const offers: LocalDataClaim[] = [];
    const { client, transport } = setup(async (claim) => {
      offers.push(claim);
      return true;
    });
    await client.start();
    await client.put('todos', 'l1', { title: 'draft' });
    await client.put('todos', 'l2', { title: 'other' });
    // A transaction's write is a second queued entry of l1 (it does not fold into the first).
    await client.transaction((tx) => tx.patch('todos', 'l1', { done: true }));
    transport.signIn('u1');
    await afterSwitch(client);
    expect(offers.map((o) => o.records)).toEqual([
      [
        { collection: 'todos', id: 'l1', data: { title: 'draft', done: true } },
        { collection: 'todos', id: 'l2', data: { title: 'other' } },
      ],
    ]);
  });

  it("a second user sees none of the first user's data, and pending data stays with its owner", async () => {
    const { client, server, transport, env } = setup('auto');
    await client.start();
    transport.signIn('u1');
    await afterSwitch(client);
    await client.put('todos', 'u1-synced', { owner: 'u1' });
    await client.syncNow();
    env.setOnline(false);
    await client.put('todos', 'u1-pending', { owner: 'u1' });
    expect(client.status.state).toBe('offline');
    transport.signOut();
    await settle();
    expect(client.status.state).toBe('local');
    expect(client.query('todos')).toEqual([]);
    env.setOnline(true);
    transport.signIn('u2');
    await afterSwitch(client);
    expect(client.status.userId).toBe('u2');
    expect(client.query('todos')).toEqual([]);
    expect(client.get('todos', 'u1-synced')).toBeUndefined();
    await client.put('todos', 'u2-own', { owner: 'u2' });
    await client.syncNow();
    expect(server.records('user:u2').map((r) => r.id)).toEqual(['u2-own']);
    // u1 comes back: their pending write is still there and goes to u1's scope only.
    transport.signOut();
    await settle();
    transport.signIn('u1');
    await afterSwitch(client);
    expect(client.get('todos', 'u1-pending')).toEqual({ owner: 'u1' });
    expect(
      server
        .records('user:u1')
        .map((r) => r.id)
        .sort(),
    ).toEqual(['u1-pending', 'u1-synced']);
    expect(server.records('user:u2').map((r) => r.id)).toEqual(['u2-own']);
    expect(server.appliedLog.every((e) => e.scope === `user:${e.userId}`)).toBe(true);
  });

  it('sends a write made right after a sign-in to the new user, never the previous one', async () => {
    const { client, server, transport, env } = setup('auto');
    await client.start();
    transport.signIn('u1');
    await afterSwitch(client);
    env.setOnline(false);
    await client.put('todos', 'queued-u1', { owner: 'u1' }); // persisted, not pushed
    // Switch users and write at once, while u2's namespace is still loading.
    transport.signOut();
    transport.signIn('u2');
    const write = client.put('todos', 'right-away', { owner: 'u2' });
    expect(client.get('todos', 'right-away')).toEqual({ owner: 'u2' });
    expect(client.get('todos', 'queued-u1')).toBeUndefined();
    await write;
    env.setOnline(true);
    await afterSwitch(client);
    expect(server.records('user:u2').map((r) => r.id)).toEqual(['right-away']);
    expect(server.records('user:u1')).toEqual([]);
    // Back to u1 with an immediate write: it queues behind u1's stored entry, which survives.
    transport.signOut();
    transport.signIn('u1');
    await client.put('todos', 'second', { owner: 'u1' });
    await afterSwitch(client);
    expect(
      server
        .records('user:u1')
        .map((r) => r.id)
        .sort(),
    ).toEqual(['queued-u1', 'second']);
    expect(
      client
        .query('todos')
        .map((r) => r.id)
        .sort(),
    ).toEqual(['queued-u1', 'second']);
  });

  it("keeps each user's data across a restart on the same storage", async () => {
    const { client, server, transport, storage } = setup('auto');
    await client.start();
    transport.signIn('u1');
    await afterSwitch(client);
    await client.put('todos', 'a', { v: 1 });
    await client.syncNow();
    await client.stop();
    const again = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage,
      environment: testEnvironment({ seed: seed++ }),
    });
    await again.start();
    expect(again.get('todos', 'a')).toEqual({ v: 1 });
    expect(again.clientId).toBe(client.clientId);
  });
});
