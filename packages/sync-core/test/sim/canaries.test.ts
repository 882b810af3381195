/**
 * "Test the tests": each planted bug (src/internal/canary.ts) must make the simulator fail
 * within 50 seeds of the tier-1 size. A seed counts as catching the canary only if the same seed
 * passes without it, so a failure the engine has anyway cannot mask a blind spot.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Canary } from '../../src/internal/canary.js';
import { simulate } from '../../src/testing/sim/simulate.js';

const CANARIES: Canary[] = [
  'dedupe-off',
  'outbox-remove-on-send',
  'checkpoint-before-rows',
  'wall-clock-lww',
  'no-rebase',
];
const MAX_SEEDS = 50;

/** A violation's shape without ids, numbers and device names, to compare runs that diverged. */
const shape = (v: { inv: string; message: string }) =>
  `${v.inv} ${v.message.replace(/\b(u[123][a-c]{1,2}|[0-9a-f:-]{6,}|\d+)\b/g, '#')}`;

afterEach(() => {
  globalThis.__SYNCLINE_CANARY__ = undefined;
});

describe('canaries are caught within 50 seeds', () => {
  for (const canary of CANARIES) {
    it(`catches ${canary}`, async () => {
      let caughtAt: number | undefined;
      let caughtBy = '';
      for (let seed = 1; seed <= MAX_SEEDS && caughtAt === undefined; seed++) {
        globalThis.__SYNCLINE_CANARY__ = canary;
        let withCanary: Awaited<ReturnType<typeof simulate>>;
        try {
          withCanary = await simulate({ seed });
        } finally {
          globalThis.__SYNCLINE_CANARY__ = undefined;
        }
        if (withCanary.ok) continue;
        const baseline = await simulate({ seed });
        const known = new Set(baseline.violations.map(shape));
        const fresh = withCanary.violations.filter((v) => !known.has(shape(v)));
        if (baseline.ok || fresh.length > 0) {
          caughtAt = seed;
          caughtBy = `${fresh[0]?.inv} ${fresh[0]?.message}`;
        }
      }
      console.log(
        `canary ${canary}: ${caughtAt === undefined ? 'NOT caught' : `caught at seed ${caughtAt} by ${caughtBy}`}`,
      );
      expect(caughtAt, `${canary} was not caught within ${MAX_SEEDS} seeds`).toBeDefined();
    }, 600_000);
  }
});
