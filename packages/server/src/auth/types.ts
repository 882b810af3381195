/**
 * How the handler learns who is calling, and what they may touch.
 *
 * @module
 */
import type { AuthContext } from '../store/types.js';

/** The caller as {@link Authenticate} establishes it: who, and until when the credential holds. */
export interface AuthenticatedCaller extends AuthContext {
  /**
   * When the credential stops being valid, in epoch milliseconds (a JWT's `exp`). An event
   * stream opened with it carries no data from then on and ends with `token_expired`.
   * @default undefined (the credential does not expire)
   */
  expiresAt?: number;
}

/**
 * Establishes the caller from a request, usually from its `Authorization: Bearer` token.
 * Resolves `null` for a missing, malformed, forged or expired credential (the handler answers
 * 401). It must not throw for a bad token; a throw is treated as a server error. Set
 * `expiresAt` when the credential has an end, so long-lived event streams end with it.
 */
export type Authenticate = (request: Request) => Promise<AuthenticatedCaller | null>;

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
