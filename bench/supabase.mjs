// The Supabase adapter through its stand-ins (PostgREST-faithful RPC endpoint, Auth, Realtime;
// packages/adapter-supabase/test/support) on PostgreSQL, side by side with the reference server
// (@syncline/adapter-rest against bench/lib/rest-server-child.mjs) on the same PostgreSQL, in
// the same run:
//
// - propagation: 10 devices (sync clients) of one user, each `put`ting a new record every 2 s
//   for 12 s; for every write, the time from the `put` until the record is visible on
//   EVERY other device (Realtime poke + pull for Supabase, SSE poke for the server). p50, p99.
// - push throughput: one device pushes 3,000 new records in batches of 100 mutations, one
//   batch at a time (`transport.push`: one RPC call, one transaction); mutations per second.
//
// The stand-ins are TypeScript test support, so the child process runs with `--import tsx`.
// Needs SYNCLINE_PG_URL (figures are n/a without it). The stand-ins run in this process, the
// reference server in its own, so the CPU of this process is not comparable between the two.
//
//   node --import tsx bench/supabase.mjs        standalone
//   node bench/run.mjs supabase                 through the runner
import { randomUUID } from 'node:crypto';
import { isMain, printResult, quantile, startServerProcess } from './lib/rest-server.mjs';

const DEVICES = 10;
// One write per device every 2 s: every Supabase poke costs each other device a pull, and at
// a higher rate the stand-ins (in this process, with the ten devices) saturate first, so the
// figure would measure their queue rather than the path.
const WRITES_PER_SECOND = 0.5;
const SECONDS = 12;
const BATCH = 100;
const BATCHES = 30;

const ms = (key, label) => ({ key, label, unit: 'ms', better: 'lower' });
const rate = (key, label) => ({ key, label, unit: 'mutations/s', better: 'higher' });

export const meta = {
  title: 'Supabase adapter vs server',
  runs: 1,
  nodeArgs: ['--import', 'tsx'],
  metrics: [
    ms('sb_p50', `Supabase: put -> visible on all ${DEVICES - 1}, p50`),
    ms('sb_p99', `Supabase: put -> visible on all ${DEVICES - 1}, p99`),
    ms('rest_p50', `server: put -> visible on all ${DEVICES - 1}, p50`),
    ms('rest_p99', `server: put -> visible on all ${DEVICES - 1}, p99`),
    rate('sb_push', `Supabase RPC push, batches of ${BATCH}`),
    rate('rest_push', `server push, batches of ${BATCH}`),
  ],
};

const sleep = (msDelay) => new Promise((resolve) => setTimeout(resolve, msDelay));

