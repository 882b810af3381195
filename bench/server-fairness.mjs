// Load one user cannot hog (issue 11): the push latency of a LIGHT user (10 small mutations
// per push, one push after another) alone, and beside a HEAVY user who bursts 20 pushes of
// ~1 MB / 500 mutations each at the same time (retrying after each 429 as its Retry-After
// says). Measured on PGlite (one connection: every push waits its turn in one queue), with:
//
//   - the server's defaults: per-user budgets of requests/mutations/bytes + fair push turns;
//   - budgets off, fair push turns on (one push per user in the store at a time);
//   - both off (any number of a user's pushes in the store's queue): the behaviour before.
//
//   node bench/server-fairness.mjs [--quick]     standalone (prints the figures)
//   node bench/run.mjs server-fairness           through the runner
import { randomUUID } from 'node:crypto';
import { isMain, printResult, quantile, startServerProcess } from './lib/rest-server.mjs';

const HEAVY_PUSHES = 20;
const HEAVY_MUTATIONS = 500;
const LIGHT_MUTATIONS = 10;

export const meta = {
  title: 'push fairness (PGlite)',
  runs: 1,
  metrics: [
    { key: 'alone_p99', label: 'light push p99, alone', unit: 'ms', better: 'lower' },
    { key: 'alone_p50', label: 'light push p50, alone', unit: 'ms', better: 'lower' },
    ...scenario('defaults', 'beside heavy, defaults'),
    ...scenario('turns', 'beside heavy, turns only'),
    ...scenario('none', 'beside heavy, no budgets/turns'),
  ],
};

function scenario(key, label) {
  return [
    { key: `${key}_p99`, label: `light push p99, ${label}`, unit: 'ms', better: 'lower' },
    { key: `${key}_p50`, label: `light push p50, ${label}`, unit: 'ms', better: 'lower' },
    { key: `${key}_heavy_s`, label: `heavy user's 20 pushes done, ${label}`, unit: 's' },
    { key: `${key}_heavy_429`, label: `heavy user's 429 answers, ${label}`, unit: '' },
  ];
}

const LIMITS = {
  defaults: {},
  turns: { rateLimit: false },
  none: { rateLimit: false, pushConcurrencyPerUser: 1_000_000 },
};

async function tokenOf(url, userId) {
  const response = await fetch(`${url}/v1/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId }),
  });
  return (await response.json()).token;
}

function body(userId, count, filler) {
  const scope = `user:${userId}`;
  const mutations = Array.from({ length: count }, (_, i) => ({
    id: randomUUID(),
    scope,
    collection: 'items',
    recordId: `r-${randomUUID()}`,
    op: 'put',
    data: { n: i, text: 'x'.repeat(filler) },
    baseRevision: 0,
    hlc: `${Date.now().toString(16).padStart(12, '0')}:${(i % 65536).toString(16).padStart(4, '0')}:${userId}`,
  }));
  return JSON.stringify({ clientId: `bench-${userId}`, sessionId: 's', mutations });
}

/** One push; retries after a 429 as told. Resolves with { ms, refused }. */
async function push(url, token, text) {
  let refused = 0;
  const started = performance.now();
  for (;;) {
    const response = await fetch(`${url}/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: text,
    });
    await response.arrayBuffer();
    if (response.status === 200) return { ms: performance.now() - started, refused };
    if (response.status !== 429) throw new Error(`push answered ${response.status}`);
    refused++;
    const wait = Number(response.headers.get('retry-after') ?? '1') * 1000;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

/** A light user: signs in now, then pushes one small batch after another when asked. */
async function lightUser(url) {
  const userId = `light${randomUUID().slice(0, 6)}`;
  const token = await tokenOf(url, userId);
  return (minSamples, until) => lightPushes(url, userId, token, minSamples, until);
}

/** Pushes one small batch after another until `until()` says stop. */
async function lightPushes(url, userId, token, minSamples, until) {
  const latencies = [];
  while (latencies.length < minSamples || !until()) {
    latencies.push((await push(url, token, body(userId, LIGHT_MUTATIONS, 50))).ms);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return latencies;
}

async function withServer(limits, fn) {
  process.env.SYNCLINE_BENCH_LIMITS = JSON.stringify(limits);
  const server = await startServerProcess({ key: 'pglite', label: 'PGlite' });
  try {
    return await fn(server.url);
  } finally {
    await server.stop();
  }
}

export async function run({ quick = false } = {}) {
  const heavyPushes = quick ? 6 : HEAVY_PUSHES;
  const result = {};
  await withServer(LIMITS.defaults, async (url) => {
    const light = await lightUser(url);
    await light(10, () => true); // warm-up
    const alone = await light(quick ? 20 : 60, () => true);
    result.alone_p99 = quantile(alone, 0.99);
    result.alone_p50 = quantile(alone, 0.5);
  });
  for (const key of ['defaults', 'turns', 'none']) {
    await withServer(LIMITS[key], async (url) => {
      const lightPushing = await lightUser(url);
      await lightPushing(10, () => true); // warm-up
      const heavyId = `heavy${randomUUID().slice(0, 6)}`;
      const heavyToken = await tokenOf(url, heavyId);
      // ~1 MB each (under the 1 MiB body limit), built before the clock starts.
      const texts = Array.from({ length: heavyPushes }, () => body(heavyId, HEAVY_MUTATIONS, 1850));
      let heavyDone = false;
      const started = performance.now();
      const heavy = Promise.all(texts.map((text) => push(url, heavyToken, text))).finally(() => {
        heavyDone = true;
      });
      const light = lightPushing(5, () => heavyDone);
      const [heavyResults, latencies] = await Promise.all([heavy, light]);
      result[`${key}_heavy_s`] = (performance.now() - started) / 1000;
      result[`${key}_heavy_429`] = heavyResults.reduce((sum, r) => sum + r.refused, 0);
      if (process.env.FAIRNESS_DEBUG) console.error(key, latencies.map(Math.round).join(' '));
      result[`${key}_p99`] = quantile(latencies, 0.99);
      result[`${key}_p50`] = quantile(latencies, 0.5);
    });
  }
  return result;
}

if (isMain(import.meta.url)) {
  const result = await run({ quick: process.argv.includes('--quick') });
  printResult(meta, result);
  process.exit(0);
}
