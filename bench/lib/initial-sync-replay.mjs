// The client's side of an initial sync, replayed in process without HTTP (issue 10): the CPU a
// new client spends decoding, parsing, checking, applying and storing the pages of a 100,000-
// record scope, apart from the server, the loopback and undici, so that a change to the client's
// pull path can be measured on a busy host (CPU seconds; the minimum of several fresh processes).
//
//   SYNCLINE_PG_URL=... node bench/lib/initial-sync-replay.mjs save <dir> [records] [pageSize]
//       downloads the pages once from the reference server (as bench/server-initial-sync.mjs
//       seeds it) and keeps their bodies as bytes in <dir>
//   node --expose-gc bench/lib/initial-sync-replay.mjs run <dir> [runs]
//       replays them into a new client (memory storage, the default on Node) in `runs` fresh
//       processes; each page is decoded from its bytes and parsed when the client asks for it
//   node --expose-gc [--cpu-prof] bench/lib/initial-sync-replay.mjs once <dir>
//       one replay in this process (for a profile)
//   SYNCLINE_REPLAY_PARSED=1 (with run or once): the pages are decoded and parsed before the
//       clock starts, so only the client's own code is timed (page check, apply, storage)
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [mode, dir, arg3, arg4] = process.argv.slice(2);

if (mode === 'save') await save(Number(arg3 ?? 100_000), Number(arg4 ?? 5000));
else if (mode === 'once') console.log(`RESULT ${JSON.stringify(await replay())}`);
else if (mode === 'run') runMany(Number(arg3 ?? 5));
else throw new Error('usage: initial-sync-replay.mjs save|run|once <dir>');

async function save(count, limit) {
  const { startServerProcess, storesToMeasure } = await import('./rest-server.mjs');
  const store = storesToMeasure({ quiet: true }).find((s) => s.key === 'pg');
  if (store === undefined) throw new Error('set SYNCLINE_PG_URL');
  const { devSignIn } = await import('@syncline/adapter-rest');
  const userId = `rpl${Date.now().toString(36)}`;
  const scope = `user:${userId}`;
  process.env.SYNCLINE_BENCH_SEED = `${userId}:${count}`;
  const server = await startServerProcess(store);
  delete process.env.SYNCLINE_BENCH_SEED;
  try {
    const session = await devSignIn({ baseUrl: server.url, userId });
    mkdirSync(dir, { recursive: true });
    const pages = [];
    let checkpoint = null;
    for (let n = 0; ; n++) {
      const url = new URL('/v1/pull', server.url);
      url.searchParams.set('scope', scope);
      url.searchParams.set('limit', String(limit));
      if (checkpoint !== null) url.searchParams.set('checkpoint', checkpoint);
      const response = await fetch(url, {
        headers: { authorization: `Bearer ${session.token}` },
      });
      const bytes = Buffer.from(await response.arrayBuffer());
      writeFileSync(join(dir, `page-${n}.json`), bytes);
      const page = JSON.parse(bytes.toString('utf8'));
      pages.push({ checkpoint, file: `page-${n}.json` });
      checkpoint = page.checkpoint;
      if (!page.hasMore) break;
    }
    writeFileSync(join(dir, 'index.json'), JSON.stringify({ userId, count, limit, pages }));
    console.log(`saved ${pages.length} pages of ${scope} to ${dir}`);
  } finally {
    await server.stop();
  }
}

async function replay() {
  // SYNCLINE_REPLAY_CORE: another build of sync-core's entry (a path), to compare two builds.
  const core = process.env.SYNCLINE_REPLAY_CORE;
  const { createSessionSource, createSyncClient, memoryStorage } = await import(
    core === undefined ? '@syncline/sync-core' : pathToFileURL(core).href
  );
  const { userId, count, limit, pages } = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  const bodies = new Map(pages.map((p) => [p.checkpoint, readFileSync(join(dir, p.file))]));
  const decoder = new TextDecoder();
  // SYNCLINE_REPLAY_PARSED: each page parsed once, before the clock starts (used once each).
  const parsed = process.env.SYNCLINE_REPLAY_PARSED
    ? new Map(
        [...bodies].map(([checkpoint, body]) => [checkpoint, JSON.parse(decoder.decode(body))]),
      )
    : undefined;
  const transport = {
    session: createSessionSource({ userId, sessionId: 'replay-session' }),
    push: async () => {
      throw new Error('nothing to push');
    },
    pull: async (request) => {
      const body = bodies.get(request.checkpoint);
      if (body === undefined || request.limit !== limit) {
        throw new Error(`no page saved for ${JSON.stringify(request)}`);
      }
      // Yield to the event loop, as a response does.
      await new Promise((resolve) => setImmediate(resolve));
      return parsed?.get(request.checkpoint) ?? JSON.parse(decoder.decode(body));
    },
  };
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const client = createSyncClient({
    transport,
    storage: memoryStorage(),
    pullPageSize: limit,
  });
  await client.start();
  while (!(client.status.state === 'synced' && client.query('items').length === count)) {
    if (client.status.state === 'error') throw client.status.error;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  globalThis.gc?.();
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
  await client.stop();
  return { cpu: (used.user + used.system) / 1e6, seconds, heapMb };
}

function runMany(runs) {
  const results = [];
  for (let i = 0; i < runs; i++) {
    const child = spawnSync(
      process.execPath,
      ['--expose-gc', fileURLToPath(import.meta.url), 'once', dir],
      { encoding: 'utf8' },
    );
    const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    if (line === undefined) throw new Error(`replay failed: ${child.stderr}`);
    results.push(JSON.parse(line.slice('RESULT '.length)));
  }
  const cpus = results.map((r) => r.cpu).sort((a, b) => a - b);
  const show = (xs) => xs.map((x) => x.toFixed(3)).join(' ');
  console.log(`load ${loadavg()[0].toFixed(1)}; ${runs} runs`);
  console.log(
    `client CPU s, sorted: ${show(cpus)} (min ${cpus[0].toFixed(
      3,
    )}, median ${cpus[Math.floor(runs / 2)].toFixed(3)})`,
  );
  console.log(`wall s: ${show(results.map((r) => r.seconds))}`);
  console.log(`retained heap MB: ${show(results.map((r) => r.heapMb))}`);
}
