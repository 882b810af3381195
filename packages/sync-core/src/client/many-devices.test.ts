/** Many devices editing one record at once: the default resolver keeps every device's field (DESIGN §3.4). */
import { expect, it, vi } from 'vitest';
import type { SyncClient } from '../api/client.js';
import { memoryStorage } from '../storage/memory.js';
import { createMemoryServer } from '../testing/memory-server.js';
import { createSyncClient } from './create-sync-client.js';

it('twenty devices patching different fields of one record all survive (default resolver)', async () => {
  const server = createMemoryServer();
  const clients: SyncClient[] = [];
  for (let i = 0; i < 20; i++) {
    const c = createSyncClient({
      transport: server.connect({ userId: 'u', sessionId: `s${i}`, clientId: `c${i}` }),
      storage: memoryStorage(),
      pullIntervalMs: 50,
      retry: { baseDelayMs: 5, maxDelayMs: 20 },
    });
    await c.start();
    clients.push(c);
  }
  await clients[0]!.put('r', 'x', { base: true });
  await vi.waitFor(
    () => {
      for (const c of clients) expect(c.get('r', 'x')).toBeDefined();
    },
    { timeout: 10000 },
  );
  await Promise.all(clients.map((c, i) => c.patch('r', 'x', { [`seen${i}`]: true })));
  const expected: Record<string, boolean> = { base: true };
  for (let i = 0; i < 20; i++) expected[`seen${i}`] = true;
  await vi.waitFor(
    () => {
      for (const c of clients) {
        expect(c.status.pending).toBe(0);
        expect(c.get('r', 'x')).toEqual(expected);
      }
    },
    { timeout: 20000, interval: 50 },
  );
  await Promise.all(clients.map((c) => c.stop()));
});
