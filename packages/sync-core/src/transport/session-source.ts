import type { AuthSession, SessionSource } from './types.js';

/** A {@link SessionSource} the app (or a test) sets by hand. */
export interface MutableSessionSource extends SessionSource {
  /** Signs in as `session`, or signs out with `null`. Listeners hear only real changes. */
  set(session: AuthSession | null): void;
}

/**
 * Creates a session source for apps whose auth lives outside the transport (e.g. a REST
 * backend with its own login): call `set` on sign-in and sign-out.
 *
 * @example
 * ```ts
 * const session = createSessionSource();
 * const transport = restTransport({ baseUrl, getToken, session });
 * session.set({ userId: 'u1', sessionId: 's1' }); // signed in
 * ```
 */
export function createSessionSource(initial: AuthSession | null = null): MutableSessionSource {
  let current = initial;
  const listeners = new Set<(session: AuthSession | null) => void>();
  return {
    current: () => current,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(session) {
      // The same user and session (or signed out twice) is no change.
      if (session?.userId === current?.userId && session?.sessionId === current?.sessionId) return;
      current = session && { userId: session.userId, sessionId: session.sessionId };
      for (const listener of [...listeners]) listener(current);
    },
  };
}
