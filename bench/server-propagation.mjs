// Propagation latency through @syncline/adapter-rest and the reference server over loopback:
// 20 devices (sync clients) of ONE user, each `put`ting a new record 5 times a second for
// 30 s; for every write, the time from the `put` call on its device until the record is
// visible (`client.get`) on EVERY other device. Prints p50 and p99 over all writes, on PGlite
// and on PostgreSQL (SYNCLINE_PG_URL; skipped with a notice when unset).
//
// The server runs in its own process (bench/lib/rest-server-child.mjs); the 20 clients share
// this one, each with its own restTransport (SSE pokes) and memory storage. A device learns of
// a change only through an SSE poke: one that carries the changes and continues the device's
// checkpoint is applied with no request, any other is followed by a pull. The fallback pull
// interval is set to 10 minutes, so it never fires during the run.
//
// The measured 30 s follow a 3 s warm-up at the same load (--warm-up N; 0 for none): a server
// process that has just started runs its request path interpreted for its first few hundred
// requests and is saturated meanwhile. The warm-up's own p50/p99 are printed as the "cold" rows.
//
//   node bench/server-propagation.mjs              the spec'd size (20 x 5/s x 30 s)
//   node bench/server-propagation.mjs --quick      20 x 5/s x 5 s
//   node bench/server-propagation.mjs --devices 4 --rate 1 --seconds 10
//                                                  another load, to find the knee (diagnosis)
//   node bench/server-propagation.mjs --store pg   one store only (pglite or pg)
//   node bench/run.mjs server-propagation          through the runner (1 run by default)
import {
  databaseCpuSeconds,
  isMain,
  printResult,
  processCpuSeconds,
  quantile,
  startServerProcess,
  storesToMeasure,
} from './lib/rest-server.mjs';

const argv = process.argv.slice(2);
const flag = (name, fallback) =>
  argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : fallback;
// The spec'd load unless overridden on the command line (standalone diagnosis only).
const DEVICES = flag('--devices', 20);
const WRITES_PER_SECOND = flag('--rate', 5);
// Seconds of the same load before the measured ones (see measure()); 0 measures a cold server.
const WARM_UP_SECONDS = flag('--warm-up', 3);

/** A lower-is-better row in milliseconds. */
const ms = (key, label, target) => ({ key, label, unit: 'ms', target, better: 'lower' });
const STORES = [
  ['pglite', 'PGlite'],
  ['pg', 'PostgreSQL'],
];

export const meta = {
  title: 'REST propagation',
  runs: 1,
  metrics: [
    ...STORES.flatMap(([key, name]) => [
      ms(`${key}_p50`, `put -> visible on all 19, p50, ${name}`, 10),
      ms(`${key}_p99`, `put -> visible on all 19, p99, ${name}`, 40),
    ]),
    ...STORES.flatMap(([key, name]) => [
      ms(`${key}_cold_p50`, `cold: the first ${WARM_UP_SECONDS} s after start, p50, ${name}`),
      ms(`${key}_cold_p99`, `cold: the first ${WARM_UP_SECONDS} s after start, p99, ${name}`),
    ]),
    ms('pglite_server_cpu', 'server process CPU per write, PGlite'),
    ms('pglite_clients_cpu', '20 clients process CPU per write, PGlite'),
    ms('pg_server_cpu', 'server process CPU per write, PostgreSQL (database apart)'),
    ms('pg_database_cpu', 'PostgreSQL backends CPU per write'),
    ms('pg_clients_cpu', '20 clients process CPU per write, PostgreSQL'),
    ...STORES.map(([key, name]) => ({
      key: `${key}_writes`,
      label: `writes measured, ${name}`,
      better: 'higher',
    })),
  ],
};

