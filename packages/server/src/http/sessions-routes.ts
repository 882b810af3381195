/**
 * `/v1/sessions`: heartbeat (upsert on `(userId, clientId)`), list, and sign-out of one
 * device or of every device.
 *
 * @module
 */
import { isClientId, validateHeartbeatRequest } from '@syncline/sync-core/protocol';
import type { AuthContext } from '../store/types.js';
import { json, problem } from './problem.js';
import { readJson } from './read-json.js';
import type { TargetingContext } from './targeting-routes.js';

/** Reads a small JSON body (the targeting requests other than deliveries' payloads). */
export async function readSmallJson(request: Request, ctx: TargetingContext): Promise<unknown> {
  return readJson(request, {
    maxBodyBytes: Math.min(ctx.limits.maxBodyBytes, 16_384),
    maxDepth: 4,
  });
}

/** `POST /v1/sessions/heartbeat`. */
export async function handleHeartbeat(
  request: Request,
  auth: AuthContext,
  ctx: TargetingContext,
): Promise<Response> {
  const body = validateHeartbeatRequest(await readSmallJson(request, ctx));
  if (body.sessionId !== auth.sessionId) {
    throw problem(403, 'forbidden', "sessionId must be the token's own session");
  }
  const beat = await ctx.targeting.heartbeat(auth, {
    clientId: body.clientId,
    ...(body.label === undefined ? {} : { label: body.label }),
    ...(body.platform === undefined ? {} : { platform: body.platform }),
  });
  // It may have replaced (revoked) the device's previous session; forgotten after the commit.
  ctx.revocations.forget(auth.userId);
  if (beat === null) throw problem(401, 'session_revoked', 'this session was signed out');
  await deleteBlobs(ctx, beat.releasedBlobKeys);
  return json(200, { session: beat.session });
}

/** `GET /v1/sessions`. */
export async function handleListSessions(
  request: Request,
  auth: AuthContext,
  ctx: TargetingContext,
): Promise<Response> {
  noQuery(request);
  return json(200, { sessions: await ctx.targeting.listSessions(auth.userId) });
}

/** `DELETE /v1/sessions/:sessionId`: another user's or an unknown id is 404. */
export async function handleRevokeSession(
  request: Request,
  auth: AuthContext,
  ctx: TargetingContext,
  sessionId: string,
): Promise<Response> {
  noQuery(request);
  const outcome = isClientId(sessionId)
    ? await ctx.targeting.revokeSession(auth, sessionId)
    : undefined;
  ctx.revocations.forget(auth.userId);
  if (outcome === undefined || outcome.revoked === 0) {
    throw problem(404, 'not_found', 'you have no such session');
  }
  await deleteBlobs(ctx, outcome.releasedBlobKeys);
  return new Response(null, { status: 204 });
}

/** `DELETE /v1/sessions`: signs out every session of the user, the calling one included. */
export async function handleRevokeAll(
  request: Request,
  auth: AuthContext,
  ctx: TargetingContext,
): Promise<Response> {
  noQuery(request);
  const outcome = await ctx.targeting.revokeAllSessions(auth);
  ctx.revocations.forget(auth.userId);
  await deleteBlobs(ctx, outcome.releasedBlobKeys);
  return new Response(null, { status: 204 });
}

/** Deletes released bytes; a failure is logged (the bytes are orphans the sweeper removes). */
export async function deleteBlobs(ctx: TargetingContext, keys: readonly string[]): Promise<void> {
  for (const key of keys) {
    try {
      await ctx.blobStore.delete(key);
    } catch (error) {
      ctx.logger.error('deleting the bytes of a released asset failed', error);
    }
  }
}

/** Refuses a query string on routes that take none. */
export function noQuery(request: Request): void {
  if (new URL(request.url).search !== '') {
    throw problem(400, 'invalid', 'this route takes no query parameters');
  }
}
