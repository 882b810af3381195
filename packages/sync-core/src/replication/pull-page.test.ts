/**
 * Applying a pulled page, through a real client and the in-memory server: the local clock moves
 * past the newest HLC pulled (wherever it sits in the page), a page older than the base record
 * (a pull answered before our own push was applied) changes nothing, and a reset keeps exactly
 * the records the fresh pull returned, in that scope only.
 */
import { describe, expect, it } from 'vitest';
import { createSyncClient } from '../client/create-sync-client.js';
import { settle, testEnvironment } from '../client/test-support.js';
import { compareHlc, formatHlc } from '../clock/hlc.js';
import type { Mutation } from '../protocol/types.js';
import { memoryStorage } from '../storage/memory.js';
import { createMemoryServer } from '../testing/memory-server.js';
import type { SyncTransport } from '../transport/types.js';

let seed = 100;
const newEnv = () => testEnvironment({ seed: seed++ });

/** A put by another device, with the HLC the test chooses. */
function foreignPut(n: number, recordId: string, hlc: string): Mutation {
  return {
    id: `0190a1b2-c3d4-7000-8000-${String(n).padStart(12, '0')}`,
    scope: 'user:u1',
    collection: 'todos',
    recordId,
    op: 'put',
    data: { by: 'other' },
    baseRevision: 0,
    hlc,
  };
}

describe('applying a pulled page', () => {
  it('moves the local clock past the newest pulled HLC, even when it is not the last record', async () => {
    const server = createMemoryServer();
    const other = server.connect({ userId: 'u1' });
    // A device whose wall clock is 30 s ahead (within the drift bound) writes first, so the
    // newest HLC is not the page's last record.
    const start = 1_700_000_000_000;
    const ahead = formatHlc({ wallTime: start + 30_000, counter: 0, nodeId: 'ahead' });
    const behind = formatHlc({ wallTime: start - 30_000, counter: 0, nodeId: 'behind' });
    await other.push({
      clientId: 'other',
      sessionId: 'o',
      mutations: [foreignPut(1, 'a', ahead), foreignPut(2, 'b', behind)],
    });
    const client = createSyncClient({
      transport: server.connect({ userId: 'u1' }),
      storage: memoryStorage(),
      environment: testEnvironment({ seed: seed++, startMs: start }),
    });
    await client.start();
    await client.syncNow();
    expect(client.get('todos', 'a')).toEqual({ by: 'other' });
    await client.put('todos', 'mine', { n: 1 });
    await client.syncNow();
    const mine = server.records('user:u1').find((r) => r.id === 'mine');
    expect(compareHlc(mine?.hlc ?? '', ahead)).toBe(1);
    await client.stop();
  });

  it('keeps a base record newer than the page: a pull answered before our push landed changes nothing', async () => {
    const server = createMemoryServer();
    const inner = server.connect({ userId: 'u1' });
    let gate: Promise<void> | null = null;
    let open: () => void = () => undefined;
    const transport: SyncTransport = {
      push: (request, signal) => inner.push(request, signal),
      pull: async (request, signal) => {
        const page = await inner.pull(request, signal);
        if (gate !== null) await gate; // answered by the server now, delivered later
        return page;
      },
      session: inner.session,
      subscribe: (options) => inner.subscribe({ ...options, onPoke: () => {} }),
    };
    const client = createSyncClient({ transport, storage: memoryStorage(), environment: newEnv() });
    await client.start();
    await client.syncNow(); // the checkpoint is before x
    gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    await client.put('todos', 'x', { v: 1 });
    await settle(); // pushed: applied at revision 1
    const pulling = client.syncNow(); // the server answers with x at revision 1; held
    await settle();
    await client.put('todos', 'x', { v: 2 });
    await settle(); // pushed and applied at revision 2 while the old page is in flight
    expect(server.records('user:u1').find((r) => r.id === 'x')?.revision).toBe(2);
    gate = null;
    open();
    await pulling;
    await settle();
    expect(client.get('todos', 'x')).toEqual({ v: 2 });
    expect(client.recordStatus('todos', 'x')).toBe('synced');
    await client.stop();
  });

  it('freezes a pulled record to the bottom of its data, as a transport that parses JSON hands it over', async () => {
    const server = createMemoryServer();
    const other = server.connect({ userId: 'u1' });
    await other.push({
      clientId: 'other',
      sessionId: 'o',
      mutations: [
        {
          ...foreignPut(
            1,
            'deep',
            formatHlc({ wallTime: 1_700_000_000_000, counter: 0, nodeId: 'other' }),
          ),
          data: { list: [{ tags: ['a'] }], nested: { inner: { n: 1 } } },
        },
      ],
    });
    const inner = server.connect({ userId: 'u1' });
    // The memory transport hands over frozen answers; a JSON transport's are its own, unfrozen.
    const transport: SyncTransport = {
      push: (request, signal) => inner.push(request, signal),
      pull: async (request, signal) =>
        JSON.parse(JSON.stringify(await inner.pull(request, signal))),
      session: inner.session,
    };
    const client = createSyncClient({ transport, storage: memoryStorage(), environment: newEnv() });
    await client.start();
    await client.syncNow();
    const data = client.get('todos', 'deep') as {
      list: Array<{ tags: string[] }>;
      nested: { inner: { n: number } };
    };
    expect(data).toEqual({ list: [{ tags: ['a'] }], nested: { inner: { n: 1 } } });
    const record = client.query('todos')[0];
    for (const value of [
      record,
      data,
      data.list,
      data.list[0],
      data.list[0]?.tags,
      data.nested.inner,
    ]) {
      expect(Object.isFrozen(value)).toBe(true);
    }
    await client.stop();
  });
});
