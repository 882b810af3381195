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
import {
  databaseCpuSeconds,
  isMain,
  printResult,
  processCpuSeconds,
  startServerProcess,
  storesToMeasure,
} from './lib/rest-server.mjs';

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
    // Informational: CPU milliseconds per 1,000 mutations in the 4-user run, per process
    // (Linux /proc; n/a elsewhere). Wall figures swing with the machine's load; these say where
    // the work is.
    ...cpuMetrics('pglite', 'PGlite', false),
    ...cpuMetrics('pg', 'PostgreSQL', true),
  ],
};

function cpuMetrics(key, label, database) {
  const metric = (part, what) => ({
    key: `${key}_par_${part}_ms`,
    label: `CPU per 1k mut, ${what}, ${label}`,
    unit: 'ms',
    better: 'lower',
  });
  return [
    metric('client', 'client'),
    metric('server', 'server'),
    ...(database ? [metric('db', 'database')] : []),
  ];
}

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

async function measure(server, store, users, batchesPerUser) {
  const { url } = server;
  const tag = randomUUID().slice(0, 6);
  // Warm-up: JIT, connection pool, prepared plans.
  const warm = await pusher(url, `warm${tag}`, 5);
  await warm.run();
  const pushers = await Promise.all(
    Array.from({ length: users }, (_, u) => pusher(url, `p${tag}${u}`, batchesPerUser)),
  );
  const cpu = () =>
    Promise.all([
      process.cpuUsage(),
      processCpuSeconds(server.pid),
      databaseCpuSeconds(store.adminUrl, server.database),
    ]);
  const [client0, server0, db0] = await cpu();
  const started = performance.now();
  await Promise.all(pushers.map((p) => p.run()));
  const seconds = (performance.now() - started) / 1000;
  const [, server1, db1] = await cpu();
  const client = process.cpuUsage(client0);
  const thousands = (users * batchesPerUser * BATCH) / 1000;
  return {
    rate: (thousands * 1000) / seconds,
    // CPU milliseconds per 1,000 mutations.
    client: (client.user + client.system) / 1000 / thousands,
    server: ((server1 - server0) * 1000) / thousands,
    db: ((db1 - db0) * 1000) / thousands,
  };
}

export async function run({ quick = false } = {}) {
  const batches = quick ? 20 : 100;
  const result = {};
  for (const store of storesToMeasure()) {
    const server = await startServerProcess(store);
    try {
      result[`${store.key}_seq`] = (await measure(server, store, 1, batches)).rate;
      const par = await measure(server, store, 4, batches / 2);
      result[`${store.key}_par`] = par.rate;
      result[`${store.key}_par_client_ms`] = par.client;
      result[`${store.key}_par_server_ms`] = par.server;
      if (store.adminUrl !== undefined) result[`${store.key}_par_db_ms`] = par.db;
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
