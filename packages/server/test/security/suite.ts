/**
 * The HTTP security suite of reliability-and-security.md §4.7, one `describe` per SEC id,
 * against the reference server over loopback; every "must reject" case reads back (a hash of
 * the whole database, or the store directly) to prove that nothing changed.
 */
import type { OpenedStore } from './fixture.js';
import { useSecFixture } from './fixture.js';
import { secAccess } from './sec-access.js';
import { secAuth } from './sec-auth.js';
import { secPayload } from './sec-payload.js';
import { secPollution } from './sec-pollution.js';
import { secProtocol } from './sec-protocol.js';

/** Registers every SEC describe on the store `open` makes; call inside a `describe`. */
export function securitySuite(open: () => Promise<OpenedStore>): void {
  const fx = useSecFixture(open);
  secAuth(fx);
  secAccess(fx);
  secProtocol(fx);
  secPollution(fx);
  secPayload(fx);
}
