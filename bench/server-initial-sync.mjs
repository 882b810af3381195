// Initial sync through @syncline/adapter-rest: a NEW client (memory storage) of a user whose
// scope holds 100,000 records on the reference server over loopback downloads all of them
// (pull pages of 1,000, validated, applied). Prints the seconds from `start()` until the client
// is synced with every record visible, and the peak RSS growth of the client process, on
// PGlite and on PostgreSQL (SYNCLINE_PG_URL; skipped with a notice when unset). Also the CPU
// seconds the client process, the server process and the database spent meanwhile (the split
// between the client's ingest and the server/HTTP side), which a loaded machine disturbs less
// than wall time.
//
// The server runs in its own process and is seeded with one SQL statement before the clock
// starts (bench/lib/rest-server-child.mjs, SYNCLINE_BENCH_SEED).
//
//   node --expose-gc bench/server-initial-sync.mjs [--quick]   standalone (--quick: 20,000)
//   node bench/run.mjs server-initial-sync                      through the runner
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  databaseCpuSeconds,
  isMain,
  printResult,
  processCpuSeconds,
  sampleRss,
  startServerProcess,
  storesToMeasure,
} from './lib/rest-server.mjs';

const RECORDS = 100_000;

export const meta = {
  title: 'REST initial sync',
  runs: 3,
  nodeArgs: ['--expose-gc'],
  metrics: [
    {
      key: 'pglite_s',
      label: 'initial sync of 100k, PGlite',
      unit: 's',
      target: 2,
      better: 'lower',
    },
    {
      key: 'pglite_rss',
      label: 'peak RSS growth, PGlite',
      unit: 'MB',
      target: 100,
      better: 'lower',
    },
    {
      key: 'pg_s',
      label: 'initial sync of 100k, PostgreSQL',
      unit: 's',
      target: 2,
      better: 'lower',
    },
    {
      key: 'pg_rss',
      label: 'peak RSS growth, PostgreSQL',
      unit: 'MB',
      target: 100,
      better: 'lower',
    },
    // Informational: the same pages through the bare transport (no client), measured first.
    {
      key: 'pglite_transport_s',
      label: 'same pages, bare transport, PGlite',
      unit: 's',
      better: 'lower',
    },
    {
      key: 'pg_transport_s',
      label: 'same pages, bare transport, PostgreSQL',
      unit: 's',
      better: 'lower',
    },
    // Informational: where the initial sync's CPU goes (Linux /proc; n/a elsewhere). The
    // client process runs the adapter (HTTP, JSON.parse, validation) and the engine's ingest;
    // the server process the handler (and PGlite's engine); the database its backends.
    ...cpuMetrics('pglite', 'PGlite', false),
    ...cpuMetrics('pg', 'PostgreSQL', true),
  ],
};

function cpuMetrics(key, label, database) {
  const metric = (part, what) => ({
    key: `${key}_${part}_cpu_s`,
    label: `sync CPU, ${what}, ${label}`,
    unit: 's',
    better: 'lower',
  });
  return [
    metric('client', 'client'),
    metric('server', 'server'),
    ...(database ? [metric('db', 'database')] : []),
  ];
}

async function measure(store, count) {
  const { createSessionSource, createSyncClient, memoryStorage } = await import(
    '@syncline/sync-core'
  );
  const { devSignIn, restTransport } = await import('@syncline/adapter-rest');
  const userId = `init${Date.now().toString(36)}`;
  process.env.SYNCLINE_BENCH_SEED = `${userId}:${count}`;
  const server = await startServerProcess(store);
  delete process.env.SYNCLINE_BENCH_SEED;
  try {
    const session = await devSignIn({ baseUrl: server.url, userId });
    const transport = restTransport({
      baseUrl: server.url,
      getToken: () => session.token,
      session: createSessionSource({ userId, sessionId: session.sessionId }),
      realtime: false,
    });
    // Where the time goes: the same download through the bare transport (HTTP, server SQL,
    // JSON, response validation), without the client applying anything.
    const transportStarted = performance.now();
    let checkpoint = null;
    for (;;) {
      const page = await transport.pull({ scope: `user:${userId}`, checkpoint, limit: 1000 });
      checkpoint = page.checkpoint;
      if (!page.hasMore) break;
    }
    const transportSeconds = (performance.now() - transportStarted) / 1000;
    globalThis.gc?.();
    const baseline = process.memoryUsage().rss;
    const rss = sampleRss(5);
    const cpuBefore = {
      client: process.cpuUsage(),
      server: processCpuSeconds(server.pid),
      db: await databaseCpuSeconds(store.adminUrl, server.database),
    };
    const started = performance.now();
    const client = createSyncClient({ transport, storage: memoryStorage() });
    await client.start();
    for (;;) {
      if (client.status.state === 'synced' && client.query('items').length === count) break;
      if (client.status.state === 'error') throw client.status.error;
      await new Promise((r) => setTimeout(r, 5));
    }
    const seconds = (performance.now() - started) / 1000;
    const peak = rss.stop();
    const clientCpu = process.cpuUsage(cpuBefore.client);
    const cpu = {
      client: (clientCpu.user + clientCpu.system) / 1e6,
      server: processCpuSeconds(server.pid) - cpuBefore.server,
      db: (await databaseCpuSeconds(store.adminUrl, server.database)) - cpuBefore.db,
    };
    await client.stop();
    return { seconds, rssMb: (peak - baseline) / (1024 * 1024), transportSeconds, cpu };
  } finally {
    await server.stop();
  }
}

// Each store is measured in its own fresh process: RSS does not shrink after a run, so a
// second measurement in the same process would start from an inflated baseline.
function measureInChild(store, count) {
  return new Promise((resolve, reject) => {
    const args = [
      '--expose-gc',
      fileURLToPath(import.meta.url),
      '--only',
      store.key,
      '--count',
      String(count),
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || line === undefined)
        reject(new Error(`initial-sync child failed (${code})`));
      else resolve(JSON.parse(line.slice('RESULT '.length)));
    });
  });
}

export async function run({ quick = false } = {}) {
  const count = quick ? 20_000 : RECORDS;
  const result = {};
  for (const store of storesToMeasure()) {
    const { seconds, rssMb, transportSeconds, cpu } = await measureInChild(store, count);
    result[`${store.key}_s`] = seconds;
    result[`${store.key}_rss`] = rssMb;
    result[`${store.key}_transport_s`] = transportSeconds;
    result[`${store.key}_client_cpu_s`] = cpu.client;
    result[`${store.key}_server_cpu_s`] = cpu.server;
    if (store.adminUrl !== undefined) result[`${store.key}_db_cpu_s`] = cpu.db;
  }
  return result;
}

const argv = process.argv.slice(2);
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
if (isMain(import.meta.url) && only !== undefined) {
  const count = Number(argv[argv.indexOf('--count') + 1]);
  const store = storesToMeasure({ quiet: true }).find((s) => s.key === only);
  const measured = await measure(store, count);
  process.stdout.write(`RESULT ${JSON.stringify(measured)}\n`);
  process.exit(0);
} else if (isMain(import.meta.url)) {
  const result = await run({ quick: argv.includes('--quick') });
  printResult(meta, result);
  process.exit(0);
}