async function measure(server, seconds, adminUrl) {
  const { url } = server;
  const { createSessionSource, createSyncClient, memoryStorage } = await import(
    '@syncline/sync-core'
  );
  const { devSignIn, restTransport } = await import('@syncline/adapter-rest');
  const userId = `prop${Date.now().toString(36)}`;
  const sentAt = new Map(); // record id -> performance.now() of its put
  const seenBy = new Map(); // record id -> { count, last }
  const devices = [];
  // Where the time goes: requests per endpoint and their round-trip times, seen by the clients.
  const http = new Map();
  const countingFetch = async (input, init) => {
    const path = new URL(String(input)).pathname;
    const t0 = performance.now();
    const response = await fetch(input, init);
    if (path !== '/v1/events') {
      // Timed to the response headers: reading a clone of the body as well would double the
      // clients' stream work for every push, and push answers are small.
      const entry = http.get(path) ?? { count: 0, ms: [] };
      entry.count++;
      entry.ms.push(performance.now() - t0);
      http.set(path, entry);
    }
    return response;
  };
  let pokes = 0;
  let payloadPokes = 0;
  // Where the time goes, per write: put -> its poke reaches the first / the last device.
  const pokedAt = new Map(); // record id -> { first, last, count }
  for (let i = 0; i < DEVICES; i++) {
    const session = await devSignIn({ baseUrl: url, userId });
    const transport = restTransport({
      baseUrl: url,
      getToken: () => session.token,
      session: createSessionSource({ userId, sessionId: session.sessionId }),
      fetch: countingFetch,
    });
    const subscribe = transport.subscribe;
    transport.subscribe = (options) =>
      subscribe({
        ...options,
        onPoke: (poke) => {
          pokes++;
          if (poke.changes !== undefined) {
            payloadPokes++;
            const now = performance.now();
            for (const record of poke.changes) {
              const seen = pokedAt.get(record.id);
              if (seen === undefined) pokedAt.set(record.id, { first: now, last: now, count: 1 });
              else {
                seen.last = now;
                seen.count++;
              }
            }
          }
          options.onPoke(poke);
        },
      });
    const client = createSyncClient({
      transport,
      storage: memoryStorage(),
      pullIntervalMs: 600_000,
      retry: { baseDelayMs: 20, maxDelayMs: 500 },
    });
    const prefix = `d${i}-`;
    client.on('change', ({ collection, ids }) => {
      if (collection !== 'items') return;
      const now = performance.now();
      for (const id of ids) {
        if (id.startsWith(prefix) || !sentAt.has(id)) continue;
        if (client.get('items', id) === undefined) continue;
        const seen = seenBy.get(id) ?? { count: 0, last: 0, devices: new Set() };
        if (seen.devices.has(i)) continue;
        seen.devices.add(i);
        seen.count++;
        seen.last = now;
        seenBy.set(id, seen);
      }
    });
    devices.push({ client, prefix });
  }
  await Promise.all(devices.map((d) => d.client.start()));
  // Let every device connect its stream and finish its first pull.
  await new Promise((r) => setTimeout(r, 1000));

  const intervalMs = 1000 / WRITES_PER_SECOND;
  const failures = [];
  /** `seconds` of writes at the spec'd rate; ids are `<device prefix><tag><n>`. Returns the ids. */
  const writePhase = async (tag, phaseSeconds) => {
    const ids = [];
    const writesPerDevice = Math.round(phaseSeconds * WRITES_PER_SECOND);
    await Promise.all(
      devices.map(
        (device, i) =>
          new Promise((resolve) => {
            let n = 0;
            // Devices are staggered across the interval, as independent users would be.
            setTimeout(
              () => {
                const timer = setInterval(() => {
                  const id = `${device.prefix}${tag}${n}`;
                  ids.push(id);
                  sentAt.set(id, performance.now());
                  device.client
                    .put('items', id, { n, from: i, title: `write ${n}` })
                    .catch((e) => failures.push(e));
                  if (++n >= writesPerDevice) {
                    clearInterval(timer);
                    resolve();
                  }
                }, intervalMs);
              },
              (i * intervalMs) / DEVICES,
            );
          }),
      ),
    );
    // Grace period for the last writes to land everywhere.
    const deadline = performance.now() + 10_000;
    while (performance.now() < deadline) {
      if (ids.every((id) => (seenBy.get(id)?.count ?? 0) >= DEVICES - 1)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return ids;
  };
  /** p50/p99 of put -> visible on every other device over `ids`; counts the incomplete ones. */
  const latenciesOf = (ids) => {
    const latencies = [];
    let incomplete = 0;
    for (const id of ids) {
      const seen = seenBy.get(id);
      if (seen === undefined || seen.count < DEVICES - 1) incomplete++;
      else latencies.push(seen.last - sentAt.get(id));
    }
    return { latencies, incomplete };
  };

  // Warm-up: the same load for WARM_UP_SECONDS right after the server started, measured apart.
  // A freshly started server process runs its request path interpreted for its first few
  // hundred requests (V8 JIT, PGlite's WASM tier-up), which is a property of its first second,
  // not of the steady state the targets describe; its figures are printed as the cold rows.
  const warmIds = WARM_UP_SECONDS > 0 ? await writePhase('w', WARM_UP_SECONDS) : [];
  const cold = latenciesOf(warmIds);
  // The diagnostics below describe the measured phase only.
  http.clear();
  pokedAt.clear();
  pokes = 0;
  payloadPokes = 0;
  const cpuBefore = {
    server: processCpuSeconds(server.pid),
    clients: processCpuSeconds(process.pid),
    database: await databaseCpuSeconds(adminUrl, server.database),
  };
  const measuredIds = await writePhase('', seconds);
  // CPU milliseconds per write of the server process and of this one (the 20 clients): less
  // swayed by a busy host than the latencies, so they show what a change of code costs.
  const cpuPerWrite = {
    server: ((processCpuSeconds(server.pid) - cpuBefore.server) * 1000) / measuredIds.length,
    clients: ((processCpuSeconds(process.pid) - cpuBefore.clients) * 1000) / measuredIds.length,
    database:
      (((await databaseCpuSeconds(adminUrl, server.database)) - cpuBefore.database) * 1000) /
      measuredIds.length,
  };
  await Promise.all(devices.map((d) => d.client.stop()));

  const { latencies, incomplete } = latenciesOf(measuredIds);
  if (incomplete + cold.incomplete > 0 || failures.length > 0) {
    process.stderr.write(
      `  ${incomplete + cold.incomplete} writes not seen by every device, ${failures.length} failed puts\n`,
    );
  }
  for (const [path, { count, ms }] of http) {
    process.stderr.write(
      `  ${path}: ${count} requests (${(count / seconds).toFixed(0)}/s during writes), time to response headers p50 ${quantile(ms, 0.5).toFixed(1)} ms, p99 ${quantile(ms, 0.99).toFixed(1)} ms\n`,
    );
  }
  process.stderr.write(
    `  pokes received by all devices: ${pokes} (${payloadPokes} carrying their changes)\n`,
  );
  const first = [];
  const last = [];
  for (const id of measuredIds) {
    const t0 = sentAt.get(id);
    const poked = pokedAt.get(id);
    if (poked === undefined) continue;
    first.push(poked.first - t0);
    last.push(poked.last - t0);
  }
  if (first.length > 0) {
    process.stderr.write(
      `  put -> its changes poked to the first device p50 ${quantile(first, 0.5).toFixed(1)} ms, p99 ${quantile(first, 0.99).toFixed(1)} ms; to the last p50 ${quantile(last, 0.5).toFixed(1)} ms, p99 ${quantile(last, 0.99).toFixed(1)} ms (${first.length} writes)\n`,
    );
  }
  return {
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    writes: latencies.length,
    coldP50: quantile(cold.latencies, 0.5),
    coldP99: quantile(cold.latencies, 0.99),
    cpuPerWrite,
  };
}

export async function run({ quick = false } = {}) {
  const seconds = flag('--seconds', quick ? 5 : 30);
  const result = {};
  // --store pglite|pg measures one store only (diagnosis).
  const only = argv.includes('--store') ? argv[argv.indexOf('--store') + 1] : undefined;
  for (const store of storesToMeasure()) {
    if (only !== undefined && store.key !== only) continue;
    const server = await startServerProcess(store);
    try {
      const { p50, p99, writes, coldP50, coldP99, cpuPerWrite } = await measure(
        server,
        seconds,
        store.adminUrl,
      );
      if (store.adminUrl !== undefined) result[`${store.key}_database_cpu`] = cpuPerWrite.database;
      result[`${store.key}_server_cpu`] = cpuPerWrite.server;
      result[`${store.key}_clients_cpu`] = cpuPerWrite.clients;
      result[`${store.key}_p50`] = p50;
      result[`${store.key}_p99`] = p99;
      result[`${store.key}_writes`] = writes;
      result[`${store.key}_cold_p50`] = coldP50;
      result[`${store.key}_cold_p99`] = coldP99;
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
