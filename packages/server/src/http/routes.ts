/**
 * The protocol's endpoints. Each receives an authenticated, rate-checked request.
 *
 * @module
 */
import {
  isScope,
  isUuid,
  type ProtocolLimits,
  PULL_NEXT_CHECKPOINT_HEADER,
  type PullRequest,
  parsePushRequest,
  validatePullRequest,
} from '@syncline/sync-core/protocol';
import type { DevAuth } from '../auth/dev-auth.js';
import type { AuthenticatedCaller, AuthorizeScope } from '../auth/types.js';
import type { AuthContext, StorePushEntry, SyncStore } from '../store/types.js';
import type { EventStreams, StreamTimers } from './event-stream.js';
import { recordBytes, tooLargeDetails } from './info.js';
import { json, jsonText, problem } from './problem.js';
import { readJson, readJsonSized } from './read-json.js';
import { StreamAccess } from './stream-access.js';
import type { UserBudget } from './user-budget.js';
import type { UserWorkQueue } from './user-work-queue.js';

/** What every route needs. */
export interface RouteContext {
  store: SyncStore;
  authorizeScope: AuthorizeScope;
  limits: Readonly<ProtocolLimits> & {
    maxBodyBytes: number;
    maxRecordBytes: number;
    maxScopesPerStream: number;
    maxStreamsPerUser: number;
  };
  streams: EventStreams;
  /** `true` when the session is known not revoked (see `RevocationCache.knownLive`). */
  knownLive: (auth: AuthContext) => boolean;
  heartbeatMs: number;
  timers: StreamTimers;
  /** Per-user budgets, or `undefined` when off. */
  budget: UserBudget | undefined;
  /** Turns of each user's pushes. */
  pushQueue: UserWorkQueue;
  /** Rechecks of open streams' access: interval (0 = never), clock, error sink. */
  streamAccess: { recheckMs: number; now: () => number; onError: (error: unknown) => void };
}

// The push body wraps record data in 3 levels: { mutations: [ { data: ... } ] }.
const PUSH_ENVELOPE_DEPTH = 3;

/** `POST /v1/push`. */
export async function handlePush(
  request: Request,
  auth: AuthContext,
  ctx: RouteContext,
): Promise<Response> {
  const { value: body, bytes } = await readJsonSized(request, {
    maxBodyBytes: ctx.limits.maxBodyBytes,
    maxDepth: ctx.limits.maxJsonDepth + PUSH_ENVELOPE_DEPTH,
    tooLargeDetails: tooLargeDetails(ctx.limits),
  });
  // No record can be over the limit when the whole body is not.
  const checkSizes = bytes > ctx.limits.maxRecordBytes;
  // The parsed body is ours alone: record data is checked in place, not copied.
  const parsed = parsePushRequest(body, { limits: ctx.limits, inPlace: true });
  ctx.budget?.chargeMutations(auth.userId, parsed.entries.length);
  const rawMutations = (body as { mutations: unknown[] }).mutations;
  const allowed = new Map<string, Promise<boolean>>();
  const mayWrite = (scope: string) => {
    let decision = allowed.get(scope);
    if (decision === undefined) {
      decision = Promise.resolve(ctx.authorizeScope(auth, scope, 'write'));
      allowed.set(scope, decision);
    }
    return decision;
  };
  const entries: StorePushEntry[] = await Promise.all(
    parsed.entries.map(async (entry, index): Promise<StorePushEntry> => {
      if (entry.ok) {
        const txId = entry.mutation.txId;
        if (checkSizes && recordBytes(entry.mutation.data ?? null) > ctx.limits.maxRecordBytes) {
          return {
            ok: false,
            id: entry.mutation.id,
            ...(txId === undefined ? {} : { txId }),
            code: 'too_large',
            message: `the record's data is larger than ${ctx.limits.maxRecordBytes} bytes (maxRecordBytes)`,
          };
        }
        if (await mayWrite(entry.mutation.scope)) return entry;
        return {
          ok: false,
          id: entry.mutation.id,
          ...(txId === undefined ? {} : { txId }),
          code: 'forbidden',
          message: `not allowed to write scope ${entry.mutation.scope}`,
        };
      }
      // An invalid mutation still belongs to its transaction when its txId is readable.
      const rawTxId = (rawMutations[index] as { txId?: unknown } | undefined)?.txId;
      return {
        ok: false,
        id: entry.id,
        ...(isUuid(rawTxId) ? { txId: rawTxId } : {}),
        code: 'invalid',
        message: entry.error.message,
      };
    }),
  );
  const response = await ctx.store.push(auth, {
    clientId: parsed.clientId,
    sessionId: parsed.sessionId,
    entries,
  });
  return json(200, response);
}

