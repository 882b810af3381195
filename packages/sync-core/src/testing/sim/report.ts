import { INVARIANT_NAMES } from './checks.js';
import type { SimCounters } from './counters.js';
import type { SimulationResult } from './simulate.js';

/**
 * What a red run prints (reference §4.6): one `FAIL` line per broken invariant with the seed,
 * the workload step and the fault mix, the detail, and a one-line replay command.
 *
 * @param result - a failed run
 * @param replay - the command that reruns one seed
 * @default replay `npm run sim -- --seed <seed>`
 */
export function formatFailure(
  result: SimulationResult,
  replay = `npm run sim -- --seed ${result.seed}`,
): string {
  const lines: string[] = [];
  for (const v of result.violations) {
    lines.push(
      `FAIL ${v.inv} ${INVARIANT_NAMES[v.inv]}  SEED=${result.seed} STEP=${v.step ?? result.stats.ops} CONFIG=swarm:${result.config}`,
      `  ${v.message}`,
    );
  }
  lines.push(`  replay: ${replay}`, `  trace:  SYNCLINE_SIM_TRACE=1 ${replay}`);
  return lines.join('\n');
}

/** The counters that every tier must see fire (the anti-vacuity gates). */
export const REQUIRED_COUNTERS: readonly string[] = [
  'fault.drop',
  'fault.response-lost',
  'fault.duplicate',
  'fault.delay',
  'fault.5xx',
  'fault.429',
  'fault.partition',
  'fault.poke-loss',
  'fault.skew-jump-back',
  'fault.server-restart',
  'fault.tombstone-purge',
  'crash.before-outbox-write',
  'crash.after-outbox-write',
  'crash.after-send',
  'crash.mid-pull',
  'crash.during-resolution',
  'path.dedupe-hit',
  'path.reset-required',
  'path.rejected',
  'path.sign-switch',
  'path.tab-flap',
  'path.manual-resolved',
  'path.proto-refused',
  'resolved.custom',
  'resolved.fieldMerge',
  'resolved.lww',
  'resolved.serverWins',
  'resolved.clientWins',
  'resolved.manual',
];

/** The counters as aligned `name count` lines, with the required ones marked when at 0. */
export function formatCounters(counters: SimCounters): string {
  const names = new Set([...REQUIRED_COUNTERS, ...counters.entries().map(([name]) => name)]);
  const width = Math.max(...[...names].map((n) => n.length));
  return [...names]
    .sort()
    .map((name) => {
      const count = counters.get(name);
      const flag = count === 0 && REQUIRED_COUNTERS.includes(name) ? '   <-- never exercised' : '';
      return `  ${name.padEnd(width)} ${String(count).padStart(8)}${flag}`;
    })
    .join('\n');
}
