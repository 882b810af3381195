// What the convenience of `resourceTransport` costs: a NEW client (memory storage) of a user
// with 10,000 projects syncs them all, once through `resourceTransport` from the app's own REST
// API (examples/projects-api: route handlers over Drizzle on PGlite, in its own process), once
// through `restTransport` from the reference server (PGlite, its own process), in the same run.
// Prints the seconds from `start()` until every record is visible and synced, and the HTTP
// requests each made. `resourceTransport` runs twice: with the list shape (ids and
// revisions only, so each changed project costs a `GET /api/projects/:id`), and with the
// resource opted in to `listIncludesData` (`?include=data`: the list carries whole projects,
// no per-record GET).
//
//   node bench/resource-initial-sync.mjs [--quick]   standalone (--quick: 2,000 projects)
//   node bench/run.mjs resource-initial-sync          through the runner
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMain, printResult, startServerProcess } from './lib/rest-server.mjs';

const PROJECTS = 10_000;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const meta = {
  title: 'initial sync: REST resources vs protocol',
  // One run: the GET-per-project variant alone takes minutes for 10,000 projects.
  runs: 1,
  metrics: [
    { key: 'resource_s', label: 'resourceTransport, 10k projects', unit: 's', better: 'lower' },
    { key: 'resource_requests', label: 'resourceTransport, requests', unit: '', better: 'lower' },
    {
      key: 'resource_list_data_s',
      label: 'resourceTransport, list with data',
      unit: 's',
      better: 'lower',
    },
    {
      key: 'resource_list_data_requests',
      label: 'resourceTransport, list with data, requests',
      unit: '',
      better: 'lower',
    },
    { key: 'protocol_s', label: 'restTransport (protocol), 10k', unit: 's', better: 'lower' },
    { key: 'protocol_requests', label: 'restTransport, requests', unit: '', better: 'lower' },
  ],
};

/** A PGlite data directory holding `count` projects of `userId`, written before the clock starts. */
async function seedProjects(dataDir, userId, count) {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = new PGlite(dataDir);
  const { MIGRATION } = await import('../examples/projects-api/src/schema.ts').catch(() => ({}));
  await db.exec(
    MIGRATION ??
      `CREATE TABLE IF NOT EXISTS projects (user_id text NOT NULL, id text NOT NULL, name text NOT NULL,
        data jsonb NOT NULL DEFAULT '{}', revision integer NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz, PRIMARY KEY (user_id, id))`,
  );
  await db.query(
    `INSERT INTO projects (user_id, id, name, data, revision)
     SELECT $1, 'p' || lpad(i::text, 6, '0'), 'Project ' || i, jsonb_build_object('n', i, 'tags', jsonb_build_array('a', 'b')), 1
     FROM generate_series(1, $2::int) AS i`,
    [userId, count],
  );
  await db.close();
}

function startProjectsApi(dataDir) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'examples/projects-api/src/main.ts')],
    {
      env: { ...process.env, PORT: '0', DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'inherit'],
      cwd: root,
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`projects API exited early (${code})`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /projects API on (http:\/\/\S+)/.exec(out);
      if (match === null) return;
      child.removeAllListeners('exit');
      resolve({
        url: match[1],
        stop: () =>
          new Promise((done) => {
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

function countingFetch() {
  const counter = { requests: 0 };
  counter.fetch = (input, init) => {
    counter.requests += 1;
    return globalThis.fetch(input, init);
  };
  return counter;
}

async function syncAll(transport, collection, count) {
  const { createSyncClient, memoryStorage } = await import('@syncline/sync-core');
  const started = performance.now();
  const client = createSyncClient({ transport, storage: memoryStorage() });
  await client.start();
  for (;;) {
    if (client.status.state === 'synced' && client.query(collection).length === count) break;
    if (client.status.state === 'error') throw client.status.error;
    await new Promise((r) => setTimeout(r, 5));
  }
  const seconds = (performance.now() - started) / 1000;
  await client.stop();
  return seconds;
}

async function measureResource(count, { listIncludesData = false } = {}) {
  const { createSessionSource } = await import('@syncline/sync-core');
  const { resourceTransport } = await import('@syncline/adapter-rest');
  const dataDir = mkdtempSync(join(tmpdir(), 'syncline-projects-'));
  const email = 'bench@example.com';
  try {
    await seedProjects(dataDir, email, count);
    const api = await startProjectsApi(dataDir);
    try {
      const signIn = await fetch(`${api.url}/api/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email }),
      });
      const { token } = await signIn.json();
      const counter = countingFetch();
      const transport = resourceTransport({
        baseUrl: api.url,
        getToken: () => token,
        session: createSessionSource({ userId: email, sessionId: 'bench' }),
        resources: {
          projects: {
            path: '/api/projects',
            listPageSize: 5000,
            ...(listIncludesData ? { listIncludesData, listQuery: { include: 'data' } } : {}),
          },
        },
        // The list tells all: pages as large as the client takes (no GET per record to bound).
        ...(listIncludesData ? { pageSize: 1000 } : {}),
        fetch: counter.fetch,
      });
      const seconds = await syncAll(transport, 'projects', count);
      return { seconds, requests: counter.requests };
    } finally {
      await api.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function measureProtocol(count) {
  const { createSessionSource } = await import('@syncline/sync-core');
  const { devSignIn, restTransport } = await import('@syncline/adapter-rest');
  const userId = `res${Date.now().toString(36)}`;
  process.env.SYNCLINE_BENCH_SEED = `${userId}:${count}`;
  const server = await startServerProcess({ key: 'pglite', label: 'PGlite' });
  delete process.env.SYNCLINE_BENCH_SEED;
  try {
    const session = await devSignIn({ baseUrl: server.url, userId });
    const counter = countingFetch();
    const transport = restTransport({
      baseUrl: server.url,
      getToken: () => session.token,
      session: createSessionSource({ userId, sessionId: session.sessionId }),
      realtime: false,
      fetch: counter.fetch,
    });
    const seconds = await syncAll(transport, 'items', count);
    return { seconds, requests: counter.requests };
  } finally {
    await server.stop();
  }
}

export async function run({ quick = false } = {}) {
  const count = quick ? 2_000 : PROJECTS;
  const resource = await measureResource(count);
  const listData = await measureResource(count, { listIncludesData: true });
  const protocol = await measureProtocol(count);
  return {
    resource_s: resource.seconds,
    resource_requests: resource.requests,
    resource_list_data_s: listData.seconds,
    resource_list_data_requests: listData.requests,
    protocol_s: protocol.seconds,
    protocol_requests: protocol.requests,
  };
}

if (isMain(import.meta.url)) {
  const result = await run({ quick: process.argv.includes('--quick') });
  printResult(meta, result);
}
