/**
 * Seeds that once failed, kept as permanent regression tests (named after the bug, RxDB
 * style). Each runs the full tier-1 size and must pass every invariant.
 *
 * A seed's history depends on the simulator and the engine (a changed workload or retry path
 * moves every later event), so a seed here is the one that reproduced the bug when it was
 * found; the fix is guarded by the invariant, which every seed of every tier checks.
 */
import { describe, expect, it } from 'vitest';
import { formatFailure, simulate } from '../../src/testing/index.js';

const REGRESSIONS: Array<{ seed: number; bug: string; pages?: number }> = [
  // Engine: the client restored its own persisted HLC with receive(), whose drift clamp let the
  // clock go back after a restart with the device clock set back > 60 s (fixed in c7251e0).
  { seed: 20, bug: 'HLC went back after a crash and a backwards clock jump' },
  { seed: 8, bug: 'HLC went back after a crash and a backwards clock jump (tab pair)' },
  // Harness: credentials were read when a request arrived, not when it was sent, so a push in
  // flight across a sign-in switch was attributed to the new user and rejected as forbidden.
  { seed: 1, bug: 'push in flight across a user switch (credentials at send time)' },
  // Harness: a late duplicate of an old push met the client's own newer write; nobody receives
  // that answer, so it is not a self-conflict.
  { seed: 27, bug: 'late duplicate delivery is not a self-conflict' },
  // Harness: a sign-back scheduled during chaos fired during the guest drain of the heal phase.
  { seed: 29, bug: 'guest session drained before signing back' },
  // Engine: resetRequired dropped the scope's base records before the fresh snapshot arrived,
  // so a write in that window (or after a crash or partition there) started from an empty
  // record and a merge/LWW resolver overwrote data on the server: acknowledged appends lost
  // (INV-1), counter over-counted (INV-2). Fixed in 1b0a104 (old base stays visible).
  { seed: 3, bug: 'reset empties the view before the fresh snapshot (lost appends)' },
  { seed: 22, bug: 'reset empties the view before the fresh snapshot (counter)' },
  { seed: 40, bug: 'reset empties the view before the fresh snapshot (several users)' },
  // Engine: the HLC history was kept per user namespace; a device restarted while signed in as
  // another user resumed from that namespace only, below its own earlier timestamps. Fixed in
  // a38700a.
  { seed: 4, bug: 'HLC per user namespace goes back after a restart as another user' },
  { seed: 57, bug: 'HLC per user namespace goes back across a sign-in switch' },
  // Harness: a crash in the middle of a reset makes the client start it over from null (the
  // records it had seen were not persisted); INV-5 accepted that pull from null but compared
  // the new pass's checkpoints with the abandoned pass's last one (pull pages of 2 and 5).
  ...[337, 342, 351, 358, 389, 390, 392, 393].map((seed) => ({
    seed,
    pages: 2,
    bug: 'a reset started over after a crash is not a checkpoint going back',
  })),
  { seed: 280, pages: 5, bug: 'a reset started over after a crash is not a checkpoint going back' },
];

describe('simulation regressions', () => {
  for (const { seed, bug, pages } of REGRESSIONS) {
    const paged = pages === undefined ? '' : ` (pages of ${pages})`;
    it(`seed ${seed}${paged}: ${bug}`, async () => {
      const clientOptions = pages === undefined ? undefined : { pullPageSize: pages };
      const result = await simulate({ seed, ...(clientOptions && { clientOptions }) });
      if (!result.ok)
        console.log(
          formatFailure(
            result,
            `npm run sim -- --seed ${seed}${pages === undefined ? '' : ` --pages ${pages}`}`,
          ),
        );
      expect(result.violations.map((v) => `${v.inv} ${v.message}`)).toEqual([]);
    }, 120_000);
  }
});
