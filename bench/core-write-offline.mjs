// W1 split in two: the same 10,000 sequential awaited puts while offline (the local write
// path alone: validation, HLC, outbox, store, durable write), then the time to drain the
// queued outbox to the memory server once back online. Compare with core-write.mjs, where
// replication runs alongside the writes.
import { performance } from 'node:perf_hooks';
import { referenceMetric, referenceMs } from './lib/calibrate.mjs';
import {
  COLLECTION,
  loadCore,
  manualOnline,
  SCOPE,
  smallRecord,
  startClient,
  waitUntil,
} from './lib/core-setup.mjs';

const PUTS = 10_000;

export const meta = {
  title: 'sync-core W1 offline (memory)',
  runs: 5,
  nodeArgs: ['--expose-gc'],
  metrics: [
    {
      key: 'offlinePutsPerSec',
      label: `${PUTS.toLocaleString('en-US')} puts while offline`,
      unit: 'puts/s',
      better: 'higher',
    },
    { key: 'drainMs', label: 'back online until server has all', unit: 'ms', better: 'lower' },
    { key: 'pushRequests', label: 'push requests to drain', unit: '', better: 'lower' },
    referenceMetric,
  ],
};

export async function run() {
  const built = await loadCore();
  const server = built.testing.createMemoryServer();
  const online = manualOnline(true);
  const client = await startClient(built, server, { environment: { online } });
  await waitUntil(() => client.status.lastSyncedAt !== null);
  online.set(false);

  const pushesBefore = server.stats.pushes;
  const start = performance.now();
  for (let i = 0; i < PUTS; i += 1) {
    await client.put(COLLECTION, `item-${i}`, smallRecord(i));
  }
  const putsDone = performance.now();
  if (server.version(SCOPE) !== 0) throw new Error('pushed while offline');

  const drainStart = performance.now();
  online.set(true);
  await waitUntil(() => server.version(SCOPE) >= PUTS);
  const drained = performance.now();
  await client.stop();
  return {
    offlinePutsPerSec: PUTS / ((putsDone - start) / 1000),
    drainMs: drained - drainStart,
    pushRequests: server.stats.pushes - pushesBefore,
    referenceMs: referenceMs(),
  };
}
