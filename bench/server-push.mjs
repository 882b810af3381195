// Push throughput through @syncline/adapter-rest and the reference server over loopback:
// mutations per second, pushed in batches of 100 `put`s of small new records, measured on
// PGlite and on PostgreSQL (SYNCLINE_PG_URL; skipped with a notice when unset).
//
// Two shapes: one device pushing batch after batch (each waits for the previous answer), and
// 4 users pushing at the same time (different scopes, so PostgreSQL can commit in parallel;
// one scope's pushes are serialised by its row lock by design).
//
//   node bench/server-push.mjs [--quick]          standalone (prints the figures)
//   node bench/run.mjs server-push                through the runner (median of fresh runs)
import { randomUUID } from 'node:crypto';
import { isMain, printResult, startServerProcess, storesToMeasure } from './lib/rest-server.mjs';

const BATCH = 100;

export const meta = {
  title: 'REST push',
  runs: 3,
  metrics: [
    { key: 'pglite_seq', label: 'push, 1 device, PGlite', unit: 'mut/s', better: 'higher' },
    { key: 'pglite_par', label: 'push, 4 users, PGlite', unit: 'mut/s', better: 'higher' },
    { key: 'pg_seq', label: 'push, 1 device, PostgreSQL', unit: 'mut/s', better: 'higher' },
    {
      key: 'pg_par',
      label: 'push, 4 users, PostgreSQL',
      unit: 'mut/s',
      target: 10_000,
      better: 'higher',
    },
  ],
};

function batchOf(scope, clientNode, start) {
  const mutations = [];
  for (let i = 0; i < BATCH; i++) {
    const n = start + i;
    mutations.push({
      id: randomUUID(),
      scope,
      collection: 'items',
      recordId: `r${n}`,
      op: 'put',
      data: { title: `item ${n}`, n, done: false },
      baseRevision: 0,
      hlc: `${Date.now().toString(16).padStart(12, '0')}:${(n % 65536).toString(16).padStart(4, '0')}:${clientNode}`,
    });
  }
  return mutations;
}

async function pusher(url, userId, batches) {
  const { devSignIn, restTransport } = await import('@syncline/adapter-rest');
  const session = await devSignIn({ baseUrl: url, userId });
  const transport = restTransport({ baseUrl: url, getToken: () => session.token, realtime: false });
  const scope = `user:${userId}`;
  const clientId = `bench-${userId}`;
  // Batches are built before the clock starts: the figure is the transport + server path.
  const prepared = Array.from({ length: batches }, (_, b) => batchOf(scope, clientId, b * BATCH));
  return {
    async run() {
      for (const mutations of prepared) {
        const response = await transport.push({
          clientId,
          sessionId: session.sessionId,
          mutations,
        });
        if (response.results.some((r) => r.status !== 'applied')) throw new Error('not applied');
      }
    },
  };
}

async function measure(url, users, batchesPerUser) {
  const tag = randomUUID().slice(0, 6);
  // Warm-up: JIT, connection pool, prepared plans.
  const warm = await pusher(url, `warm${tag}`, 5);
  await warm.run();
  const pushers = await Promise.all(
    Array.from({ length: users }, (_, u) => pusher(url, `p${tag}${u}`, batchesPerUser)),
  );
  const started = performance.now();
  await Promise.all(pushers.map((p) => p.run()));
  const seconds = (performance.now() - started) / 1000;
  return (users * batchesPerUser * BATCH) / seconds;
}

export async function run({ quick = false } = {}) {
  const batches = quick ? 20 : 100;
  const result = {};
  for (const store of storesToMeasure()) {
    const server = await startServerProcess(store);
    try {
      result[`${store.key}_seq`] = await measure(server.url, 1, batches);
      result[`${store.key}_par`] = await measure(server.url, 4, batches / 2);
    } finally {
      await server.stop();
    }
  }
  return result;
}

if (isMain(import.meta.url)) {
  const result = await run({ quick: process.argv.includes('--quick') });
  printResult(meta, result);
  process.exit(0);
}
