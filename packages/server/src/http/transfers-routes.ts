/**
 * `/v1/transfers`: request an asset from the user whose device holds it, read transfers,
 * and report progress. A transfer the caller's user neither requested nor holds answers 404,
 * like one that does not exist.
 *
 * @module
 */
import {
  isUuid,
  validateCreateTransferRequest,
  validateTransferProgressRequest,
} from '@syncline/sync-core/protocol';
import type { AuthContext } from '../store/types.js';
import type { TransferOutcome } from '../targeting/types.js';
import { json, problem } from './problem.js';
import { deleteBlobs, noQuery, readSmallJson } from './sessions-routes.js';
import type { TargetingContext } from './targeting-routes.js';

/** `POST /v1/transfers`. */
export async function handleCreateTransfer(
  request: Request,
  auth: AuthContext,
  ctx: TargetingContext,
): Promise<Response> {
  noQuery(request);
  const body = validateCreateTransferRequest(await readSmallJson(request, ctx));
  const holderUserId = body.from.userId;
  if (holderUserId === auth.userId) {
    throw problem(
      400,
      'invalid',
      'a transfer asks another user; your own sessions use deliveries',
      {
        details: { path: '$.from.userId' },
      },
    );
  }
  if (!(await ctx.authorizeScope(auth, body.scope, 'read'))) {
    throw problem(403, 'forbidden', `you may not read scope ${body.scope}`);
  }
  const members = await ctx.listScopeMembers(body.scope);
  if (!members.includes(auth.userId) || !members.includes(holderUserId)) {
    throw problem(403, 'forbidden', `you and the holder must both be members of ${body.scope}`);
  }
  const outcome = await ctx.targeting.createTransfer(auth, {
    id: body.id,
    scope: body.scope,
    assetHash: body.assetHash,
    holderUserId,
    ...(body.name === undefined ? {} : { name: body.name }),
    ...(body.size === undefined ? {} : { size: body.size }),
    ...(body.mimeType === undefined ? {} : { mimeType: body.mimeType }),
  });
  if (outcome.type === 'ok') {
    return json(outcome.created === true ? 201 : 200, { transfer: outcome.transfer });
  }
  return answerOutcome(outcome);
}

/** `GET /v1/transfers`. */
export async function handleListTransfers(
  request: Request,
  auth: AuthContext,
  ctx: TargetingContext,
): Promise<Response> {
  noQuery(request);
  return json(200, { transfers: await ctx.targeting.listTransfers(auth.userId) });
}

/** `GET /v1/transfers/:id`. */
export async function handleGetTransfer(
  request: Request,
  auth: AuthContext,
  ctx: TargetingContext,
  id: string,
): Promise<Response> {
  noQuery(request);
  const transfer = isUuid(id) ? await ctx.targeting.getTransfer(auth.userId, id) : undefined;
  if (transfer === undefined) throw problem(404, 'not_found', 'no such transfer');
  return json(200, { transfer });
}

/** `POST /v1/transfers/:id/progress`. */
export async function handleTransferProgress(
  request: Request,
  auth: AuthContext,
  ctx: TargetingContext,
  id: string,
): Promise<Response> {
  noQuery(request);
  const report = validateTransferProgressRequest(await readSmallJson(request, ctx));
  if (!isUuid(id)) throw problem(404, 'not_found', 'no such transfer');
  const outcome = await ctx.targeting.reportProgress(auth, id, report);
  await deleteBlobs(ctx, outcome.releasedBlobKeys ?? []);
  return answerOutcome(outcome);
}

function answerOutcome(outcome: TransferOutcome): Response {
  switch (outcome.type) {
    case 'ok':
      return json(200, { transfer: outcome.transfer });
    case 'not_found':
      throw problem(404, 'not_found', 'no such transfer');
    case 'conflict':
      throw problem(409, 'conflict', 'this transfer id is already taken');
    case 'final':
      throw problem(409, 'transfer_final', outcome.message ?? 'the transfer has ended');
    case 'forbidden':
      throw problem(403, 'forbidden', outcome.message ?? 'not allowed');
  }
}
