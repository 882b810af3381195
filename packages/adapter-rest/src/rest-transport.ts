/**
 * `restTransport`: the `SyncTransport` that speaks the syncline protocol (DESIGN.md §5) to a
 * syncline server over HTTP.
 *
 * @module
 */
import {
  createEnvironment,
  type PullRequest,
  type PullResponse,
  type PushRequest,
  type PushResponse,
  type SessionSource,
  type SyncEnvironment,
  type SyncError,
  type SyncTransport,
} from '@syncline/sync-core';
import {
  PULL_NEXT_CHECKPOINT_HEADER,
  readServerLimits,
  type ServerFeatures,
  type ServerInfo,
} from '@syncline/sync-core/protocol';
import { HttpClient, type TokenProvider } from './http/http-client.js';
import { pullAhead } from './http/pull-ahead.js';
import { notSynclineAnswerError } from './http/response-error.js';
import type { ReconnectOptions } from './realtime/backoff.js';
import {
  type RestSubscribeOptions,
  subscribeEventStream,
} from './realtime/event-stream-subscription.js';
import { subscribePolling } from './realtime/poll-subscription.js';
import type { RestTargeting } from './sessions/rest-targeting.js';

/** How the transport learns that the server has changes. */
export type RealtimeMode = 'sse' | 'poll' | false;

/** Options of {@link restTransport}. */
export interface RestTransportOptions {
  /**
   * The server's base URL; the protocol's paths (`/v1/push`, ...) are appended to it, so a
   * mount point works: `https://api.example.com/sync`.
   */
  baseUrl: string;
  /**
   * Supplies the bearer token; see {@link TokenProvider}. After a 401 it is called once with
   * `forceRefresh: true` and the request is retried with the new token, except after a 401
   * `session_revoked` (this device was signed out: no token brings it back).
   */
  getToken: TokenProvider;
  /**
   * Who is signed in, exposed as `transport.session`. Usually `createSessionSource()` from
   * `@syncline/sync-core`, set by the app on login and logout. Without it the client stays
   * local.
   */
  session?: SessionSource;
  /**
   * The `fetch` to use (a polyfill, an instrumented one, a test double).
   * @default globalThis.fetch, looked up at call time
   */
  fetch?: typeof globalThis.fetch;
  /**
   * Sends the bytes of an asset chunk as a stream of one chunk (with its `Content-Length`)
   * rather than as a `Uint8Array`: Node's fetch copies a byte body twice, a stream not at all.
   * Browsers cannot stream a request body over HTTP/1.1, so leave it off there.
   * @default true when `fetch` is left to the global one and that is Node's (undici), else false
   */
  streamUploads?: boolean;
  /**
   * Realtime hints: `'sse'` streams `/v1/events`, `'poll'` asks the client to pull every
   * `pollIntervalMs`, `false` offers no `subscribe` (the client falls back to its own interval).
   * @default 'sse'
   */
  realtime?: RealtimeMode;
  /**
   * A request that has not answered after this long fails with a `timeout` SyncError. For the
   * event stream it bounds the wait for the response headers.
   * @default 30000
   */
  timeoutMs?: number;
  /**
   * Interval of the catch-up hint in `'poll'` mode, in milliseconds.
   * @default 10000
   */
  pollIntervalMs?: number;
  /**
   * An event stream that delivers no byte (events or heartbeat comments) for this long is
   * replaced by a new connection. Keep it a few times the server's heartbeat interval.
   * @default 45000
   */
  idleTimeoutMs?: number;
  /** Backoff of event-stream reconnects. */
  reconnect?: ReconnectOptions;
  /**
   * When a pull page has more after it, request the next page at once, while the client stores
   * this one (an initial sync then overlaps the server's reading with the client's writing).
   * The page fetched ahead is used only for the identical next pull of the same signed-in
   * session within 10 s. Needs `session`; without one nothing is fetched ahead.
   * @default true
   */
  pullAhead?: boolean;
  /**
   * The session-targeting endpoints (`/v1/sessions`, `/v1/deliveries`, `/v1/assets`,
   * `/v1/transfers`) and the event stream's session hints, for a client created with
   * `sessionTargeting()`. Opt in with `restTargeting()` from `@syncline/adapter-rest/targeting`
   * (a separate entry, so an app that does not use them does not ship them).
   * @default none: the transport speaks push, pull and pokes only
   */
  targeting?: RestTargeting;
  /**
   * Told about realtime failures (a refused or broken stream, a poke with no valid version; a
   * malformed poke page is the client's to report, in its status). They are never fatal: the
   * stream reconnects with backoff and the client's interval pull goes on.
   */
  onRealtimeError?: (error: SyncError) => void;
  /** Replaces the real clock, timers and randomness (tests, simulations). */
  environment?: Partial<Pick<SyncEnvironment, 'now' | 'setTimeout' | 'clearTimeout' | 'random'>>;
}

/** A `SyncTransport` over HTTP, as returned by {@link restTransport}. */
export interface RestTransport extends SyncTransport {
  /** The base URL the transport talks to, without a trailing slash. */
  readonly baseUrl: string;
}

