import { expect, it } from 'vitest';
import { simulate } from '../../src/testing/sim/simulate.js';

it('runs one seed', async () => {
  const lines: string[] = [];
  const t0 = performance.now();
  const result = await simulate({
    seed: Number(process.env.SEED ?? 1),
    ops: Number(process.env.OPS ?? 300),
    trace: (l) => lines.push(l),
  });
  console.log(
    JSON.stringify({
      ok: result.ok,
      stats: result.stats,
      ms: performance.now() - t0,
      counters: result.counters.toJSON(),
    }),
  );
  console.log(result.violations.slice(0, 10));
  if (process.env.TRACE) console.log(lines.slice(-Number(process.env.TRACE)).join('\n'));
  expect(result.stats.ops).toBeGreaterThan(0);
}, 600_000);
