/**
 * `@syncline/adapter-rest/targeting`: the session-targeting endpoints for `restTransport`,
 * opted into with `restTransport({ targeting: restTargeting() })` (see docs/sessions.md).
 *
 * @packageDocumentation
 */

export type { RestTargeting, RestTargetingOptions } from './sessions/rest-targeting.js';
export { restTargeting } from './sessions/rest-targeting.js';
