/**
 * Tier 2 of the simulation (reference §4.5, mode B): the same simulator, devices, faults and
 * invariants as tier 1, with the real server (handler + SQL store on PGlite) instead of the
 * in-memory one. Fewer and smaller seeds: every request is a real SQL transaction.
 */
import { formatCounters, formatFailure, SimCounters, simulate } from '@syncline/sync-core/testing';
import { describe, expect, it } from 'vitest';
import { pgliteBackend } from './pglite-backend.js';

const SEEDS = 16;
const OPS = 100;

describe('simulation tier 2 on PGlite', () => {
  const total = new SimCounters();
  for (let seed = 1; seed <= SEEDS; seed++) {
    it(`seed ${seed}`, async () => {
      let close: (() => Promise<void>) | undefined;
      try {
        const result = await simulate({
          seed,
          ops: OPS,
          backend: async (scheduler) => {
            const backend = await pgliteBackend(scheduler);
            close = backend.close;
            return backend;
          },
        });
        total.merge(result.counters);
        const replay = `npx vitest run packages/server/test/sim/pglite.sim.test.ts -t "seed ${seed}$"`;
        if (!result.ok) console.log(formatFailure(result, replay));
        expect(result.violations.map((v) => `${v.inv} ${v.message}`)).toEqual([]);
      } finally {
        await close?.();
      }
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
