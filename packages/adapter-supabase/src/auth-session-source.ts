/**
 * Who is signed in, followed from Supabase Auth: `onAuthStateChange` drives a session source
 * (`SIGNED_IN`, `TOKEN_REFRESHED`, `INITIAL_SESSION`, `USER_UPDATED` carry a session;
 * `SIGNED_OUT` or no session means signed out). The session id is the access token's
 * `session_id` claim, the primary key of the session's row in `auth.sessions`.
 *
 * @module
 */
import { type AuthSession, createSessionSource, type SessionSource } from '@syncline/sync-core';
import type { AuthSessionLike, SupabaseClientLike } from './client-like.js';

/** A session source that follows Supabase Auth until `stop` is called. */
export interface SupabaseSessionSource extends SessionSource {
  /** Stops following `onAuthStateChange`. */
  stop(): void;
}

/** Reads the claims of a JWT without verifying it (the database verifies every call). */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  const part = token.split('.')[1];
  if (part === undefined) return undefined;
  try {
    const base64 = part.replaceAll('-', '+').replaceAll('_', '/');
    const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims)
      ? (claims as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The syncline session of a Supabase Auth session, or `undefined` when its token has no `session_id`. */
export function authSessionOf(session: AuthSessionLike): AuthSession | undefined {
  const sessionId = jwtClaims(session.access_token)?.session_id;
  if (typeof sessionId !== 'string' || sessionId === '') return undefined;
  return { userId: session.user.id, sessionId };
}

/**
 * Follows `client.auth`. A session whose access token carries no `session_id` (a token not
 * issued by Supabase Auth) counts as signed out and is reported to `onError`: the client keeps
 * working locally and nothing is lost.
 */
export function supabaseSessionSource(
  client: Pick<SupabaseClientLike, 'auth'>,
  onError: (error: Error) => void,
): SupabaseSessionSource {
  const source = createSessionSource(null);
  const { data } = client.auth.onAuthStateChange((event, session) => {
    if (event === 'SIGNED_OUT' || session === null) {
      source.set(null);
      return;
    }
    const next = authSessionOf(session);
    if (next === undefined) {
      onError(
        new Error(
          `syncline: the Supabase access token has no session_id claim (auth event ${event}); syncing stays off`,
        ),
      );
      source.set(null);
      return;
    }
    source.set(next);
  });
  return {
    current: source.current,
    subscribe: source.subscribe,
    stop: () => data.subscription.unsubscribe(),
  };
}
