/**
 * The delivery simulation (issue 12) against the reference server on PGlite: the same devices,
 * faults, crashes and model as `packages/sync-core/test/sim/deliveries.test.ts`, with the fetch
 * handler and the SQL store (create_delivery, ack_deliveries and its AckBatcher, the sweeper on
 * the run's clock, assets through restTransport's asset part into the handler's BlobStore)
 * instead of the in-memory server. Fewer and shorter seeds: every request is a real SQL
 * transaction. More seeds: `npm run sim:deliveries -- --tier pglite --seeds 20`.
 *
 * The canary at the end plants a bug in a test-only wrapper of the store's database (never in
 * the server's source): every acknowledgement `syncline.ack_deliveries` takes completes its
 * delivery at once, as a wrong count in the PL/pgSQL would. The tier must name it. Its run of
 * the same seed without the bug is also the replay check: the trace must equal the seed's above.
 */
import {
  SimCounters,
  type SimulateDeliveriesOptions,
  simulateDeliveries,
} from '@syncline/sync-core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstCaught } from '../../../sync-core/test/sim/first-caught.js';
import type { SqlExecutor, SqlQueryable } from '../../src/store/executor.js';
import { openPgliteDeliverySim, type PgliteDeliverySim } from './pglite-deliveries-backend.js';

const SEEDS = [1, 5];
/** Virtual milliseconds of chaos per seed (the script's default is 60 s). */
const CHAOS_MS = 20_000;
const AUDIT_EVERY_MS = 10_000;
/** The counters these few short seeds must raise together. */
const REQUIRED = [
  'delivery.created',
  'delivery.handled',
  'delivery.completed',
  'delivery.expired',
  'target.otherSessions',
  'target.sessions',
  'target.scopeMembers',
  'crash',
  'fault.duplicate',
  'fault.response-lost.ack',
  'dup.offered-after-handled',
  'session.revoked',
  'session.replaced',
  'ack.non-receiver-refused',
  'ack.expired-refused',
  'asset.sent',
  'asset.handed-over',
  'asset.blob-held-while-live',
  'asset.blob-deleted',
];

const ACK_CALL = 'syncline.ack_deliveries(';

/**
 * `executor` whose acknowledgements complete their deliveries at the first ack while `armed()`
 * (the canary's planted bug). `planted` counts the calls it broke.
 */
function completesAtFirstAck(
  executor: SqlExecutor,
  armed: () => boolean,
  planted: { count: number },
): SqlExecutor {
  const query: SqlQueryable['query'] = async <Row>(sql: string, params?: readonly unknown[]) => {
    const rows = await executor.query<Row>(sql, params);
    if (!armed() || !sql.includes(ACK_CALL) || params === undefined) return rows;
    const ids = params[2] as string[];
    const acked = (rows as { ack_index: number }[]).map((row) => ids[Number(row.ack_index) - 1]);
    if (acked.length === 0) return rows;
    planted.count++;
    await executor.query(
      'UPDATE syncline.deliveries SET completed_at = $1 WHERE id = ANY($2::text[]) AND completed_at IS NULL',
      [params[3], acked],
    );
    return rows.map((row) => ({ ...row, is_complete: true }));
  };
  return { ...executor, query };
}

describe('delivery simulation on the reference server (PGlite)', () => {
  let sim: PgliteDeliverySim | undefined;
  let armed = false;
  const planted = { count: 0 };
  const total = new SimCounters();
  const traces = new Map<number, string[]>();
  const replayed: string[] = [];
  let replayedSeed: number | undefined;
  let busyMs = 0;
  /** Options of a seed on this file's database; `arm` plants the canary's bug for the run. */
  const onPglite = (arm = false): Omit<SimulateDeliveriesOptions, 'seed'> => ({
    chaosMs: CHAOS_MS,
    auditEveryMs: AUDIT_EVERY_MS,
    backend: (setup) => {
      armed = arm;
      return (sim as PgliteDeliverySim).backend(setup);
    },
  });
  const run = async (seed: number) => {
    const lines: string[] = [];
    const result = await simulateDeliveries({
      seed,
      ...onPglite(),
      trace: (line) => lines.push(line),
    });
    return { result, lines };
  };
  beforeAll(async () => {
    sim = await openPgliteDeliverySim({
      wrapExecutor: (executor) => completesAtFirstAck(executor, () => armed, planted),
    });
  }, 120_000);
  afterAll(async () => {
    await sim?.close();
  });

  for (const seed of SEEDS) {
    it(`seed ${seed} keeps every targeting rule`, async () => {
      const started = performance.now();
      const { result, lines } = await run(seed);
      busyMs += performance.now() - started;
      traces.set(seed, lines);
      total.merge(result.counters);
      const replay = `npm run sim:deliveries -- --tier pglite --chaos ${CHAOS_MS} --audit-every ${AUDIT_EVERY_MS} --seed ${seed} --trace`;
      expect(result.violations, replay).toEqual([]);
    }, 300_000);
  }

  it('exercised the paths (anti-vacuity)', () => {
    console.log(
      `delivery sim on PGlite: ${SEEDS.length} seeds of ${CHAOS_MS / 1000} virtual s, ${(SEEDS.length / (busyMs / 1000)).toFixed(2)} seeds/s`,
    );
    expect(total.missing(REQUIRED)).toEqual([]);
  });

  it('canary: an ack that completes its delivery at once is caught as completed early', async () => {
    const caught = await firstCaught({ ...onPglite(true), trace: false }, 'completed-early', {
      ...onPglite(),
      trace: (line) => replayed.push(line),
    });
    console.log(`planted bug caught on seed ${caught?.seed}: ${caught?.rules.join(', ')}`);
    expect(planted.count).toBeGreaterThan(0);
    expect(caught?.rules).toContain('completed-early');
    replayedSeed = caught?.seed;
  }, 300_000);

  // The canary's run without the bug repeated one of the seeds above on the same database.
  it('a seed replays event for event (the same trace again)', () => {
    expect(replayedSeed).toBeDefined();
    const first = traces.get(replayedSeed as number);
    expect(first?.length).toBeGreaterThan(100);
    expect(replayed).toEqual(first);
  });
});
