/**
 * The one SQL implementation of {@link SyncStore}, over any {@link SqlExecutor}.
 *
 * @module
 */
import type { SyncEnvironment } from '@syncline/sync-core';
import {
  DEFAULT_LIMITS,
  type Poke,
  type PullRequest,
  type PullResponse,
  SyncError,
  validatePoke,
} from '@syncline/sync-core/protocol';
import { readChangesAfter } from '../realtime/changes-after.js';
import {
  createSqlTargetingStore,
  DEFAULT_TARGETING_POLICY,
} from '../targeting/sql-targeting-store.js';
import type { TargetingPolicy } from '../targeting/types.js';
import { encodeCheckpoint } from './checkpoint.js';
import type { SqlExecutor } from './executor.js';
import { runMigrations } from './migrations.js';
import { pullPageText } from './pull-query.js';
import { PushRunner } from './push-optimistic.js';
import { POKE_CHANNEL } from './push-transaction.js';
import { toNumber } from './rows.js';
import type { CommittedChanges, PullPageText, SyncStore } from './types.js';

/** Options shared by every SQL store. */
export interface SqlStoreOptions extends Partial<TargetingPolicy> {
  /**
   * How long tombstones are kept before {@link SyncStore.purgeTombstones} may remove them. A
   * client offline for longer must resync its scope (`resetRequired`).
   * @default 2_592_000_000 (30 days)
   */
  tombstoneRetentionMs?: number;
  /**
   * How long the outcome of a mutation id is kept (the idempotency log) before
   * {@link SyncStore.purgeMutations} may remove it. A client whose answer was lost and that
   * re-sends later is still recognised while the record carries its write (by `hlc`), but a
   * re-sent mutation whose record moved on is then judged again (a `conflict`), and a rejected
   * one may be judged differently. Keep it longer than clients stay offline with a push in
   * flight.
   * @default 604_800_000 (7 days)
   */
  mutationRetentionMs?: number;
  /** Page size of a pull without `limit`. @default 1000 (the protocol's `maxPullLimit`) */
  defaultPullLimit?: number;
  /** Most top-level fields a record may reach through a patch (larger: rejected `invalid`). @default 1000 */
  maxFieldsPerRecord?: number;
  /**
   * Injected time, as in every syncline part: `now()` in epoch milliseconds (tombstone ages,
   * mutation log times, and the server clock of sessions, delivery expiry and transfers).
   * @default the real clock (`Date.now`)
   */
  environment?: Partial<Pick<SyncEnvironment, 'now'>>;
  /** New UUIDs (blob keys, transfer request deliveries). @default crypto.randomUUID */
  newId?: () => string;
  /** Where unexpected background errors go (a lost LISTEN connection, a bad payload). @default console.error */
  onError?: (error: unknown) => void;
}

/** Hooks for tests of concurrency: `beforeCommit` runs while a push holds its locks, just before it commits. Not for production use. */
export interface SqlStoreTestHooks {
  /** Runs inside every push transaction, after its writes and before COMMIT. */
  beforeCommit?: () => Promise<void>;
  /** Runs between a push's optimistic read and its apply, holding no lock. */
  afterSnapshot?: () => Promise<void>;
}

const DAY = 24 * 60 * 60 * 1000;
// Outcomes are deleted in batches of this many, so no purge holds a long transaction.
const MUTATION_PURGE_BATCH = 10_000;
// Serialization failures and deadlocks are the database asking us to try again.
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 5;
// Who reads the changes of a poke: the server itself (pull does not depend on the caller).
const SERVER = Object.freeze({ userId: '', sessionId: '' });

