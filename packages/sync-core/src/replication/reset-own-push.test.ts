/**
 * A reset (the server said `resetRequired`) whose pages were read before one of the device's own
 * pushes was applied, and whose last page arrives after that push's answer: the record the push
 * confirmed exists on the server, so ending the reset must keep it (found by the simulator on
 * PGlite: the record vanished, the next write started from nothing and lost data).
 */
import { expect, it } from 'vitest';
import { createSyncClient } from '../client/create-sync-client.js';
import { settle, testEnvironment } from '../client/test-support.js';
import type { PullResponse } from '../protocol/types.js';
import { memoryStorage } from '../storage/memory.js';
import { createMemoryServer } from '../testing/memory-server.js';
import type { SyncTransport } from '../transport/types.js';

it('a reset that ends after an own push was applied keeps the pushed record', async () => {
  const server = createMemoryServer();
  const inner = server.connect({ userId: 'u1' });
  const other = server.connect({ userId: 'u1' });
  await other.push({
    clientId: 'other',
    sessionId: 'other-session',
    mutations: [
      {
        id: '0190a000-0000-7000-8000-000000000001',
        scope: 'user:u1',
        collection: 'notes',
        recordId: 'theirs',
        op: 'put',
        data: { t: 1 },
        baseRevision: 0,
        hlc: '0000000000a0:0000:other',
      },
    ],
  });
  let mode: 'normal' | 'force-reset' | 'hold' = 'normal';
  let release: (() => void) | undefined;
  const transport: SyncTransport = {
    session: inner.session,
    push: (request, signal) => inner.push(request, signal),
    pull: async (request, signal) => {
      if (mode === 'force-reset' && request.checkpoint !== null) {
        mode = 'hold';
        return inner.pull({ ...request, checkpoint: 'not-a-checkpoint' }, signal);
      }
      if (mode === 'hold' && request.checkpoint === null) {
        mode = 'normal';
        // The reset's page is read now, before the push below is applied...
        const page: PullResponse = await inner.pull(request, signal);
        // ...and reaches the client only after it.
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return page;
      }
      return inner.pull(request, signal);
    },
  };
  const client = createSyncClient({
    transport,
    storage: memoryStorage(),
    environment: testEnvironment({ seed: 1 }),
  });
  await client.start();
  await client.syncNow();
  expect(client.get('notes', 'theirs')).toEqual({ t: 1 });

  mode = 'force-reset';
  const pulling = client.syncNow();
  await settle();
  expect(release).toBeDefined();
  await client.put('notes', 'mine', { t: 2 });
  // The push goes out while the reset's pull is in flight.
  for (let i = 0; i < 50 && client.status.pending > 0; i++) await settle();
  expect(client.status.pending).toBe(0);
  release?.();
  await pulling;
  await settle();
  expect(server.records('user:u1').map((r) => r.id)).toContain('mine');
  expect(client.get('notes', 'mine')).toEqual({ t: 2 });
});
