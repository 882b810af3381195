/**
 * SQL of device sessions: heartbeat (upsert on `(user_id, client_id)`), list, revoke, and
 * the revoked check every authenticated request makes.
 *
 * @module
 */
import type { SessionInfo } from '@syncline/sync-core/protocol';
import type { SqlExecutor, SqlQueryable } from '../store/executor.js';
import { toNumber } from '../store/rows.js';
import type { AuthContext } from '../store/types.js';
import type { HeartbeatOutcome, RevocationOutcome, TargetingEvent } from './types.js';

/** What the queries need besides the database. */
export interface QueryContext {
  /** The server clock, epoch milliseconds. */
  now: () => number;
  /** A session silent for longer is stale. */
  activeWindowMs: number;
  /** Sends a targeting event after the transaction commits (NOTIFY inside it). */
  notify: (tx: SqlQueryable, events: readonly TargetingEvent[]) => Promise<void>;
  /** The NOTIFY channel and payloads of `events`, for a statement that notifies itself. */
  notification: (events: readonly TargetingEvent[]) => { channel: string; payloads: string[] };
}

interface SessionRow {
  user_id: string;
  client_id: string;
  session_id: string;
  label: string | null;
  platform: string | null;
  last_seen_at: string | number;
  revoked_at: string | number | null;
}

const SESSION_COLUMNS = 'user_id, client_id, session_id, label, platform, last_seen_at, revoked_at';

function toSessionInfo(row: SessionRow, activeSince: number): SessionInfo {
  const lastSeenAt = toNumber(row.last_seen_at);
  const info: SessionInfo = {
    userId: row.user_id,
    sessionId: row.session_id,
    clientId: row.client_id,
    lastSeenAt,
    active: row.revoked_at === null && lastSeenAt >= activeSince,
  };
  if (row.label !== null) info.label = row.label;
  if (row.platform !== null) info.platform = row.platform;
  if (row.revoked_at !== null) info.revokedAt = toNumber(row.revoked_at);
  return info;
}

/**
 * Runs in the transaction that revoked sessions `sessionIds` of `userId` (or replaced one by a
 * re-login), after the change: what waited only on them completes there. Answers the blob keys
 * of the asset copies that released (the caller deletes their bytes).
 */
export type AfterRevocation = (
  tx: SqlQueryable,
  revoked: { userId: string; sessionIds: readonly string[] },
) => Promise<string[]>;

/**
 * Upserts the calling session; a different session id on the same device is revoked, and
 * `afterRevocation` runs in the same transaction. `null` when the calling session is revoked:
 * checked under the device row's lock, which a revocation of that session also takes, so a
 * heartbeat that passed the request's revoked check just before a revocation committed cannot
 * bring the session back.
 */
