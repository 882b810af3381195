// Session targeting through the client: createSyncClient + restTransport against the reference
// server in its own process (PGlite), over loopback.
//
// - fan-out: one `client.deliveries.send` to the 10 other sessions of one user, each a sync
//   client with a `delivery` handler; time from the send until all 10 acknowledgements were
//   answered by the server, p50/p99 over 200 deliveries.
// - a 50 MB asset (SYNCLINE_BENCH_ASSET_MB to change, e.g. 500): `client.assets.send` from a
//   file asset store, received by another client into its file asset store (downloaded,
//   verified, stored); MB/s each way, RSS growth of the server process and of this process
//   (sender and receiver clients live here together).
//
//   npm run build && node bench/client-targeting.mjs
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restTransport } from '@syncline/adapter-rest';
import { restTargeting } from '@syncline/adapter-rest/targeting';
import { createSessionSource, createSyncClient, memoryStorage } from '@syncline/sync-core';
import { fileAssetStore } from '@syncline/sync-core/node';
import { sessionTargeting } from '@syncline/sync-core/targeting';
import {
  isMain,
  printResult,
  processCpuSeconds,
  quantile,
  sampleRss,
  startServerProcess,
} from './lib/rest-server.mjs';

export const meta = {
  title: 'deliveries and assets through the client',
  runs: 1,
  metrics: [
    {
      key: 'fan_p50',
      label: 'fan-out to 10 sessions, p50',
      unit: 'ms',
      target: 20,
      better: 'lower',
    },
    {
      key: 'fan_p99',
      label: 'fan-out to 10 sessions, p99',
      unit: 'ms',
      target: 60,
      better: 'lower',
    },
    { key: 'up_mbs', label: 'asset upload (client)', unit: 'MB/s', target: 100, better: 'higher' },
    {
      key: 'down_mbs',
      label: 'asset download (client)',
      unit: 'MB/s',
      target: 100,
      better: 'higher',
    },
    {
      key: 'server_rss',
      label: 'server RSS growth (asset)',
      unit: 'MB',
      target: 64,
      better: 'lower',
    },
    {
      key: 'client_rss',
      label: 'clients RSS growth (asset)',
      unit: 'MB',
      target: 128,
      better: 'lower',
    },
    // Informational: server CPU (Linux /proc), which a busy host sways far less than wall time.
    { key: 'fan_cpu', label: 'server CPU per fan-out', unit: 'ms', better: 'lower' },
  ],
};

const MB = 1024 * 1024;

