/**
 * The simulator's server tiers from the command line (run by `npm run sim -- --tier pglite|rest`
 * through tsx): the real server on PGlite, in process (`pglite`) or through `restTransport` over
 * loopback HTTP with seeded HTTP faults (`rest`). Prints failures, counters and seeds per second.
 */
import { formatCounters, formatFailure, SimCounters, simulate } from '@syncline/sync-core/testing';
import { openPgliteSim } from '../packages/server/test/sim/pglite-backend.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2)
  args.set(process.argv[i] as string, process.argv[i + 1] as string);
const tier = args.get('--tier') ?? 'pglite';
const from = Number(args.get('--from') ?? 1);
const seeds = Number(args.get('--seeds') ?? 5);
const ops = Number(args.get('--ops') ?? 100);
const pages = Number(args.get('--pages') ?? 3);

const sim = await openPgliteSim(
  tier === 'rest'
    ? {
        transport: 'rest',
        faults: { status: 0.1, resetBefore: 0.04, resetAfter: 0.05, gatewayAfter: 0.04 },
      }
    : { transport: 'handler' },
);
const total = new SimCounters();
let failing = 0;
const started = performance.now();
for (let seed = from; seed < from + seeds; seed++) {
  const result = await simulate({
    seed,
    ops,
    backend: sim.backend(seed),
    clientOptions: { pullPageSize: pages },
    purgeBehind: true,
  });
  total.merge(result.counters);
  if (!result.ok) {
    failing++;
    console.log(formatFailure(result, `npm run sim -- --tier ${tier} --seed ${seed} --ops ${ops}`));
  }
}
const seconds = (performance.now() - started) / 1000;
console.log(
  `\ntier ${tier}: ${seeds} seeds x ${ops} ops (pages of ${pages}), ${failing} failing, ${seconds.toFixed(1)} s wall, ${(seeds / seconds).toFixed(2)} seeds/s`,
);
if (tier === 'rest')
  console.log(`HTTP faults: ${JSON.stringify(Object.fromEntries(sim.httpFaults))}`);
console.log(formatCounters(total));
await sim.close();
process.exitCode = failing > 0 ? 1 : 0;
