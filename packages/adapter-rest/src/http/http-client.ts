/**
 * The one place the adapter calls `fetch`: bearer token, JSON, a deadline, the single 401
 * refresh-and-retry, and the mapping of every failure to a `SyncError`.
 *
 * @module
 */
import { isSyncError, SyncError } from '@syncline/sync-core';
import {
  errorFromResponse,
  networkError,
  notSynclineAnswerError,
  readErrorBody,
  timeoutError,
} from './response-error.js';

/**
 * Supplies the bearer token. Called before every request with `forceRefresh: false` (return a
 * cached token), and once with `forceRefresh: true` after the server answered 401 (fetch a
 * new one), except a 401 `session_revoked`: that session was signed out, and a new token would
 * only sign a new session in. `null` means "no token": the request goes out without
 * `Authorization`.
 */
export type TokenProvider = (options: {
  forceRefresh: boolean;
}) => Promise<string | null> | string | null;

/** The timer functions the client needs; injected so tests can use fake time. */
export interface HttpTimers {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Options of {@link HttpClient}. */
export interface HttpClientOptions {
  baseUrl: string;
  getToken: TokenProvider | undefined;
  /** The app's `fetch`; `undefined`: the global one, looked up at call time. */
  fetch?: typeof globalThis.fetch | undefined;
  /** A request's deadline. @default 30000 */
  timeoutMs?: number | undefined;
  timers: HttpTimers;
}

/** One request. */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'HEAD';
  /** Path under `baseUrl`, starting with `/`. */
  path: string;
  /** Query parameters; `null` and `undefined` values are left out. */
  query?: Record<string, string | number | null | undefined>;
  /** JSON body. */
  body?: unknown;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** Names the request in error messages, e.g. `push`. */
  what: string;
  /** The caller's abort signal. */
  signal?: AbortSignal | undefined;
  /** Ask `getToken` for a fresh token first (the server said the current one expired). */
  freshToken?: boolean;
  /** Called by {@link HttpClient.json} with a successful answer's headers, before its body is read. */
  onHeaders?: ((headers: Headers) => void) | undefined;
  /**
   * Sends this request instead of the client's `fetch`, with the fetch options the client made
   * (an asset chunk's upload sets its bytes; a download may go over `node:http`).
   */
  fetch?: ((url: string, init: RequestInit) => Promise<Response>) | undefined;
}

/** Sends requests to a syncline server. Internal to the adapter. */
export class HttpClient {
  readonly #options: HttpClientOptions;
  /** `options.baseUrl`, checked, without its trailing slashes. */
  readonly baseUrl: string;
  #refreshing: Promise<string | null> | null = null;
  // Counts finished refreshes, so a 401 for a token that was already replaced does not
  // trigger another refresh.
  #tokenGeneration = 0;

  /** @throws SyncError `misconfigured` (code `bad_base_url`) for a missing or relative `baseUrl` */
  constructor(options: HttpClientOptions) {
    this.#options = options;
    this.baseUrl = checkBaseUrl(options.baseUrl);
  }

