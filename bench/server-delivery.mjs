// Session targeting on the reference server over loopback, raw HTTP (the server in its own
// process, on PGlite with a data directory; SYNCLINE_BENCH_STORE=postgres with SYNCLINE_PG_URL
// for PostgreSQL):
//
// - fan-out: one delivery to 10 other sessions of one user; each receiver hears the
//   `delivery` event on its event stream, lists its pending deliveries and acknowledges. Time
//   from the send until all 10 acknowledgements are answered, p50/p99 over 200 deliveries.
// - a 50 MB asset (SYNCLINE_BENCH_ASSET_MB to change): uploaded in 8 MB chunks generated on the
//   fly, then downloaded as a stream and hashed; MB/s each way, and the RSS growth of the server
//   (its /proc peak over its RSS before) and of this process (sender and receiver both).
//
//   node bench/server-delivery.mjs                standalone (prints the figures)
//   node bench/run.mjs server-delivery            through the runner (median of fresh runs)
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  isMain,
  printResult,
  processCpuSeconds,
  quantile,
  sampleRss,
  startServerProcess,
} from './lib/rest-server.mjs';

export const meta = {
  title: 'deliveries and assets',
  runs: 3,
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
    { key: 'up_mbs', label: 'asset upload', unit: 'MB/s', target: 100, better: 'higher' },
    { key: 'down_mbs', label: 'asset download', unit: 'MB/s', target: 100, better: 'higher' },
    {
      key: 'server_rss',
      label: 'server RSS growth (asset)',
      unit: 'MB',
      target: 64,
      better: 'lower',
    },
    {
      key: 'client_rss',
      label: 'client RSS growth (asset)',
      unit: 'MB',
      target: 64,
      better: 'lower',
    },
    // Informational: server CPU (Linux /proc), which a busy host sways far less than wall time.
    { key: 'fan_cpu', label: 'server CPU per fan-out', unit: 'ms', better: 'lower' },
    { key: 'up_cpu', label: 'server CPU per MB uploaded', unit: 'ms', better: 'lower' },
    { key: 'down_cpu', label: 'server CPU per MB downloaded', unit: 'ms', better: 'lower' },
  ],
};

const MB = 1024 * 1024;

function rssOf(pid, field) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return line === undefined ? Number.NaN : Number(line.split(/\s+/)[1]) * 1024;
}

async function api(url, token, path, init = {}) {
  const headers = { authorization: `Bearer ${token}`, ...(init.headers ?? {}) };
  let body = init.body;
  if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  const response = await fetch(`${url}${path}`, { ...init, headers, body });
  const text = await response.text();
  if (response.status >= 400) throw new Error(`${path}: ${response.status} ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

async function signIn(url, userId) {
  const response = await fetch(`${url}/v1/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId }),
  });
  const { token, sessionId } = await response.json();
  const session = { token, sessionId, clientId: `c-${randomUUID().slice(0, 8)}` };
  await api(url, token, '/v1/sessions/heartbeat', {
    method: 'POST',
    json: { clientId: session.clientId, sessionId },
  });
  return session;
}

/** A receiver: on every `delivery` event, lists pending and acknowledges each one. */
async function receiver(url, userId, session, onAck) {
  const aborter = new AbortController();
  const response = await fetch(`${url}/v1/events?scopes=user:${userId}`, {
    headers: { authorization: `Bearer ${session.token}` },
    signal: aborter.signal,
  });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let busy = Promise.resolve();
  const drain = async () => {
    const { deliveries } = await api(url, session.token, '/v1/deliveries?pending=1');
    for (const delivery of deliveries) {
      await api(url, session.token, `/v1/deliveries/${delivery.id}/ack`, { method: 'POST' });
      onAck(delivery.id);
    }
  };
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (block.includes('event: delivery')) busy = busy.then(drain);
        }
      }
    } catch {
      // closed
    }
  })();
  return () => aborter.abort();
}

async function fanOut(url, pid) {
  const userId = `bench-${randomUUID().slice(0, 8)}`;
  const sender = await signIn(url, userId);
  const sessions = [];
  for (let i = 0; i < 10; i++) sessions.push(await signIn(url, userId));
  const waiting = new Map();
  const onAck = (id) => {
    const entry = waiting.get(id);
    if (entry === undefined) return;
    entry.left -= 1;
    if (entry.left === 0) entry.done();
  };
  const closers = await Promise.all(sessions.map((s) => receiver(url, userId, s, onAck)));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const times = [];
  let cpuStart = 0;
  try {
    for (let i = 0; i < 220; i++) {
      if (i === 20) cpuStart = processCpuSeconds(pid);
      const id = randomUUID();
      const acked = new Promise((done) => waiting.set(id, { left: 10, done }));
      const started = performance.now();
      await api(url, sender.token, '/v1/deliveries', {
        method: 'POST',
        json: { id, scope: `user:${userId}`, kind: 'ping', target: { type: 'otherSessions' } },
      });
      await acked;
      // The first 20 warm up the server's code paths.
      if (i >= 20) times.push(performance.now() - started);
      waiting.delete(id);
    }
  } finally {
    for (const close of closers) close();
  }
  const cpu = processCpuSeconds(pid) - cpuStart;
  return {
    fan_p50: quantile(times, 0.5),
    fan_p99: quantile(times, 0.99),
    fan_cpu: (cpu * 1000) / times.length,
  };
}

