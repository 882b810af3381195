/**
 * The transport conformance suite of `@syncline/sync-core/testing` against
 * `supabaseTablesTransport`, through unmodified supabase-js and the stand-in project on PGlite,
 * on an app table (`conformance_items`: the kit's fields as typed columns, owned through
 * `user_id` under row-level security).
 *
 * The kit names its users (`[a-z0-9-]`) and expects each to own the scope `user:<name>`;
 * Supabase users are uuids, so each name signs in as `<name>@tables-conformance.test` and the
 * transport's `scopeOf` names the scope after it. Skipped, as the kit reports: `transactions`
 * (each mutation of a push is applied on its own: the tables keep no transaction groups) and
 * the `rate-limit` case (the stand-ins have no rate limit).
 */
import type { JsonObject } from '@syncline/sync-core';
import { describeTransportConformance } from '@syncline/sync-core/testing';
import { afterAll, beforeAll, describe, it, vi } from 'vitest';
import { type SupabaseTablesTransport, supabaseTablesTransport } from '../src/index.js';
import { applyTablesApp, openSupabaseDatabase, SETUP_TIMEOUT_MS } from './support/database.js';
import { type SupabaseStandIn, startSupabaseStandIn } from './support/supabase-standin.js';

let project: SupabaseStandIn;
const transports: SupabaseTablesTransport[] = [];

beforeAll(async () => {
  const db = await openSupabaseDatabase('pglite');
  await applyTablesApp(db.admin);
  project = await startSupabaseStandIn(db);
}, SETUP_TIMEOUT_MS);
afterAll(async () => {
  for (const t of transports) t.stop();
  await project?.close();
  await project?.db.close();
});

const KIT_FIELDS = ['title', 'done', 'v', 'by', 'i', 'n', 'tags', 'nested', 'secret'];

/** The kit's record is the row's kit columns that hold a value. */
const toData = (row: JsonObject): JsonObject =>
  Object.fromEntries(
    KIT_FIELDS.filter((f) => row[f] !== null && row[f] !== undefined).map((f) => [
      f,
      row[f] as JsonObject[string],
    ]),
  );
/** A put replaces the record: the kit columns it does not name are cleared; a patch merges. */
const toRow = (data: JsonObject, { op }: { op: 'put' | 'patch' }): JsonObject =>
  op === 'patch' ? data : { ...Object.fromEntries(KIT_FIELDS.map((f) => [f, null])), ...data };

/**
 * A transport signed in as `<name>@tables-conformance.test`; with `forgeToken`, every REST
 * call carries a forged access token instead of the real one.
 */
async function connect(name: string, options: { forgeToken?: boolean } = {}) {
  const supabase = project.createClient({
    fetch: (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (options.forgeToken !== true || !url.includes('/rest/v1/')) return fetch(input, init);
      const headers = new Headers(init?.headers);
      headers.set('Authorization', 'Bearer forged.token.here');
      return fetch(input, { ...init, headers });
    },
  });
  const { error } = await supabase.auth.signInWithPassword({
    email: `${name}@tables-conformance.test`,
    password: 'pw',
  });
  if (error !== null) throw error;
  const transport = supabaseTablesTransport({
    client: supabase,
    tables: { conformance_items: { toData, toRow } },
    realtime: false,
    scopeOf: () => `user:${name}`,
  });
  transports.push(transport);
  await vi.waitFor(() => {
    if (transport.session.current() === null) throw new Error('not signed in yet');
  });
  return transport;
}

describeTransportConformance(
  { describe, it },
  {
    name: 'supabaseTablesTransport on an app table, through supabase-js and the stand-ins (PGlite)',
    capabilities: { transactions: false, mutationHlc: false },
    connect: (name) => connect(name),
    connectUnauthorized: (name) => connect(name, { forgeToken: true }),
  },
);
