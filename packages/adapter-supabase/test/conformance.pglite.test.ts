/**
 * The transport conformance suite of `@syncline/sync-core/testing` against `supabaseTransport`
 * through unmodified supabase-js and the stand-in project on PGlite: the Supabase adapter keeps
 * every rule of the transport contract, as any adapter must.
 *
 * The suite names its users (`[a-z0-9-]`) and expects each to own the scope `user:<name>`;
 * Supabase users are uuids, so each name signs in as `<name>@conformance.test` and is made the
 * only member of `user:<name>` (a shared scope in the adapter's terms). There is no rate limit
 * in the stand-ins, so the `rate-limit` case is skipped (it says so).
 */
import { describeTransportConformance } from '@syncline/sync-core/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { supabaseTransport } from '../src/index.js';
import { openSupabaseDatabase, SETUP_TIMEOUT_MS } from './support/database.js';
import { signedInClient } from './support/devices.js';
import { type SupabaseStandIn, startSupabaseStandIn } from './support/supabase-standin.js';

let project: SupabaseStandIn;
const transports: Array<{ stop(): void }> = [];

beforeAll(async () => {
  project = await startSupabaseStandIn(await openSupabaseDatabase('pglite'));
}, SETUP_TIMEOUT_MS);
afterAll(async () => {
  for (const t of transports) t.stop();
  await project?.close();
  await project?.db.close();
});

async function signedIn(userId: string) {
  const {
    supabase,
    userId: uid,
    sessionId,
  } = await signedInClient(project, `${userId}@conformance.test`);
  await project.db.admin.query(
    `INSERT INTO syncline.scope_members (scope, user_id, can_write) VALUES ($1, $2, true)
     ON CONFLICT DO NOTHING`,
    [`user:${userId}`, uid],
  );
  const transport = supabaseTransport({ client: supabase, realtime: false });
  transports.push(transport);
  return { transport, sessionId };
}

describeTransportConformance(
  { describe, it },
  {
    name: 'supabaseTransport through supabase-js and the stand-ins (PGlite)',
    connect: async (userId) => (await signedIn(userId)).transport,
    // Signed in, but the session was revoked (its auth.sessions row deleted).
    connectUnauthorized: async (userId) => {
      const { transport, sessionId } = await signedIn(userId);
      await project.db.admin.query('DELETE FROM auth.sessions WHERE id = $1', [sessionId]);
      return transport;
    },
  },
);