/** Builds a store over `db`: runs the migrations, then starts listening for pokes. */
export async function createSqlStore(
  db: SqlExecutor,
  options: SqlStoreOptions = {},
  hooks: SqlStoreTestHooks = {},
): Promise<SyncStore> {
  const now = options.environment?.now ?? Date.now;
  const onError = options.onError ?? ((error: unknown) => console.error('[syncline]', error));
  const retentionMs = retentionOption(options, 'tombstoneRetentionMs', 30 * DAY);
  const mutationRetentionMs = retentionOption(options, 'mutationRetentionMs', 7 * DAY);
  const defaultLimit = options.defaultPullLimit ?? DEFAULT_LIMITS.maxPullLimit;
  const maxFieldsPerRecord = options.maxFieldsPerRecord ?? DEFAULT_LIMITS.maxFieldsPerRecord;

  await runMigrations(db);
  const [epochRow] = await db.query<{ value: string }>(
    "SELECT value FROM syncline.meta WHERE key = 'epoch'",
  );
  const epoch = epochRow?.value ?? '0';

  const targeting = await createSqlTargetingStore(db, {
    ...DEFAULT_TARGETING_POLICY,
    ...definedPolicy(options),
    now,
    newId: options.newId ?? (() => crypto.randomUUID()),
    onError,
  });

  const listeners = new Set<(poke: Poke) => void>();
  const unlisten = await db.listen(POKE_CHANNEL, (payload) => {
    let poke: Poke;
    try {
      poke = validatePoke(JSON.parse(payload));
    } catch (error) {
      onError(error);
      return;
    }
    for (const listener of listeners) {
      try {
        listener(poke);
      } catch (error) {
        onError(error);
      }
    }
  });

  let closed = false;
  const retrying = async <T>(fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (attempt >= MAX_ATTEMPTS || typeof code !== 'string' || !RETRYABLE.has(code))
          throw error;
      }
    }
  };
  const open = () => {
    if (closed)
      throw new SyncError('server', 'the store is closed', { status: 503, code: 'closed' });
  };

  const committers = new Set<(commit: CommittedChanges) => void>();
  const pushes = new PushRunner(db, { maxFieldsPerRecord }, hooks, (committed) => {
    if (committers.size === 0) return;
    const commit: CommittedChanges = {
      ...committed,
      fromCheckpoint: encodeCheckpoint(epoch, committed.from),
      checkpoint: encodeCheckpoint(epoch, committed.version),
      hasMore: false,
    };
    for (const listener of committers) {
      try {
        listener(commit);
      } catch (error) {
        onError(error);
      }
    }
  });

  // The page as JSON text, rendered by the database; `pull` parses the same text.
  const pullText = async (request: PullRequest): Promise<PullPageText> => {
    open();
    return retrying(() => pullPageText(db, request, { epoch, defaultLimit }));
  };

  const store: SyncStore = {
    targeting,
    async push(auth, request) {
      open();
      return retrying(() => pushes.push(auth, request, now()));
    },
    async pull(_auth, request) {
      return JSON.parse((await pullText(request)).text) as PullResponse;
    },
    pullText: (_auth, request) => pullText(request),
    // Pokes that carry their changes read them with this same pull, on behalf of the server
    // (each event stream's scopes were authorised when it opened).
    changesAfter: (scope, version, limit) =>
      readChangesAfter((request) => store.pull(SERVER, request), epoch, scope, version, limit),
    onPoke(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    onCommit(listener) {
      committers.add(listener);
      return () => {
        committers.delete(listener);
      };
    },
    async purgeTombstones(purgeOptions = {}) {
      open();
      const cutoff = now() - (purgeOptions.olderThanMs ?? retentionMs);
      const candidates = await db.query<{ scope: string }>(
        'SELECT DISTINCT scope FROM syncline.records WHERE deleted AND deleted_at < $1 ORDER BY scope',
        [cutoff],
      );
      let purged = 0;
      const scopes: string[] = [];
      for (const { scope } of candidates) {
        // Scope lock first, like a push, so purge and push never deadlock.
        const count = await retrying(() =>
          db.transaction(async (tx) => {
            await tx.query('SELECT 1 FROM syncline.scopes WHERE scope = $1 FOR UPDATE', [scope]);
            const [row] = await tx.query<{ n: string | number; horizon: string | number | null }>(
              `WITH gone AS (
                 DELETE FROM syncline.records
                 WHERE scope = $1 AND deleted AND deleted_at < $2
                 RETURNING revision)
               SELECT count(*) AS n, max(revision) AS horizon FROM gone`,
              [scope, cutoff],
            );
            const horizon = toNumber(row?.horizon ?? null);
            if (horizon > 0) {
              await tx.query(
                `UPDATE syncline.scopes SET purged_through = GREATEST(purged_through, $2)
                 WHERE scope = $1`,
                [scope, horizon],
              );
            }
            return toNumber(row?.n);
          }),
        );
        if (count > 0) scopes.push(scope);
        purged += count;
      }
      return { purged, scopes };
    },
    async purgeMutations(purgeOptions = {}) {
      open();
      const cutoff = now() - (purgeOptions.olderThanMs ?? mutationRetentionMs);
      let purged = 0;
      for (;;) {
        // Claims still held by a pushing transaction (outcome NULL) are never touched.
        const [row] = await retrying(() =>
          db.query<{ n: string | number }>(
            `WITH gone AS (
               DELETE FROM syncline.mutations WHERE id = ANY (ARRAY(
                 SELECT id FROM syncline.mutations
                 WHERE created_at < $1 AND outcome IS NOT NULL LIMIT $2))
               RETURNING 1)
             SELECT count(*) AS n FROM gone`,
            [cutoff, MUTATION_PURGE_BATCH],
          ),
        );
        const count = toNumber(row?.n);
        purged += count;
        if (count < MUTATION_PURGE_BATCH) return { purged };
      }
    },
    async health() {
      open();
      await db.query('SELECT 1');
    },
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      committers.clear();
      try {
        await targeting.close();
        await unlisten();
      } catch (error) {
        onError(error);
      }
      await db.close();
    },
  };
  return store;
}

function definedPolicy(options: SqlStoreOptions): Partial<TargetingPolicy> {
  const policy: Partial<TargetingPolicy> = {};
  for (const key of ['sessionActiveWindowMs', 'assetGraceMs', 'endedRetentionMs'] as const) {
    const value = options[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new TypeError(`${key} must be a non-negative integer of milliseconds`);
    }
    policy[key] = value;
  }
  return policy;
}

/**
 * Throws a `SyncError` (`invalid`, code `bad_option`) for an option no store can run with, so a
 * store factory can refuse it before it opens a database.
 */
export function checkSqlStoreOptions(options: SqlStoreOptions): void {
  retentionOption(options, 'tombstoneRetentionMs', 0);
  retentionOption(options, 'mutationRetentionMs', 0);
}

/** A retention option: a finite number of milliseconds ≥ 0, or its default. */
function retentionOption(
  options: SqlStoreOptions,
  name: 'tombstoneRetentionMs' | 'mutationRetentionMs',
  fallback: number,
): number {
  const value = options[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new SyncError(
      'invalid',
      `${name} must be a number of milliseconds ≥ 0, got ${String(value)}`,
      {
        code: 'bad_option',
      },
    );
  }
  return value;
}
