/**
 * The HTTP security suite of reliability-and-security.md §4.7 against the reference server
 * over loopback, one `describe` per SEC id (its id first in the title), run on PGlite and on
 * PostgreSQL by `security.*.test.ts` with one store and one set of servers per file. Every
 * "must reject" case reads back around HTTP (a hash of every record and scope version in the
 * database, or the store itself) to prove that nothing changed, and the fixture fails the file
 * if any server logged an unexpected error (a 500).
 *
 * Where each SEC id lives:
 * - `sec-auth.ts`: SEC-R1, SEC-J1, SEC-J2, SEC-J3, SEC-F3, SEC-F4
 * - `sec-jwks.ts`: SEC-J1 against a JWKS (RS256) server: key confusion, kid/jwk/jku injection
 * - `sec-access.ts`: SEC-R2, SEC-R3/R4/R5/R6, SEC-R9, SEC-R10, SEC-F1/F2/F5 (catalog check)
 * - `sec-protocol.ts`: SEC-B1, SEC-B2, SEC-B3, SEC-B4, SEC-P8
 * - `sec-pollution.ts`: SEC-P1, SEC-P2
 * - `sec-payload.ts`: SEC-P3, SEC-P4, SEC-P5, SEC-P6
 * - `sec-injection.ts`: SEC-P7, SEC-P9
 * Tests of `../http-security.ts` that already cover an item are named in each file's header
 * and not repeated.
 *
 * Not applicable (yet), and why:
 * - SEC-T1 … SEC-T6 (session targeting): not applicable yet: no /v1/deliveries (the server
 *   has no delivery, ack or target endpoint to attack).
 * - SEC-R7, SEC-R8 (RLS policies on user_metadata, security_invoker views) and the SQL-level
 *   halves of SEC-F1/F2/F5 (search_path, EXECUTE grants to anon, internal schemas): the
 *   reference server authorises in the handler (`authorizeScope`) and exposes no RLS, views
 *   or database functions; SEC-F1/F2/F5 here only assert that no SECURITY DEFINER function
 *   without a pinned search_path exists and that no RPC route answers.
 * - SEC-R9's "claims set with set_config(…, true)" and "a request that errors
 *   mid-transaction": the server sets no per-request claims, and no input that passes
 *   validation makes the database fail; what remains (two users interleaved over the pool and
 *   over exactly one connection, with refused requests among them) is tested.
 * - SEC-B2's LMID gap (LMID+2): mutation ids are UUIDs, not per-client counters, so there is
 *   no gap to make; duplicate ids in one batch are tested.
 */
import type { OpenedStore } from './fixture.js';
import { useSecFixture } from './fixture.js';
import { secAccess } from './sec-access.js';
import { secAuth } from './sec-auth.js';
import { secInjection } from './sec-injection.js';
import { secJwks } from './sec-jwks.js';
import { secPayload } from './sec-payload.js';
import { secPollution } from './sec-pollution.js';
import { secProtocol } from './sec-protocol.js';

/** Registers every SEC describe on the store `open` makes; call inside a `describe`. */
export function securitySuite(open: () => Promise<OpenedStore>): void {
  const fx = useSecFixture(open);
  secAuth(fx);
  secJwks(fx);
  secAccess(fx);
  secProtocol(fx);
  secPollution(fx);
  secPayload(fx);
  secInjection(fx);
}
