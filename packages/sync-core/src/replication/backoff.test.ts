import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fullJitterDelay } from './backoff.js';

describe('fullJitterDelay', () => {
  it('doubles the ceiling per attempt up to the cap', () => {
    const half = () => 0.5;
    expect(
      [0, 1, 2, 3, 4, 5, 6].map((n) =>
        fullJitterDelay({ attempt: n, baseDelayMs: 500, maxDelayMs: 10_000, random: half }),
      ),
    ).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
  });

  it('stays in [0, min(cap, base * 2^attempt)) for any attempt and random value', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 10_000 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 120_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, base, cap, r) => {
          const delay = fullJitterDelay({
            attempt,
            baseDelayMs: base,
            maxDelayMs: cap,
            random: () => r,
          });
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(Math.max(1, Math.min(cap, base * 2 ** Math.min(attempt, 52))));
        },
      ),
    );
  });
});
