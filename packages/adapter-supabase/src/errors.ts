/**
 * PostgREST's answers, as `client.rpc` surfaces them, turned into `SyncError`s whose `kind`
 * tells the replication loop whether to retry. Classified by code, never by status alone
 * (a `42501` is 401 or 403 depending on the role; every `40***` is 500).
 *
 * @module
 */
import { SyncError } from '@syncline/sync-core';
import type { PostgrestErrorLike } from './client-like.js';

// PostgREST's own codes for a JWT it refused (bad signature, expired, claims invalid).
const JWT_CODES = new Set(['PGRST301', 'PGRST302', 'PGRST303']);
// The function or its schema is not there: the SQL was not applied (or the schema cache is
// stale). Retried, so the outbox keeps every write until the setup is fixed.
const NOT_INSTALLED_CODES = new Set(['PGRST202', 'PGRST106', '42883']);
// Serialization failure, deadlock: the database asks for a retry.
const RETRY_CODES = new Set(['40001', '40P01']);
// PostgREST answers SQLSTATE PTxyz with status xyz.
const PT_CODE = /^PT\d{3}$/;
// A protocol error code (session_revoked, not_found, asset_missing, ...).
const SYNCLINE_DETAIL = /^[a-z][a-z_]{1,63}$/;

/**
 * Classifies a failed `rpc` call.
 *
 * - status 0 (no answer; the call may have committed): `network`, retried;
 * - `40001`, `40P01`, any 5xx (`PGRST000`/`001`/`003` pool errors too): `server`, retried;
 * - the syncline functions missing (`PGRST202`, `PGRST106`): `server`, retried, with a
 *   message naming the migrations;
 * - `42501` and refused JWTs (`PGRST301`-`303`): `auth`;
 * - `P0001`, `22***`, `23***` and other 4xx: `rejected` (permanent);
 * - a syncline function's own outcome (`PTxyz`, or `42501`, with the protocol's code in
 *   DETAIL): that code, `auth` for `session_revoked`, `conflict` for 409, `server` (retried)
 *   for 5xx (`PT503` `asset_busy`), else `rejected`;
 * - 429: `rate-limited`; 408: `timeout`.
 */
export function syncErrorFromPostgrest(error: PostgrestErrorLike, status: number): SyncError {
  const code = error.code ?? '';
  const options = { status, ...(code === '' ? {} : { code }), cause: error };
  const message = error.message || `PostgREST answered ${status}`;
  if (status === 0) return new SyncError('network', `Supabase unreachable: ${message}`, options);
  // The syncline functions name their outcome in DETAIL: a PTxyz status (PostgREST answers xyz)
  // with the protocol's code, and 42501 session_revoked for a signed-out session.
  const synclineCode =
    typeof error.details === 'string' ? SYNCLINE_DETAIL.exec(error.details)?.[0] : undefined;
  if (synclineCode !== undefined && (PT_CODE.test(code) || code === '42501')) {
    const named = { ...options, code: synclineCode };
    if (code === '42501') return new SyncError('auth', message, named);
    if (status === 409) return new SyncError('conflict', message, named);
    if (status < 500) return new SyncError('rejected', message, named);
    // PT503 asset_busy: the service role's sweep is removing the object; retried.
    return new SyncError('server', message, named);
  }
  if (NOT_INSTALLED_CODES.has(code)) {
    return new SyncError(
      'server',
      `the syncline functions are not installed in this Supabase project (apply the SQL in @syncline/adapter-supabase/sql): ${message}`,
      options,
    );
  }
  if (code === '42501' || JWT_CODES.has(code)) return new SyncError('auth', message, options);
  if (RETRY_CODES.has(code)) return new SyncError('server', message, options);
  if (status === 429) return new SyncError('rate-limited', message, options);
  if (status === 408) return new SyncError('timeout', message, options);
  if (status >= 500) return new SyncError('server', message, options);
  if (status === 401 || status === 403) return new SyncError('auth', message, options);
  return new SyncError('rejected', message, options);
}
