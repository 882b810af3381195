/**
 * Regression found by the delivery simulation (seed 16 of `npm run sim:deliveries`): a device
 * whose clock ran ahead of the server's deleted, at its next start, the record of a delivery it
 * had handled but whose ack had not reached the server yet, because the delivery looked expired
 * on the device's clock. The server (whose clock decides the TTL) still listed it, and the
 * handler ran a second time.
 */
import { describe, expect, it } from 'vitest';
import { createSyncClient } from '../client/create-sync-client.js';
import { settle, testEnvironment } from '../client/test-support.js';
import { SyncError } from '../errors/sync-error.js';
import { sessionTargeting } from '../sessions/session-targeting.js';
import { memoryStorage } from '../storage/memory.js';
import { createMemoryServer } from '../testing/memory-server.js';
import type { SyncTransport } from '../transport/types.js';

const ID = '018bcfe5-6800-7000-8000-0000000000c1';

describe('delivery inbox and a device clock ahead of the server', () => {
  it('does not hand a delivery over again after a restart while its ack is still owed', async () => {
    let serverNow = 1_700_000_000_000;
    const server = createMemoryServer({ environment: { now: () => serverNow } });
    const storage = memoryStorage({ serialize: true });
    const handled: string[] = [];
    const start = (options: { failAcks: boolean }) => {
      const transport = server.connect({ userId: 'u1', sessionId: 'sB' });
      const deliveries = transport.deliveries;
      const failing = deliveries && {
        ...deliveries,
        ack: async (): Promise<{ complete: boolean }> => {
          throw new SyncError('network', 'the ack never arrives');
        },
      };
      // The memory transport keeps its state in private fields: wrap it, bound.
      const wrapped: SyncTransport = options.failAcks
        ? new Proxy(transport, {
            get: (target, key) => {
              if (key === 'deliveries') return failing;
              const value = Reflect.get(target, key, target) as unknown;
              return typeof value === 'function' ? value.bind(target) : value;
            },
          })
        : transport;
      const env = testEnvironment({ seed: 7 });
      const client = createSyncClient({
        transport: wrapped,
        storage,
        targeting: sessionTargeting(),
        // The device's clock runs 2 minutes ahead of the server's.
        environment: { ...env, now: () => serverNow + 120_000 },
      });
      client.on('delivery', ({ delivery }) => {
        handled.push(delivery.id);
      });
      return client;
    };
    const sender = createSyncClient({
      transport: server.connect({ userId: 'u1', sessionId: 'sA' }),
      storage: memoryStorage(),
      environment: testEnvironment({ seed: 8 }),
      targeting: sessionTargeting(),
    });
    const first = start({ failAcks: true });
    await first.start();
    await sender.start();
    await settle(10);
    await sender.deliveries.send({ id: ID, kind: 'note', ttl: 60 });
    await settle(20);
    expect(handled).toEqual([ID]);
    await first.stop();
    // 10 s later (server time) the device restarts: on its clock the delivery has expired.
    serverNow += 10_000;
    const second = start({ failAcks: false });
    await second.start();
    await settle(20);
    await second.syncNow().catch(() => undefined);
    await settle(20);
    expect(handled).toEqual([ID]);
    expect((await sender.deliveries.status(ID)).acked).toEqual(['sB']);
    await second.stop();
    await sender.stop();
  });
});
