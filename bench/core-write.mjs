// W1: sequential awaited local writes, then the time until the memory server has them all.
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

const PUTS = 10_000;

export const meta = {
  title: 'sync-core W1 (memory)',
  runs: 5,
  nodeArgs: ['--expose-gc'],
  metrics: [
    {
      key: 'putsPerSec',
      label: `${PUTS.toLocaleString('en-US')} sequential awaited puts (warm)`,
      unit: 'puts/s',
      target: 100_000,
      better: 'higher',
    },
    {
      key: 'pushedTotalMs',
      label: 'first put until server has all (warm)',
      unit: 'ms',
      target: 200,
      better: 'lower',
    },
    {
      key: 'pushedAfterLastPutMs',
      label: 'last put until server has all (warm)',
      unit: 'ms',
      better: 'lower',
    },
    {
      key: 'confirmedAfterLastPutMs',
      label: 'last put until pending = 0 (warm)',
      unit: 'ms',
      better: 'lower',
    },
    { key: 'pushRequests', label: 'push requests it took', unit: '', better: 'lower' },
    { key: 'pullRequests', label: 'pull requests meanwhile', unit: '', better: 'lower' },
    {
      key: 'coldPutsPerSec',
      label: 'cold: the first 10,000 puts of the process',
      unit: 'puts/s',
      better: 'higher',
    },
    {
      key: 'coldPushedTotalMs',
      label: 'cold: first put until server has all',
      unit: 'ms',
      better: 'lower',
    },
    referenceMetric,
  ],
};

/**
 * One measured round on a new in-memory server and a new client: `PUTS` sequential awaited
 * puts, then the wait until the server holds them all and until the client has no pending
 * mutation left.
 */
async function round(built) {
  const server = built.testing.createMemoryServer();
  const client = await startClient(built, server);
  // Let the initial (empty) pull finish so it does not overlap the measurement.
  await waitUntil(() => client.status.lastSyncedAt !== null);

  const pullsBefore = server.stats.pulls;
  const start = performance.now();
  for (let i = 0; i < PUTS; i += 1) {
    await client.put(COLLECTION, `item-${i}`, smallRecord(i));
  }
  const putsDone = performance.now();
  await waitUntil(() => server.version(SCOPE) >= PUTS);
  const pushed = performance.now();
  await waitUntil(() => client.status.pending === 0);
  const confirmed = performance.now();

  const onServer = server.records(SCOPE).length;
  if (onServer !== PUTS) throw new Error(`server holds ${onServer} records, expected ${PUTS}`);
  await client.stop();
  retired.push(client, server);
  return {
    putsPerSec: PUTS / ((putsDone - start) / 1000),
    pushedTotalMs: pushed - start,
    pushedAfterLastPutMs: pushed - putsDone,
    confirmedAfterLastPutMs: confirmed - putsDone,
    pushRequests: server.stats.pushes,
    pullRequests: server.stats.pulls - pullsBefore,
  };
}

/** Warm-up rounds before the measured one (each on its own server and client). */
const WARM_UP_ROUNDS = 2;

/**
 * The stopped clients and servers of the earlier rounds, kept referenced until the process ends.
 * Were they collected by the GC forced before the measured round, V8 would deoptimize nearly all
 * of the engine's optimized code, which it built against objects that die with them (object
 * shapes, closures; `--trace-deopt` says "weak objects"), and the measured round would warm the
 * JIT up again: half the puts/s. An app never goes through that: its client lives as long as the
 * page. See docs/decisions.md.
 */
const retired = [];

/**
 * Rounds in one fresh process: the first is reported cold (what the first 10,000 writes after a
 * page load cost, with V8 still interpreting the engine's code); after it and one more warm-up
 * round (V8 needs about 20,000 writes to finish optimizing this path), a round on a new server
 * and client is the steady state the target rows report, as benchmark harnesses measure after a
 * warm-up. Both are printed.
 */
export async function run() {
  const built = await loadCore();
  const cold = await round(built);
  for (let i = 1; i < WARM_UP_ROUNDS; i++) await round(built);
  globalThis.gc?.();
  const warm = await round(built);
  return {
    ...warm,
    coldPutsPerSec: cold.putsPerSec,
    coldPushedTotalMs: cold.pushedTotalMs,
    referenceMs: referenceMs(),
  };
}
