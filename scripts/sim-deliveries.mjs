#!/usr/bin/env node
/**
 * Runs the delivery simulation (session targeting, issue 12) over a range of seeds, against the
 * built package.
 *
 *   npm run sim:deliveries -- --seeds 50             seeds 1..50
 *   npm run sim:deliveries -- --seed 7 --trace        one seed, every event printed
 *   npm run sim:deliveries -- --seeds 200 --from 1000 --chaos 600000 --workers 2
 *   npm run sim:deliveries -- --seeds 50 --no-assets   deliveries of items only
 *
 * Prints each failing seed with its violations and replay command, the counters summed over the
 * seeds (a required one never raised is reported and fails the run for 20 seeds or more), and
 * seeds per second. Exits 1 if any seed failed.
 */
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
    parentPort.postMessage(await runSeed(seed, workerData.chaosMs, false, workerData.assets));
  }
} else {
  await main();
}

async function runSeed(seed, chaosMs, trace, assets) {
  const result = await simulateDeliveries({ seed, chaosMs, trace, assets });
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
  };
  const numeric = {
    '--seed': 'seed',
    '--seeds': 'seeds',
    '--from': 'from',
    '--chaos': 'chaosMs',
    '--workers': 'workers',
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag in numeric) args[numeric[flag]] = Number(argv[++i]);
    else if (flag === '--trace') args.trace = true;
    else if (flag === '--no-assets') args.assets = false;
    else if (flag === '--help' || flag === '-h') {
      console.log(
        'usage: sim-deliveries.mjs [--seed S [--trace] | --seeds N [--from S]] [--chaos MS] [--workers W] [--no-assets]',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${flag}`);
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
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
      `seed ${r.seed} FAILED (replay: npm run sim:deliveries -- --seed ${r.seed} --trace)`,
    );
    for (const v of r.violations) console.log(`  [${v.rule}] at ${v.at} ms: ${v.message}`);
  };
  if (workers === 1) {
    for (const seed of seeds) onResult(await runSeed(seed, args.chaosMs, args.trace, args.assets));
  } else {
    await Promise.all(
      Array.from({ length: workers }, (_, k) => seeds.filter((_, i) => i % workers === k)).map(
        (share) =>
          new Promise((resolve, reject) => {
            const worker = new Worker(new URL(import.meta.url), {
              workerData: { seeds: share, chaosMs: args.chaosMs, assets: args.assets },
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
    `\ndeliveries sim: ${seeds.length} seeds (chaos ${args.chaosMs / 1000} virtual s), ${failures.length} failing, ` +
      `${seconds.toFixed(1)} s wall, ${(seeds.length / seconds).toFixed(2)} seeds/s, ${deliveries} deliveries, ${events} sim events`,
  );
  console.log('counters (summed over seeds):');
  for (const [name, count] of total.entries()) console.log(`  ${name.padEnd(44)} ${count}`);
  const gaps = total.missing([
    ...DELIVERY_REQUIRED_COUNTERS,
    ...(args.assets ? ASSET_REQUIRED_COUNTERS : []),
  ]);
  if (gaps.length > 0) console.log(`never exercised: ${gaps.join(', ')}`);
  process.exitCode = failures.length > 0 || (seeds.length >= 20 && gaps.length > 0) ? 1 : 0;
}
