/**
 * The last check of a delivery run: every target of an expired delivery tries to acknowledge it,
 * and the server refuses (404) without changing anything.
 *
 * @module
 */
import { isSyncError } from '../../../errors/sync-error.js';
import type { SimCounters } from '../counters.js';
import type { DeliveryBackend } from './backend.js';
import type { DeliveryModel, DeliveryViolation } from './model.js';
import type { DeliveryDevice } from './session-device.js';

/** Each expired delivery's targets try to acknowledge it: refused, and nothing changes. */
export async function expiredAcksChangeNothing(
  backend: DeliveryBackend,
  model: DeliveryModel,
  devices: readonly DeliveryDevice[],
  counters: SimCounters,
  violate: (v: Omit<DeliveryViolation, 'at'>) => void,
): Promise<void> {
  for (const d of model.deliveries.values()) {
    if (!d.expired) continue;
    for (const device of devices) {
      if (!d.targets.has(device.auth.sessionId) || model.revoked(device.auth.sessionId)) continue;
      const before = JSON.stringify(await backend.audit(d.id, d.senderUserId));
      try {
        await backend.ack(device.auth, d.id);
        violate({
          rule: 'acked-after-expiry',
          message: `${device.auth.sessionId} acknowledged the expired ${d.id}`,
        });
      } catch (error) {
        if (!(isSyncError(error) && error.status === 404)) {
          violate({
            rule: 'acked-after-expiry',
            message: `an ack of the expired ${d.id} answered ${String(error)}, not 404`,
          });
        }
      }
      const after = JSON.stringify(await backend.audit(d.id, d.senderUserId));
      if (after !== before)
        violate({
          rule: 'acked-after-expiry',
          message: `an ack changed the expired ${d.id}: ${before} → ${after}`,
        });
      counters.add('ack.expired-refused');
    }
  }
}
