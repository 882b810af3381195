#!/usr/bin/env node
/**
 * Runs the delivery simulation (session targeting, issue 12) over a range of seeds, against the
 * built package.
 *
 *   npm run sim:deliveries -- --seeds 50             seeds 1..50
 *   npm run sim:deliveries -- --seed 7 --trace        one seed, every event printed
 *   npm run sim:deliveries -- --seeds 200 --from 1000 --chaos 600000 --workers 2
 *   npm run sim:deliveries -- --seeds 50 --no-assets   deliveries of items only
 *   npm run sim:deliveries -- --tier pglite --seeds 10   the reference server's SQL store on PGlite
 *
 * `--tier pglite` runs the seeds one after another against the fetch handler over the SQL store
 * on one in-process PGlite database (packages/server/test/sim/pglite-deliveries-backend.ts,
 * loaded through tsx: this script starts itself again with `--import tsx`; its asset routes are
 * reached through restTransport's asset part), 60 virtual s of chaos and an audit every 5 s
 * unless told otherwise.
 *
 * Prints each failing seed with its violations and replay command, the counters summed over the
 * seeds (a required one never raised is reported and fails the run for 20 seeds or more), and
 * seeds per second. Exits 1 if any seed failed.
 */
import { spawnSync } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const { simulateDeliveries, SimCounters, DELIVERY_REQUIRED_COUNTERS, ASSET_REQUIRED_COUNTERS } =
  await import(new URL('../packages/sync-core/dist/testing.js', import.meta.url).href);

// Each request a client has in flight listens on its session's abort signal: a device that
// downloads a dozen assets at once passes Node's default of 10 listeners per signal.
setMaxListeners(100);

if (!isMainThread) {
  for (const seed of workerData.seeds) {
    const { chaosMs, assets, auditEveryMs } = workerData;
    const server = auditEveryMs === undefined ? {} : { auditEveryMs };
    parentPort.postMessage(await runSeed(seed, chaosMs, false, assets, server));
  }
} else {
  await main();
}

async function runSeed(seed, chaosMs, trace, assets, server = {}) {
  const result = await simulateDeliveries({ seed, chaosMs, trace, assets, ...server });
  return {
    seed,
    ok: result.ok,
    violations: result.violations,
    counters: result.counters.toJSON(),
    stats: result.stats,
  };
}

