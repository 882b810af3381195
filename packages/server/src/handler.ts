/**
 * `createSyncHandler`: the whole server as one standard fetch handler
 * `(Request) => Promise<Response>`, so it mounts in Node's http (see `serve`), Next.js route
 * handlers, Hono, Bun and Deno with a few lines each.
 *
 * @module
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SyncEnvironment } from '@syncline/sync-core';
import {
  type ProtocolLimits,
  PULL_NEXT_CHECKPOINT_HEADER,
  resolveLimits,
} from '@syncline/sync-core/protocol';
import { type BlobStore, fileBlobStore } from './assets/blob-store.js';
import { UploadTails } from './assets/byte-stream.js';
import { UploadLanes } from './assets/upload-lanes.js';
import type { DevAuth } from './auth/dev-auth.js';
import {
  type Authenticate,
  type AuthenticatedCaller,
  type AuthorizeScope,
  ownScopeOnly,
} from './auth/types.js';
import { EventStreams, type StreamTimers } from './http/event-stream.js';
import { handleInfo } from './http/info.js';
import { consoleLogger, errorResponse, json, type Logger, problem } from './http/problem.js';
import type { RateLimitOptions } from './http/rate-limiter.js';
import {
  handleDevToken,
  handleEvents,
  handlePull,
  handlePush,
  type RouteContext,
} from './http/routes.js';
import {
  DEFAULT_TARGETING_LIMITS,
  type ListScopeMembers,
  matchTargetingRoute,
  membersMayUse,
  ownScopeMembers,
  type TargetingContext,
  type TargetingLimits,
  type TargetingRun,
} from './http/targeting-routes.js';
import { UserBudget } from './http/user-budget.js';
import { UserWorkQueue } from './http/user-work-queue.js';
import type { SyncStore } from './store/types.js';
import { RevocationCache } from './targeting/revocation-cache.js';
import { type SweepReport, sweepOnce } from './targeting/sweeper.js';

/** Hard limits of the handler (protocol limits plus transport limits). */
export interface ServerLimits extends ProtocolLimits, TargetingLimits {
  /** Largest request body in bytes; checked from `Content-Length` and while streaming. @default 1048576 (1 MiB) */
  maxBodyBytes: number;
  /**
   * Largest `limit` of a pull (a page holds at most this many records). Above the protocol's
   * 1000 so that a new client's initial sync takes fewer, larger pages (it learns this limit
   * from `GET /v1/info`); a pull without `limit` still gets 1000. A page is built in memory,
   * so with large records, lower it.
   * @default 10000
   */
  maxPullLimit: number;
  /**
   * Largest `data` of one pushed mutation, in bytes of UTF-8 JSON; a mutation over it is
   * rejected alone with code `too_large`. Clients learn it from `GET /v1/info`.
   * @default maxBodyBytes - 16384 (room for the push envelope around one record)
   */
  maxRecordBytes: number;
  /** Most scopes one event stream may watch. @default 100 */
  maxScopesPerStream: number;
  /**
   * Per-user budgets of requests, mutations and request-body bytes (429 + `Retry-After`), or
   * `false` for none. Unset fields keep their defaults.
   * @default { requestsPerSecond: 50, burst: 100, mutationsPerSecond: 250, mutationBurst: 2500, bytesPerSecond: 524288, byteBurst: 8388608 }
   */
  rateLimit: RateLimitOptions | false;
  /** Event streams one user may have open at once; one more is answered 429. @default 20 */
  maxStreamsPerUser: number;
  /**
   * Pushes of one user that run at once; the next ones wait their turn, so one user's burst
   * cannot fill the store's queue in front of other users. @default 1
   */
  pushConcurrencyPerUser: number;
  /** Pushes of one user that may wait for their turn; one more is answered 429. @default 64 */
  maxQueuedPushesPerUser: number;
}

/** Cross-origin access for browser apps served from another origin. */
export interface CorsOptions {
  /** Allowed origins, or `'*'` for any. */
  origins: '*' | readonly string[];
}

