// The server's resident memory (RSS) over a run of steady traffic: the CLI as users start it
// (`syncline-server --data DIR --dev-auth`, PGlite in a fresh data directory), 4 users each with
// an open event stream, pushing a batch of 10 `put`s (new records and updates) every 200 ms
// in turn and pulling after each push (~50 mutations/s in all). Prints the RSS every 30 s.
//
//   node bench/server-memory.mjs [--minutes 10]     standalone (default 10 minutes)
//   node bench/run.mjs server-memory                through the runner (2 minutes, one run;
//                                                   SYNCLINE_BENCH_MINUTES overrides, < 10)
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMain, printResult } from './lib/rest-server.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', 'packages', 'server', 'dist', 'cli.js');
const USERS = 4;
const BATCH = 10;
const PUSH_EVERY_MS = 200;
const REPORT_EVERY_MS = 30_000;

export const meta = {
  title: 'server memory',
  runs: 1,
  metrics: [
    {
      key: 'ready_mb',
      label: 'RSS when ready, PGlite (fresh data dir)',
      unit: 'MB',
      better: 'lower',
    },
    { key: 'first_min_mb', label: 'RSS after 1 minute of traffic', unit: 'MB', better: 'lower' },
    { key: 'peak_mb', label: 'peak RSS over the run', unit: 'MB', better: 'lower' },
    { key: 'end_mb', label: 'RSS at the end of the run', unit: 'MB', better: 'lower' },
    {
      key: 'growth_mb_per_min',
      label: 'RSS growth over the 2nd half, per minute',
      unit: 'MB',
      better: 'lower',
    },
    { key: 'mutations', label: 'mutations applied', unit: '', better: 'higher' },
  ],
};

/** The RSS of process `pid` in MB, from /proc (Linux); NaN elsewhere. */
function rssMb(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return Number(line.split(/\s+/)[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

function startCli(dataDir) {
  const child = spawn(process.execPath, [CLI, '--port', '0', '--data', dataDir, '--dev-auth'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const early = (code) => reject(new Error(`server exited early (${code}): ${out}`));
    child.on('error', reject);
    child.on('exit', early);
    child.stderr.resume();
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match === null) return;
      child.off('exit', early);
      resolve({ url: match[1], child });
    });
  });
}

async function json(url, init) {
  const response = await fetch(url, init);
  const body = await response.json();
  if (!response.ok) throw new Error(`${response.status} ${JSON.stringify(body)}`);
  return body;
}

