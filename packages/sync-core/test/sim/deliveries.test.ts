/**
 * The delivery simulation (issue 12) on a few seeds: real clients of two users send and handle
 * deliveries and small assets (in 64-byte chunks) through a faulty network against the
 * in-memory server, with crashes mid-handler, mid-upload and mid-download, corrupted downloads,
 * stale, revoked and later sessions and TTLs running out; every rule of the run's model holds,
 * every anti-vacuity counter is raised, and a seed replays identically. More seeds:
 * `npm run sim:deliveries -- --seeds 50`.
 */
import { setMaxListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SimCounters } from '../../src/testing/sim/counters.js';
import {
  ASSET_REQUIRED_COUNTERS,
  DELIVERY_REQUIRED_COUNTERS,
  simulateDeliveries,
} from '../../src/testing/sim/deliveries/index.js';

// A device downloading a dozen assets at once has as many requests listening on its session's
// abort signal: more than Node's default of 10 listeners per signal, which it warns about.
setMaxListeners(100);

/**
 * Seeds 6 and 29 (and 9, 25 of the first 30) handled a delivery twice with the inbox that forgot
 * a handled delivery whose ack was owed once the device's clock, running ahead of the server's,
 * said it expired (src/deliveries/inbox-clock.test.ts); seed 16 found it first, before the
 * re-login joined the workload.
 */
const SEEDS = [1, 6, 16, 29];

describe('delivery simulation', () => {
  it(`keeps every targeting rule on seeds ${SEEDS.join(', ')} and exercises every path`, async () => {
    const total = new SimCounters();
    for (const seed of SEEDS) {
      const result = await simulateDeliveries({ seed });
      expect(result.violations, `seed ${seed}`).toEqual([]);
      expect(result.stats.deliveries).toBeGreaterThan(50);
      total.merge(result.counters);
    }
    expect(total.missing([...DELIVERY_REQUIRED_COUNTERS, ...ASSET_REQUIRED_COUNTERS])).toEqual([]);
    // Assets are a fair share of the work: dozens sent, most handed over to several sessions.
    expect(total.get('asset.sent')).toBeGreaterThan(100);
    expect(total.get('asset.handed-over')).toBeGreaterThan(total.get('asset.sent'));
  }, 120_000);

  it('replays a seed identically', async () => {
    const a = await simulateDeliveries({ seed: 11, chaosMs: 60_000 });
    const b = await simulateDeliveries({ seed: 11, chaosMs: 60_000 });
    expect(b.stats).toEqual(a.stats);
    expect(b.counters.toJSON()).toEqual(a.counters.toJSON());
    expect(b.violations).toEqual(a.violations);
  }, 60_000);
});
