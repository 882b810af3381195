/**
 * The delivery simulation (issue 12) against the reference server on PGlite: the same devices,
 * faults, crashes and model as `packages/sync-core/test/sim/deliveries.test.ts`, with the fetch
 * handler and the SQL store instead of the in-memory server. Fewer and shorter seeds: every
 * request is a real SQL transaction.
 */
import { SimCounters, simulateDeliveries } from '@syncline/sync-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgliteDeliverySim, type PgliteDeliverySim } from './pglite-deliveries-backend.js';

const SEEDS = [1];
/** The counters one short seed must raise. */
const REQUIRED = [
  'delivery.created',
  'delivery.handled',
  'delivery.completed',
  'delivery.expired',
  'target.otherSessions',
  'target.sessions',
  'target.scopeMembers',
  'crash',
  'fault.response-lost.ack',
  'dup.offered-after-handled',
  'ack.non-receiver-refused',
  'ack.expired-refused',
];

describe('delivery simulation on the reference server (PGlite)', () => {
  let sim: PgliteDeliverySim | undefined;
  const total = new SimCounters();
  beforeAll(async () => {
    sim = await openPgliteDeliverySim({
      sessionActiveWindowMs: 120_000,
      members: { 'workspace:sim': ['u1', 'u2'] },
    });
  }, 120_000);
  afterAll(async () => {
    await sim?.close();
  });
  for (const seed of SEEDS) {
    it(`seed ${seed} keeps every targeting rule`, async () => {
      const result = await simulateDeliveries({
        seed,
        chaosMs: 60_000,
        auditEveryMs: 5_000,
        backend: (setup) => (sim as PgliteDeliverySim).backend(setup),
      });
      total.merge(result.counters);
      expect(result.violations).toEqual([]);
    }, 300_000);
  }
  it('exercised the paths (anti-vacuity)', () => {
    expect(total.missing(REQUIRED)).toEqual([]);
  });
});
