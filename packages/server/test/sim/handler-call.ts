/**
 * The simulations' in-process calls of the reference server's fetch handler: the caller is
 * named by a bearer token `user~session` (what {@link simAuthenticate} reads), and an error
 * answer comes back as the `SyncError` a real adapter makes of it.
 */
import { errorKindForStatus, SyncError } from '@syncline/sync-core/protocol';
import { bearerToken } from '../../src/auth/types.js';
import type { SyncHandler } from '../../src/handler.js';

/** Who makes a call. */
export interface SimCaller {
  userId: string;
  sessionId: string;
}

/** The bearer token that names `caller`. */
export const simToken = (caller: SimCaller): string => `${caller.userId}~${caller.sessionId}`;

/** The handler's `authenticate` for {@link simToken}s. */
export async function simAuthenticate(request: Request): Promise<SimCaller | null> {
  const [userId, sessionId] = (bearerToken(request) ?? '').split('~');
  return userId && sessionId ? { userId, sessionId } : null;
}

/** One JSON request to `handler` as `caller`; an error answer throws its `SyncError`. */
export async function callHandler(
  handler: SyncHandler,
  caller: SimCaller,
  request: { method: string; path: string; body?: string },
): Promise<Record<string, unknown>> {
  const response = await handler(
    new Request(`http://sim${request.path}`, {
      method: request.method,
      headers: {
        authorization: `Bearer ${simToken(caller)}`,
        'content-type': 'application/json',
      },
      ...(request.body === undefined ? {} : { body: request.body }),
    }),
  );
  const text = await response.text();
  const json = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown> & {
    error?: { code?: string; message?: string };
  };
  if (!response.ok) {
    throw new SyncError(
      errorKindForStatus(response.status),
      json.error?.message ?? `HTTP ${response.status}`,
      {
        status: response.status,
        ...(json.error?.code === undefined ? {} : { code: json.error.code }),
      },
    );
  }
  return json;
}