async function openUser(url, n) {
  const userId = `mem${n}`;
  const { token, sessionId } = await json(`${url}/v1/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId }),
  });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const scope = `user:${userId}`;
  const stream = new AbortController();
  // An open event stream, read to the end, as a connected client keeps one.
  fetch(`${url}/v1/events?scopes=${encodeURIComponent(scope)}`, {
    headers,
    signal: stream.signal,
  })
    .then(async (response) => {
      for await (const _chunk of response.body) {
        // pokes and heartbeats are read and dropped
      }
    })
    .catch(() => undefined);
  return {
    userId,
    sessionId,
    headers,
    scope,
    stream,
    revisions: new Map(),
    checkpoint: null,
    hlc: 0,
  };
}

async function pushAndPull(url, user, round) {
  const mutations = [];
  for (let k = 0; k < BATCH; k += 1) {
    // Half new records, half updates of the 500 most recent ids: the table grows, rows churn.
    const recordId = k % 2 === 0 ? `r${round}-${k}` : `r${Math.max(0, round - 50)}-${k - 1}`;
    const baseRevision = user.revisions.get(recordId) ?? 0;
    user.hlc += 1;
    mutations.push({
      id: randomUUID(),
      scope: user.scope,
      collection: 'items',
      recordId,
      op: 'put',
      data: { title: `item ${round}/${k}`, done: k % 3 === 0, note: 'x'.repeat(60) },
      baseRevision,
      hlc: `${(1_800_000_000_000 + user.hlc).toString(16).padStart(12, '0')}:0000:${user.userId}`,
    });
  }
  const { results } = await json(`${url}/v1/push`, {
    method: 'POST',
    headers: user.headers,
    body: JSON.stringify({ clientId: `c-${user.userId}`, sessionId: user.sessionId, mutations }),
  });
  let applied = 0;
  results.forEach((result, k) => {
    if (result.status === 'applied') {
      applied += 1;
      user.revisions.set(mutations[k].recordId, result.revision);
    } else if (result.status === 'conflict') {
      user.revisions.set(mutations[k].recordId, result.server?.revision ?? 0);
    }
  });
  if (user.revisions.size > 2000) user.revisions.delete(user.revisions.keys().next().value);
  const query = new URLSearchParams({ scope: user.scope });
  if (user.checkpoint !== null) query.set('checkpoint', user.checkpoint);
  const page = await json(`${url}/v1/pull?${query}`, { headers: user.headers });
  user.checkpoint = page.checkpoint;
  return applied;
}

/** One run of `minutes` minutes; prints a line every 30 s when `log` is set. */
export async function run({ minutes, log = false } = {}) {
  const length = minutes ?? Number(process.env.SYNCLINE_BENCH_MINUTES ?? 2);
  const dataDir = mkdtempSync(join(tmpdir(), 'syncline-bench-memory-'));
  const { url, child } = await startCli(dataDir);
  const samples = [];
  const sample = () => {
    const at = (Date.now() - started) / 60_000;
    const rss = rssMb(child.pid);
    samples.push({ at, rss });
    return rss;
  };
  const started = Date.now();
  const ready = sample();
  if (log) console.log(`  0.0 min  RSS ${ready.toFixed(0)} MB (ready)`);
  const users = [];
  for (let n = 0; n < USERS; n += 1) users.push(await openUser(url, n));
  let mutations = 0;
  let round = 0;
  const sampler = setInterval(sample, 5_000);
  const reporter = log
    ? setInterval(() => {
        const last = samples.at(-1);
        console.log(
          `${last.at.toFixed(1).padStart(5)} min  RSS ${last.rss.toFixed(0)} MB  (${mutations} mutations applied)`,
        );
      }, REPORT_EVERY_MS)
    : undefined;
  const deadline = started + length * 60_000;
  try {
    while (Date.now() < deadline) {
      const tick = Date.now();
      const user = users[round % USERS];
      mutations += await pushAndPull(url, user, Math.floor(round / USERS));
      round += 1;
      const wait = PUSH_EVERY_MS / USERS - (Date.now() - tick);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  } finally {
    clearInterval(sampler);
    if (reporter !== undefined) clearInterval(reporter);
    const end = sample();
    if (log) console.log(`${length.toFixed(1).padStart(5)} min  RSS ${end.toFixed(0)} MB (end)`);
    for (const user of users) user.stream.abort();
    await new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
    rmSync(dataDir, { recursive: true, force: true });
  }
  const afterMinute = samples.find((s) => s.at >= 1) ?? samples.at(-1);
  const half = samples.filter((s) => s.at >= length / 2);
  const growth =
    half.length >= 2 ? (half.at(-1).rss - half[0].rss) / (half.at(-1).at - half[0].at) : Number.NaN;
  return {
    ready_mb: ready,
    first_min_mb: afterMinute.rss,
    peak_mb: Math.max(...samples.map((s) => s.rss)),
    end_mb: samples.at(-1).rss,
    growth_mb_per_min: growth,
    mutations,
  };
}

if (isMain(import.meta.url)) {
  const at = process.argv.indexOf('--minutes');
  const minutes = at < 0 ? 10 : Number(process.argv[at + 1]);
  if (!(minutes > 0)) throw new Error('--minutes needs a positive number');
  console.log(`server memory: ${minutes} minute(s) of steady traffic against the CLI on PGlite`);
  printResult(meta, await run({ minutes, log: true }));
}