/** Propagation over devices made by `makeDevice(i)` -> { client }. */
async function propagation(makeDevice) {
  const sentAt = new Map();
  const seen = new Map();
  const devices = [];
  for (let i = 0; i < DEVICES; i++) {
    const device = await makeDevice(i);
    const prefix = `d${i}-`;
    device.client.on('change', ({ collection, ids }) => {
      if (collection !== 'items') return;
      const now = performance.now();
      for (const id of ids) {
        if (id.startsWith(prefix) || !sentAt.has(id)) continue;
        if (device.client.get('items', id) === undefined) continue;
        const entry = seen.get(id) ?? { devices: new Set(), last: 0 };
        if (entry.devices.has(i)) continue;
        entry.devices.add(i);
        entry.last = now;
        seen.set(id, entry);
      }
    });
    devices.push(device);
  }
  await Promise.all(devices.map((d) => d.client.start()));
  await sleep(1500);
  const ids = [];
  const interval = 1000 / WRITES_PER_SECOND;
  await Promise.all(
    devices.map(async (device, i) => {
      await sleep((i * interval) / DEVICES);
      for (let n = 0; n < SECONDS * WRITES_PER_SECOND; n++) {
        const id = `d${i}-${n}`;
        ids.push(id);
        sentAt.set(id, performance.now());
        void device.client.put('items', id, { n, from: i });
        await sleep(interval);
      }
    }),
  );
  const deadline = performance.now() + 15_000;
  while (performance.now() < deadline) {
    if (ids.every((id) => (seen.get(id)?.devices.size ?? 0) >= DEVICES - 1)) break;
    await sleep(50);
  }
  const latencies = ids
    .filter((id) => (seen.get(id)?.devices.size ?? 0) >= DEVICES - 1)
    .map((id) => seen.get(id).last - sentAt.get(id));
  await Promise.all(devices.map((d) => d.client.stop()));
  for (const d of devices) d.stop?.();
  if (latencies.length < ids.length) {
    process.stderr.write(`${ids.length - latencies.length} writes never reached every device\n`);
  }
  return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

/** Mutations per second pushing new records in batches through `transport.push`. */
async function pushThroughput(transport, scope, sessionId) {
  const batch = (b) => ({
    clientId: 'bench-pusher',
    sessionId,
    mutations: Array.from({ length: BATCH }, (_, k) => ({
      id: randomUUID(),
      scope,
      collection: 'items',
      recordId: `b${b}-${k}`,
      op: 'put',
      data: { b, k, title: `record ${k} of batch ${b}` },
      baseRevision: 0,
      hlc: `${Date.now().toString(16).padStart(12, '0')}:0000:bench`,
    })),
  });
  await transport.push(batch(-1)); // warm-up
  const t0 = performance.now();
  for (let b = 0; b < BATCHES; b++) {
    const answer = await transport.push(batch(b));
    if (answer.results.some((r) => r.status !== 'applied')) throw new Error('a push was refused');
  }
  return (BATCH * BATCHES) / ((performance.now() - t0) / 1000);
}

export async function run() {
  const adminUrl = process.env.SYNCLINE_PG_URL || undefined;
  if (adminUrl === undefined) {
    process.stderr.write('\n*** Supabase bench SKIPPED: SYNCLINE_PG_URL is not set ***\n');
    return {};
  }
  const core = await import('@syncline/sync-core');
  const { supabaseTransport } = await import('@syncline/adapter-supabase');
  const { devSignIn, restTransport } = await import('@syncline/adapter-rest');
  const support = '../packages/adapter-supabase/test/support';
  const { openSupabaseDatabase } = await import(`${support}/database.ts`);
  const { startSupabaseStandIn } = await import(`${support}/supabase-standin.ts`);
  const { signedInClient } = await import(`${support}/devices.ts`);
  const clientOptions = {
    storage: undefined,
    pullIntervalMs: 600_000,
    retry: { baseDelayMs: 20, maxDelayMs: 500 },
  };
  const result = {};

  // Supabase stand-ins on PostgreSQL.
  const project = await startSupabaseStandIn(await openSupabaseDatabase('postgres', { adminUrl }));
  try {
    const email = `bench-${Date.now().toString(36)}@example.com`;
    const sb = await propagation(async () => {
      const { supabase } = await signedInClient(project, email);
      const transport = supabaseTransport({ client: supabase });
      const client = core.createSyncClient({
        ...clientOptions,
        transport,
        storage: core.memoryStorage(),
      });
      return { client, stop: () => transport.stop() };
    });
    result.sb_p50 = sb.p50;
    result.sb_p99 = sb.p99;
    const pusher = await signedInClient(project, `push-${email}`);
    const transport = supabaseTransport({ client: pusher.supabase, realtime: false });
    result.sb_push = await pushThroughput(transport, `user:${pusher.userId}`, pusher.sessionId);
    transport.stop();
  } finally {
    await project.close();
    await project.db.close();
  }

  // The reference server on the same PostgreSQL.
  const server = await startServerProcess({ key: 'pg', adminUrl });
  try {
    const userId = `bench${Date.now().toString(36)}`;
    const rest = await propagation(async () => {
      const session = await devSignIn({ baseUrl: server.url, userId });
      const transport = restTransport({
        baseUrl: server.url,
        getToken: () => session.token,
        session: core.createSessionSource({ userId, sessionId: session.sessionId }),
      });
      const client = core.createSyncClient({
        ...clientOptions,
        transport,
        storage: core.memoryStorage(),
      });
      return { client };
    });
    result.rest_p50 = rest.p50;
    result.rest_p99 = rest.p99;
    const session = await devSignIn({ baseUrl: server.url, userId: `${userId}push` });
    const transport = restTransport({
      baseUrl: server.url,
      getToken: () => session.token,
      realtime: false,
    });
    result.rest_push = await pushThroughput(transport, `user:${userId}push`, session.sessionId);
  } finally {
    await server.stop();
  }
  return result;
}

if (isMain(import.meta.url)) printResult(meta, await run());
