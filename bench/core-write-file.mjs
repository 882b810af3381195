// W1 on the Node file store: sequential awaited local writes with `fileStorage` (each `put`
// resolves once its batch is fsynced), then the time until the memory server has them all.
// The realistic Node path beside core-write.mjs's memory storage (issue 10 compares before and
// after on it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { referenceMetric, referenceMs } from './lib/calibrate.mjs';
import {
  COLLECTION,
  loadCore,
  SCOPE,
  smallRecord,
  startClient,
  waitUntil,
} from './lib/core-setup.mjs';

const PUTS = 2_000;

export const meta = {
  title: 'sync-core W1 (file store, Node)',
  runs: 3,
  metrics: [
    {
      key: 'putsPerSec',
      label: `${PUTS.toLocaleString('en-US')} sequential awaited puts on fileStorage`,
      unit: 'puts/s',
      better: 'higher',
    },
    {
      key: 'pushedTotalMs',
      label: 'first put until server has all',
      unit: 'ms',
      better: 'lower',
    },
    referenceMetric,
  ],
};

export async function run() {
  const built = await loadCore();
  const { fileStorage } = await import('@syncline/sync-core/node');
  const directory = mkdtempSync(join(tmpdir(), 'syncline-w1-file-'));
  try {
    const server = built.testing.createMemoryServer();
    const client = await startClient(built, server, { storage: fileStorage({ directory }) });
    await waitUntil(() => client.status.lastSyncedAt !== null);
    const start = performance.now();
    for (let i = 0; i < PUTS; i += 1) {
      await client.put(COLLECTION, `item-${i}`, smallRecord(i));
    }
    const putsDone = performance.now();
    await waitUntil(() => server.version(SCOPE) >= PUTS);
    const pushed = performance.now();
    const onServer = server.records(SCOPE).length;
    if (onServer !== PUTS) throw new Error(`server holds ${onServer} records, expected ${PUTS}`);
    await client.stop();
    return {
      putsPerSec: PUTS / ((putsDone - start) / 1000),
      pushedTotalMs: pushed - start,
      referenceMs: referenceMs(),
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
