/**
 * `devSignIn`: a sign-in against the server's development auth (`--dev-auth`), for demos and
 * tests. Never available on a production server.
 *
 * @module
 */
import { HttpClient } from './http/http-client.js';
import { invalidAnswerError } from './http/response-error.js';

/** Options of {@link devSignIn}. */
export interface DevSignInOptions {
  /** The server's base URL. */
  baseUrl: string;
  /** The user to sign in as; any string the server accepts as a user id. */
  userId: string;
  /**
   * The `fetch` to use.
   * @default globalThis.fetch
   */
  fetch?: typeof globalThis.fetch;
  /**
   * Deadline of the request in milliseconds.
   * @default 30000
   */
  timeoutMs?: number;
}

/** What {@link devSignIn} returns: a new auth session of `userId` and its bearer token. */
export interface DevSession {
  /** The signed-in user. */
  userId: string;
  /** The new session (every call makes a new one). */
  sessionId: string;
  /** The bearer token for `restTransport`'s `getToken`. */
  token: string;
}

/**
 * Signs in as `userId` with `POST /v1/dev/token`, which a syncline server offers only when
 * started with development auth. Rejects with a `SyncError` like every transport call.
 *
 * @example
 * ```ts
 * const { token, userId, sessionId } = await devSignIn({ baseUrl, userId: 'alice' });
 * const session = createSessionSource({ userId, sessionId });
 * const transport = restTransport({ baseUrl, getToken: () => token, session });
 * ```
 */
export async function devSignIn(options: DevSignInOptions): Promise<DevSession> {
  // `options?.`: called without options (plain JavaScript), the baseUrl check says so.
  const http = new HttpClient({
    baseUrl: options?.baseUrl,
    getToken: undefined,
    fetch: options?.fetch,
    timeoutMs: options?.timeoutMs,
    timers: {
      now: () => Date.now(),
      setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
      clearTimeout: (handle) =>
        globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
    },
  });
  const body = await http.json({
    method: 'POST',
    path: '/v1/dev/token',
    body: { userId: options.userId },
    what: 'dev sign-in',
  });
  const { token, sessionId } = (body ?? {}) as { token?: unknown; sessionId?: unknown };
  if (typeof token !== 'string' || token.length === 0) {
    throw invalidAnswerError('dev sign-in', 'no token');
  }
  if (typeof sessionId !== 'string' || sessionId.length === 0) {
    throw invalidAnswerError('dev sign-in', 'no sessionId');
  }
  return { userId: options.userId, sessionId, token };
}
