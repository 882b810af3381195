/**
 * Tier 1 of the simulation (reference §4.5): 400 seeds × 6 sessions over 3 users × 300
 * operations on the in-memory server, split over four files of 100 seeds so vitest runs them on
 * both workers. Seed counts are fixed here, never chosen by wall-clock time. Files 0 and 1 use
 * the client's default page size (no run fills a page); file 2 pulls pages of 5 and file 3
 * pages of 2, so pulls page, resets span many pages and crashes land in the middle of them.
 */
import { describe, expect, it } from 'vitest';
import { formatCounters, formatFailure, SimCounters, simulate } from '../../src/testing/index.js';

/** Seeds per file, and files: 4 × 100 = 400 seeds. */
export const SEEDS_PER_FILE = 100;
export const OPS = 300;

/** Counters that each file's 100 seeds must see at least this often (anti-vacuity gates). */
const GATES: Record<string, number> = {
  'fault.drop': 20,
  'fault.response-lost': 20,
  'fault.duplicate': 20,
  'fault.delay': 20,
  'fault.5xx': 20,
  'fault.429': 20,
  'fault.partition': 20,
  'fault.poke-loss': 20,
  'fault.skew-jump-back': 20,
  'fault.server-restart': 20,
  'fault.tombstone-purge': 10,
  'crash.before-outbox-write': 3,
  'crash.after-outbox-write': 3,
  'crash.after-send': 3,
  'crash.mid-pull': 3,
  'crash.during-resolution': 3,
  'path.dedupe-hit': 50,
  'path.reset-required': 5,
  'path.rejected': 5,
  'path.sign-switch': 20,
  'path.tab-flap': 20,
  'path.manual-resolved': 20,
  'resolved.custom': 20,
  'resolved.fieldMerge': 20,
  'resolved.lww': 20,
  'resolved.serverWins': 20,
  'resolved.clientWins': 20,
  'resolved.manual': 20,
};

/** Extra gates of a file with small pull pages, per 100 seeds. */
const PAGED_GATES: Record<string, number> = {
  'path.pull-more-pages': 500,
  // A reset started over from null after a crash interrupted it (INV-5 checks each pass).
  'path.reset-restart': 3,
};

/** Options of one tier-1 file. */
export interface Tier1FileOptions {
  /** Most changes per pull page (the client's `pullPageSize`); the client's default if absent. */
  pages?: number;
}

/** Defines the tests of one tier-1 file: one test per seed, then the file's counter gates. */
export function tier1File(file: number, options: Tier1FileOptions = {}): void {
  const { pages } = options;
  const gates = pages === undefined ? GATES : { ...GATES, ...PAGED_GATES };
  const paged = pages === undefined ? '' : `, pages of ${pages}`;
  const first = 1 + file * SEEDS_PER_FILE;
  const total = new SimCounters();
  const started = performance.now();
  let ops = 0;
  describe(`simulation tier 1, seeds ${first}..${first + SEEDS_PER_FILE - 1}${paged}`, () => {
    for (let seed = first; seed < first + SEEDS_PER_FILE; seed++) {
      it(`seed ${seed}`, async () => {
        const result = await simulate({
          seed,
          ops: OPS,
          ...(pages !== undefined && { clientOptions: { pullPageSize: pages } }),
        });
        total.merge(result.counters);
        ops += result.stats.ops;
        const replay = `npm run sim -- --seed ${seed}${pages === undefined ? '' : ` --pages ${pages}`}`;
        if (!result.ok) console.log(formatFailure(result, replay));
        expect(result.violations.map((v) => `${v.inv} ${v.message}`)).toEqual([]);
      }, 120_000);
    }
    it('exercised every fault and path (anti-vacuity)', () => {
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `tier 1 file ${file}${paged}: ${SEEDS_PER_FILE} seeds, ${ops} client ops in ${seconds.toFixed(1)} s (${Math.round(ops / seconds)} ops/s)\n${formatCounters(total)}`,
      );
      const short = Object.entries(gates)
        .filter(([name, minimum]) => total.get(name) < minimum)
        .map(([name, minimum]) => `${name}: ${total.get(name)} < ${minimum}`);
      expect(short).toEqual([]);
    });
  });
}
