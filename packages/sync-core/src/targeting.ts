/**
 * `@syncline/sync-core/targeting`: session targeting, opted into with
 * `createSyncClient({ targeting: sessionTargeting() })` (see docs/sessions.md). Kept apart so
 * an app that does not use sessions, deliveries or assets does not ship them.
 *
 * @packageDocumentation
 */

export type { SessionTargeting } from './sessions/session-targeting.js';
export { sessionTargeting } from './sessions/session-targeting.js';
