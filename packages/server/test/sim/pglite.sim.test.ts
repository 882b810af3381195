/**
 * Tier 2 of the simulation (reference §4.5, mode B): the same simulator, devices, faults and
 * invariants as tier 1, with the real server (handler + SQL store on PGlite) instead of the
 * in-memory one. Fewer and smaller seeds: every request is a real SQL transaction.
 *
 * Regression: seeds 1, 4, 9, 12 and 15 failed when the SQL store bound a client id to the first
 * user who pushed with it: a device that signed in as another user got 403 on every push
 * (INV-12 stall, INV-1 lost guest writes). Fixed in f249d0b (DESIGN §2: one device serves
 * several users in turn).
 */
import { formatCounters, formatFailure, SimCounters, simulate } from '@syncline/sync-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgliteSim, type PgliteSim } from './pglite-backend.js';

const SEEDS = 16;
const OPS = 100;

describe('simulation tier 2 on PGlite', () => {
  const total = new SimCounters();
  let sim: PgliteSim;
  beforeAll(async () => {
    sim = await openPgliteSim();
  }, 120_000);
  afterAll(async () => {
    await sim?.close();
  });
  for (let seed = 1; seed <= SEEDS; seed++) {
    it(`seed ${seed}`, async () => {
      const result = await simulate({
        seed,
        ops: OPS,
        backend: (scheduler) => sim.backend(scheduler),
      });
      total.merge(result.counters);
      const replay = `npx vitest run packages/server/test/sim/pglite.sim.test.ts -t "seed ${seed}$"`;
      if (!result.ok) console.log(formatFailure(result, replay));
      expect(result.violations.map((v) => `${v.inv} ${v.message}`)).toEqual([]);
    }, 300_000);
  }
  it('exercised the SQL paths (anti-vacuity)', () => {
    console.log(`tier 2 (PGlite): ${SEEDS} seeds x ${OPS} ops\n${formatCounters(total)}`);
    for (const name of [
      'path.dedupe-hit',
      'path.rejected',
      'resolved.lww',
      'resolved.custom',
      'fault.response-lost',
    ]) {
      expect(total.get(name), name).toBeGreaterThan(0);
    }
  });
});
