// Initial sync through @syncline/adapter-rest: a NEW client (memory storage) of a user whose
// scope holds 100,000 records on the reference server over loopback downloads all of them
// (in pages of the client's `initialPullPageSize`, 5,000 by default, within the server's
// `maxPullLimit`; validated, applied). Prints the seconds from `start()` until the client is
// synced with every record visible, and the peak RSS growth of the client process, on
// PGlite and on PostgreSQL (SYNCLINE_PG_URL; skipped with a notice when unset), and the client's
// side step by step (waiting for pages, applying them, HTTP headers, body, JSON.parse). Also the CPU
// seconds the client process, the server process and the database spent meanwhile (the split
// between the client's ingest and the server/HTTP side), which a loaded machine disturbs less
// than wall time.
//
// The server runs in its own process and is seeded with one SQL statement before the clock
// starts (bench/lib/rest-server-child.mjs, SYNCLINE_BENCH_SEED).
//
//   node --expose-gc bench/server-initial-sync.mjs [--quick] [--only pg|pglite]
//                                                               standalone (--quick: 20,000)
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
    // Informational: the client's side of the sync, step by step (see stepTimer).
    ...stepMetrics('pglite', 'PGlite'),
    ...stepMetrics('pg', 'PostgreSQL'),
  ],
};

function stepMetrics(key, label) {
  const metric = (step, what, unit = 's') => ({
    key: `${key}_step_${step}`,
    label: `${what}, ${label}`,
    unit,
    better: 'lower',
  });
  return [
    metric('pullWait', 'client waits in transport.pull()'),
    metric('between', 'client applies + stores (between pulls)'),
    metric('headers', 'HTTP request -> headers (all requests)'),
    metric('body', 'HTTP body read + UTF-8 decode'),
    metric('parse', 'JSON.parse of the pages'),
    metric('pulls', 'pulls of the client', ''),
    metric('requests', 'HTTP pull requests (with fetched ahead)', ''),
  ];
}

function cpuMetrics(key, label, database) {
  const metric = (part, what) => ({
    key: `${key}_${part}_cpu_s`,
    label: `sync CPU, ${what}, ${label}`,
    unit: 's',
    better: 'lower',
  });
  return [
    metric('client', 'client'),
    // Of the client's CPU, the kernel's part: mostly minor page faults, as the client's heap,
    // the bodies and their decoded texts touch fresh memory (costly on this VM; issue 10).
    metric('client_sys', 'client, system time'),
    {
      key: `${key}_client_faults`,
      label: `client minor page faults, ${label}`,
      unit: '',
      better: 'lower',
    },
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
    const steps = stepTimer();
    const transport = restTransport({
      baseUrl: server.url,
      getToken: () => session.token,
      session: createSessionSource({ userId, sessionId: session.sessionId }),
      realtime: false,
      fetch: steps.fetch,
    });
    // Where the time goes: the same download (pages of 5,000, as the client's initial sync asks
    // by default) through the bare transport (HTTP, server SQL, JSON), without the client.
    const transportStarted = performance.now();
    let checkpoint = null;
    for (;;) {
      const page = await transport.pull({ scope: `user:${userId}`, checkpoint, limit: 5000 });
      checkpoint = page.checkpoint;
      if (!page.hasMore) break;
    }
    const transportSeconds = (performance.now() - transportStarted) / 1000;
    globalThis.gc?.();
    const baseline = process.memoryUsage().rss;
    const rss = sampleRss(5);
    const faultsBefore = process.resourceUsage().minorPageFault;
    const cpuBefore = {
      client: process.cpuUsage(),
      server: processCpuSeconds(server.pid),
      db: await databaseCpuSeconds(store.adminUrl, server.database),
    };
    const profile = await startClientProfile();
    steps.start();
    const started = performance.now();
    const client = createSyncClient({ transport: steps.wrap(transport), storage: memoryStorage() });
    await client.start();
    for (;;) {
      if (client.status.state === 'synced' && client.query('items').length === count) break;
      if (client.status.state === 'error') throw client.status.error;
      await new Promise((r) => setTimeout(r, 5));
    }
    const seconds = (performance.now() - started) / 1000;
    const breakdown = steps.stop();
    const peak = rss.stop();
    const clientCpu = process.cpuUsage(cpuBefore.client);
    await profile.stop();
    const cpu = {
      client: (clientCpu.user + clientCpu.system) / 1e6,
      clientSys: clientCpu.system / 1e6,
      clientFaults: process.resourceUsage().minorPageFault - faultsBefore,
      server: processCpuSeconds(server.pid) - cpuBefore.server,
      db: (await databaseCpuSeconds(store.adminUrl, server.database)) - cpuBefore.db,
    };
    await client.stop();
    return {
      seconds,
      rssMb: (peak - baseline) / (1024 * 1024),
      transportSeconds,
      cpu,
      breakdown,
    };
  } finally {
    await server.stop();
  }
}

