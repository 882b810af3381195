/**
 * The database side of a push, inside one transaction:
 * 1. lock every written scope's row, in sorted order (the same order in every push, so two
 *    pushes never deadlock on scopes), and read the versions;
 * 2. claim every mutation id with `INSERT ... ON CONFLICT DO NOTHING`: a concurrent push of the
 *    same id waits here until this one commits or rolls back, then sees the stored outcome;
 * 3. read the stored outcomes of ids already processed and the records the push touches;
 * 4. decide (`push-plan.ts`), write the records, store the `applied` and `rejected` outcomes,
 *    release the claims of conflicts (judged again on a re-send), raise the scope versions,
 *    NOTIFY (delivered only on commit).
 *
 * Every value travels as a bound parameter; batches travel as one JSON parameter unpacked by
 * `jsonb_to_recordset`, which both drivers bind the same way.
 *
 * @module
 */
import type { MutationResult, PushResponse, SyncRecord } from '@syncline/sync-core/protocol';
import type { SqlQueryable } from './executor.js';
import { type PriorOutcome, planPush } from './push-plan.js';
import { RECORD_COLUMNS, type RecordRow, recordKey, toNumber, toRecord } from './rows.js';
import type { AuthContext, StorePushRequest } from './types.js';

/** The NOTIFY channel of pokes. */
export const POKE_CHANNEL = 'syncline_poke';
// NOTIFY payloads must stay under 8000 bytes; a scope is at most ~800 bytes of UTF-8.
const MAX_POKE_PAYLOAD = 7900;
const utf8 = new TextEncoder();

/** Runs a push in `tx`; see the module doc. */
export async function pushInTransaction(
  tx: SqlQueryable,
  auth: AuthContext,
  request: StorePushRequest,
  now: number,
  options: { maxFieldsPerRecord: number },
): Promise<PushResponse> {
  const mutations = request.entries.flatMap((e) => (e.ok ? [e.mutation] : []));
  const scopes = [...new Set(mutations.map((m) => m.scope))].sort();
  const versions = new Map<string, number>();
  for (const scope of scopes) {
    // Upsert + DO UPDATE takes the row lock whether the row existed or not.
    const [row] = await tx.query<{ version: string | number }>(
      `INSERT INTO syncline.scopes AS s (scope) VALUES ($1)
       ON CONFLICT (scope) DO UPDATE SET version = s.version
       RETURNING s.version`,
      [scope],
    );
    versions.set(scope, toNumber(row?.version));
  }

  // Claim every id, invalid ones too: their rejection is an outcome that is stored.
  const ids = request.entries.map((entry) => ({
    id: entry.ok ? entry.mutation.id : entry.id,
    scope: entry.ok ? entry.mutation.scope : null,
  }));
  const prior = new Map<string, PriorOutcome>();
  if (ids.length > 0) {
    const claimed = await tx.query<{ id: string }>(
      `INSERT INTO syncline.mutations (id, user_id, client_id, scope, outcome, created_at)
       SELECT x.id, $2, $3, x.scope, NULL, $4
       FROM jsonb_to_recordset($1::jsonb) AS x(id text, scope text)
       ORDER BY x.id
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      [JSON.stringify(ids), auth.userId, request.clientId, now],
    );
    const claimedIds = new Set(claimed.map((row) => row.id));
    const seenIds = ids.map(({ id }) => id).filter((id) => !claimedIds.has(id));
    if (seenIds.length > 0) {
      const rows = await tx.query<{ id: string; user_id: string; outcome: MutationResult | null }>(
        `SELECT id, user_id, outcome FROM syncline.mutations
         WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))`,
        [JSON.stringify(seenIds)],
      );
      for (const row of rows) {
        if (row.outcome !== null) prior.set(row.id, { userId: row.user_id, result: row.outcome });
      }
    }
  }

  const records = new Map<string, SyncRecord>();
  const open = mutations.filter((m) => !prior.has(m.id));
  if (open.length > 0) {
    const rows = await tx.query<RecordRow>(
      `SELECT ${RECORD_COLUMNS} FROM syncline.records
       WHERE (scope, collection, id) IN (
         SELECT k.scope, k.collection, k.id
         FROM jsonb_to_recordset($1::jsonb) AS k(scope text, collection text, id text))`,
      [
        JSON.stringify(
          open.map((m) => ({ scope: m.scope, collection: m.collection, id: m.recordId })),
        ),
      ],
    );
    for (const row of rows)
      records.set(recordKey(row.scope, row.collection, row.id), toRecord(row));
  }

  const plan = planPush({
    userId: auth.userId,
    entries: request.entries,
    records,
    versions,
    prior,
    maxFieldsPerRecord: options.maxFieldsPerRecord,
  });

  if (plan.writes.size > 0) {
    await tx.query(
      `INSERT INTO syncline.records AS r (scope, collection, id, data, revision, hlc, deleted, deleted_at)
       SELECT x.scope, x.collection, x.id, x.data, x.revision, x.hlc, x.deleted,
              CASE WHEN x.deleted THEN $2::bigint END
       FROM jsonb_to_recordset($1::jsonb)
         AS x(scope text, collection text, id text, data jsonb, revision bigint, hlc text, deleted boolean)
       ON CONFLICT (scope, collection, id) DO UPDATE SET
         data = EXCLUDED.data, revision = EXCLUDED.revision, hlc = EXCLUDED.hlc,
         deleted = EXCLUDED.deleted, deleted_at = EXCLUDED.deleted_at`,
      [JSON.stringify([...plan.writes.values()]), now],
    );
  }
  if (plan.store.size > 0) {
    const outcomes = [...plan.store.values()].map((result) => ({ id: result.id, outcome: result }));
    await tx.query(
      `UPDATE syncline.mutations AS m SET outcome = x.outcome
       FROM jsonb_to_recordset($1::jsonb) AS x(id text, outcome jsonb)
       WHERE m.id = x.id AND m.outcome IS NULL`,
      [JSON.stringify(outcomes)],
    );
  }
  // A conflict changed nothing and is judged again on a re-send: release its claim.
  const released = plan.results.filter((r) => r.status === 'conflict').map((r) => r.id);
  if (released.length > 0) {
    await tx.query(
      `DELETE FROM syncline.mutations
       WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)) AND outcome IS NULL`,
      [JSON.stringify(released)],
    );
  }
  if (plan.versions.size > 0) {
    const changed = [...plan.versions].map(([scope, version]) => ({ scope, version }));
    await tx.query(
      `UPDATE syncline.scopes AS s SET version = x.version
       FROM jsonb_to_recordset($1::jsonb) AS x(scope text, version bigint)
       WHERE s.scope = x.scope`,
      [JSON.stringify(changed)],
    );
    const payloads = changed
      .map(({ scope, version }) =>
        JSON.stringify({ scope, version, originClientId: request.clientId }),
      )
      .filter((payload) => utf8.encode(payload).length <= MAX_POKE_PAYLOAD);
    if (payloads.length > 0) {
      // NOTIFY inside the transaction: Postgres delivers it only if and when we commit.
      await tx.query(`SELECT pg_notify($1, p) FROM jsonb_array_elements_text($2::jsonb) AS p`, [
        POKE_CHANNEL,
        JSON.stringify(payloads),
      ]);
    }
  }
  return { results: plan.results };
}
