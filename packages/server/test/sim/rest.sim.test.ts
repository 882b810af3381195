/**
 * Tier 3 of the simulation: every device talks to the real server through `restTransport` of
 * `@syncline/adapter-rest` over loopback HTTP (the handler on the SQL store on PGlite), with
 * seeded faults at the HTTP layer on top of the simulator's own: error statuses (500, 502, 503,
 * 429 with `Retry-After`), connections destroyed before and after the handler ran, and a proxy's
 * 502 after the handler applied the push (`http-faults.ts`). Pages of 3, so pulls page, and a
 * tombstone purge on every seed while a device is cut off, so it resets.
 *
 * Determinism: the fault of each request is drawn from the seed in request order, and the
 * simulator waits for each HTTP exchange before its virtual time moves on, so a seed replays
 * its history. Not under the seed: the kernel's and undici's handling of a destroyed socket
 * (a reset connection surfaces as one of several network errors, all `network` to the client),
 * and undici's connection reuse; neither changes what the client does next.
 */
import { formatCounters, formatFailure, SimCounters, simulate } from '@syncline/sync-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgliteSim, type PgliteSim } from './pglite-backend.js';

const SEEDS = 5;
const OPS = 100;

describe('simulation tier 3: restTransport over HTTP to the server on PGlite', () => {
  const total = new SimCounters();
  let sim: PgliteSim;
  let busyMs = 0;
  beforeAll(async () => {
    sim = await openPgliteSim({
      transport: 'rest',
      faults: { status: 0.1, resetBefore: 0.04, resetAfter: 0.05, gatewayAfter: 0.04 },
    });
  }, 120_000);
  afterAll(async () => {
    await sim?.close();
  });
  for (let seed = 1; seed <= SEEDS; seed++) {
    it(`seed ${seed}`, async () => {
      const started = performance.now();
      const result = await simulate({
        seed,
        ops: OPS,
        backend: sim.backend(seed),
        clientOptions: { pullPageSize: 3 },
        purgeBehind: true,
      });
      busyMs += performance.now() - started;
      total.merge(result.counters);
      if (!result.ok) {
        console.log(
          formatFailure(
            result,
            `npx vitest run packages/server/test/sim/rest.sim.test.ts -t "seed ${seed}$"`,
          ),
        );
      }
      expect(result.violations.map((v) => `${v.inv} ${v.message}`)).toEqual([]);
    }, 300_000);
  }
  it('replays a seed: same history, same digest', async () => {
    const run = () =>
      simulate({ seed: 2, ops: OPS, backend: sim.backend(2), clientOptions: { pullPageSize: 3 } });
    const a = await run();
    const b = await run();
    expect(b.digest).toBe(a.digest);
    expect(b.counters.toJSON()).toEqual(a.counters.toJSON());
  }, 300_000);
  it('went through every HTTP fault and paged (anti-vacuity)', () => {
    const faults = Object.fromEntries(sim.httpFaults);
    console.log(
      `tier 3 (rest): ${SEEDS} seeds x ${OPS} ops, ${(SEEDS / (busyMs / 1000)).toFixed(2)} seeds/s, HTTP faults ${JSON.stringify(faults)}\n${formatCounters(total)}`,
    );
    for (const kind of ['500', '502', '503', '429', 'reset-before', 'reset-after', 'gateway-after'])
      expect(sim.httpFaults.get(kind) ?? 0, kind).toBeGreaterThan(0);
    for (const name of [
      'path.pull-more-pages',
      'path.dedupe-hit',
      'fault.response-lost',
      'path.reset-required',
    ])
      expect(total.get(name), name).toBeGreaterThan(0);
  });
});