/**
 * With SYNCLINE_BENCH_CLIENT_PROFILE=<file.cpuprofile>, a V8 CPU profile of the client's sync
 * alone (from `start()` until synced; not the server start or the bare-transport download before
 * it), for Chrome DevTools or `node bench/lib/cpu-profile-top.mjs <file>`. The profiler's own
 * cost shows in the CPU figures of that run.
 */
async function startClientProfile() {
  const file = process.env.SYNCLINE_BENCH_CLIENT_PROFILE;
  if (!file) return { stop: async () => {} };
  const { Session } = await import('node:inspector/promises');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  return {
    stop: async () => {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/**
 * Where the client's initial sync goes, in wall seconds (informational; a loaded host inflates
 * every row): the client waiting inside `transport.pull()` (for the server, or for a page
 * fetched ahead), the client's own work between one pull's answer and its next pull (checking
 * and applying the page, the storage write), and, of the HTTP requests (the client's and those
 * sent ahead, overlapping), the time to the headers, reading the body (transfer + UTF-8 decode)
 * and `JSON.parse`. `requests` > `pulls` - 1 shows pages fetched ahead that were not used.
 */
function stepTimer() {
  const t = { wait: 0, between: 0, headers: 0, body: 0, parse: 0, pulls: 0, requests: 0 };
  let on = false;
  let answeredAt;
  const realParse = JSON.parse;
  return {
    start() {
      on = true;
      // Counts the JSON.parse of pull bodies (the client's other parses are few and small).
      JSON.parse = (text, reviver) => {
        const t0 = performance.now();
        try {
          return realParse(text, reviver);
        } finally {
          if (on) t.parse += performance.now() - t0;
        }
      };
    },
    stop() {
      on = false;
      JSON.parse = realParse;
      const s = (ms) => ms / 1000;
      return {
        pullWait: s(t.wait),
        between: s(t.between),
        headers: s(t.headers),
        body: s(t.body),
        parse: s(t.parse),
        pulls: t.pulls,
        requests: t.requests,
      };
    },
    fetch: async (input, init) => {
      const t0 = performance.now();
      const response = await globalThis.fetch(input, init);
      if (!on || !String(input).includes('/v1/pull')) return response;
      t.requests++;
      t.headers += performance.now() - t0;
      const text = response.text.bind(response);
      response.text = async () => {
        const t1 = performance.now();
        try {
          return await text();
        } finally {
          t.body += performance.now() - t1;
        }
      };
      return response;
    },
    wrap(transport) {
      return {
        ...transport,
        pull: async (request, signal) => {
          const t0 = performance.now();
          if (answeredAt !== undefined) t.between += t0 - answeredAt;
          try {
            return await transport.pull(request, signal);
          } finally {
            answeredAt = performance.now();
            t.wait += answeredAt - t0;
            t.pulls++;
          }
        },
      };
    },
  };
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

export async function run({ quick = false, only } = {}) {
  const count = quick ? 20_000 : RECORDS;
  const result = {};
  for (const store of storesToMeasure().filter((s) => only === undefined || s.key === only)) {
    const { seconds, rssMb, transportSeconds, cpu, breakdown } = await measureInChild(store, count);
    for (const [step, value] of Object.entries(breakdown)) {
      result[`${store.key}_step_${step}`] = value;
    }
    result[`${store.key}_s`] = seconds;
    result[`${store.key}_rss`] = rssMb;
    result[`${store.key}_transport_s`] = transportSeconds;
    result[`${store.key}_client_cpu_s`] = cpu.client;
    result[`${store.key}_client_sys_cpu_s`] = cpu.clientSys;
    result[`${store.key}_client_faults`] = cpu.clientFaults;
    result[`${store.key}_server_cpu_s`] = cpu.server;
    if (store.adminUrl !== undefined) result[`${store.key}_db_cpu_s`] = cpu.db;
  }
  return result;
}

const argv = process.argv.slice(2);
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
// `--only <store> --count <n>` is the child that measures (see measureInChild); `--only <store>`
// alone measures that store and prints the table.
if (isMain(import.meta.url) && only !== undefined && argv.includes('--count')) {
  const count = Number(argv[argv.indexOf('--count') + 1]);
  const store = storesToMeasure({ quiet: true }).find((s) => s.key === only);
  const measured = await measure(store, count);
  process.stdout.write(`RESULT ${JSON.stringify(measured)}\n`);
  process.exit(0);
} else if (isMain(import.meta.url)) {
  const result = await run({ quick: argv.includes('--quick'), only });
  printResult(meta, result);
  process.exit(0);
}
