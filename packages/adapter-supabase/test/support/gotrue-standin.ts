/**
 * A minimal Supabase Auth (GoTrue) endpoint: what supabase-js's auth client calls for password
 * sign-in, refresh, reading the user and sign-out, with sessions and refresh tokens kept where
 * Supabase keeps them (`auth.users`, `auth.sessions`, `auth.refresh_tokens`) and written as
 * GoTrue writes them: each request in one transaction as the role GoTrue connects as
 * (`supabase_auth_admin`, no privilege on the app's schemas, so a trigger the app puts on
 * `auth.sessions` runs as it does on Supabase). Sign-out deletes `auth.sessions` rows (local:
 * this session; others: the user's other sessions; global: all of them; supabase/auth
 * `internal/models/sessions.go` `LogoutSession`, `LogoutAllExceptMe`, `Logout`), their refresh
 * tokens going by the foreign key's cascade. A refresh rotates the token (the old one revoked,
 * a child issued); reusing a revoked one revokes the session's whole family (`RevokeTokenFamily`;
 * no reuse interval here). Access tokens are HS256 JWTs with Supabase's claims (`sub`, `role`,
 * `aud`, `session_id`, `aal`, `amr`, ...). Passwords are not checked: any email signs in (and
 * is created on first use).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { SqlExecutor, SqlQueryable } from '@syncline/server';
import { ISSUER, signJwt, verifyBearer } from './jwt.js';

/** An HTTP answer. */
export interface AuthAnswer {
  status: number;
  body: unknown;
}

interface Grant {
  userId: string;
  email: string;
  sessionId: string;
}

/** The auth endpoint over `db` (a superuser connection: it writes the auth schema). */
export class GoTrueStandIn {
  readonly #db: SqlExecutor;
  /** Lifetime of access tokens, in seconds. */
  accessTokenSeconds = 3600;

  constructor(db: SqlExecutor) {
    this.#db = db;
  }

  /** Handles a request under `/auth/v1`. */
  async handle(request: {
    method: string;
    path: string;
    query: URLSearchParams;
    headers: Record<string, string>;
    body: string;
  }): Promise<AuthAnswer> {
    const body = request.body === '' ? {} : (JSON.parse(request.body) as Record<string, unknown>);
    if (request.method === 'POST' && request.path === '/token') {
      const grant = request.query.get('grant_type');
      if (grant === 'password') return this.#signIn(String(body.email ?? ''));
      if (grant === 'refresh_token') return this.#refreshGrant(String(body.refresh_token ?? ''));
      return failure(400, 'unsupported_grant_type', `grant_type ${grant} is not supported`);
    }
    const bearer = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const verified = await verifyBearer(bearer);
    const claims = 'claims' in verified ? verified.claims : undefined;
    if (claims === undefined || typeof claims.sub !== 'string') {
      return failure(401, 'bad_jwt', 'invalid JWT');
    }
    if (request.method === 'GET' && request.path === '/user') {
      return { status: 200, body: userJson(claims.sub, String(claims.email ?? '')) };
    }
    if (request.method === 'POST' && request.path === '/logout') {
      await this.#signOut(claims, request.query.get('scope') ?? 'global');
      return { status: 204, body: undefined };
    }
    return failure(404, 'not_found', `no route ${request.method} ${request.path}`);
  }

