import { SyncError } from '../errors/sync-error.js';
import type { TargetingServices } from './session-targeting.js';

/** The session targeting services, or a typed error naming the opt-in (`client.<what>`). */
export function requireTargeting(
  services: TargetingServices | null,
  what: string,
): TargetingServices {
  if (services !== null) return services;
  throw new SyncError(
    'invalid',
    `client.${what} needs session targeting: createSyncClient({ targeting: sessionTargeting() }), with sessionTargeting from '@syncline/sync-core/targeting'`,
    { code: 'targeting_not_enabled' },
  );
}
