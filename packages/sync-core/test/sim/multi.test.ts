import { it } from 'vitest';
import { simulate } from '../../src/testing/sim/simulate.js';

it('multi', async () => {
  const from = Number(process.env.FROM ?? 1);
  const n = Number(process.env.N ?? 20);
  const t0 = performance.now();
  const bad: string[] = [];
  let events = 0;
  for (let seed = from; seed < from + n; seed++) {
    const r = await simulate({
      seed,
      ops: Number(process.env.OPS ?? 300),
      ...(process.env.DRIFT ? { clientOptions: { maxDriftMs: Number(process.env.DRIFT) } } : {}),
    });
    if (process.env.NOPURGE && r.counters.get('path.reset-required') > 0) continue;
    events += r.stats.events;
    if (!r.ok)
      bad.push(
        `seed ${seed}: ${r.violations
          .slice(0, 3)
          .map((v) => `${v.inv} ${v.message}`.slice(0, 300))
          .join(' | ')}`,
      );
  }
  console.log(
    `${n} seeds in ${Math.round(performance.now() - t0)} ms, events ${events}, failing ${bad.length}`,
  );
  console.log(bad.join('\n'));
}, 1_200_000);