/** Options of {@link createSyncHandler}. */
export interface SyncHandlerOptions {
  /** Where data lives: `pgliteStore()` or `postgresStore()`. */
  store: SyncStore;
  /** Establishes the caller (e.g. `jwtAuth(...)`); `null` answers 401. */
  authenticate: Authenticate;
  /**
   * May this user read/write this scope?
   * @default a user may use `user:<own id>` and every scope `listScopeMembers` lists them in
   */
  authorizeScope?: AuthorizeScope;
  /**
   * The members (user ids) of a shared scope, for `scopeMembers` deliveries and transfers. The
   * default `authorizeScope` lets exactly these users use the scope.
   * @default a user is the only member of `user:<id>`; other scopes have no members
   * @example
   * ```ts
   * listScopeMembers: async (scope) => db.workspaceMembers(scope.slice('workspace:'.length)),
   * ```
   */
  listScopeMembers?: ListScopeMembers;
  /**
   * Where asset bytes live. Give each database its own: the sweeper deletes every blob its
   * database does not know, so two servers on the default directory delete each other's.
   * @default fileBlobStore({ directory: join(os.tmpdir(), 'syncline-assets') })
   */
  blobStore?: BlobStore;
  /** Hard limits; unset fields keep their defaults (see {@link ServerLimits}). */
  limits?: Partial<ServerLimits>;
  /**
   * Development auth: enables `POST /v1/dev/token`. Only for demos and tests.
   * @default undefined (the route does not exist)
   */
  devAuth?: DevAuth;
  /** Path prefix the handler is mounted under, e.g. `/api/sync`. @default '' */
  basePath?: string;
  /** CORS for browser apps on other origins. @default undefined (no CORS headers) */
  cors?: CorsOptions;
  /** Interval of event-stream heartbeats in milliseconds. @default 15000 */
  heartbeatMs?: number;
  /**
   * How often an open event stream's read access to each of its scopes is checked again with
   * `authorizeScope`, in milliseconds; a refused scope ends the stream (`end` event, code
   * `forbidden`). 0 turns the rechecks off. A stream always ends when its token expires.
   * @default 30000
   */
  streamAccessCheckMs?: number;
  /** Where unexpected errors are logged (never sent to clients). @default console */
  logger?: Logger;
  /**
   * Injected time, as in every syncline part: `now()` in epoch milliseconds (rate limiting).
   * @default the real clock (`Date.now`)
   */
  environment?: Partial<Pick<SyncEnvironment, 'now'>>;
  /** Interval timers of the event streams. @default globalThis.setInterval/clearInterval */
  timers?: StreamTimers;
}

/** A fetch handler that can also end its open event streams. */
export interface SyncHandler {
  /** Answers one request. Never throws: every failure becomes an error response. */
  (request: Request): Promise<Response>;
  /** Ends every open event stream (call on shutdown, before closing the store). */
  closeStreams(): void;
  /**
   * One sweep: expires deliveries and transfers past their TTL, completes deliveries whose
   * remaining targets went stale, deletes the bytes of assets nothing live references. Run it
   * on an interval (`startServer` does, see `sweepIntervalMs`, or `startSweeper`).
   */
  sweep(): Promise<SweepReport>;
  /** Where asset bytes live. */
  readonly blobStore: BlobStore;
  /** How many event streams are open now. */
  readonly openStreams: number;
}

type Route = {
  method: string;
  run: (request: Request, auth: AuthenticatedCaller, ctx: RouteContext) => Promise<Response>;
};

const ROUTES: Record<string, Route> = {
  // One user's pushes take turns (see UserWorkQueue): a burst cannot starve other users.
  '/v1/push': {
    method: 'POST',
    run: (request, auth, ctx) =>
      ctx.pushQueue.run(auth.userId, () => handlePush(request, auth, ctx)),
  },
  '/v1/pull': { method: 'GET', run: handlePull },
  '/v1/events': { method: 'GET', run: handleEvents },
};

/**
 * Creates the sync server's fetch handler.
 *
 * @example
 * ```ts
 * const store = await pgliteStore({ dataDir: './data' });
 * const handler = createSyncHandler({ store, authenticate: jwtAuth({ secret }) });
 * // Node: serve(handler, { port: 8787 }); Next.js: export const GET = handler, POST = handler;
 * ```
 */
