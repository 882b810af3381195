/**
 * The last acknowledgement of a delivery racing the revocation of its other target, on
 * PostgreSQL (PGlite runs one statement at a time, so it cannot race). B's acknowledgement is
 * held open in a transaction of its own, as the store's `ack_deliveries` call runs it, while A
 * signs C out: the acknowledgement cannot see the revocation, so the revocation must see the
 * acknowledgement, and the delivery completes without waiting for the sweeper.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePostgres, postgresUrl } from '../../../../test/support/env.js';
import { postgresStore } from '../../src/store/postgres-store.js';
import type { AuthContext, SyncStore } from '../../src/store/types.js';
import { DEFAULT_TARGETING_POLICY } from '../../src/targeting/sql-targeting-store.js';
import type { TargetingStore } from '../../src/targeting/types.js';
import { freshDatabase } from '../support.js';

describePostgres()('a revocation racing the last acknowledgement, on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let store: SyncStore;
  let t: TargetingStore;
  let client: pg.Client;

  beforeAll(async () => {
    database = await freshDatabase(postgresUrl() as string);
    store = await postgresStore({ connectionString: database.url });
    t = store.targeting as TargetingStore;
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await store?.close();
    await database?.drop();
  });

  it('the delivery completes: the revocation waits for the acknowledgement and then sees it', async () => {
    const userId = `u-${randomUUID().slice(0, 8)}`;
    const [a, b, c] = ['a', 'b', 'c'].map((name) => ({
      userId,
      sessionId: `s-${name}-${randomUUID().slice(0, 8)}`,
    })) as [AuthContext, AuthContext, AuthContext];
    for (const who of [a, b, c]) {
      await t.heartbeat(who, { clientId: `c-${who.sessionId}` });
    }
    const id = randomUUID();
    const created = await t.createDelivery(
      a,
      {
        id,
        scope: `user:${userId}`,
        kind: 'note',
        target: { type: 'otherSessions' },
        ttlSeconds: 3600,
      },
      [userId],
    );
    expect(created.type).toBe('created');

    // B's acknowledgement, held open: C is still active for it.
    await client.query('BEGIN');
    const now = Date.now();
    const acked = await client.query<{ is_complete: boolean }>(
      'SELECT * FROM syncline.ack_deliveries($1, $2, $3, $4, $5)',
      [[userId], [b.sessionId], [id], now, now - DEFAULT_TARGETING_POLICY.sessionActiveWindowMs],
    );
    expect(acked.rows.map((row) => row.is_complete)).toEqual([false]);
    // A signs C out meanwhile: it either waits on the delivery row B holds, or (without that
    // lock) answers at once. B then commits.
    let answered = false;
    const revoked = t.revokeSession(a, c.sessionId).finally(() => {
      answered = true;
    });
    // Whether a statement of this database waits on a lock (the revocation, on B's row).
    const someoneWaits = async () => {
      const probe = new pg.Client({ connectionString: database.url });
      await probe.connect();
      try {
        const { rows } = await probe.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        return (rows[0]?.n ?? 0) > 0;
      } finally {
        await probe.end();
      }
    };
    try {
      await expect
        .poll(async () => answered || (await someoneWaits()), { timeout: 10_000 })
        .toBe(true);
    } finally {
      await client.query('COMMIT');
    }
    expect(await revoked).toMatchObject({ revoked: 1 });
    // Neither missed it: B's acknowledgement did not see C revoked, the revocation saw B's.
    expect((await t.deliveryStatus(a, id))?.status).toMatchObject({
      acked: [b.sessionId],
      complete: true,
    });
  });
});