async function signIn(url, userId) {
  const response = await fetch(`${url}/v1/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId }),
  });
  return response.json();
}

async function device(url, userId, extra = {}) {
  const { token, sessionId } = await signIn(url, userId);
  const transport = restTransport({
    baseUrl: url,
    getToken: () => token,
    session: createSessionSource({ userId, sessionId }),
    targeting: restTargeting(),
  });
  const client = createSyncClient({
    transport,
    storage: memoryStorage(),
    targeting: sessionTargeting(),
    ...extra,
  });
  await client.start();
  for (let i = 0; i < 500 && client.sessions.current === null; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { client, transport, sessionId };
}

function serverRss(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return line === undefined ? Number.NaN : Number(line.split(/\s+/)[1]) * 1024;
}

async function fanOut(url, serverPid) {
  const userId = `fan-${Date.now()}`;
  const sender = await device(url, userId);
  const receivers = [];
  let onAck = () => {};
  for (let i = 0; i < 10; i++) {
    const r = await device(url, userId);
    const ack = r.transport.deliveries.ack.bind(r.transport.deliveries);
    r.transport.deliveries.ack = async (id, signal) => {
      const answer = await ack(id, signal);
      onAck(id);
      return answer;
    };
    r.client.on('delivery', () => {});
    receivers.push(r);
  }
  const times = [];
  let cpuStart = 0;
  for (let i = 0; i < 220; i++) {
    if (i === 20) cpuStart = processCpuSeconds(serverPid);
    const started = performance.now();
    let acked = 0;
    let done;
    const all = new Promise((resolve) => {
      done = resolve;
    });
    let id;
    onAck = (ackedId) => {
      if (ackedId === id && ++acked === 10) done();
    };
    const sending = sender.client.deliveries.send({ kind: 'bench', payload: { i } });
    id = (await sending).id;
    await all;
    if (i >= 20) times.push(performance.now() - started); // 20 warm-up rounds
  }
  const cpu = processCpuSeconds(serverPid) - cpuStart;
  for (const r of [sender, ...receivers]) await r.client.stop();
  return {
    fan_p50: quantile(times, 0.5),
    fan_p99: quantile(times, 0.99),
    fan_cpu: (cpu * 1000) / times.length,
  };
}

async function assetRoundTrip(url, serverPid, mb) {
  const size = mb * MB;
  const dir = await mkdtemp(join(tmpdir(), 'syncline-bench-assets-'));
  try {
    const userId = `asset-${Date.now()}`;
    const chunk = 8 * MB;
    const sender = await device(url, userId, {
      assetStore: fileAssetStore({ directory: join(dir, 'sender') }),
      assetChunkBytes: chunk,
    });
    const receiver = await device(url, userId, {
      assetStore: fileAssetStore({ directory: join(dir, 'receiver') }),
      assetChunkBytes: chunk,
    });
    let received;
    const got = new Promise((resolve) => {
      received = resolve;
    });
    receiver.client.on('delivery', () => received(performance.now()));
    // The file is generated as a stream: the sender never holds it whole.
    let made = 0;
    const source = new ReadableStream({
      pull(controller) {
        if (made >= size) return controller.close();
        const n = Math.min(MB, size - made);
        controller.enqueue(new Uint8Array(n).fill(made / MB));
        made += n;
      },
    });
    const file = await sender.client.assets.add(source, { name: 'big.bin' });
    global.gc?.();
    const serverBefore = serverRss(serverPid);
    const clientBefore = process.memoryUsage().rss;
    const rss = sampleRss();
    let serverPeak = serverBefore;
    const serverTimer = setInterval(() => {
      serverPeak = Math.max(serverPeak, serverRss(serverPid));
    }, 5);
    const t0 = performance.now();
    const sent = await sender.client.assets.send(file.stream(), { name: 'big.bin' });
    const t1 = performance.now();
    const t2 = await got;
    clearInterval(serverTimer);
    const clientGrowth = rss.stop() - clientBefore;
    if (sent.hash !== file.hash) throw new Error('hash changed in transit');
    await sender.client.stop();
    await receiver.client.stop();
    return {
      up_mbs: size / MB / ((t1 - t0) / 1000),
      down_mbs: size / MB / ((t2 - t1) / 1000),
      server_rss: (serverPeak - serverBefore) / MB,
      client_rss: clientGrowth / MB,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Command-line options: `--mb N` (the asset's size, default 50 or SYNCLINE_BENCH_ASSET_MB) and
 * `--only fan|asset` (one of the two measurements).
 */
function cliOptions(argv) {
  const options = { mb: Number(process.env.SYNCLINE_BENCH_ASSET_MB ?? 50), only: undefined };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--mb') options.mb = Number(argv[++i]);
    else if (argv[i] === '--only') options.only = argv[++i];
  }
  if (!(options.mb > 0)) throw new Error('--mb wants a positive number of megabytes');
  return options;
}

/** Runs both measurements (or the one `only` names) on PGlite. */
export async function run({ mb = 50, only } = {}) {
  const server = await startServerProcess({ key: 'pglite', label: 'PGlite' });
  try {
    return {
      ...(only === 'asset' ? {} : await fanOut(server.url, server.pid)),
      ...(only === 'fan' ? {} : await assetRoundTrip(server.url, server.pid, mb)),
    };
  } finally {
    await server.stop();
  }
}

if (isMain(import.meta.url)) {
  const result = await run(cliOptions(process.argv.slice(2)));
  printResult(meta, result);
}