export function createSyncHandler(options: SyncHandlerOptions): SyncHandler {
  const logger = options.logger ?? consoleLogger;
  const now = options.environment?.now ?? Date.now;
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  const maxBodyBytes = options.limits?.maxBodyBytes ?? 1024 * 1024;
  const limits = {
    ...resolveLimits(options.limits),
    maxPullLimit: options.limits?.maxPullLimit ?? 10_000,
    maxBodyBytes,
    maxRecordBytes: options.limits?.maxRecordBytes ?? Math.max(1, maxBodyBytes - 16 * 1024),
    maxScopesPerStream: options.limits?.maxScopesPerStream ?? 100,
    maxStreamsPerUser: options.limits?.maxStreamsPerUser ?? 20,
  };
  const listScopeMembers = options.listScopeMembers ?? ownScopeMembers;
  const authorizeScope =
    options.authorizeScope ??
    (options.listScopeMembers === undefined ? ownScopeOnly : membersMayUse(listScopeMembers));
  const blobStore =
    options.blobStore ?? fileBlobStore({ directory: join(tmpdir(), 'syncline-assets') });
  const rateLimit = options.limits?.rateLimit ?? {};
  const budget = rateLimit === false ? undefined : new UserBudget(rateLimit, now);
  const streams = new EventStreams((error) =>
    logger.error('reading the changes of a poke failed', error),
  );
  const revocations =
    options.store.targeting === undefined
      ? undefined
      : new RevocationCache(options.store.targeting);
  const ctx: RouteContext = {
    store: options.store,
    authorizeScope,
    limits,
    streams,
    knownLive: (auth) => revocations?.knownLive(auth) === true,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    budget,
    pushQueue: new UserWorkQueue({
      concurrencyPerUser: options.limits?.pushConcurrencyPerUser ?? 1,
      maxQueuedPerUser: options.limits?.maxQueuedPushesPerUser ?? 64,
    }),
    streamAccess: {
      recheckMs: options.streamAccessCheckMs ?? 30_000,
      now,
      onError: (error) => logger.error('rechecking the access of an event stream failed', error),
    },
    timers: options.timers ?? {
      setInterval: (callback, ms) => globalThis.setInterval(callback, ms),
      clearInterval: (handle) =>
        globalThis.clearInterval(handle as ReturnType<typeof globalThis.setInterval>),
    },
  };

  const targeting: TargetingContext | undefined =
    options.store.targeting === undefined || revocations === undefined
      ? undefined
      : {
          revocations,
          targeting: options.store.targeting,
          blobStore,
          authorizeScope,
          listScopeMembers,
          limits: { ...limits, ...targetingLimits(options.limits) },
          logger,
          uploads: new UploadLanes(),
          tails: new UploadTails(),
          now,
          singleProcess: options.store.targeting.singleProcess === true,
        };

  const answer = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (basePath !== '' && !url.pathname.startsWith(`${basePath}/`)) {
      throw problem(404, 'not_found', 'no such route');
    }
    const path = url.pathname.slice(basePath.length);
    if (path === '/healthz') {
      if (request.method !== 'GET' && request.method !== 'HEAD') throw methodNotAllowed('GET');
      try {
        await options.store.health();
      } catch (error) {
        logger.error('health check failed', error);
        return json(503, { error: { code: 'unavailable', message: 'the store does not answer' } });
      }
      return json(200, { ok: true });
    }
    if (path === '/v1/info') {
      if (request.method !== 'GET' && request.method !== 'HEAD') throw methodNotAllowed('GET');
      // Session targeting brings the uploads by id.
      return handleInfo(limits, targeting === undefined ? {} : { assetUploadsById: true });
    }
    if (path === '/v1/dev/token' && options.devAuth !== undefined) {
      if (request.method !== 'POST') throw methodNotAllowed('POST');
      return handleDevToken(request, options.devAuth, limits.maxBodyBytes);
    }
    const route = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
    const targetingRoute =
      route === undefined && targeting !== undefined
        ? matchTargetingRoute(request.method, path)
        : undefined;
    if (route === undefined && targetingRoute === undefined) {
      throw problem(404, 'not_found', 'no such route');
    }
    if (route !== undefined && request.method !== route.method)
      throw methodNotAllowed(route.method);
    if (targetingRoute !== undefined && 'allow' in targetingRoute) {
      throw methodNotAllowed(targetingRoute.allow);
    }
    const auth = await options.authenticate(request);
    if (auth === null) throw problem(401, 'unauthorized', 'a valid bearer token is required');
    // Asset chunks have their own limits (maxAssetBytes, the user's storage quota): the bytes
    // budget is the JSON routes', so a file upload is not throttled to it.
    const bodyBytes = route !== undefined ? declaredBodyBytes(request, limits.maxBodyBytes) : 0;
    budget?.chargeRequest(auth.userId, bodyBytes);
    if (revocations !== undefined && (await revocations.isRevoked(auth))) {
      throw problem(401, 'session_revoked', 'this session was signed out');
    }
    if (route !== undefined) return route.run(request, auth, ctx);
    const matched = targetingRoute as { run: TargetingRun; param: string };
    return matched.run(request, auth, targeting as TargetingContext, matched.param);
  };

  const handler = async (request: Request): Promise<Response> => {
    const origin = request.headers.get('origin');
    const allowOrigin = corsOrigin(options.cors, origin);
    if (request.method === 'OPTIONS' && allowOrigin !== undefined) {
      return new Response(null, {
        status: 204,
        headers: {
          'access-control-allow-origin': allowOrigin,
          'access-control-allow-methods': 'GET, HEAD, POST, PUT, DELETE, OPTIONS',
          'access-control-allow-headers':
            'authorization, content-type, accept, content-range, range, asset-sha256',
          'access-control-max-age': '600',
          vary: 'origin',
        },
      });
    }
    let response: Response;
    try {
      response = await answer(request);
    } catch (error) {
      response = errorResponse(error, logger);
    }
    if (allowOrigin !== undefined) {
      response.headers.set('access-control-allow-origin', allowOrigin);
      response.headers.set(
        'access-control-expose-headers',
        `retry-after, upload-offset, upload-length, asset-complete, content-range, content-length, ${PULL_NEXT_CHECKPOINT_HEADER}`,
      );
      response.headers.append('vary', 'origin');
    }
    return response;
  };
  return Object.defineProperties(handler, {
    closeStreams: { value: () => streams.closeAll() },
    sweep: {
      value: async (): Promise<SweepReport> => {
        if (targeting === undefined) {
          return {
            expiredDeliveries: 0,
            completedDeliveries: 0,
            expiredTransfers: 0,
            releasedBlobKeys: [],
            purged: 0,
            deletedBlobs: 0,
          };
        }
        return sweepOnce(targeting.targeting, blobStore, logger);
      },
    },
    blobStore: { value: blobStore },
    openStreams: { get: () => streams.size },
  }) as SyncHandler;
}

/** The body size a request declares; one without `Content-Length` counts as the largest. */
function declaredBodyBytes(request: Request, maxBodyBytes: number): number {
  if (request.body === null) return 0;
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  return Number.isSafeInteger(declared) && declared >= 0 ? declared : maxBodyBytes;
}

function methodNotAllowed(allow: string) {
  return problem(405, 'method_not_allowed', `use ${allow}`, { headers: { allow } });
}

function corsOrigin(cors: CorsOptions | undefined, origin: string | null): string | undefined {
  if (cors === undefined || origin === null) return undefined;
  if (cors.origins === '*') return '*';
  return cors.origins.includes(origin) ? origin : undefined;
}

function targetingLimits(limits: Partial<ServerLimits> | undefined): TargetingLimits {
  const out = { ...DEFAULT_TARGETING_LIMITS };
  for (const key of Object.keys(DEFAULT_TARGETING_LIMITS) as (keyof TargetingLimits)[]) {
    const value = limits?.[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new TypeError(`limits.${key} must be a positive integer`);
    }
    out[key] = value;
  }
  return out;
}