/** Deterministic bytes, generated chunk by chunk (never the whole asset in memory). */
function* chunksOf(size, chunkSize) {
  let x = 12345;
  for (let start = 0; start < size; start += chunkSize) {
    const chunk = Buffer.allocUnsafe(Math.min(chunkSize, size - start));
    for (let i = 0; i < chunk.length; i += 4) {
      x = (x * 1_103_515_245 + 12_345) >>> 0;
      chunk.writeUInt32LE(x, Math.min(i, chunk.length - 4));
    }
    yield { start, chunk };
  }
}

async function assetRoundTrip(url, server) {
  const size = Number(process.env.SYNCLINE_BENCH_ASSET_MB ?? 50) * MB;
  const chunkSize = 8 * MB;
  const userId = `bench-${randomUUID().slice(0, 8)}`;
  const sender = await signIn(url, userId);
  const target = await signIn(url, userId);
  const hash = createHash('sha256');
  for (const { chunk } of chunksOf(size, chunkSize)) hash.update(chunk);
  const sha256 = hash.digest('hex');

  // Resets the server's peak RSS (VmHWM) to its current RSS, so the peak read afterwards is
  // this transfer's, not the start-up's.
  writeFileSync(`/proc/${server.pid}/clear_refs`, '5');
  const serverBefore = rssOf(server.pid, 'VmRSS');
  const clientRss = sampleRss();
  const clientBefore = process.memoryUsage().rss;
  const upCpu = processCpuSeconds(server.pid);
  const upStart = performance.now();
  for (const { start, chunk } of chunksOf(size, chunkSize)) {
    const response = await fetch(`${url}/v1/assets/${sha256}`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${sender.token}`,
        'content-type': 'application/octet-stream',
        'content-range': `bytes ${start}-${start + chunk.length - 1}/${size}`,
      },
      body: chunk,
    });
    await response.arrayBuffer();
    if (response.status !== 308 && response.status !== 201) {
      throw new Error(`upload chunk at ${start}: ${response.status}`);
    }
  }
  const upSeconds = (performance.now() - upStart) / 1000;
  const upCpuSeconds = processCpuSeconds(server.pid) - upCpu;
  const id = randomUUID();
  await api(url, sender.token, '/v1/deliveries', {
    method: 'POST',
    json: {
      id,
      scope: `user:${userId}`,
      kind: 'asset',
      assetHash: sha256,
      target: { type: 'otherSessions' },
    },
  });
  const downCpu = processCpuSeconds(server.pid);
  const downStart = performance.now();
  const response = await fetch(`${url}/v1/assets/${sha256}`, {
    headers: { authorization: `Bearer ${target.token}` },
  });
  const check = createHash('sha256');
  let received = 0;
  for await (const piece of response.body) {
    check.update(piece);
    received += piece.byteLength;
  }
  const downSeconds = (performance.now() - downStart) / 1000;
  const downCpuSeconds = processCpuSeconds(server.pid) - downCpu;
  if (received !== size || check.digest('hex') !== sha256) throw new Error('download mismatch');
  const clientPeak = clientRss.stop();
  const serverPeak = rssOf(server.pid, 'VmHWM');
  await api(url, target.token, `/v1/deliveries/${id}/ack`, { method: 'POST' });
  return {
    up_mbs: size / MB / upSeconds,
    down_mbs: size / MB / downSeconds,
    server_rss: (serverPeak - serverBefore) / MB,
    client_rss: (clientPeak - clientBefore) / MB,
    up_cpu: (upCpuSeconds * 1000) / (size / MB),
    down_cpu: (downCpuSeconds * 1000) / (size / MB),
  };
}

/** One measurement (fresh process). */
export async function run() {
  const pgUrl = process.env.SYNCLINE_PG_URL;
  const server = await startServerProcess(
    process.env.SYNCLINE_BENCH_STORE === 'postgres' && pgUrl
      ? { key: 'pg', label: 'PostgreSQL', adminUrl: pgUrl }
      : { key: 'pglite', label: 'PGlite' },
  );
  try {
    return {
      ...(await fanOut(server.url, server.pid)),
      ...(await assetRoundTrip(server.url, server)),
    };
  } finally {
    await server.stop();
  }
}

if (isMain(import.meta.url)) {
  printResult(meta, await run());
}