export async function heartbeat(
  db: SqlExecutor,
  ctx: QueryContext,
  auth: AuthContext,
  request: { clientId: string; label?: string; platform?: string },
  afterRevocation: AfterRevocation,
): Promise<HeartbeatOutcome | null> {
  const now = ctx.now();
  return db.transaction(async (tx) => {
    // The device's row, locked: two heartbeats of one device (or a re-login racing one) queue.
    const [before] = await tx.query<{ session_id: string; revoked_at: unknown }>(
      `SELECT session_id, revoked_at FROM syncline.sessions
       WHERE user_id = $1 AND client_id = $2 FOR UPDATE`,
      [auth.userId, request.clientId],
    );
    if (await isRevoked(tx, auth)) return null;
    // The same session id on another device of the user (a client that changed its clientId):
    // the session moves to this device.
    await tx.query(
      'DELETE FROM syncline.sessions WHERE user_id = $1 AND session_id = $2 AND client_id <> $3',
      [auth.userId, auth.sessionId, request.clientId],
    );
    const replaced = before !== undefined && before.session_id !== auth.sessionId;
    if (replaced) {
      await tx.query(
        `INSERT INTO syncline.revoked_sessions (user_id, session_id, revoked_at)
         VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [auth.userId, before.session_id, now],
      );
    }
    const [row] = await tx.query<SessionRow>(
      `INSERT INTO syncline.sessions
         (user_id, client_id, session_id, label, platform, last_seen_at, revoked_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, NULL, $6)
       ON CONFLICT (user_id, client_id) DO UPDATE SET
         session_id = EXCLUDED.session_id,
         label = COALESCE(EXCLUDED.label, syncline.sessions.label),
         platform = COALESCE(EXCLUDED.platform, syncline.sessions.platform),
         last_seen_at = EXCLUDED.last_seen_at,
         revoked_at = NULL
       RETURNING ${SESSION_COLUMNS}`,
      [
        auth.userId,
        request.clientId,
        auth.sessionId,
        request.label ?? null,
        request.platform ?? null,
        now,
      ],
    );
    if (row === undefined) throw new Error('the session upsert returned no row');
    // The old session is not waited for any more (it has no row now): after the upsert.
    const releasedBlobKeys = replaced
      ? await afterRevocation(tx, { userId: auth.userId, sessionIds: [before.session_id] })
      : [];
    // The list changed (a new device, a replaced session, a label): the user's other streams re-list.
    if (before === undefined || replaced) {
      await ctx.notify(tx, [
        { type: 'session', userId: auth.userId, originSessionId: auth.sessionId },
      ]);
    }
    return { session: toSessionInfo(row, now - ctx.activeWindowMs), releasedBlobKeys };
  });
}

/** The user's sessions, revoked excluded, most recently seen first. */
export async function listSessions(
  db: SqlQueryable,
  ctx: QueryContext,
  userId: string,
): Promise<SessionInfo[]> {
  const activeSince = ctx.now() - ctx.activeWindowMs;
  const rows = await db.query<SessionRow>(
    `SELECT ${SESSION_COLUMNS} FROM syncline.sessions
     WHERE user_id = $1 AND revoked_at IS NULL
     ORDER BY last_seen_at DESC, client_id`,
    [userId],
  );
  return rows.map((row) => toSessionInfo(row, activeSince));
}

/**
 * Revokes one session of the user (`sessionId`) or all of them (`undefined`), then runs
 * `afterRevocation` in the same transaction.
 */
async function revoke(
  db: SqlExecutor,
  ctx: QueryContext,
  auth: AuthContext,
  sessionId: string | undefined,
  afterRevocation: AfterRevocation,
): Promise<RevocationOutcome> {
  const now = ctx.now();
  return db.transaction(async (tx) => {
    const rows = await tx.query<{ session_id: string }>(
      `UPDATE syncline.sessions SET revoked_at = $2
       WHERE user_id = $1 AND revoked_at IS NULL AND ($3::text IS NULL OR session_id = $3)
       RETURNING session_id`,
      [auth.userId, now, sessionId ?? null],
    );
    const ids = rows.map((row) => row.session_id);
    // Revoke-all also signs out the calling session even if it never sent a heartbeat.
    if (sessionId === undefined && !ids.includes(auth.sessionId)) ids.push(auth.sessionId);
    if (ids.length > 0) {
      await tx.query(
        `INSERT INTO syncline.revoked_sessions (user_id, session_id, revoked_at)
         SELECT $1, id, $3 FROM unnest($2::text[]) AS id
         ON CONFLICT DO NOTHING`,
        [auth.userId, ids, now],
      );
      await ctx.notify(tx, [
        { type: 'session', userId: auth.userId, originSessionId: auth.sessionId },
      ]);
    }
    const releasedBlobKeys =
      rows.length > 0 ? await afterRevocation(tx, { userId: auth.userId, sessionIds: ids }) : [];
    return { revoked: rows.length, releasedBlobKeys };
  });
}

/** Revokes one of the user's sessions (`revoked: 0` when the user has no such unrevoked session). */
export function revokeSession(
  db: SqlExecutor,
  ctx: QueryContext,
  auth: AuthContext,
  sessionId: string,
  afterRevocation: AfterRevocation,
): Promise<RevocationOutcome> {
  return revoke(db, ctx, auth, sessionId, afterRevocation);
}

/** Revokes every session of the user. */
export function revokeAllSessions(
  db: SqlExecutor,
  ctx: QueryContext,
  auth: AuthContext,
  afterRevocation: AfterRevocation,
): Promise<RevocationOutcome> {
  return revoke(db, ctx, auth, undefined, afterRevocation);
}

/** `true` when the caller's session was signed out. */
export async function isRevoked(db: SqlQueryable, auth: AuthContext): Promise<boolean> {
  const rows = await db.query(
    'SELECT 1 FROM syncline.revoked_sessions WHERE user_id = $1 AND session_id = $2',
    [auth.userId, auth.sessionId],
  );
  return rows.length > 0;
}

/** The active sessions of `userIds`. */
export async function activeSessions(
  db: SqlQueryable,
  ctx: QueryContext,
  userIds: readonly string[],
): Promise<Array<{ userId: string; sessionId: string }>> {
  const rows = await db.query<{ user_id: string; session_id: string }>(
    `SELECT user_id, session_id FROM syncline.sessions
     WHERE user_id = ANY($1::text[]) AND revoked_at IS NULL AND last_seen_at >= $2
     ORDER BY user_id, session_id`,
    [userIds, ctx.now() - ctx.activeWindowMs],
  );
  return rows.map((row) => ({ userId: row.user_id, sessionId: row.session_id }));
}
