/**
 * Runs statements the way PostgREST runs a request: one transaction, the role switched and
 * `request.jwt.claims` set with `set_config(..., true)` (never a session-level SET, which
 * would leak into the next request on a pooled connection).
 */
import type { SqlExecutor, SqlQueryable } from '@syncline/server';

/** Claims of a signed-in user's access token. */
export function userClaims(userId: string, sessionId: string): Record<string, unknown> {
  return { sub: userId, role: 'authenticated', aud: 'authenticated', session_id: sessionId };
}

/** Claims of the anon key. */
export const ANON_CLAIMS: Readonly<Record<string, unknown>> = Object.freeze({ role: 'anon' });

/** Runs `fn` in a transaction as the role and claims of a request. */
export async function asRequest<T>(
  db: SqlExecutor,
  claims: Record<string, unknown>,
  fn: (tx: SqlQueryable) => Promise<T>,
  options: { readOnly?: boolean; topic?: string } = {},
): Promise<T> {
  return db.transaction(async (tx) => {
    if (options.readOnly === true) await tx.query('SET TRANSACTION READ ONLY');
    await tx.query(
      `SELECT set_config('search_path', '"public", "extensions"', true),
              set_config('role', $1, true),
              set_config('request.jwt.claims', $2, true),
              set_config('realtime.topic', $3, true)`,
      [String(claims.role ?? 'anon'), JSON.stringify(claims), options.topic ?? ''],
    );
    return fn(tx);
  });
}

/** The SQLSTATE `promise` fails with, or `undefined` when it succeeds. */
export async function sqlstate(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return String((error as { code?: unknown }).code);
  }
}
