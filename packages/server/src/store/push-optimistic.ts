/**
 * A push the optimistic way: one statement reads a snapshot (`syncline.push_snapshot`), the
 * plan is decided here, and one statement applies it (`syncline.push_apply`) after checking
 * under the scope row locks that nothing the decision read has changed (see `push-sql.ts`).
 * Each statement commits on its own, so no lock is held across a round trip: on PostgreSQL a
 * scope is locked only while `push_apply` runs and commits, and on PGlite a push is two
 * statements instead of four.
 *
 * When the snapshot is out of date (another push to a scope, a purge, or a mutation id stored
 * meanwhile) `push_apply` rolls back and the push runs again the locking way
 * (`push-transaction.ts`), so a busy scope costs at most one wasted read, never a livelock.
 * Its scopes then take the locking way directly for a second: a scope that several server
 * processes write at once would otherwise fail the check most of the time.
 *
 * Pushes of one process that share a scope are queued in the process (they would commit one at
 * a time anyway), so they never make each other's snapshots stale: twenty devices writing one
 * scope through one server process cost two statements a push. Only a push of another process
 * can slip in between.
 *
 * @module
 */
import type { PushResponse, SyncRecord } from '@syncline/sync-core/protocol';
import type { SqlExecutor } from './executor.js';
import type { PushPlan } from './push-plan.js';
import { STALE_SNAPSHOT_SQLSTATE } from './push-sql.js';
import {
  POKE_CHANNEL,
  type PushInputs,
  type PushOutcome,
  type PushReadRow,
  planFromRead,
  pokesOf,
  pushInputs,
  pushInTransaction,
  readRows,
} from './push-transaction.js';
import { recordWrite } from './rows.js';
import type { AuthContext, StorePushRequest } from './types.js';

/** Test hooks of a push; see `SqlStoreTestHooks`. */
export interface PushHooks {
  /** Runs while a push holds its scope locks, just before it commits. */
  beforeCommit?: () => Promise<void>;
  /** Runs between the optimistic read and the apply (to let another push slip in). */
  afterSnapshot?: () => Promise<void>;
}

/** How long a scope whose optimistic push failed takes the locking way directly. */
const CONTENDED_MS = 1000;
// Past this many remembered scopes, the expired ones are dropped.
const PRUNE_AT = 1000;

/** The changes one committed push made to one scope. */
export interface CommittedScope {
  /** The scope. */
  scope: string;
  /** Its version before the push. */
  from: number;
  /** Its version after the push. */
  version: number;
  /** The records the push left, in version order: exactly a pull from `from`'s answer at `version`. */
  changes: SyncRecord[];
  /** The client that pushed. */
  originClientId: string;
}

/** Runs pushes on one database; see {@link PushRunner.push}. */
export class PushRunner {
  readonly #db: SqlExecutor;
  readonly #options: { maxFieldsPerRecord: number };
  readonly #hooks: PushHooks;
  // Scopes whose optimistic push failed lately (a push of another process slipped in), with the
  // time that stops. Pushes to a scope that several processes write at once would mostly fail
  // the check and pay for a wasted read and apply each time; those go straight to the locking
  // way.
  readonly #contended = new Map<string, number>();
  readonly #onCommitted: ((committed: CommittedScope) => void) | undefined;
  /** Per scope, the settling of the last push of this process queued on it. */
  readonly #tails = new Map<string, Promise<void>>();

  /**
   * @param db - the database
   * @param options - the push limits
   * @param hooks - test hooks
   * @param onCommitted - told, after each commit, the changes the push made to each scope
   */
  constructor(
    db: SqlExecutor,
    options: { maxFieldsPerRecord: number },
    hooks: PushHooks = {},
    onCommitted?: (committed: CommittedScope) => void,
  ) {
    this.#db = db;
    this.#options = options;
    this.#hooks = hooks;
    this.#onCommitted = onCommitted;
  }

