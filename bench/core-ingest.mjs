// W2: a fresh client ingests 100,000 records through the real pull path (pages of 1,000).
// W3: one full query over them.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { referenceMetric, referenceMs } from './lib/calibrate.mjs';
import {
  COLLECTION,
  loadCore,
  MB,
  SCOPE,
  settledMemory,
  smallRecord,
  startClient,
  USER,
  waitForStatus,
} from './lib/core-setup.mjs';

const RECORDS = 100_000;
const SEED_BATCH = 500;

export const meta = {
  title: 'sync-core W2/W3 (memory)',
  runs: 5,
  nodeArgs: ['--expose-gc'],
  metrics: [
    {
      key: 'ingestMs',
      label: `pull + ingest ${RECORDS.toLocaleString('en-US')} records`,
      unit: 'ms',
      target: 500,
      better: 'lower',
    },
    {
      key: 'ingestCpuMs',
      label: 'pull + ingest, CPU time of the process',
      unit: 'ms',
      better: 'lower',
    },
    {
      key: 'ingestPeakRssMb',
      label: 'peak RSS growth during ingest',
      unit: 'MB',
      target: 60,
      better: 'lower',
    },
    {
      key: 'ingestRetainedHeapMb',
      label: 'retained heap after GC',
      unit: 'MB',
      target: 60,
      better: 'lower',
    },
    {
      key: 'queryAllMs',
      label: `full query (${RECORDS.toLocaleString('en-US')} rows)`,
      unit: 'ms',
      target: 20,
      better: 'lower',
    },
    {
      key: 'queryWhereMs',
      label: 'query with where + orderBy + limit 50',
      unit: 'ms',
      better: 'lower',
    },
    {
      key: 'queryAllCpuMs',
      label: 'full query, CPU time of the process',
      unit: 'ms',
      better: 'lower',
    },
    {
      key: 'queryWhereCpuMs',
      label: 'where + orderBy + limit 50, CPU time of the process',
      unit: 'ms',
      better: 'lower',
    },
    {
      key: 'transportOnlyMs',
      label: 'same 100 pages via transport.pull alone',
      unit: 'ms',
      better: 'lower',
    },
    referenceMetric,
  ],
};

/** Milliseconds of a `process.cpuUsage()` difference (user + system). */
function cpuMs(usage) {
  return (usage.user + usage.system) / 1000;
}

/** Writes the records straight into the server's scope, as another client would have. */
function seed({ core }, server) {
  const auth = { userId: USER, sessionId: 'seeder' };
  const now = Date.now();
  for (let first = 0; first < RECORDS; first += SEED_BATCH) {
    const mutations = [];
    for (let i = first; i < Math.min(first + SEED_BATCH, RECORDS); i += 1) {
      mutations.push({
        id: randomUUID(),
        scope: SCOPE,
        collection: COLLECTION,
        recordId: `item-${i}`,
        op: 'put',
        data: smallRecord(i),
        baseRevision: 0,
        hlc: core.formatHlc({ wallTime: now, counter: i % 0x10000, nodeId: 'seeder' }),
      });
    }
    const answer = server.push(auth, { clientId: 'seeder', sessionId: 'seeder', mutations });
    if (answer.results.some((r) => r.status !== 'applied')) throw new Error('seeding failed');
  }
}

/** Pulls the whole scope page by page through a fresh transport; returns the milliseconds. */
async function pullEverything(server) {
  const transport = server.connect({ userId: USER });
  const start = performance.now();
  let checkpoint = null;
  let received = 0;
  for (;;) {
    const page = await transport.pull({ scope: SCOPE, checkpoint, limit: 1000 });
    received += page.changes.length;
    checkpoint = page.checkpoint;
    if (!page.hasMore) break;
  }
  if (received !== RECORDS) throw new Error(`transport pulled ${received}, expected ${RECORDS}`);
  return performance.now() - start;
}

export async function run() {
  const built = await loadCore();
  const server = built.testing.createMemoryServer();
  seed(built, server);

  const before = settledMemory();
  let peakRss = before.rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 1);
  const maxRssBefore = process.resourceUsage().maxRSS * 1024;

  const start = performance.now();
  const ingestCpuStart = process.cpuUsage();
  const client = await startClient(built, server);
  await waitForStatus(client, (status) => status.lastSyncedAt !== null);
  const ingestMs = performance.now() - start;
  // All threads of the process (GC helpers included), and the RSS sampler's ticks: what a busy
  // host does not inflate, unlike the wall time above.
  const ingestCpuMs = cpuMs(process.cpuUsage(ingestCpuStart));

  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  // If the ingest set a new process-wide peak, the kernel's maxRSS saw it even between samples.
  const maxRssAfter = process.resourceUsage().maxRSS * 1024;
  if (maxRssAfter > maxRssBefore) peakRss = Math.max(peakRss, maxRssAfter);

  // Wall time, and CPU time (all threads of this process, GC helpers included): on a busy host
  // the wall time of a few-millisecond query is mostly waiting for a core, the CPU time is not.
  let cpuStart = process.cpuUsage();
  const queryStart = performance.now();
  const all = client.query(COLLECTION);
  const queryAllMs = performance.now() - queryStart;
  const queryAllCpuMs = cpuMs(process.cpuUsage(cpuStart));
  if (all.length !== RECORDS) throw new Error(`query returned ${all.length}, expected ${RECORDS}`);

  cpuStart = process.cpuUsage();
  const whereStart = performance.now();
  const top = client.query(COLLECTION, {
    where: (data) => data.done === true,
    orderBy: ['rank', 'desc'],
    limit: 50,
  });
  const queryWhereMs = performance.now() - whereStart;
  const queryWhereCpuMs = cpuMs(process.cpuUsage(cpuStart));
  if (top.length !== 50) throw new Error(`where query returned ${top.length}, expected 50`);

  const after = settledMemory();
  // What the in-memory server and transport cost on their own (request validation, copies of
  // every page, as a network would make): the client's own share is ingestMs minus this. Run
  // last, so that it warms nothing the client measurements use.
  const transportOnlyMs = await pullEverything(server);
  const result = {
    ingestMs,
    ingestCpuMs,
    ingestPeakRssMb: (peakRss - before.rss) / MB,
    ingestRetainedHeapMb: (after.heapUsed - before.heapUsed) / MB,
    queryAllMs,
    queryWhereMs,
    queryAllCpuMs,
    queryWhereCpuMs,
    transportOnlyMs,
    referenceMs: referenceMs(),
  };
  await client.stop();
  return result;
}
