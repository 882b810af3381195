// The page size of an initial sync, through a real client and the in-memory server: a pull from
// no checkpoint downloads the whole scope, so it asks for the largest page the server allows
// (its `maxPullLimit`, from `info()`), up to `initialPullPageSize`; a catch-up pull asks for
// `pullPageSize`. Without the server's limits the client keeps to `pullPageSize` throughout.
import { describe, expect, it } from 'vitest';
import { createSyncClient } from '../client/create-sync-client.js';
import { testEnvironment } from '../client/test-support.js';
import type { ServerInfo } from '../protocol/server-info.js';
import { memoryStorage } from '../storage/memory.js';
import { createMemoryServer, type MemoryServer } from '../testing/memory-server.js';
import type { SyncTransport } from '../transport/types.js';

let seed = 1700;
const newEnv = () => testEnvironment({ seed: seed++ });

/** Writes `count` records to the server as another device of `u1`. */
async function writeElsewhere(server: MemoryServer, from: number, count: number): Promise<void> {
  const other = createSyncClient({
    transport: server.connect({ userId: 'u1', sessionId: 'other' }),
    storage: memoryStorage(),
    environment: newEnv(),
  });
  await other.start();
  for (let i = from; i < from + count; i++) await other.put('todos', `t${i}`, { i });
  await other.syncNow();
  await other.stop();
}

/**
 * `u1`'s transport, recording the `limit` of every pull; `info` answers `maxPullLimit` (or
 * fails, or is absent).
 */
function recordingTransport(
  server: MemoryServer,
  info: { maxPullLimit: number } | 'fails' | 'absent',
): { transport: SyncTransport; limits: Array<number | undefined> } {
  const inner = server.connect({ userId: 'u1', sessionId: 's1' });
  const limits: Array<number | undefined> = [];
  const transport: SyncTransport = {
    ...(inner.session === undefined ? {} : { session: inner.session }),
    push: (request, signal) => inner.push(request, signal),
    pull: (request, signal) => {
      limits.push(request.limit);
      return inner.pull(request, signal);
    },
  };
  if (info !== 'absent') {
    transport.info = async (): Promise<ServerInfo> => {
      if (info === 'fails') throw new Error('no /v1/info here');
      return {
        protocol: 1,
        limits: {
          maxBodyBytes: 1024 * 1024,
          maxRecordBytes: 1000 * 1024,
          maxMutationsPerPush: 500,
          maxPullLimit: info.maxPullLimit,
        },
      };
    };
  }
  return { transport, limits };
}

describe('initial sync page size', () => {
  it('a first sync asks for pages of the server maxPullLimit; a catch-up for pullPageSize', async () => {
    const server = createMemoryServer({ limits: { maxPullLimit: 4 } });
    await writeElsewhere(server, 0, 10);
    const { transport, limits } = recordingTransport(server, { maxPullLimit: 4 });
    const client = createSyncClient({
      transport,
      storage: memoryStorage(),
      environment: newEnv(),
      pullPageSize: 2,
    });
    await client.start();
    await client.syncNow();
    expect(client.query('todos')).toHaveLength(10);
    // start()'s pull from no checkpoint, then syncNow()'s own pull: a catch-up.
    expect(limits).toEqual([4, 4, 4, 2]);

    limits.length = 0;
    await writeElsewhere(server, 10, 3);
    await client.syncNow();
    expect(client.query('todos')).toHaveLength(13);
    expect(limits).toEqual([2, 2]);
    await client.stop();
  });

  it('initialPullPageSize caps the first sync page below the server limit', async () => {
    const server = createMemoryServer({ limits: { maxPullLimit: 4 } });
    await writeElsewhere(server, 0, 7);
    const { transport, limits } = recordingTransport(server, { maxPullLimit: 4 });
    const client = createSyncClient({
      transport,
      storage: memoryStorage(),
      environment: newEnv(),
      pullPageSize: 2,
      initialPullPageSize: 3,
    });
    await client.start();
    await client.syncNow();
    expect(client.query('todos')).toHaveLength(7);
    expect(limits).toEqual([3, 3, 3, 2]);
    await client.stop();
  });

  it('without the server limits (no info, or info fails) every page has pullPageSize', async () => {
    for (const info of ['absent', 'fails'] as const) {
      const server = createMemoryServer({ limits: { maxPullLimit: 4 } });
      await writeElsewhere(server, 0, 5);
      const { transport, limits } = recordingTransport(server, info);
      const client = createSyncClient({
        transport,
        storage: memoryStorage(),
        environment: newEnv(),
        pullPageSize: 2,
      });
      await client.start();
      await client.syncNow();
      expect(client.query('todos')).toHaveLength(5);
      expect(limits).toEqual([2, 2, 2, 2]);
      await client.stop();
    }
  });

  it('a client that restarts with a stored checkpoint catches up with pullPageSize', async () => {
    const server = createMemoryServer({ limits: { maxPullLimit: 4 } });
    await writeElsewhere(server, 0, 3);
    const storage = memoryStorage();
    const first = recordingTransport(server, { maxPullLimit: 4 });
    const client = createSyncClient({
      transport: first.transport,
      storage,
      environment: newEnv(),
      pullPageSize: 2,
    });
    await client.start();
    await client.syncNow();
    await client.stop();
    expect(first.limits).toEqual([4, 2]);

    await writeElsewhere(server, 3, 3);
    const again = recordingTransport(server, { maxPullLimit: 4 });
    const restarted = createSyncClient({
      transport: again.transport,
      storage,
      environment: newEnv(),
      pullPageSize: 2,
    });
    await restarted.start();
    await restarted.syncNow();
    expect(restarted.query('todos')).toHaveLength(6);
    expect(again.limits).toEqual([2, 2, 2]);
    await restarted.stop();
  });
});