/**
 * Creates a `SyncTransport` that talks to a syncline server (`@syncline/server`, or anything
 * speaking the protocol of DESIGN.md §5).
 *
 * Every method rejects only with a `SyncError`: `network` (no answer), `timeout`, `auth`
 * (401/403 after one token refresh), `rejected` (a syncline 4xx about the request, with the
 * server's code, message and details: a 413 `too_large` carries the server's limits),
 * `conflict` (409), `rate-limited` (429), `server` (5xx, or a syncline answer that fails
 * validation) and `misconfigured` (a 404/405 "no such route", or an answer that is not a
 * syncline answer at all: an HTML page, another API's JSON), with `retryAfterMs` whenever the
 * server sent `Retry-After`.
 *
 * @throws SyncError `misconfigured` (code `bad_base_url`) when `baseUrl` is missing or not an
 *   absolute http(s) URL
 *
 * @example
 * ```ts
 * const session = createSessionSource();
 * const transport = restTransport({
 *   baseUrl: 'https://sync.example.com',
 *   getToken: ({ forceRefresh }) => auth.getAccessToken({ forceRefresh }),
 *   session,
 * });
 * const client = createSyncClient({ transport });
 * session.set({ userId, sessionId }); // after login
 * ```
 */
export function restTransport(options: RestTransportOptions): RestTransport {
  // The engine's one environment: the same defaults (and the same option) as the client's.
  // `options?.`: called without options (plain JavaScript), the baseUrl check below says so.
  const timers = createEnvironment(options?.environment);
  // Reads baseUrl (checked here: a setup mistake throws), getToken, fetch and timeoutMs of the
  // options.
  const http = new HttpClient({ ...options, timers });

  const pullOnce = async (
    request: PullRequest,
    signal?: AbortSignal,
    onMore?: (checkpoint: string) => void,
  ): Promise<PullResponse> => {
    return synclineAnswer<PullResponse>(
      'pull',
      'changes',
      await http.json({
        method: 'GET',
        path: '/v1/pull',
        query: {
          scope: request.scope,
          checkpoint: request.checkpoint,
          limit: request.limit,
        },
        what: 'pull',
        signal,
        // The next page's checkpoint, from the headers, for the pull-ahead.
        onHeaders: (headers) => {
          const next = headers.get(PULL_NEXT_CHECKPOINT_HEADER);
          if (next !== null) onMore?.(next);
        },
      }),
    );
  };
  const pull =
    (options.pullAhead ?? true) && options.session
      ? pullAhead(pullOnce, options.session, timers.now)
      : pullOnce;

  const transport: RestTransport = {
    baseUrl: http.baseUrl,
    revisions: 'scope',

    async push(request: PushRequest, signal?: AbortSignal): Promise<PushResponse> {
      return synclineAnswer<PushResponse>(
        'push',
        'results',
        await http.json({ method: 'POST', path: '/v1/push', body: request, what: 'push', signal }),
      );
    },

    pull,

    probe: (signal?: AbortSignal): Promise<void> =>
      http.reach({ method: 'GET', path: '/healthz', what: 'reachability probe', signal }),

    async info(signal?: AbortSignal): Promise<ServerInfo> {
      const body = (await http.json({ method: 'GET', path: '/v1/info', what: 'info', signal })) as {
        limits?: unknown;
        features?: ServerFeatures;
      } | null;
      const limits = readServerLimits(body?.limits);
      if (limits?.maxBodyBytes === undefined || limits.maxRecordBytes === undefined) {
        throw notSynclineAnswerError(undefined, 'info');
      }
      return {
        protocol: 1,
        // The limits an info answer may leave out take the protocol's defaults.
        limits: { maxMutationsPerPush: 500, maxPullLimit: 1000, ...limits } as ServerInfo['limits'],
        features: { assetUploadsById: body?.features?.assetUploadsById === true },
      } as const;
    },
  };

  if (options.session) transport.session = options.session;

  if ((options.realtime ?? 'sse') === 'sse') {
    transport.subscribe = (subscription: RestSubscribeOptions) => {
      if (subscription.scopes.length === 0) return () => undefined;
      return subscribeEventStream({ ...options, ...subscription, http, timers });
    };
  } else if (options.realtime === 'poll') {
    transport.subscribe = (subscription) =>
      subscribePolling({ ...options, ...subscription, timers });
  }
  options.targeting?.attach(transport, http, options);
  return transport;
}

/**
 * `body` when it is a syncline answer at all (JSON with the protocol's `list` array: `changes`,
 * `results`), else `misconfigured`: a web app or another API answered in the server's place.
 * The rest of the answer is checked once, by the client (`sync-core`'s `replication/
 * check-answers.ts`), whatever the transport.
 */
function synclineAnswer<T>(what: string, list: string, body: unknown): T {
  if (!Array.isArray((body as Record<string, unknown> | null)?.[list])) {
    throw notSynclineAnswerError(undefined, what);
  }
  return body as T;
}
