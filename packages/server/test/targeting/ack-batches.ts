/**
 * Acknowledgements that reach the store together run in one `ack_deliveries` call: each must
 * be answered exactly as it would be alone. Shared by the PGlite and PostgreSQL runners.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import type { AuthContext, SyncStore } from '../../src/store/types.js';
import type { TargetingStore } from '../../src/targeting/types.js';

/** A store to test, and (where the runner can count them) the `ack_deliveries` calls made. */
export interface AckBatchStore {
  store: SyncStore;
  ackCalls?: () => number;
}

/** The suite, on the store `opened` gives once the runner's fixture is up. */
export function ackBatchSuite(opened: () => AckBatchStore): void {
  let t: TargetingStore;
  beforeAll(() => {
    t = opened().store.targeting as TargetingStore;
  });

  async function devices(count: number): Promise<AuthContext[]> {
    const userId = `u-${randomUUID().slice(0, 8)}`;
    const sessions: AuthContext[] = [];
    for (let i = 0; i < count; i++) {
      const auth = { userId, sessionId: `s-${randomUUID().slice(0, 8)}` };
      await t.heartbeat(auth, { clientId: `c-${randomUUID().slice(0, 8)}` });
      sessions.push(auth);
    }
    return sessions;
  }

  async function send(from: AuthContext): Promise<{ id: string; targets: string[] }> {
    const id = randomUUID();
    const outcome = await t.createDelivery(
      from,
      {
        id,
        scope: `user:${from.userId}`,
        kind: 'note',
        target: { type: 'otherSessions' },
        ttlSeconds: 3600,
      },
      [from.userId],
    );
    if (outcome.type !== 'created') throw new Error(`not created: ${outcome.type}`);
    return { id, targets: outcome.delivery.targetSessionIds ?? [] };
  }

  it('ten targets acknowledging at once: one call, every answer, and exactly the last completes it', async () => {
    const [sender, ...targets] = await devices(11);
    const { id, targets: fixed } = await send(sender as AuthContext);
    expect(fixed).toEqual(targets.map((a) => a.sessionId).sort());
    const before = opened().ackCalls?.();
    const answers = await Promise.all(targets.map((auth) => t.ackDelivery(auth, id)));
    if (before !== undefined) expect(opened().ackCalls?.()).toBe(before + 1);
    expect(answers.filter((a) => a?.complete === true)).toHaveLength(1);
    expect(answers.every((a) => a !== undefined)).toBe(true);
    const status = await t.deliveryStatus(sender as AuthContext, id);
    expect(status?.status).toMatchObject({ complete: true, acked: fixed });
  });

  it('a batch answers each acknowledgement as if it were alone', async () => {
    const [sender, a, b] = (await devices(3)) as [AuthContext, AuthContext, AuthContext];
    const [stranger] = (await devices(1)) as [AuthContext];
    const open = await send(sender);
    const done = await send(sender);
    await Promise.all([t.ackDelivery(a, done.id), t.ackDelivery(b, done.id)]);
    const answers = await Promise.all([
      t.ackDelivery(a, open.id),
      t.ackDelivery(a, open.id), // the same session twice: one acknowledgement
      t.ackDelivery(sender, open.id), // the origin never acknowledges
      t.ackDelivery(stranger, open.id), // another user: as if it did not exist
      t.ackDelivery(a, randomUUID()), // unknown
      t.ackDelivery(b, done.id), // already complete: still acknowledgeable
    ]);
    expect(answers.map((x) => x?.complete)).toEqual([
      false,
      false,
      undefined,
      undefined,
      undefined,
      true,
    ]);
    const status = await t.deliveryStatus(sender, open.id);
    expect(status?.status).toMatchObject({ complete: false, acked: [a.sessionId] });
    expect(await t.ackDelivery(b, open.id)).toMatchObject({ complete: true });
  });

  it('a target revoked before the others acknowledge together is not waited for', async () => {
    const [sender, a, b, gone] = (await devices(4)) as [
      AuthContext,
      AuthContext,
      AuthContext,
      AuthContext,
    ];
    const { id } = await send(sender);
    expect(await t.revokeSession(gone, gone.sessionId)).toMatchObject({ revoked: 1 });
    const answers = await Promise.all([t.ackDelivery(a, id), t.ackDelivery(b, id)]);
    expect(answers.map((x) => x?.complete)).toContain(true);
    expect((await t.deliveryStatus(sender, id))?.status.complete).toBe(true);
  });

  it('a target revoked after every other acknowledged completes the delivery at once (no wait for the sweeper)', async () => {
    const [sender, a, b, gone] = (await devices(4)) as [
      AuthContext,
      AuthContext,
      AuthContext,
      AuthContext,
    ];
    const { id } = await send(sender);
    expect(await t.ackDelivery(a, id)).toMatchObject({ complete: false });
    expect(await t.ackDelivery(b, id)).toMatchObject({ complete: false });
    expect(await t.revokeSession(gone, gone.sessionId)).toMatchObject({ revoked: 1 });
    // The status and a repeated acknowledgement say what is true now: complete.
    expect((await t.deliveryStatus(sender, id))?.status.complete).toBe(true);
    expect(await t.ackDelivery(a, id)).toMatchObject({ complete: true });
  });

  it('revoking every session of a user completes what waited only on them', async () => {
    const [sender, a, gone] = (await devices(3)) as [AuthContext, AuthContext, AuthContext];
    const { id } = await send(sender);
    expect(await t.ackDelivery(a, id)).toMatchObject({ complete: false });
    // `revokeAllSessions` signs out every session of the user, `gone` among them.
    await t.revokeAllSessions(gone);
    expect((await t.deliveryStatus(sender, id))?.status.complete).toBe(true);
  });

  it("a re-login that replaces a device's session completes what waited only on the old session; what another target still owes stays", async () => {
    const [sender, other] = (await devices(2)) as [AuthContext, AuthContext];
    const userId = sender.userId;
    const device = `c-${randomUUID().slice(0, 8)}`;
    const before = { userId, sessionId: `s-${randomUUID().slice(0, 8)}` };
    await t.heartbeat(before, { clientId: device });
    const owed = randomUUID();
    const created = await t.createDelivery(
      sender,
      {
        id: owed,
        scope: `user:${userId}`,
        kind: 'note',
        target: { type: 'sessions', ids: [before.sessionId] },
        ttlSeconds: 3600,
      },
      [userId],
    );
    expect(created.type).toBe('created');
    const waiting = await send(sender);
    expect(waiting.targets).toEqual([before.sessionId, other.sessionId].sort());
    // The same device signs in again: the new session replaces (and revokes) the old one.
    const after = { userId, sessionId: `s-${randomUUID().slice(0, 8)}` };
    await t.heartbeat(after, { clientId: device });
    expect(await t.isRevoked(before)).toBe(true);
    expect((await t.deliveryStatus(sender, owed))?.status.complete).toBe(true);
    expect((await t.deliveryStatus(sender, waiting.id))?.status.complete).toBe(false);
    expect(await t.ackDelivery(other, waiting.id)).toMatchObject({ complete: true });
  });
}
