// Where an initial sync's time goes, page by page (issue 10): the reference server over loopback
// on PostgreSQL (or PGlite), seeded with N records, downloaded three ways in one process:
//
//   1. the database alone: `syncline.pull_changes` called directly for every page (pg client);
//   2. the bare HTTP path with raw fetch: time until the answer's headers (server + database +
//      loopback), reading the body (transfer + UTF-8 decode), JSON.parse, validatePullResponse;
//   3. a real client (restTransport + memory storage), timing each transport.pull() and the
//      client's own work between one pull's answer and its next pull (apply + storage write).
//
// Prints the totals and per-page medians. Wall times: on a loaded host read the ratios.
//
//   npm run build && SYNCLINE_PG_URL=postgres://... node --expose-gc bench/lib/initial-sync-breakdown.mjs [records] [pageSize] [pglite]
import pg from 'pg';
import { startServerProcess, storesToMeasure } from './rest-server.mjs';

const count = Number(process.argv[2] ?? 100_000);
const limit = Number(process.argv[3] ?? 1000);
const storeKey = process.argv[4] ?? 'pg';
const store = storesToMeasure({ quiet: true }).find((s) => s.key === storeKey);
if (store === undefined) throw new Error(`no store ${storeKey} (set SYNCLINE_PG_URL for pg)`);

const { createSessionSource, createSyncClient, memoryStorage } = await import(
  '@syncline/sync-core'
);
const { validatePullResponse } = await import('@syncline/sync-core/protocol');
const { devSignIn, restTransport } = await import('@syncline/adapter-rest');

const userId = `brk${Date.now().toString(36)}`;
const scope = `user:${userId}`;
process.env.SYNCLINE_BENCH_SEED = `${userId}:${count}`;
const server = await startServerProcess(store);
delete process.env.SYNCLINE_BENCH_SEED;

const sum = (xs) => xs.reduce((a, b) => a + b, 0);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const rows = [];
const row = (label, xs) => rows.push([label, sum(xs), median(xs), xs.length]);

try {
  const session = await devSignIn({ baseUrl: server.url, userId });

  // 2. Bare HTTP, step by step. Also collects the checkpoints for step 1.
  const headers = [];
  const body = [];
  const parse = [];
  const validate = [];
  const afters = [];
  let checkpoint = null;
  let bytes = 0;
  const httpStarted = performance.now();
  for (;;) {
    const url = new URL('/v1/pull', server.url);
    url.searchParams.set('scope', scope);
    url.searchParams.set('limit', String(limit));
    if (checkpoint !== null) url.searchParams.set('checkpoint', checkpoint);
    const t0 = performance.now();
    const response = await fetch(url, { headers: { authorization: `Bearer ${session.token}` } });
    const t1 = performance.now();
    const text = await response.text();
    const t2 = performance.now();
    const json = JSON.parse(text);
    const t3 = performance.now();
    const page = validatePullResponse(json, { scope, checkpoint, limit });
    const t4 = performance.now();
    headers.push(t1 - t0);
    body.push(t2 - t1);
    parse.push(t3 - t2);
    validate.push(t4 - t3);
    bytes += text.length;
    afters.push(page.changes.length > 0 ? page.changes[0].revision - 1 : null);
    checkpoint = page.checkpoint;
    if (!page.hasMore) break;
  }
  const httpSeconds = (performance.now() - httpStarted) / 1000;

  // 1. The database alone, the same pages (PostgreSQL only: PGlite lives in the server process).
  const db = [];
  if (store.adminUrl !== undefined) {
    const dbUrl = new URL(store.adminUrl);
    dbUrl.pathname = `/${server.database}`;
    const client = new pg.Client({ connectionString: dbUrl.toString() });
    await client.connect();
    for (const after of afters) {
      const t0 = performance.now();
      await client.query('SELECT * FROM syncline.pull_changes($1, $2, $3)', [scope, after, limit]);
      db.push(performance.now() - t0);
    }
    await client.end();
  }

  // 3. A real client.
  const transport = restTransport({
    baseUrl: server.url,
    getToken: () => session.token,
    session: createSessionSource({ userId, sessionId: session.sessionId }),
    realtime: false,
  });
  const pulls = [];
  const between = [];
  let answeredAt;
  const timed = {
    ...transport,
    pull: async (request, signal) => {
      const t0 = performance.now();
      if (answeredAt !== undefined) between.push(t0 - answeredAt);
      const page = await transport.pull(request, signal);
      answeredAt = performance.now();
      pulls.push(answeredAt - t0);
      return page;
    },
  };
  globalThis.gc?.();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const client = createSyncClient({ transport: timed, storage: memoryStorage(), pageSize: limit });
  await client.start();
  while (!(client.status.state === 'synced' && client.query('items').length === count)) {
    if (client.status.state === 'error') throw client.status.error;
    await new Promise((r) => setTimeout(r, 2));
  }
  const clientSeconds = (performance.now() - started) / 1000;
  const clientCpu = process.cpuUsage(cpu);
  await client.stop();

  row('db: pull_changes alone (pg client)', db);
  row('http: request -> headers (server+db+loopback)', headers);
  row('http: body text (transfer + decode)', body);
  row('client: JSON.parse', parse);
  row('client: validatePullResponse', validate);
  row('client: transport.pull() wait (pull-ahead)', pulls);
  row('client: apply + store, between pulls', between);
  console.log(
    `${count} records, pages of ${limit}, ${storeKey}, ${(bytes / 1e6).toFixed(1)} MB of JSON; load ${(await import('node:os')).loadavg()[0].toFixed(1)}`,
  );
  console.log(`bare HTTP path, step by step: ${httpSeconds.toFixed(2)} s`);
  console.log(
    `client initial sync: ${clientSeconds.toFixed(2)} s (client CPU ${((clientCpu.user + clientCpu.system) / 1e6).toFixed(2)} s)`,
  );
  console.log(
    'step'.padEnd(48),
    'total ms'.padStart(9),
    'median/page'.padStart(12),
    'pages'.padStart(6),
  );
  for (const [label, total, med, n] of rows) {
    console.log(
      label.padEnd(48),
      total.toFixed(0).padStart(9),
      med.toFixed(2).padStart(12),
      String(n).padStart(6),
    );
  }
} finally {
  await server.stop();
}
process.exit(0);
