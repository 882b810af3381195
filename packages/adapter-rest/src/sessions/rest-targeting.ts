import type { SyncTransport } from '@syncline/sync-core';
import type { HttpClient } from '../http/http-client.js';
import { SessionEventHub, sessionParts } from './session-parts.js';

/**
 * The session-targeting parts of `restTransport`, made by {@link restTargeting} and passed as
 * `restTransport({ targeting })`.
 */
export interface RestTargeting {
  /**
   * Adds the session endpoints to `transport` over its HTTP client; returns the hub the event
   * stream feeds with session, delivery and transfer hints.
   * @internal
   */
  attach(transport: SyncTransport, http: HttpClient): SessionEventHub;
}

/**
 * Lets `restTransport` speak the session-targeting endpoints (SESSIONS-WIRE), for a client
 * created with `sessionTargeting()` from `@syncline/sync-core/targeting`.
 *
 * @example
 * ```ts
 * import { restTransport } from '@syncline/adapter-rest';
 * import { restTargeting } from '@syncline/adapter-rest/targeting';
 *
 * const transport = restTransport({ baseUrl, getToken, session, targeting: restTargeting() });
 * ```
 */
export function restTargeting(): RestTargeting {
  return { attach: attachTargeting };
}

function attachTargeting(transport: SyncTransport, http: HttpClient): SessionEventHub {
  Object.assign(transport, sessionParts(http));
  const hub = new SessionEventHub();
  transport.sessionEvents = (listener, onConnect) => hub.add(listener, onConnect);
  return hub;
}
