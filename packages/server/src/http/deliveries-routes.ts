/**
 * `/v1/deliveries`: send, list pending for the calling session, the sender's status read,
 * and acknowledgement. An id that the caller may not see answers 404 exactly like an id that
 * does not exist, so ids cannot be probed.
 *
 * @module
 */
import {
  DEFAULT_DELIVERY_TTL_SECONDS,
  isUuid,
  type SendDeliveryRequest,
  validateAckRequest,
  validateSendDeliveryRequest,
} from '@syncline/sync-core/protocol';
import type { AuthContext } from '../store/types.js';
import { json, problem } from './problem.js';
import { readJson } from './read-json.js';
import { deleteBlobs, noQuery, readSmallJson } from './sessions-routes.js';
import type { TargetingContext } from './targeting-routes.js';

// The send body wraps the payload in one level: { payload: ... }.
const SEND_ENVELOPE_DEPTH = 1;

/** `POST /v1/deliveries`. */
export async function handleSendDelivery(
  request: Request,
  auth: AuthContext,
  ctx: TargetingContext,
): Promise<Response> {
  noQuery(request);
  const body = await readJson(request, {
    maxBodyBytes: ctx.limits.maxBodyBytes,
    maxDepth: ctx.limits.maxJsonDepth + SEND_ENVELOPE_DEPTH + 2,
  });
  const send = validateSendDeliveryRequest(body, ctx.limits);
  // Without a ttlSeconds, the default, but never above this server's cap.
  const ttlSeconds =
    send.ttlSeconds ?? Math.min(DEFAULT_DELIVERY_TTL_SECONDS, ctx.limits.maxDeliveryTtlSeconds);
  if (ttlSeconds > ctx.limits.maxDeliveryTtlSeconds) {
    throw problem(
      400,
      'invalid',
      `ttlSeconds is at most ${ctx.limits.maxDeliveryTtlSeconds} on this server`,
      { details: { path: '$.ttlSeconds' } },
    );
  }
  if (!(await ctx.authorizeScope(auth, send.scope, 'write'))) {
    throw problem(403, 'forbidden', `you may not write scope ${send.scope}`);
  }
  const users = await receivingUsers(send, auth, ctx);
  const outcome = await ctx.targeting.createDelivery(auth, { ...send, ttlSeconds }, users);
  switch (outcome.type) {
    case 'created':
      return json(201, { delivery: outcome.delivery });
    case 'repeated':
      return json(200, { delivery: outcome.delivery });
    case 'conflict':
      throw problem(409, 'conflict', 'this delivery id is already taken');
    case 'asset_missing':
      throw problem(
        409,
        'asset_missing',
        'upload the asset (PUT /v1/assets/:sha256) before sending a delivery that references it',
      );
  }
}

/** The users whose sessions may receive the delivery; refuses a target the sender may not use. */
async function receivingUsers(
  send: SendDeliveryRequest,
  auth: AuthContext,
  ctx: TargetingContext,
): Promise<string[]> {
  switch (send.target.type) {
    case 'otherSessions':
      return [auth.userId];
    case 'sessions': {
      const own = new Set((await ctx.targeting.listSessions(auth.userId)).map((s) => s.sessionId));
      if (!send.target.ids.every((id) => own.has(id))) {
        throw problem(403, 'forbidden', 'a sessions target may list only your own sessions');
      }
      return [auth.userId];
    }
    case 'scopeMembers': {
      const members = [...new Set(await ctx.listScopeMembers(send.scope))];
      if (!members.includes(auth.userId)) {
        throw problem(403, 'forbidden', `you are not a member of scope ${send.scope}`);
      }
      return members;
    }
  }
}

/** `GET /v1/deliveries?pending=1`. */
export async function handlePending(
  request: Request,
  auth: AuthContext,
  ctx: TargetingContext,
): Promise<Response> {
  const params = [...new URL(request.url).searchParams];
  if (params.length !== 1 || params[0]?.[0] !== 'pending' || params[0][1] !== '1') {
    throw problem(400, 'invalid', 'list deliveries with ?pending=1');
  }
  return json(200, { deliveries: await ctx.targeting.pendingDeliveries(auth) });
}

/** `GET /v1/deliveries/:id`: status for the sender's user; 404 to everyone else. */
export async function handleDeliveryStatus(
  request: Request,
  auth: AuthContext,
  ctx: TargetingContext,
  id: string,
): Promise<Response> {
  noQuery(request);
  const found = isUuid(id) ? await ctx.targeting.deliveryStatus(auth, id) : undefined;
  if (found === undefined) throw problem(404, 'not_found', 'no such delivery');
  return json(200, found);
}

/** `POST /v1/deliveries/:id/ack` with no body or `{}`. */
export async function handleAck(
  request: Request,
  auth: AuthContext,
  ctx: TargetingContext,
  id: string,
): Promise<Response> {
  noQuery(request);
  const declared = request.headers.get('content-length');
  const hasBody =
    request.headers.has('content-type') || (declared !== null && declared.trim() !== '0');
  if (hasBody) validateAckRequest(await readSmallJson(request, ctx));
  const acked = isUuid(id) ? await ctx.targeting.ackDelivery(auth, id) : undefined;
  if (acked === undefined) throw problem(404, 'not_found', 'no such delivery');
  await deleteBlobs(ctx, acked.releasedBlobKeys);
  return json(200, { complete: acked.complete });
}
