#!/usr/bin/env node
/**
 * Runs the deterministic simulator over a range of seeds (against the built package).
 *
 *   npm run sim -- --seeds 100              seeds 1..100
 *   npm run sim -- --seed 1337              one seed (add SYNCLINE_SIM_TRACE=1 for every event)
 *   npm run sim -- --seeds 50 --from 1000 --ops 1000 --faults high --workers 2
 *   npm run soak                            the long run (see --soak)
 *   npm run sim -- --tier pglite --seeds 10   the real server on PGlite, in process
 *   npm run sim -- --tier rest --seeds 10     restTransport over loopback HTTP to it, HTTP faults
 *   npm run sim -- --tier memory --pages 2    the in-memory server, pull pages of 2
 *
 * `--tier pglite|rest` runs scripts/sim-server.ts with tsx (pages of 3 and a forced tombstone
 * purge unless `--pages` says otherwise). Every run prints seeds per second.
 *
 * Prints every failure with its replay command, the anti-vacuity counters and the run time.
 * Exits 1 if any seed failed.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const testing = await import(
  new URL('../packages/sync-core/dist/testing.js', import.meta.url).href
);
const { simulate, formatFailure, formatCounters, SimCounters, REQUIRED_COUNTERS } = testing;

if (!isMainThread) {
  const { seeds, ops, faults, pages } = workerData;
  for (const seed of seeds) {
    const result = await simulate({ seed, ops, faults, ...clientOptionsOf(pages) });
    parentPort.postMessage({
      seed,
      ok: result.ok,
      failure: result.ok ? undefined : failureOf(result, pages),
      counters: result.counters.toJSON(),
      stats: result.stats,
    });
  }
} else {
  await main();
}

function parseArgs(argv) {
  const args = {
    seeds: 20,
    from: 1,
    ops: 300,
    faults: 'default',
    workers: 1,
    seed: undefined,
    soak: false,
    tier: 'memory',
    pages: undefined,
  };
  const numeric = {
    '--seed': 'seed',
    '--seeds': 'seeds',
    '--from': 'from',
    '--ops': 'ops',
    '--workers': 'workers',
    '--pages': 'pages',
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag in numeric) {
      args[numeric[flag]] = Number(argv[++i]);
    } else if (flag === '--faults') {
      args.faults = argv[++i];
    } else if (flag === '--tier') {
      args.tier = argv[++i];
      if (!['memory', 'pglite', 'rest'].includes(args.tier))
        throw new Error(`--tier: expected memory, pglite or rest, got ${args.tier}`);
    } else if (flag === '--soak') {
      args.soak = true;
    } else if (flag === '--help' || flag === '-h') {
      console.log(
        'usage: sim.mjs [--tier memory|pglite|rest] [--seed S | --seeds N [--from S]] [--ops K] [--pages P] [--faults default|none|high] [--workers W] [--soak]',
      );
      process.exit(0);
    } else {
      throw new Error(`unknown argument ${flag}`);
    }
  }
  return args;
}

/** The failure report of `result`, whose replay command repeats `--pages`. */
function failureOf(result, pages) {
  const paged = pages === undefined ? '' : ` --pages ${pages}`;
  return formatFailure(result, `npm run sim -- --seed ${result.seed}${paged}`);
}

/** `clientOptions` forcing pull pages of `pages` records, when given. */
function clientOptionsOf(pages) {
  return pages === undefined ? {} : { clientOptions: { pullPageSize: pages } };
}

async function runBatch({ label, seeds, ops, faults, workers, trace, pages }) {
  const started = performance.now();
  const total = new SimCounters();
  const failures = [];
  let events = 0;
  let done = 0;
  const onResult = (r) => {
    done++;
    events += r.stats.events;
    for (const [name, count] of Object.entries(r.counters)) total.add(name, count);
    if (!r.ok) {
      failures.push(r);
      console.log(r.failure);
    }
    if (done % 100 === 0) console.log(`  ... ${done}/${seeds.length} seeds`);
  };
  if (workers <= 1 || seeds.length === 1) {
    for (const seed of seeds) {
      const result = await simulate({ seed, ops, faults, trace, ...clientOptionsOf(pages) });
      onResult({
        seed,
        ok: result.ok,
        failure: result.ok ? undefined : failureOf(result, pages),
        counters: result.counters.toJSON(),
        stats: result.stats,
      });
    }
  } else {
    const shares = Array.from({ length: workers }, (_, k) =>
      seeds.filter((_, i) => i % workers === k),
    );
    await Promise.all(
      shares.map(
        (share) =>
          new Promise((resolve, reject) => {
            const worker = new Worker(new URL(import.meta.url), {
              workerData: { seeds: share, ops, faults, pages },
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
  const clientOps = seeds.length * ops;
  console.log(
    `\n${label}: ${seeds.length} seeds x ${ops} ops (${faults} faults${pages === undefined ? '' : `, pages of ${pages}`}), ${failures.length} failing, ${seconds.toFixed(1)} s wall, ${(seeds.length / seconds).toFixed(2)} seeds/s, ${Math.round(clientOps / seconds)} client ops/s, ${events} sim events`,
  );
  console.log('counters (summed over seeds):');
  console.log(formatCounters(total));
  const gaps = REQUIRED_COUNTERS.filter((name) => total.get(name) === 0);
  if (seeds.length >= 50 && gaps.length > 0) console.log(`never exercised: ${gaps.join(', ')}`);
  return failures.length;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const trace = process.env.SYNCLINE_SIM_TRACE === '1';
  const workers = Math.max(1, Math.min(args.workers, availableParallelism()));
  let failing = 0;
  if (args.tier !== 'memory') {
    const script = new URL('./sim-server.ts', import.meta.url).pathname;
    const from = args.seed ?? args.from;
    const count = args.seed === undefined ? args.seeds : 1;
    const forwarded = ['--tier', args.tier, '--from', from, '--seeds', count, '--ops', args.ops];
    if (args.pages !== undefined) forwarded.push('--pages', args.pages);
    const run = spawnSync(process.execPath, ['--import', 'tsx', script, ...forwarded.map(String)], {
      stdio: 'inherit',
    });
    process.exitCode = run.status ?? 1;
    return;
  }
  if (args.soak) {
    const soakWorkers = Math.max(workers, Math.min(2, availableParallelism()));
    failing += await runBatch({
      label: 'soak (tier-1 size)',
      seeds: range(100_000, 5000),
      ops: 300,
      faults: 'default',
      workers: soakWorkers,
      trace: false,
    });
    failing += await runBatch({
      label: 'soak (long, high faults)',
      seeds: range(200_000, 100),
      ops: 3000,
      faults: 'high',
      workers: soakWorkers,
      trace: false,
    });
  } else if (args.seed !== undefined) {
    failing += await runBatch({
      label: `seed ${args.seed}`,
      seeds: [args.seed],
      ops: args.ops,
      faults: args.faults,
      workers: 1,
      trace,
      pages: args.pages,
    });
  } else {
    failing += await runBatch({
      label: 'sim',
      seeds: range(args.from, args.seeds),
      ops: args.ops,
      faults: args.faults,
      workers,
      trace,
      pages: args.pages,
    });
  }
  process.exitCode = failing > 0 ? 1 : 0;
}

function range(from, count) {
  return Array.from({ length: count }, (_, i) => from + i);
}