  /**
   * Sends `request` (with the token, and one refresh after a 401) and hands its response to
   * `read`, within the request's deadline; rejects only with `SyncError`. Once `read` settled,
   * the deadline and the caller's signal let go of the response: a body left unread is the
   * caller's to read or cancel.
   *
   * A 401 gets one fresh token and one retry of the same request; a second 401 is the caller's
   * `auth` error. The retry re-sends the identical body, which is safe because every syncline
   * request is idempotent (mutation ids are the idempotency keys).
   */
  send<T>(request: HttpRequest, read: (response: Response) => T | Promise<T>): Promise<T> {
    return this.#within(request, async (signal) => {
      const generation = this.#tokenGeneration;
      let response = await this.#send(
        request,
        request.freshToken ? await this.#refreshToken() : await this.#token(false),
        signal,
      );
      if (
        response.status === 401 &&
        this.#options.getToken &&
        // A signed-out ("revoked") session stays signed out whatever the token: a refresh would
        // only sign a new session in behind the back of whoever signed this device out.
        (await readErrorBody(response.clone()))?.code !== 'session_revoked'
      ) {
        // Not awaited: some fetch implementations settle `cancel()` only when the stream is read.
        response.body?.cancel().catch(() => undefined);
        response = await this.#send(
          request,
          // A refresh that finished after this request went out already replaced its token.
          generation === this.#tokenGeneration
            ? await this.#refreshToken()
            : await this.#token(false),
          signal,
        );
      }
      return read(response);
    });
  }

  /** `response` when it is a success, else the `SyncError` it answers (its body consumed). */
  async ok(response: Response, what: string): Promise<Response> {
    if (!response.ok) throw await errorFromResponse(response, this.#options.timers.now(), what);
    return response;
  }

  /** Sends `request` and returns its parsed JSON answer; rejects only with `SyncError`. */
  json(request: HttpRequest): Promise<unknown> {
    return this.send(request, async (response) => {
      await this.ok(response, request.what);
      request.onHeaders?.(response.headers);
      const text = await response.text();
      // An empty body is `undefined`.
      if (text) {
        try {
          return JSON.parse(text) as unknown;
        } catch (cause) {
          throw notSynclineAnswerError(response, request.what, cause);
        }
      }
    });
  }

  /**
   * Resolves when the server answers `request` at all (any status; the body is discarded),
   * without a token: a reachability check. Rejects with `network` or `timeout` otherwise.
   */
  reach(request: HttpRequest): Promise<void> {
    return this.#within(request, async (signal) => {
      const response = await this.#send(request, null, signal);
      response.body?.cancel().catch(() => undefined);
    });
  }

  #send(request: HttpRequest, token: string | null, signal: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    const init: RequestInit = { method: request.method, headers, signal };
    if (request.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(request.body);
    }
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value != null) params.set(key, String(value));
    }
    const search = params.toString();
    return (request.fetch ?? this.#options.fetch ?? globalThis.fetch)(
      this.baseUrl + request.path + (search && `?${search}`),
      init,
    );
  }

  async #token(forceRefresh: boolean): Promise<string | null> {
    const { getToken } = this.#options;
    if (getToken === undefined) return null;
    try {
      return (await getToken({ forceRefresh })) ?? null;
    } catch (cause) {
      throw new SyncError('auth', 'getToken failed', { cause, code: 'token_unavailable' });
    }
  }

  // Concurrent 401s share one refresh, so a burst of requests asks the auth provider once.
  #refreshToken(): Promise<string | null> {
    this.#refreshing ??= this.#token(true).finally(() => {
      this.#tokenGeneration++;
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  /**
   * Runs `run` within `request`'s deadline, on one signal that the caller's signal and the
   * deadline's timer abort (so it is aborted, and the caller's is not, exactly when the
   * deadline passed), and makes whatever it throws the request's `SyncError`. Once `run`
   * settled, the timer stops and the caller's signal is unlinked.
   */
  async #within<T>(
    { what, signal: caller }: HttpRequest,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const { timers, timeoutMs = 30_000 } = this.#options;
    const controller = new AbortController();
    const onAbort = () => controller.abort(caller?.reason);
    // Removed below once `run` settled (an abort event fires once anyway).
    caller?.addEventListener('abort', onAbort);
    if (caller?.aborted) onAbort();
    // The reason is not read: a merged signal aborted while the caller's is not is the deadline.
    const timer = timers.setTimeout(() => controller.abort(), timeoutMs);
    try {
      return await run(controller.signal);
    } catch (error) {
      if (caller?.aborted) {
        throw new SyncError('network', `${what} was aborted`, { cause: error, code: 'aborted' });
      }
      if (isSyncError(error)) throw error;
      throw controller.signal.aborted ? timeoutError(what, timeoutMs) : networkError(what, error);
    } finally {
      timers.clearTimeout(timer);
      caller?.removeEventListener('abort', onAbort);
    }
  }
}

/**
 * `baseUrl` without its trailing slashes, once it is known to be an absolute http(s) URL: a
 * missing one would fail every request with a bare `TypeError`, and one without a scheme
 * (`localhost:8787`) as a `network` error, both far from the mistake.
 * @throws SyncError `misconfigured` with code `bad_base_url`
 */
export function checkBaseUrl(baseUrl: unknown): string {
  try {
    if (typeof baseUrl === 'string' && /^https?:$/.test(new URL(baseUrl).protocol)) {
      return baseUrl.replace(/\/+$/, '');
    }
  } catch {
    // Not a URL: refused below.
  }
  throw new SyncError(
    'misconfigured',
    `baseUrl must be an absolute http:// or https:// URL (got ${baseUrl === undefined ? 'missing' : JSON.stringify(baseUrl)})`,
    { code: 'bad_base_url' },
  );
}
