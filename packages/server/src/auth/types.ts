/**
 * How the handler learns who is calling, and what they may touch.
 *
 * @module
 */
import type { AuthContext } from '../store/types.js';

/**
 * Establishes the caller from a request, usually from its `Authorization: Bearer` token.
 * Resolves `null` for a missing, malformed, forged or expired credential (the handler answers
 * 401). It must not throw for a bad token; a throw is treated as a server error.
 */
export type Authenticate = (request: Request) => Promise<AuthContext | null>;

/** What a caller wants to do with a scope. */
export type ScopeAction = 'read' | 'write';

/**
 * Decides whether `auth` may read or write `scope`. The default allows a user only their own
 * scope `user:<userId>`; an app with shared scopes (`workspace:<id>`) checks membership here.
 */
export type AuthorizeScope = (
  auth: AuthContext,
  scope: string,
  action: ScopeAction,
) => boolean | Promise<boolean>;

/** The default {@link AuthorizeScope}: a user may use only `user:<own id>`. */
export const ownScopeOnly: AuthorizeScope = (auth, scope) => scope === `user:${auth.userId}`;

/** Reads the token of an `Authorization: Bearer <token>` header, or `null`. */
export function bearerToken(request: Request): string | null {
  const header = request.headers.get('authorization');
  if (header === null) return null;
  const match = /^Bearer[ ]+([A-Za-z0-9._~+/=-]{1,8192})[ ]*$/i.exec(header);
  return match?.[1] ?? null;
}
