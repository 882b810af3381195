// Scale-out: 1, 2 and 4 server processes (bench/lib/rest-server-child.mjs) on ONE PostgreSQL
// database, as behind a load balancer. For each count:
//
// - push throughput, different scopes: 8 users, user u talking to process u mod N, each pushing
//   batches of 100 `put`s of new records back to back for --seconds;
// - push throughput, one hot scope: 8 devices of ONE user, spread the same way, batches of 20
//   (each device its own records, so nothing conflicts): every push takes the scope's row lock;
// - propagation: a device on the LAST process holds an event stream; a device on the FIRST
//   process pushes one record every 100 ms; the time from sending the push until the poke
//   carrying that version arrives (p50, p99; across processes it travels through NOTIFY).
//
//   node bench/server-scaleout.mjs [--seconds 10] [--processes 1,2,4]
//   node bench/run.mjs server-scaleout             through the runner (one run)
// Needs SYNCLINE_PG_URL (a superuser URL: a database is created and dropped).
import { randomUUID } from 'node:crypto';
import { isMain, printResult, quantile, startServerProcess } from './lib/rest-server.mjs';

const argv = process.argv.slice(2);
const option = (name, fallback) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);
const SECONDS = Number(option('--seconds', 10));
const PROCESSES = option('--processes', '1,2,4').split(',').map(Number);
const CLIENTS = 8;
const PROPAGATION_SAMPLES = 40;

export const meta = {
  title: 'server scale-out',
  runs: 1,
  metrics: PROCESSES.flatMap((n) => [
    {
      key: `spread_${n}`,
      label: `push, 8 scopes, ${n} process(es)`,
      unit: 'mut/s',
      better: 'higher',
    },
    {
      key: `hot_${n}`,
      label: `push, 1 hot scope, ${n} process(es)`,
      unit: 'mut/s',
      better: 'higher',
    },
    {
      key: `prop_p50_${n}`,
      label: `propagation p50, ${n} process(es)`,
      unit: 'ms',
      better: 'lower',
    },
    {
      key: `prop_p99_${n}`,
      label: `propagation p99, ${n} process(es)`,
      unit: 'ms',
      better: 'lower',
    },
  ]),
};

async function freshDatabase(adminUrl) {
  const pg = (await import('pg')).default;
  const name = `syncline_scaleout_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const run = async (sql) => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(sql);
    await admin.end();
  };
  await run(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function json(url, init) {
  const response = await fetch(url, init);
  const body = await response.json();
  if (!response.ok) throw new Error(`${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** A device of `userId` on the server at `url` (dev tokens are valid on their own process). */
async function device(url, userId) {
  const { token, sessionId } = await json(`${url}/v1/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId }),
  });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const clientId = randomUUID();
  let hlc = 0;
  return {
    url,
    scope: `user:${userId}`,
    headers,
    async push(records) {
      const mutations = records.map((recordId) => {
        hlc += 1;
        return {
          id: randomUUID(),
          scope: `user:${userId}`,
          collection: 'items',
          recordId,
          op: 'put',
          data: { title: recordId, note: 'x'.repeat(40) },
          baseRevision: 0,
          hlc: `${(1_800_000_000_000 + hlc).toString(16).padStart(12, '0')}:0000:${clientId.slice(0, 8)}`,
        };
      });
      const { results } = await json(`${url}/v1/push`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ clientId, sessionId, mutations }),
      });
      return results;
    },
  };
}

/** Pushes back to back from every device for `seconds`; returns applied mutations per second. */
async function throughput(devices, batch, seconds) {
  let applied = 0;
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    devices.map(async (d, k) => {
      for (let round = 0; Date.now() < deadline; round += 1) {
        const ids = Array.from({ length: batch }, (_, i) => `d${k}-${round}-${i}-${randomUUID()}`);
        const results = await d.push(ids);
        applied += results.filter((r) => r.status === 'applied').length;
      }
    }),
  );
  return applied / ((Date.now() - started) / 1000);
}

/** Opens an event stream of `d`'s scope; `waitFor(version)` resolves when a poke reaches it. */
async function listen(d) {
  const controller = new AbortController();
  const response = await fetch(`${d.url}/v1/events?scopes=${encodeURIComponent(d.scope)}`, {
    headers: d.headers,
    signal: controller.signal,
  });
  let seen = 0;
  const waiters = [];
  (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        for (const line of event.split('\n')) {
          if (!line.startsWith('data:')) continue;
          const poke = JSON.parse(line.slice(5));
          if (poke.scope === d.scope) seen = Math.max(seen, poke.version);
        }
        for (const w of waiters.splice(0)) {
          if (seen >= w.version) w.resolve();
          else waiters.push(w);
        }
        end = buffer.indexOf('\n\n');
      }
    }
  })().catch(() => undefined);
  return {
    waitFor: (version) =>
      seen >= version
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ version, resolve })),
    close: () => controller.abort(),
  };
}

async function propagation(first, last) {
  const stream = await listen(last);
  const latencies = [];
  for (let i = 0; i < PROPAGATION_SAMPLES; i += 1) {
    const sent = performance.now();
    const [result] = await first.push([`p-${randomUUID()}`]);
    await stream.waitFor(result.revision);
    latencies.push(performance.now() - sent);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  stream.close();
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

export async function run() {
  const adminUrl = process.env.SYNCLINE_PG_URL;
  if (!adminUrl)
    throw new Error('server-scaleout needs SYNCLINE_PG_URL (a PostgreSQL superuser URL)');
  const result = {};
  for (const n of PROCESSES) {
    const database = await freshDatabase(adminUrl);
    const servers = [];
    try {
      // One at a time: the first applies the migrations.
      for (let i = 0; i < n; i += 1)
        servers.push(await startServerProcess({ databaseUrl: database.url }));
      const at = (k) => servers[k % n].url;
      const spread = [];
      const hot = [];
      for (let k = 0; k < CLIENTS; k += 1) {
        spread.push(await device(at(k), `spread${k}`));
        hot.push(await device(at(k), 'hot'));
      }
      // A short warm-up of every process's request path, not measured.
      await throughput(spread, 20, 2);
      result[`spread_${n}`] = await throughput(spread, 100, SECONDS);
      result[`hot_${n}`] = await throughput(hot, 20, SECONDS);
      const prop = await propagation(
        await device(servers[0].url, 'prop'),
        await device(servers[n - 1].url, 'prop'),
      );
      result[`prop_p50_${n}`] = prop.p50;
      result[`prop_p99_${n}`] = prop.p99;
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
      await database.drop();
    }
  }
  return result;
}

if (isMain(import.meta.url)) {
  console.log(
    `server scale-out: ${PROCESSES.join(', ')} process(es) on one PostgreSQL, ${SECONDS} s per throughput run`,
  );
  printResult(meta, await run());
}
