/**
 * Races staged on PostgreSQL: one request held open inside its transaction while another runs,
 * to see whether the other waits on a lock (the behaviour the race tests want) or answers at
 * once (what it did before the lock).
 */
import type { SqlExecutor, SqlQueryable } from '@syncline/server';
import { expect } from 'vitest';
import { asRequest } from './request-context.js';

/** A request kept open by {@link heldOpen}. */
export interface HeldRequest<T> {
  /** Resolves once the request's statements ran (its locks are taken). */
  readonly inside: Promise<void>;
  /** Lets the transaction commit. */
  commit(): void;
  /** The request's answer, once committed (a rejection is the test's to await). */
  readonly result: Promise<T>;
}

/**
 * Runs `fn` in a transaction as a request with `claims` (as PostgREST runs an RPC) and keeps it
 * open until `commit()`.
 */
export function heldOpen<T>(
  db: SqlExecutor,
  claims: Record<string, unknown>,
  fn: (tx: SqlQueryable) => Promise<T>,
): HeldRequest<T> {
  let commit = (): void => undefined;
  const held = new Promise<void>((resolve) => {
    commit = resolve;
  });
  let ran = (): void => undefined;
  const inside = new Promise<void>((resolve) => {
    ran = resolve;
  });
  const result = asRequest(db, claims, async (tx) => {
    const answer = await fn(tx);
    ran();
    await held;
    return answer;
  });
  result.catch(() => undefined); // awaited by the test
  return { inside, commit, result };
}

/**
 * Waits until `promise` settled or one connection of `db`'s database waits on a lock, then
 * commits the held request; answers which came first.
 */
export async function whileHeld(
  db: SqlExecutor,
  promise: PromiseLike<unknown>,
  commit: () => void,
): Promise<'answered' | 'waited'> {
  let answered = false;
  void Promise.resolve(promise).finally(() => {
    answered = true;
  });
  const lockWaiters = async () =>
    (
      await db.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      )
    )[0]?.n;
  let seen: 'answered' | 'waited' | undefined;
  try {
    await expect
      .poll(
        async () => {
          if (answered) seen = 'answered';
          else if ((await lockWaiters()) === '1') seen = 'waited';
          return seen !== undefined;
        },
        { timeout: 10_000 },
      )
      .toBe(true);
  } finally {
    commit();
  }
  return seen ?? 'answered';
}