function parseArgs(argv) {
  const args = {
    seeds: 20,
    from: 1,
    chaosMs: 300_000,
    workers: 1,
    seed: undefined,
    trace: false,
    assets: true,
    tier: 'memory',
    auditEveryMs: undefined,
  };
  const numeric = {
    '--seed': 'seed',
    '--seeds': 'seeds',
    '--from': 'from',
    '--chaos': 'chaosMs',
    '--workers': 'workers',
    '--audit-every': 'auditEveryMs',
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag in numeric) args[numeric[flag]] = Number(argv[++i]);
    else if (flag === '--trace') args.trace = true;
    else if (flag === '--no-assets') args.assets = false;
    else if (flag === '--tier') {
      args.tier = argv[++i];
      if (!['memory', 'pglite'].includes(args.tier))
        throw new Error(`--tier: expected memory or pglite, got ${args.tier}`);
    } else if (flag === '--help' || flag === '-h') {
      console.log(
        'usage: sim-deliveries.mjs [--tier memory|pglite] [--seed S [--trace] | --seeds N [--from S]] [--chaos MS] [--audit-every MS] [--workers W] [--no-assets]',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${flag}`);
  }
  if (args.tier === 'pglite') {
    args.chaosMs = argv.includes('--chaos') ? args.chaosMs : 60_000;
    args.auditEveryMs ??= 5_000;
    args.workers = 1;
  }
  return args;
}

/** The flags that replay one seed of this run. */
function replayFlags(args) {
  const flags = args.tier === 'memory' ? [] : ['--tier', args.tier];
  if (args.chaosMs !== (args.tier === 'pglite' ? 60_000 : 300_000))
    flags.push('--chaos', args.chaosMs);
  if (args.auditEveryMs !== (args.tier === 'pglite' ? 5_000 : undefined))
    flags.push('--audit-every', args.auditEveryMs);
  if (!args.assets) flags.push('--no-assets');
  return flags;
}

/**
 * The server side of the `pglite` tier: one database for every seed of the run. This module
 * then runs under tsx (the backend is TypeScript from the server's tests).
 */
async function pgliteTier() {
  const { openPgliteDeliverySim } = await import(
    new URL('../packages/server/test/sim/pglite-deliveries-backend.ts', import.meta.url).href
  );
  return openPgliteDeliverySim();
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.tier === 'pglite' && process.env.SYNCLINE_SIM_TSX !== '1') {
    const again = spawnSync(
      process.execPath,
      ['--import', 'tsx', new URL(import.meta.url).pathname, ...process.argv.slice(2)],
      { stdio: 'inherit', env: { ...process.env, SYNCLINE_SIM_TSX: '1' } },
    );
    process.exitCode = again.status ?? 1;
    return;
  }
  const pglite = args.tier === 'pglite' ? await pgliteTier() : undefined;
  const server = {
    ...(pglite === undefined ? {} : { backend: (setup) => pglite.backend(setup) }),
    ...(args.auditEveryMs === undefined ? {} : { auditEveryMs: args.auditEveryMs }),
  };
  const seeds =
    args.seed === undefined
      ? Array.from({ length: args.seeds }, (_, i) => args.from + i)
      : [args.seed];
  const workers = Math.max(1, Math.min(args.workers, availableParallelism(), seeds.length));
  const started = performance.now();
  const total = new SimCounters();
  const failures = [];
  let deliveries = 0;
  let events = 0;
  const onResult = (r) => {
    deliveries += r.stats.deliveries;
    events += r.stats.events;
    for (const [name, count] of Object.entries(r.counters)) total.add(name, count);
    if (r.ok) return;
    failures.push(r.seed);
    console.log(
      `seed ${r.seed} FAILED (replay: ${['npm run sim:deliveries --', ...replayFlags(args), '--seed', r.seed, '--trace'].join(' ')})`,
    );
    for (const v of r.violations) console.log(`  [${v.rule}] at ${v.at} ms: ${v.message}`);
  };
  if (workers === 1) {
    for (const seed of seeds)
      onResult(await runSeed(seed, args.chaosMs, args.trace, args.assets, server));
  } else {
    await Promise.all(
      Array.from({ length: workers }, (_, k) => seeds.filter((_, i) => i % workers === k)).map(
        (share) =>
          new Promise((resolve, reject) => {
            const worker = new Worker(new URL(import.meta.url), {
              workerData: {
                seeds: share,
                chaosMs: args.chaosMs,
                assets: args.assets,
                auditEveryMs: args.auditEveryMs,
              },
            });
            worker.on('message', onResult);
            worker.on('error', reject);
            worker.on('exit', (code) =>
              code === 0 ? resolve() : reject(new Error(`worker exited ${code}`)),
            );
          }),
      ),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `\ndeliveries sim (${args.tier}): ${seeds.length} seeds (chaos ${args.chaosMs / 1000} virtual s), ${failures.length} failing, ` +
      `${seconds.toFixed(1)} s wall, ${(seeds.length / seconds).toFixed(2)} seeds/s, ${deliveries} deliveries, ${events} sim events`,
  );
  console.log('counters (summed over seeds):');
  for (const [name, count] of total.entries()) console.log(`  ${name.padEnd(44)} ${count}`);
  const gaps = total.missing([
    ...DELIVERY_REQUIRED_COUNTERS,
    ...(args.assets ? ASSET_REQUIRED_COUNTERS : []),
  ]);
  if (gaps.length > 0) console.log(`never exercised: ${gaps.join(', ')}`);
  await pglite?.close();
  process.exitCode = failures.length > 0 || (seeds.length >= 20 && gaps.length > 0) ? 1 : 0;
}
