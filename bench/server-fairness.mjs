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
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { pushBody, pushWithRetry } from './lib/fairness-push.mjs';
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
    latencies.push((await pushWithRetry(url, token, pushBody(userId, LIGHT_MUTATIONS, 50))).ms);
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
      const worker = new Worker(new URL('./lib/fairness-heavy.mjs', import.meta.url), {
        workerData: {
          url,
          token: await tokenOf(url, heavyId),
          userId: heavyId,
          pushes: heavyPushes,
          mutations: HEAVY_MUTATIONS,
          filler: 1850,
        },
      });
      await once(worker, 'message'); // its bodies are built
      let heavyDone = false;
      const heavy = once(worker, 'message').then(([done]) => {
        heavyDone = true;
        return done;
      });
      worker.postMessage('go');
      const light = lightPushing(5, () => heavyDone);
      const [heavyResult, latencies] = await Promise.all([heavy, light]);
      await worker.terminate();
      result[`${key}_heavy_s`] = heavyResult.seconds;
      result[`${key}_heavy_429`] = heavyResult.refused;
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