/** `GET /v1/pull?scope=&checkpoint=&limit=`. */
export async function handlePull(
  request: Request,
  auth: AuthContext,
  ctx: RouteContext,
): Promise<Response> {
  const params = singleParams(new URL(request.url), ['scope', 'checkpoint', 'limit']);
  const query: Record<string, unknown> = {
    scope: params.scope,
    checkpoint:
      params.checkpoint === undefined || params.checkpoint === '' ? null : params.checkpoint,
  };
  if (params.limit !== undefined) {
    if (!/^[0-9]{1,7}$/.test(params.limit))
      throw problem(400, 'invalid', 'limit must be a positive integer');
    query.limit = Number(params.limit);
  }
  const pull: PullRequest = validatePullRequest(query, ctx.limits);
  if (!(await ctx.authorizeScope(auth, pull.scope, 'read'))) {
    throw problem(403, 'forbidden', 'you may not read this scope');
  }
  // A store that renders the page as JSON text itself saves parsing and re-serialising it.
  if (ctx.store.pullText !== undefined) {
    const page = await ctx.store.pullText(auth, pull);
    return jsonText(200, page.text, pageHeaders(page));
  }
  const page = await ctx.store.pull(auth, pull);
  return json(200, page, pageHeaders(page));
}

/**
 * When more pages follow, the page's checkpoint also as a header (the body holds it too): a
 * client can ask for the next page as soon as the headers arrive, while it still reads and
 * applies this one (`adapter-rest`'s pull-ahead; docs/protocol.md).
 */
function pageHeaders(page: { checkpoint: string; hasMore: boolean }): Record<string, string> {
  return page.hasMore ? { [PULL_NEXT_CHECKPOINT_HEADER]: page.checkpoint } : {};
}

/** `GET /v1/events?scopes=a,b`. */
export async function handleEvents(
  request: Request,
  auth: AuthenticatedCaller,
  ctx: RouteContext,
): Promise<Response> {
  // A token inside the verifier's clock tolerance would open a stream that ends at once, and
  // its client would reconnect with it again and again: it gets the 401 that makes it refresh.
  if (auth.expiresAt !== undefined && ctx.streamAccess.now() >= auth.expiresAt) {
    throw problem(401, 'token_expired', 'the token has expired');
  }
  const max = ctx.limits.maxStreamsPerUser;
  if (ctx.streams.openFor(auth.userId) >= max) {
    throw problem(
      429,
      'too_many_streams',
      `this user already has ${max} open event streams (the limit); close one before opening another`,
      { retryAfterMs: 30_000 },
    );
  }
  const url = new URL(request.url);
  for (const key of url.searchParams.keys()) {
    if (key !== 'scopes' && key !== 'scope')
      throw problem(400, 'invalid', `unknown query parameter ${JSON.stringify(key).slice(0, 80)}`);
  }
  const scopes = [
    ...url.searchParams.getAll('scopes').flatMap((list) => list.split(',')),
    ...url.searchParams.getAll('scope'),
  ].filter((scope) => scope !== '');
  if (scopes.length === 0) throw problem(400, 'invalid', 'scopes is required');
  if (scopes.length > ctx.limits.maxScopesPerStream) {
    throw problem(400, 'invalid', `at most ${ctx.limits.maxScopesPerStream} scopes per stream`);
  }
  for (const scope of scopes) {
    if (!isScope(scope)) throw problem(400, 'invalid', 'scopes contains a malformed scope');
  }
  for (const scope of new Set(scopes)) {
    if (!(await ctx.authorizeScope(auth, scope, 'read'))) {
      throw problem(403, 'forbidden', 'you may not read one of these scopes');
    }
  }
  return ctx.streams.open({
    store: ctx.store,
    scopes,
    heartbeatMs: ctx.heartbeatMs,
    signal: request.signal,
    timers: ctx.timers,
    auth,
    carriesDeliveries: ctx.knownLive,
    userId: auth.userId,
    access: new StreamAccess({
      auth,
      scopes,
      authorizeScope: ctx.authorizeScope,
      recheckMs: ctx.streamAccess.recheckMs,
      now: ctx.streamAccess.now,
      timers: ctx.timers,
      onError: ctx.streamAccess.onError,
    }),
  });
}

/** `POST /v1/dev/token` with `{ userId }` (development auth only). */
export async function handleDevToken(
  request: Request,
  dev: DevAuth,
  maxBodyBytes: number,
): Promise<Response> {
  const body = await readJson(request, { maxBodyBytes: Math.min(maxBodyBytes, 4096), maxDepth: 2 });
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw problem(400, 'invalid', 'expected { userId }');
  }
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== 'userId')
    throw problem(400, 'invalid', 'expected exactly { userId }');
  const { userId } = body as { userId: unknown };
  if (!dev.acceptsUserId(userId)) {
    throw problem(
      400,
      'invalid',
      'userId must be 1-128 printable ASCII characters without spaces',
      {
        details: { path: '$.userId' },
      },
    );
  }
  return json(200, await dev.issueToken(userId));
}

/** Reads query parameters that may appear at most once; any other name is rejected. */
function singleParams<K extends string>(
  url: URL,
  allowed: readonly K[],
): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const [key, value] of url.searchParams) {
    if (!(allowed as readonly string[]).includes(key)) {
      throw problem(400, 'invalid', `unknown query parameter ${JSON.stringify(key).slice(0, 80)}`);
    }
    if (out[key as K] !== undefined)
      throw problem(400, 'invalid', `repeated query parameter ${key}`);
    out[key as K] = value;
  }
  return out;
}
