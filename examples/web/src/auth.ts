/**
 * Sign-in for the example app, against the reference server's development auth
 * (`POST /v1/dev/token`). The signed-in user survives reloads (localStorage); the server's dev
 * auth forgets its tokens when it restarts, so a 401 signs the same user in again.
 */
import { devSignIn } from '@syncline/adapter-rest';
import { createSessionSource, type MutableSessionSource } from '@syncline/sync-core';

const KEY = 'syncline-example:auth';

interface SavedAuth {
  userId: string;
  sessionId: string;
  token: string;
}

/** The app's auth: the session source for the transport, the token, sign-in and sign-out. */
export interface AppAuth {
  /** Who is signed in, for `restTransport` (and so the client). */
  session: MutableSessionSource;
  /** The bearer token; after a 401, a new one for the same user. */
  getToken(options: { forceRefresh: boolean }): Promise<string | null>;
  /** Signs `userId` in with the server's development auth. */
  signIn(userId: string): Promise<void>;
  /** Signs out of this device (the data of the user stays in this browser, in its own namespace). */
  signOut(): void;
}

function load(): SavedAuth | null {
  try {
    const raw = localStorage.getItem(KEY);
    const saved = raw === null ? null : (JSON.parse(raw) as Partial<SavedAuth>);
    if (
      typeof saved?.userId === 'string' &&
      typeof saved.sessionId === 'string' &&
      typeof saved.token === 'string'
    ) {
      return { userId: saved.userId, sessionId: saved.sessionId, token: saved.token };
    }
  } catch {
    // A damaged entry means signed out.
  }
  return null;
}

/** Creates the app's auth for the server at `baseUrl`. */
export function createAppAuth(baseUrl: string): AppAuth {
  let saved = load();
  const session = createSessionSource(
    saved === null ? null : { userId: saved.userId, sessionId: saved.sessionId },
  );
  const remember = (next: SavedAuth | null) => {
    saved = next;
    if (next === null) localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, JSON.stringify(next));
    session.set(next === null ? null : { userId: next.userId, sessionId: next.sessionId });
  };
  const signIn = async (userId: string) => {
    const answer = await devSignIn({ baseUrl, userId });
    remember(answer);
  };
  // Another tab of this browser signed in or out: follow it.
  window.addEventListener('storage', (event) => {
    if (event.key !== KEY) return;
    saved = load();
    session.set(saved === null ? null : { userId: saved.userId, sessionId: saved.sessionId });
  });
  return {
    session,
    async getToken({ forceRefresh }) {
      if (saved === null) return null;
      if (forceRefresh) await signIn(saved.userId);
      return saved?.token ?? null;
    },
    signIn,
    signOut: () => remember(null),
  };
}
