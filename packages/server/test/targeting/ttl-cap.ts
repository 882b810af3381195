/**
 * A server whose `maxDeliveryTtlSeconds` is under the 48 h default (the fixture is started with
 * a cap of one hour): a send that names no TTL takes the cap, one that names more is refused.
 * Over raw HTTP, on the server clock.
 */
import type { Delivery } from '@syncline/sync-core/protocol';
import { expect, it } from 'vitest';
import { deliveryBody, type TargetingFixture } from './fixture.js';

/** The cap the runner files start this suite's fixture with. */
export const TTL_CAP_SECONDS = 3600;

/** The tests of a delivery TTL cap under 48 h. */
export function ttlCapSuite(fixture: () => TargetingFixture): void {
  it('a POST without ttlSeconds expires at the cap (createdAt + 1 h), judged on the server clock', async () => {
    const f = fixture();
    const user = f.newUser();
    const a = await f.signIn(user);
    const b = await f.signIn(user);
    const body = deliveryBody(a);
    const sent = await f.as(a, '/v1/deliveries', { method: 'POST', json: body });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const delivery = (sent.body as { delivery: Delivery }).delivery;
    expect(delivery.createdAt).toBe(f.clock.now);
    expect(delivery.expiresAt).toBe(delivery.createdAt + TTL_CAP_SECONDS * 1000);
    f.clock.now += TTL_CAP_SECONDS * 1000 - 1;
    const before = await f.as(b, '/v1/deliveries?pending=1');
    expect((before.body as { deliveries: Delivery[] }).deliveries.map((d) => d.id)).toEqual([
      body.id,
    ]);
    f.clock.now += 1;
    const after = await f.as(b, '/v1/deliveries?pending=1');
    expect((after.body as { deliveries: Delivery[] }).deliveries).toEqual([]);
    expect((await f.as(b, `/v1/deliveries/${body.id}/ack`, { method: 'POST' })).status).toBe(404);
    expect((await f.as(a, `/v1/deliveries/${body.id}`)).body).toMatchObject({
      status: { expired: true, complete: false },
    });
  });

  it('a POST with a ttlSeconds above the cap is refused with 400 invalid naming the cap; the cap itself is taken', async () => {
    const f = fixture();
    const a = await f.signIn(f.newUser());
    const over = deliveryBody(a, { ttlSeconds: 2 * TTL_CAP_SECONDS });
    const refused = await f.as(a, '/v1/deliveries', { method: 'POST', json: over });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      error: {
        code: 'invalid',
        message: `ttlSeconds is at most ${TTL_CAP_SECONDS} on this server`,
        details: { path: '$.ttlSeconds' },
      },
    });
    expect((await f.as(a, `/v1/deliveries/${over.id}`)).status).toBe(404);
    const atCap = deliveryBody(a, { ttlSeconds: TTL_CAP_SECONDS });
    expect((await f.as(a, '/v1/deliveries', { method: 'POST', json: atCap })).status).toBe(201);
  });
}