  /** Runs `fn` in one transaction as GoTrue's database role. */
  #asAuthServer<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    return this.#db.transaction(async (tx) => {
      await tx.query("SELECT set_config('role', 'supabase_auth_admin', true)");
      return fn(tx);
    });
  }

  /** Signs `email` in on a new device: a new `auth.sessions` row, as GoTrue does. */
  async #signIn(email: string): Promise<AuthAnswer> {
    if (!/^[^@\s]+@[^@\s]+$/.test(email)) return failure(400, 'validation_failed', 'bad email');
    return this.#asAuthServer(async (tx) => {
      const [user] = await tx.query<{ id: string }>(
        `INSERT INTO auth.users (id, email, role) VALUES ($1, $2, 'authenticated')
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [userIdOf(email), email],
      );
      const userId = user?.id ?? userIdOf(email);
      const sessionId = randomUUID();
      await tx.query(
        `INSERT INTO auth.sessions (id, user_id, aal, created_at, updated_at)
         VALUES ($1, $2, 'aal1', now(), now())`,
        [sessionId, userId],
      );
      return this.#issue(tx, { userId, email, sessionId }, null);
    });
  }

  async #refreshGrant(token: string): Promise<AuthAnswer> {
    return this.#asAuthServer(async (tx) => {
      const [row] = await tx.query<{ revoked: boolean; session_id: string; email: string }>(
        `SELECT r.revoked, r.session_id::text, u.email FROM auth.refresh_tokens r
         JOIN auth.sessions s ON s.id = r.session_id JOIN auth.users u ON u.id = s.user_id
         WHERE r.token = $1 FOR UPDATE OF r`,
        [token],
      );
      if (row === undefined) {
        return failure(
          400,
          'refresh_token_not_found',
          'Invalid Refresh Token: Refresh Token Not Found',
        );
      }
      if (row.revoked) {
        await tx.query(
          `UPDATE auth.refresh_tokens SET revoked = true, updated_at = now()
           WHERE session_id = $1 AND revoked = false`,
          [row.session_id],
        );
        return failure(400, 'refresh_token_already_used', 'Invalid Refresh Token: Already Used');
      }
      const [grant] = await tx.query<{ user_id: string }>(
        `UPDATE auth.refresh_tokens SET revoked = true, updated_at = now() WHERE token = $1
         RETURNING user_id`,
        [token],
      );
      await tx.query('UPDATE auth.sessions SET refreshed_at = now() WHERE id = $1', [
        row.session_id,
      ]);
      return this.#issue(
        tx,
        { userId: String(grant?.user_id), email: row.email, sessionId: row.session_id },
        token,
      );
    });
  }

  async #signOut(claims: Record<string, unknown>, scope: string): Promise<void> {
    const sessionId = String(claims.session_id ?? '');
    const userId = String(claims.sub);
    await this.#asAuthServer(async (tx) => {
      if (scope === 'local') {
        await tx.query('DELETE FROM auth.sessions WHERE id = $1', [sessionId]);
      } else if (scope === 'others') {
        await tx.query('DELETE FROM auth.sessions WHERE user_id = $1 AND id <> $2', [
          userId,
          sessionId,
        ]);
      } else {
        await tx.query('DELETE FROM auth.sessions WHERE user_id = $1', [userId]);
      }
    });
  }

  /** Issues an access token and a new refresh token (a child of `parent`) for `grant`. */
  async #issue(tx: SqlQueryable, grant: Grant, parent: string | null): Promise<AuthAnswer> {
    const now = Math.floor(Date.now() / 1000);
    const accessToken = await signJwt(
      {
        iss: ISSUER,
        aud: 'authenticated',
        sub: grant.userId,
        role: 'authenticated',
        email: grant.email,
        aal: 'aal1',
        amr: [{ method: 'password', timestamp: now }],
        session_id: grant.sessionId,
        is_anonymous: false,
        app_metadata: { provider: 'email', providers: ['email'] },
        user_metadata: {},
      },
      this.accessTokenSeconds,
      now,
    );
    const refreshToken = randomBytes(16).toString('hex');
    await tx.query(
      `INSERT INTO auth.refresh_tokens (token, user_id, revoked, created_at, updated_at, parent, session_id)
       VALUES ($1, $2, false, now(), now(), $3, $4)`,
      [refreshToken, grant.userId, parent, grant.sessionId],
    );
    return {
      status: 200,
      body: {
        access_token: accessToken,
        token_type: 'bearer',
        expires_in: this.accessTokenSeconds,
        expires_at: now + this.accessTokenSeconds,
        refresh_token: refreshToken,
        user: userJson(grant.userId, grant.email),
      },
    };
  }
}

/** A stable user id per email, so one email is one user across sign-ins. */
export function userIdOf(email: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (const c of email) {
    h1 = Math.imul(h1 ^ c.charCodeAt(0), 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c.charCodeAt(0), 0x5bd1e995) >>> 0;
  }
  const hex = (h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0')).repeat(2);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function userJson(id: string, email: string) {
  return {
    id,
    aud: 'authenticated',
    role: 'authenticated',
    email,
    app_metadata: { provider: 'email', providers: ['email'] },
    user_metadata: {},
    identities: [],
    created_at: new Date(0).toISOString(),
    updated_at: new Date(0).toISOString(),
    is_anonymous: false,
  };
}

function failure(status: number, code: string, message: string): AuthAnswer {
  return { status, body: { code: status, error_code: code, msg: message } };
}
