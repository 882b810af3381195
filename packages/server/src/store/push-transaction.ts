/**
 * The database side of a push, the locking way: inside one transaction, in two calls
 * (`syncline.push_read` and `syncline.push_write`, see `push-sql.ts`):
 * 1. lock every written scope's row, in sorted order (the same order in every push, so two
 *    pushes never deadlock on scopes), and read the versions;
 * 2. claim every mutation id with `INSERT ... ON CONFLICT DO NOTHING`: a concurrent push of the
 *    same id waits here until this one commits or rolls back, then sees the stored outcome;
 * 3. read the stored outcomes of ids already processed and the records the push touches;
 * 4. decide (`push-plan.ts`), write the records, store the `applied` and `rejected` outcomes,
 *    release the claims of conflicts (judged again on a re-send), raise the scope versions,
 *    NOTIFY (delivered only on commit).
 *
 * A push first tries the optimistic way (`push-optimistic.ts`), which holds no lock across
 * round trips; this path runs when that one found its snapshot out of date.
 *
 * Every value travels as a bound parameter: each call takes one JSON document.
 *
 * @module
 */
import type { MutationResult, PushResponse, SyncRecord } from '@syncline/sync-core/protocol';
import type { SqlQueryable } from './executor.js';
import { type PriorOutcome, type PushPlan, planPush } from './push-plan.js';
import { type RecordRow, recordKey, recordWrite, toNumber, toRecord } from './rows.js';
import type { AuthContext, StorePushRequest } from './types.js';

/** The NOTIFY channel of pokes. */
export const POKE_CHANNEL = 'syncline_poke';
// NOTIFY payloads must stay under 8000 bytes; a scope is at most ~800 bytes of UTF-8.
const MAX_POKE_PAYLOAD = 7900;
const utf8 = new TextEncoder();

/** A row of `syncline.push_read` or `syncline.push_snapshot`. */
export interface PushReadRow extends RecordRow {
  kind: 'scope' | 'prior' | 'record';
  user_id: string | null;
  /** Only in `push_snapshot`'s scope rows. */
  purged_through?: string | number | null;
}

/** What a push reads before deciding. */
export interface PushInputs {
  /** Scopes the push writes, sorted (the lock order). */
  scopes: string[];
  /** Every mutation id, invalid ones too, with its scope (`null` when invalid). */
  claims: Array<{ id: string; scope: string | null }>;
  /** The records of every valid mutation. */
  keys: Array<{ scope: string; collection: string; id: string }>;
}

/** The scopes, ids and record keys of a push. */
export function pushInputs(request: StorePushRequest): PushInputs {
  const mutations = request.entries.flatMap((e) => (e.ok ? [e.mutation] : []));
  return {
    scopes: [...new Set(mutations.map((m) => m.scope))].sort(),
    claims: request.entries.map((entry) =>
      entry.ok
        ? { id: entry.mutation.id, scope: entry.mutation.scope }
        : { id: entry.id, scope: null },
    ),
    // The records of ids already processed are read too, but unused.
    keys: mutations.map((m) => ({ scope: m.scope, collection: m.collection, id: m.recordId })),
  };
}

/** The rows of a push read, sorted into the plan's inputs. */
export function readRows(rows: readonly PushReadRow[]): {
  versions: Map<string, number>;
  purged: Map<string, number>;
  prior: Map<string, PriorOutcome>;
  records: Map<string, SyncRecord>;
} {
  const versions = new Map<string, number>();
  const purged = new Map<string, number>();
  const prior = new Map<string, PriorOutcome>();
  const records = new Map<string, SyncRecord>();
  for (const row of rows) {
    if (row.kind === 'scope') {
      versions.set(row.scope, toNumber(row.revision));
      purged.set(row.scope, toNumber(row.purged_through));
    } else if (row.kind === 'prior') {
      prior.set(row.id, {
        userId: row.user_id ?? '',
        result: row.data as unknown as MutationResult,
      });
    } else records.set(recordKey(row.scope, row.collection, row.id), toRecord(row));
  }
  return { versions, purged, prior, records };
}

/** The NOTIFY payloads of the scopes a plan changed (too large ones are left out). */
export function pokesOf(plan: PushPlan, clientId: string): string[] {
  return [...plan.versions]
    .map(([scope, version]) => JSON.stringify({ scope, version, originClientId: clientId }))
    .filter((payload) => utf8.encode(payload).length <= MAX_POKE_PAYLOAD);
}

/**
 * A push's answer, with what it wrote when it wrote anything: the plan and the version of
 * every scope before it (so the changes of a scope are exactly the versions after it).
 */
export interface PushOutcome {
  /** The answer to the client. */
  response: PushResponse;
  /** The plan, when the push changed a scope version. */
  plan?: PushPlan;
  /** Every written scope's version before the push (read under its lock or verified). */
  versionsBefore?: ReadonlyMap<string, number>;
}

/** Decides a push (`planPush`) on what {@link readRows} read for it. */
export function planFromRead(
  read: ReturnType<typeof readRows>,
  auth: AuthContext,
  request: StorePushRequest,
  options: { maxFieldsPerRecord: number },
): PushPlan {
  return planPush({
    userId: auth.userId,
    entries: request.entries,
    records: read.records,
    versions: read.versions,
    prior: read.prior,
    maxFieldsPerRecord: options.maxFieldsPerRecord,
  });
}

/** Runs a push in `tx`, the locking way; see the module doc. `inputs` is `pushInputs(request)`. */
export async function pushInTransaction(
  tx: SqlQueryable,
  auth: AuthContext,
  request: StorePushRequest,
  inputs: PushInputs,
  now: number,
  options: { maxFieldsPerRecord: number },
): Promise<PushOutcome> {
  if (request.entries.length === 0) return { response: { results: [] } };
  const { scopes, claims, keys } = inputs;
  const rows = await tx.query<PushReadRow>('SELECT * FROM syncline.push_read($1::jsonb)', [
    JSON.stringify({ scopes, claims, keys, user: auth.userId, client: request.clientId, now }),
  ]);
  const read = readRows(rows);
  const { versions } = read;
  const plan = planFromRead(read, auth, request, options);

  // A conflict changed nothing and is judged again on a re-send: release its claim.
  const released = plan.results.filter((r) => r.status === 'conflict').map((r) => r.id);
  if (plan.writes.size === 0 && plan.store.size === 0 && released.length === 0) {
    return { response: { results: plan.results } };
  }
  await tx.query('SELECT syncline.push_write($1::jsonb)', [
    JSON.stringify({
      writes: [...plan.writes.values()].map(recordWrite),
      outcomes: [...plan.store.values()].map((result) => ({ id: result.id, outcome: result })),
      released,
      versions: [...plan.versions].map(([scope, version]) => ({ scope, version })),
      // NOTIFY inside the transaction: Postgres delivers it only if and when we commit.
      pokes: pokesOf(plan, request.clientId),
      channel: POKE_CHANNEL,
      now,
    }),
  ]);
  return { response: { results: plan.results }, plan, versionsBefore: versions };
}