  /**
   * What the runner holds in this process's memory: scopes with a push of this process queued
   * or running (`queued`), and scopes taking the locking way for now (`contended`). Both stay
   * bounded: a scope leaves `queued` as its last push settles, and once `contended` holds 1000
   * scopes the ones whose second is over are dropped.
   */
  get held(): { queued: number; contended: number } {
    return { queued: this.#tails.size, contended: this.#contended.size };
  }

  /** Runs a push: optimistic first, the locking way when its snapshot went out of date. */
  async push(auth: AuthContext, request: StorePushRequest, now: number): Promise<PushResponse> {
    if (request.entries.length === 0) return { results: [] };
    // Scopes, ids and record keys of the push, worked out once for whichever way it takes.
    const inputs = pushInputs(request);
    const { scopes } = inputs;
    // Test hooks let another push of the same scope run inside this one: no queue then.
    const queued =
      this.#hooks.afterSnapshot === undefined && this.#hooks.beforeCommit === undefined;
    const run = async (): Promise<PushResponse> => {
      if (!scopes.some((scope) => (this.#contended.get(scope) ?? 0) > now)) {
        const optimistic = await pushOptimistic(
          this.#db,
          auth,
          request,
          inputs,
          now,
          this.#options,
          this.#hooks,
        );
        if (optimistic !== undefined) return this.#committed(optimistic, request.clientId);
        this.#markContended(scopes, now);
      }
      const outcome = await this.#db.transaction(async (tx) => {
        const pushed = await pushInTransaction(tx, auth, request, inputs, now, this.#options);
        await this.#hooks.beforeCommit?.();
        return pushed;
      });
      return this.#committed(outcome, request.clientId);
    };
    return queued ? this.#inScopeOrder(scopes, run) : run();
  }

  /**
   * Runs `fn` after every earlier push of this process that shares a scope with it. Pushes to
   * one scope commit one at a time anyway (its row lock), so queueing them here costs nothing,
   * and it keeps this process's own pushes from making each other's snapshots stale: only a
   * push of another process can, and a scope then takes the locking way for a second. A push
   * waits only for pushes queued before it, so multi-scope pushes cannot deadlock.
   */
  async #inScopeOrder<T>(scopes: readonly string[], fn: () => Promise<T>): Promise<T> {
    const before: Promise<void>[] = [];
    let release = (): void => {};
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    for (const scope of scopes) {
      const tail = this.#tails.get(scope);
      if (tail !== undefined) before.push(tail);
      this.#tails.set(scope, done);
    }
    try {
      if (before.length > 0) await Promise.all(before);
      return await fn();
    } finally {
      release();
      for (const scope of scopes) if (this.#tails.get(scope) === done) this.#tails.delete(scope);
    }
  }

  /** Tells `onCommitted` what a committed push changed; returns its answer. */
  #committed(outcome: PushOutcome, clientId: string): PushResponse {
    const { plan, versionsBefore } = outcome;
    if (this.#onCommitted !== undefined && plan !== undefined && versionsBefore !== undefined) {
      for (const committed of committedScopes(plan, versionsBefore, clientId)) {
        this.#onCommitted(committed);
      }
    }
    return outcome.response;
  }

  #markContended(scopes: readonly string[], now: number): void {
    if (this.#contended.size >= PRUNE_AT) {
      for (const [scope, until] of this.#contended) if (until <= now) this.#contended.delete(scope);
    }
    for (const scope of scopes) this.#contended.set(scope, now + CONTENDED_MS);
  }
}

/** The optimistic push; `undefined` when its snapshot was out of date (nothing was written). */
async function pushOptimistic(
  db: SqlExecutor,
  auth: AuthContext,
  request: StorePushRequest,
  inputs: PushInputs,
  now: number,
  options: { maxFieldsPerRecord: number },
  hooks: PushHooks,
): Promise<PushOutcome | undefined> {
  const { scopes, claims, keys } = inputs;
  const rows = await db.query<PushReadRow>('SELECT * FROM syncline.push_snapshot($1::jsonb)', [
    JSON.stringify({ scopes, ids: claims.map((c) => c.id), keys }),
  ]);
  const read = readRows(rows);
  const { versions, purged } = read;
  const plan = planFromRead(read, auth, request, options);
  // Replays and conflicts only: nothing to store, and a conflict is judged again on a re-send.
  if (plan.writes.size === 0 && plan.store.size === 0)
    return { response: { results: plan.results } };

  await hooks.afterSnapshot?.();
  const scopeOf = new Map(claims.map((c) => [c.id, c.scope]));
  const apply = JSON.stringify({
    // Every scope the push writes is locked and checked, also one only a rejection touched.
    scopes: scopes.map((scope) => ({
      scope,
      version: versions.get(scope) ?? 0,
      purged: purged.get(scope) ?? 0,
    })),
    outcomes: [...plan.store.values()].map((outcome) => ({
      id: outcome.id,
      scope: scopeOf.get(outcome.id) ?? null,
      outcome,
    })),
    writes: [...plan.writes.values()].map(recordWrite),
    versions: [...plan.versions].map(([scope, version]) => ({ scope, version })),
    pokes: pokesOf(plan, request.clientId),
    channel: POKE_CHANNEL,
    user: auth.userId,
    client: request.clientId,
    now,
  });
  try {
    if (hooks.beforeCommit === undefined) {
      await db.query('SELECT syncline.push_apply($1::jsonb)', [apply]);
    } else {
      const beforeCommit = hooks.beforeCommit;
      await db.transaction(async (tx) => {
        await tx.query('SELECT syncline.push_apply($1::jsonb)', [apply]);
        await beforeCommit();
      });
    }
  } catch (error) {
    if ((error as { code?: unknown }).code === STALE_SNAPSHOT_SQLSTATE) return undefined;
    throw error;
  }
  return { response: { results: plan.results }, plan, versionsBefore: versions };
}

/**
 * The changes of each scope a committed plan raised: the records it wrote there, in version
 * order. Every version between the scope's version before the push and after it was handed out
 * by this push (under the scope's lock, or verified unchanged), so these records are exactly
 * what a pull from the version before would return at the version after.
 */
export function committedScopes(
  plan: PushPlan,
  versionsBefore: ReadonlyMap<string, number>,
  clientId: string,
): CommittedScope[] {
  const committed: CommittedScope[] = [];
  for (const [scope, version] of plan.versions) {
    // As in the plan: a scope without a row yet stood at version 0.
    const from = versionsBefore.get(scope) ?? 0;
    const changes: SyncRecord[] = [];
    for (const record of plan.writes.values()) if (record.scope === scope) changes.push(record);
    changes.sort((a, b) => a.revision - b.revision);
    committed.push({ scope, from, version, changes, originClientId: clientId });
  }
  return committed;
}
